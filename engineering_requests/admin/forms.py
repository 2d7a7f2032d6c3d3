"""Forms of the admin actions. They only parse what the user typed: every rule of the workflow
(what a transition must carry, who may act) is checked by the services, whose field-level
errors are put back on these forms."""

import datetime
import functools

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import roles
from anct_portal.services import is_valid_token, new_form_token
from engineering_requests.admin.rendering import FAST_RENDERER
from engineering_requests.enums import RequestState
from programmes.enums import NationalInstrument
from programmes.models import LocalProvider, Operator
from territories.models import Departement

TEXTAREA = forms.Textarea(attrs={"rows": 4, "cols": 80})


class CachedChoiceIterator(forms.models.ModelChoiceIterator):
    """The stock iterator reads ``queryset.iterator()``: a query every time (a server-side
    cursor on PostgreSQL), even when the request's page already read the choices with its
    other lists (``change_page.fetch_together``). This one reads the queryset itself."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ModelChoiceField(forms.ModelChoiceField):
    iterator = CachedChoiceIterator


class FixedChoiceField(forms.ChoiceField):
    """A choice field whose choices never change (an enum's): each form's copy of the field
    shares them instead of deep-copying them (four forms a page)."""

    def __deepcopy__(self, memo):
        # Field's copy (widget, messages, validators), skipping ChoiceField's of the choices.
        return forms.Field.__deepcopy__(self, memo)


class TransitionForm(forms.Form):
    """Base: carries the state the page showed, so that a concurrent change is detected."""

    # The stock templates, rendered in Python (rendering.py): a page shows several forms.
    default_renderer = FAST_RENDERER
    # The markup of a visible field depends only on the class, the language and the field's
    # initial value (no widget changed per instance): kept per process (rendering.py).
    fields_html_cacheable = True
    seen_state = FixedChoiceField(choices=RequestState.choices, widget=forms.HiddenInput)
    # The querysets of the form's choices, as functions of the request: ``value(name)`` is
    # its field ``name`` (here its value; in the change page's query, its column, so that
    # the page reads the choices with the request, change_page.load).
    choice_querysets: dict = {}

    def __init__(self, *args, engineering_request, **kwargs):
        self.engineering_request = engineering_request
        kwargs.setdefault("initial", {}).setdefault("seen_state", engineering_request.state)
        super().__init__(*args, **kwargs)
        for name, build in self.choice_querysets.items():
            self.fields[name].queryset = build(functools.partial(getattr, engineering_request))

    def service_kwargs(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "seen_state"}

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ``ValidationError`` on the matching fields."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, message)


class StartReviewForm(TransitionForm):
    pass


class RequestInfoForm(TransitionForm):
    message = forms.CharField(
        label=_("Message à la collectivité"),
        widget=TEXTAREA,
        required=False,
        help_text=_("Ce qui manque pour instruire la demande ; la collectivité le reçoit."),
    )


class ResolveLocallyForm(TransitionForm):
    provider = ModelChoiceField(
        label=_("Acteur de l'annuaire local"),
        queryset=LocalProvider.objects.none(),
        required=False,
        help_text=_(
            "Choisir un acteur de l'annuaire du département remplit les champs laissés vides "
            "ci-dessous avec ses coordonnées."
        ),
    )
    contact_name = forms.CharField(label=_("Interlocuteur unique (nom)"), required=False)
    contact_organisation = forms.CharField(label=_("Organisme"), required=False)
    contact_email = forms.CharField(label=_("E-mail de l'interlocuteur"), required=False)
    comment = forms.CharField(label=_("Commentaire (facultatif)"), widget=TEXTAREA, required=False)

    choice_querysets = {
        "provider": lambda value: LocalProvider.objects.filter(
            departement_id=value("departement_id"), is_active=True
        ).order_by("name")
    }


class EscalateForm(TransitionForm):
    fragility = forms.CharField(
        label=_("Fragilité de la collectivité"), widget=TEXTAREA, required=False
    )
    insufficient_local_resources = forms.CharField(
        label=_("Insuffisance des ressources locales"), widget=TEXTAREA, required=False
    )
    innovative_or_complex = forms.CharField(
        label=_("Caractère innovant ou complexe du projet"), widget=TEXTAREA, required=False
    )
    rare_expertise = forms.BooleanField(label=_("Expertise rare"), required=False)
    national_scope = forms.BooleanField(label=_("Projet d'envergure nationale"), required=False)

    help_text = _(
        "Justifiez soit la fragilité de la collectivité ET l'insuffisance des ressources "
        "locales, soit le caractère innovant ou complexe du projet, par un texte pour chaque "
        "motif invoqué."
    )


class ApproveNationalForm(TransitionForm):
    instrument = forms.ChoiceField(
        label=_("Instrument national"),
        choices=[("", "---------"), *NationalInstrument.choices],
        required=False,
    )
    operator = ModelChoiceField(
        label=_("Opérateur (convention-cadre)"),
        queryset=Operator.objects.order_by("name"),
        required=False,
    )
    amount = forms.DecimalField(
        label=_("Montant accordé (€, pour des crédits)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        localize=True,
    )
    comment = forms.CharField(label=_("Commentaire"), widget=TEXTAREA, required=False)

    choice_querysets = {"operator": lambda value: Operator.objects.order_by("name")}


class ReasonForm(TransitionForm):
    reason = forms.CharField(label=_("Motif"), widget=TEXTAREA, required=False)


class ReferBackForm(ReasonForm):
    reason = forms.CharField(
        label=_("Motif du renvoi au département"),
        widget=TEXTAREA,
        required=False,
        help_text=_("Le délégué territorial le lit pour reprendre l'instruction."),
    )


class DeclineForm(ReasonForm):
    reason = forms.CharField(
        label=_("Motif de non-retenue"),
        widget=TEXTAREA,
        required=False,
        help_text=_("La collectivité le reçoit."),
    )


class CompleteForm(TransitionForm):
    outcome = forms.CharField(label=_("Bilan de l'accompagnement"), widget=TEXTAREA, required=False)


class MessageForm(forms.Form):
    default_renderer = FAST_RENDERER
    fields_html_cacheable = True  # as TransitionForm's
    body = forms.CharField(label=_("Message"), widget=TEXTAREA, required=False)
    internal = forms.BooleanField(
        label=_("Note interne (jamais montrée à la collectivité)"), required=False
    )
    file = forms.FileField(label=_("Pièce jointe (facultative)"), required=False)
    # One-time token (anct_portal.services.claim_form_token): a double click on "Envoyer"
    # records the message, and notifies the collectivité, once.
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form_token"].initial = new_form_token()

    def clean_form_token(self):
        token = self.cleaned_data.get("form_token", "")
        if token and not is_valid_token(token):
            raise ValidationError(_("Ce formulaire a expiré. Rechargez la page, puis recommencez."))
        return token


class ComiteReportForm(forms.Form):
    departement = forms.ModelChoiceField(
        label=_("Département"), queryset=Departement.objects.none(), empty_label=None
    )
    start = forms.DateField(label=_("Du"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Au"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if roles.is_national_staff(user) or user.is_superuser:
            departements = Departement.objects.all()
        else:
            departements = Departement.objects.filter(pk__in=roles.departement_ids(user))
        self.fields["departement"].queryset = departements.order_by("code")

    @staticmethod
    def default_period():
        """The current quarter up to today."""
        today = timezone.localdate()
        first_month = 3 * ((today.month - 1) // 3) + 1
        return today.replace(month=first_month, day=1), today

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        # 9999-12-31 + one day overflows Python's dates (a 500): keep to plausible years.
        for name, value in (("start", start), ("end", end)):
            if value and not (datetime.date(2000, 1, 1) <= value <= datetime.date(2100, 12, 31)):
                raise ValidationError({name: _("Saisissez une date entre 2000 et 2100.")})
        if start and end and start > end:
            raise ValidationError({"end": _("La fin de la période précède son début.")})
        if start and end and (end - start).days > 3 * 366:
            raise ValidationError({"end": _("La période ne peut dépasser trois ans.")})
        return cleaned
