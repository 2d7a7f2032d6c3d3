"""Forms of the officials' portal. They check what a browser can send (types, lengths, known
choices) with French messages; the rules of the workflow stay in ``services`` and come back as
``ValidationError.message_dict``, shown on the same fields by ``add_service_errors``."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from crispy_forms.layout import HTML, Div
from django import forms
from django.conf import settings
from django.db import router
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from anct_portal.prepared import Prepared
from anct_portal.services import is_valid_token, new_form_token
from crispy_dsfr.helper import dsfr_helper
from crispy_dsfr.layout import Actions, Button, LinkButton, Section
from engineering_requests.admin.rendering import FAST_RENDERER
from engineering_requests.enums import EngineeringKind, RequestState
from engineering_requests.services import MAX_BUDGET, REASON_MAX_LENGTH, TEXT_LIMITS
from engineering_requests.uploads import ALLOWED_EXTENSIONS
from programmes.enums import InterventionForm, ProgrammeStatus
from programmes.models import Contract, PriorityDomain, Programme, ProgrammeMembership

ACCEPT = ",".join(ALLOWED_EXTENSIONS)
FILES_HINT = _(
    "Formats acceptés : PDF, documents bureautiques, images (PNG, JPEG, GIF, WebP), texte, "
    "CSV, ZIP. %(max)s au plus par fichier. Plusieurs fichiers possibles."
)


def files_hint() -> str:
    return FILES_HINT % {"max": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each one is checked by its content in the services."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > 20:
            raise forms.ValidationError(_("Vingt fichiers au plus à la fois."))
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class TokenFormMixin:
    """A hidden one-time token (see ``anct_portal.services.claim_form_token``)."""

    def add_token_field(self):
        self.fields["form_token"] = forms.CharField(
            widget=forms.HiddenInput, required=False, initial=new_form_token()
        )

    def clean_form_token(self):
        token = self.cleaned_data.get("form_token", "")
        if not is_valid_token(token):
            raise forms.ValidationError(
                _("Ce formulaire a expiré. Rechargez la page, puis recommencez.")
            )
        return token


class StateGuardMixin:
    """The state the user saw, so that an action on a changed request says so."""

    def add_seen_state_field(self, state):
        self.fields["seen_state"] = forms.ChoiceField(
            choices=RequestState.choices, widget=forms.HiddenInput, initial=state, required=False
        )


def parse_euros(value: str):
    """'250 000', '250000,50', '1 200 000 €' → Decimal; ValueError otherwise."""
    text = re.sub(r"[\s\u00a0\u202f€]", "", value or "")
    if not text:
        return None
    if "," in text and "." in text:
        text = text.replace(".", "")
    text = text.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", text):
        raise ValueError(value)
    return Decimal(text)


def member_programme_ids(collectivities) -> dict[int, list[int]]:
    """For each collectivité, the programmes it belongs to (directly or through its EPCI)."""
    try:
        from programmes.selectors import programmes_for_commune
    except ImportError:  # the catalogue's selectors are not there yet: ask the memberships
        programmes_for_commune = None
    result = {}
    for collectivity in collectivities:
        ids: list[int] = []
        commune = collectivity.commune
        if commune is not None and programmes_for_commune is not None:
            ids = list(programmes_for_commune(commune).values_list("pk", flat=True))
        elif commune is not None:
            condition = {"commune_id": commune.pk}
            query = ProgrammeMembership.objects.filter(**condition)
            if commune.epci_id:
                query = query | ProgrammeMembership.objects.filter(epci_id=commune.epci_id)
            ids = list(query.values_list("programme_id", flat=True).distinct())
        elif collectivity.epci_id:
            ids = list(
                ProgrammeMembership.objects.filter(epci_id=collectivity.epci_id)
                .values_list("programme_id", flat=True)
                .distinct()
            )
        result[collectivity.pk] = sorted(set(ids))
    return result


def domain_choices(domains=None):
    """Priority domains grouped by theme (one query, unless given them in that order)."""
    if domains is None:
        domains = PriorityDomain.objects.order_by("position", "name")
    domains = list(domains)
    children: dict[int, list] = {}
    for domain in domains:
        if domain.parent_id:
            children.setdefault(domain.parent_id, []).append((str(domain.pk), domain.name))
    choices = []
    for domain in domains:
        if domain.parent_id is None:
            if domain.pk in children:
                choices.append((domain.name, children[domain.pk]))
            else:
                choices.append((str(domain.pk), domain.name))
    return choices


# The catalogue's rows the request form lists and checks the sent ids against: queries without
# parameters, compiled once per process (the ORM spent ~0.2 ms of CPU building each one, on
# every submission, for a sub-millisecond query).
ALL_DOMAINS = Prepared(lambda p: PriorityDomain.objects.order_by("position", "name"))
# A sent form's domains are checked against their ids alone: no model instance for each of the
# catalogue's ~40 rows (that, and building the grouped choices, cost ~0.5 ms per submission).
ALL_DOMAIN_IDS = Prepared(lambda p: PriorityDomain.objects.order_by().values_list("pk", flat=True))
ACTIVE_PROGRAMMES = Prepared(lambda p: Programme.objects.filter(status=ProgrammeStatus.ACTIVE))
ACTIVE_CONTRACTS = Prepared(
    lambda p: Contract.objects.filter(status=ProgrammeStatus.ACTIVE).order_by("name")
)


class SharedChoicesMixin:
    """A copy of the field (each form deep-copies its fields) shares the choices' list instead
    of deep-copying it: choices are replaced, never changed in place (Django's setter and
    this module). ~30 of the ~80 deepcopy calls of each request form."""

    def __deepcopy__(self, memo):
        return forms.Field.__deepcopy__(self, memo)


class ChoiceField(SharedChoicesMixin, forms.ChoiceField):
    pass


class RowChoiceField(SharedChoicesMixin, forms.TypedChoiceField):
    """The id of a row. When ``valid_ids`` (a callable giving the valid ids) is set, a sent
    value is checked against it, without building the labelled choices."""

    valid_ids = None

    def valid_value(self, value):
        if self.valid_ids is None:
            return super().valid_value(value)
        return str(value) in {str(pk) for pk in self.valid_ids()}


class RowMultipleChoiceField(SharedChoicesMixin, forms.TypedMultipleChoiceField):
    """Ids of rows; with ``valid_ids`` (a callable giving a set of the valid ids, as strings),
    each sent value is checked against it, without building the labelled choices."""

    valid_ids = None

    def valid_value(self, value):
        if self.valid_ids is None:
            return super().valid_value(value)
        return str(value) in self.valid_ids()


class RequestForm(TokenFormMixin, forms.Form):
    """A new request or a draft being edited. Every field may stay empty in a draft: the
    submission (``services.submit_request``) tells what is missing."""

    SUBMIT, SAVE = "submit", "save"

    collectivity = RowChoiceField(
        label=_("Collectivité porteuse du projet"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez la collectivité qui porte le projet.")},
    )
    title = forms.CharField(
        label=_("Intitulé du projet"),
        help_text=_("En une ligne. Par exemple : Réhabilitation du pont de la rue Vieille."),
        max_length=TEXT_LIMITS["title"],
        required=False,
    )
    description = forms.CharField(
        label=_("Description du projet"),
        help_text=_(
            "Le contexte, les objectifs, où en est le projet, les partenaires déjà mobilisés."
        ),
        max_length=TEXT_LIMITS["description"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    need = forms.CharField(
        label=_("Votre besoin d'ingénierie"),
        help_text=_(
            "Ce qui vous manque pour avancer : une étude, un appui pour rédiger un cahier des "
            "charges, une expertise technique, un montage financier…"
        ),
        max_length=TEXT_LIMITS["need"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    engineering_kind = ChoiceField(
        label=_("Type d'ingénierie"),
        choices=EngineeringKind.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    intervention_form = ChoiceField(
        label=_("Dans quel cadre ?"),
        help_text=_(
            "Si votre collectivité fait partie d'un programme national d'appui, l'appui passe "
            "en priorité par ce programme."
        ),
        choices=InterventionForm.choices,
        required=False,
        widget=forms.RadioSelect(attrs={"data-intervention-form": ""}),
    )
    programme = RowChoiceField(
        label=_("Programme national d'appui"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    contract = RowChoiceField(
        label=_("Contrat ou pacte territorial"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    domains = RowMultipleChoiceField(
        label=_("Domaines prioritaires"),
        help_text=_("Un ou plusieurs domaines concernés par le projet."),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    estimated_budget = forms.CharField(
        label=_("Budget estimé du projet"),
        help_text=_("En euros, toutes dépenses comprises. Par exemple : 250 000"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    desired_start = forms.DateField(
        label=_("Démarrage souhaité de l'accompagnement"),
        help_text=_("Format attendu : JJ/MM/AAAA"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 15/09/2026.")},
    )
    attachments = MultipleFileField(
        label=_("Ajouter des documents"),
        help_text="",
    )

    # Needed for the submission, so not "(facultatif)" even though a draft may leave them out.
    SUBMISSION_FIELDS = ("title", "description", "need", "engineering_kind",
                         "intervention_form", "programme", "contract", "domains")  # fmt: skip

    def __init__(self, *args, user, collectivities, engineering_request=None,
                 attachments=(), **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.engineering_request = engineering_request
        self.use_required_attribute = False
        self.add_token_field()
        self.collectivities = list(collectivities)
        if engineering_request is not None:
            # The carrying collectivité is chosen once, when the draft is created.
            del self.fields["collectivity"]
        else:
            self.fields["collectivity"].choices = [
                (c.pk, f"{c} – {c.get_kind_display()}") for c in self.collectivities
            ]
            if len(self.collectivities) == 1:
                self.fields["collectivity"].initial = self.collectivities[0].pk
        for name in self.SUBMISSION_FIELDS:
            self.fields[name].dsfr_optional = False
        self.fields["attachments"].help_text = files_hint()

        # The programme, contract and domain lists are read from the database only when
        # something needs them: rendering the form, or checking a value that was sent (an empty
        # select needs no list). A value is checked against the rows alone: the grouping of
        # the programmes (those of the collectivité first) is only for the rendered form.
        self.fields["programme"].choices = self._programme_choices
        self.fields["programme"].valid_ids = lambda: self._programmes
        self.fields["contract"].choices = self._contract_choices
        self.fields["contract"].valid_ids = lambda: self._contracts
        self.fields["domains"].choices = self._domain_choices
        self.fields["domains"].valid_ids = lambda: self._domain_ids
        self._attachments = attachments

    @cached_property
    def members(self) -> dict[int, list[int]]:
        return member_programme_ids(self.collectivities)

    @cached_property
    def _programmes(self) -> dict[int, Programme]:
        programmes = {p.pk: p for p in ACTIVE_PROGRAMMES.run()}
        # A draft keeps showing a programme that has closed since.
        engineering_request = self.engineering_request
        current = engineering_request.programme_id if engineering_request is not None else None
        if current and current not in programmes:
            programmes[current] = engineering_request.programme
        return programmes

    @property
    def member_programmes(self) -> list:
        member_ids = {pk for ids in self.members.values() for pk in ids}
        return [p for p in self._programmes.values() if p.pk in member_ids]

    def _programme_choices(self) -> list:
        member_ids = {pk for ids in self.members.values() for pk in ids}
        programmes = self._programmes.values()
        mine = [(p.pk, p.name) for p in programmes if p.pk in member_ids]
        others = [(p.pk, p.name) for p in programmes if p.pk not in member_ids]
        choices = [("", _("Choisissez un programme"))]
        if mine:
            choices.append((_("Programmes dont votre collectivité fait partie"), mine))
            choices.append((_("Autres programmes"), others))
        else:
            choices.extend(others)
        return choices

    @cached_property
    def _contracts(self) -> dict[int, Contract]:
        return {c.pk: c for c in ACTIVE_CONTRACTS.run()}

    def _contract_choices(self) -> list:
        return [("", _("Choisissez un contrat ou un pacte"))] + [
            (c.pk, c.name) for c in self._contracts.values()
        ]

    @cached_property
    def _domains(self) -> dict[int, PriorityDomain]:
        return {d.pk: d for d in ALL_DOMAINS.run()}

    def _domain_choices(self) -> list:
        return domain_choices(self._domains.values())

    @cached_property
    def _domain_ids(self) -> set[str]:
        if "_domains" in self.__dict__:  # read already (the form is shown)
            return {str(pk) for pk in self._domains}
        return {str(pk) for pk in ALL_DOMAIN_IDS.run()}

    def _domain(self, pk) -> PriorityDomain:
        # The rows read for the choices, if they were; otherwise the id is enough for the
        # services (checked against the catalogue above).
        if "_domains" in self.__dict__:
            return self._domains[pk]
        domain = PriorityDomain(pk=pk)
        domain._state.adding, domain._state.db = False, router.db_for_read(PriorityDomain)
        return domain

    @cached_property
    def helper(self):
        return self._helper(self._attachments)

    @classmethod
    def initial_for_new(cls, collectivities) -> dict:
        """Pre-select the programme the (only) collectivité belongs to."""
        collectivities = list(collectivities)
        if len(collectivities) != 1:
            return {}
        ids = member_programme_ids(collectivities)[collectivities[0].pk]
        if not ids:
            return {}
        return {"intervention_form": InterventionForm.PROGRAMME, "programme": ids[0]}

    @classmethod
    def initial_from(cls, engineering_request) -> dict:
        return {
            "title": engineering_request.title,
            "description": engineering_request.description,
            "need": engineering_request.need,
            "engineering_kind": engineering_request.engineering_kind,
            "intervention_form": engineering_request.intervention_form,
            "programme": engineering_request.programme_id,
            "contract": engineering_request.contract_id,
            "domains": [d.pk for d in engineering_request.domains.all()],
            "estimated_budget": (
                f"{engineering_request.estimated_budget:f}".rstrip("0").rstrip(".")
                if engineering_request.estimated_budget is not None
                else ""
            ),
            "desired_start": engineering_request.desired_start,
        }

    def _helper(self, attachments):
        request = self.engineering_request
        if request is None:
            action = reverse("engineering_requests:create")
            cancel = reverse("engineering_requests:list")
            collectivity = "collectivity"
        else:
            action = reverse("engineering_requests:edit", kwargs={"pk": request.pk})
            cancel = request.get_absolute_url()
            collectivity = HTML(
                render_to_string(
                    "engineering_requests/includes/fixed_collectivity.html",
                    {"collectivity": request.collectivity},
                )
            )
        member_hint = ""
        if self.member_programmes:
            member_hint = render_to_string(
                "engineering_requests/includes/member_programmes.html",
                {"programmes": self.member_programmes},
            )
        existing = HTML(
            render_to_string(
                "engineering_requests/includes/existing_attachments.html",
                {"attachments": attachments, "engineering_request": request},
            )
        )
        return dsfr_helper(
            "form_token",
            Section(_("1. La collectivité"), collectivity, css_id="section-collectivite"),
            Section(_("2. Le projet"), "title", "description", css_id="section-projet"),
            Section(
                _("3. Le besoin d'ingénierie"), "need", "engineering_kind", css_id="section-besoin"
            ),
            Section(
                _("4. La forme d'intervention"),
                HTML(member_hint),
                "intervention_form",
                Div("programme", css_id="choix-programme", data_show_for="programme"),
                Div("contract", css_id="choix-contrat", data_show_for="contract"),
                css_id="section-intervention",
            ),
            Section(_("5. Les domaines prioritaires"), "domains", css_id="section-domaines"),
            Section(
                _("6. Budget et calendrier"),
                "estimated_budget",
                "desired_start",
                css_id="section-budget",
            ),
            Section(_("7. Documents"), existing, "attachments", css_id="section-documents"),
            Actions(
                Button(
                    _("Enregistrer le brouillon"),
                    name="action",
                    value=self.SAVE,
                    secondary=True,
                    icon="fr-icon-save-line",
                ),
                Button(
                    _("Déposer la demande"),
                    name="action",
                    value=self.SUBMIT,
                    icon="fr-icon-send-plane-line",
                ),
                LinkButton(_("Annuler"), cancel, css_class="fr-btn--tertiary-no-outline"),
                css_class="fr-mt-4w",
            ),
            action=action,
            form_id="request-form",
            data_single_submit="",
        )

    # Cleaning ------------------------------------------------------------------------------

    def clean_estimated_budget(self):
        value = self.cleaned_data.get("estimated_budget", "")
        try:
            amount = parse_euros(value)
        except (ValueError, InvalidOperation):
            raise forms.ValidationError(
                _("Indiquez un montant en euros, en chiffres. Par exemple : 250 000")
            ) from None
        if amount is not None and amount >= MAX_BUDGET:
            raise forms.ValidationError(_("Ce montant est invraisemblable."))
        return amount

    def clean_desired_start(self):
        value = self.cleaned_data.get("desired_start")
        if value is not None and not (
            datetime.date(2000, 1, 1) <= value <= datetime.date(2100, 1, 1)
        ):
            raise forms.ValidationError(_("Saisissez une date entre 2000 et 2100."))
        return value

    def clean(self):
        cleaned = super().clean()
        # A programme or a contract only counts with its form of intervention (the other
        # select is hidden by the page's script, but may have been filled before).
        form = cleaned.get("intervention_form")
        if form != InterventionForm.PROGRAMME:
            cleaned["programme"] = None
        if form != InterventionForm.CONTRACT:
            cleaned["contract"] = None
        return cleaned

    def chosen_collectivity(self):
        """The carrying collectivité, among the user's (the choices the field checked)."""
        pk = self.cleaned_data["collectivity"]
        return next(c for c in self.collectivities if c.pk == pk)

    def action(self) -> str:
        return self.SUBMIT if self.data.get("action") == self.SUBMIT else self.SAVE

    def draft_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "need": data["need"],
            "engineering_kind": data["engineering_kind"],
            "intervention_form": data["intervention_form"],
            # The rows the form checked the ids against: the service need not read them again.
            "programme": self._programmes[data["programme"]] if data["programme"] else None,
            "contract": self._contracts[data["contract"]] if data["contract"] else None,
            "domains": [self._domain(pk) for pk in data["domains"]],
            "estimated_budget": data["estimated_budget"],
            "desired_start": data["desired_start"],
        }


def add_service_errors(form, error) -> None:
    """Show a service's ``ValidationError`` on the form's fields (others on the form)."""
    mapping = getattr(error, "message_dict", None) or {"__all__": error.messages}
    for field, messages in mapping.items():
        target = field if field in form.fields else None
        if field == "files" and "attachments" in form.fields:
            target = "attachments"
        if field == "files" and "files" in form.fields:
            target = "files"
        for message in messages:
            form.add_error(target, message)


# Actions on a request ------------------------------------------------------------------------


class ProvideInfoForm(TokenFormMixin, StateGuardMixin, forms.Form):
    # The request page's forms: their widgets written in Python, as the stock templates
    # render them (tests/engineering_requests/admin/test_rendering.py compares).
    default_renderer = FAST_RENDERER

    message = forms.CharField(
        label=_("Votre réponse"),
        help_text=_(
            "Répondez à la question du délégué territorial ; vous pouvez joindre des documents."
        ),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    files = MultipleFileField(label=_("Joindre des documents"))

    def __init__(self, *args, engineering_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_token_field()
        self.add_seen_state_field(engineering_request.state)
        self.fields["message"].dsfr_optional = False
        self.fields["files"].help_text = files_hint()
        self.helper = dsfr_helper(
            "form_token",
            "seen_state",
            "message",
            "files",
            Actions(Button(_("Envoyer le complément"), icon="fr-icon-send-plane-line")),
            action=reverse(
                "engineering_requests:provide_info", kwargs={"pk": engineering_request.pk}
            ),
            form_id="provide-info-form",
            data_single_submit="",
        )

    def clean(self):
        cleaned = super().clean()
        if (
            not (cleaned.get("message") or "").strip()
            and not cleaned.get("files")
            and not self.errors
        ):
            self.add_error("message", _("Répondez par un message ou joignez un document."))
        return cleaned


class MessageForm(TokenFormMixin, forms.Form):
    default_renderer = FAST_RENDERER

    body = forms.CharField(
        label=_("Votre message"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Écrivez votre message.")},
    )
    files = MultipleFileField(label=_("Joindre des documents"))

    def __init__(self, *args, engineering_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_required_attribute = False
        self.add_token_field()
        self.fields["body"].help_text = _(
            "Il sera lu par le délégué territorial en charge de la demande."
        )
        self.fields["files"].help_text = files_hint()
        self.helper = dsfr_helper(
            "form_token",
            "body",
            "files",
            Actions(Button(_("Envoyer le message"), secondary=True, icon="fr-icon-mail-line")),
            action=reverse("engineering_requests:message", kwargs={"pk": engineering_request.pk}),
            form_id="message-form",
            data_single_submit="",
        )


class WithdrawForm(TokenFormMixin, StateGuardMixin, forms.Form):
    reason = forms.CharField(
        label=_("Pourquoi retirez-vous la demande ?"),
        help_text=_("Ce motif sera lu par le délégué territorial."),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("Je confirme le retrait de cette demande. Ce retrait est définitif."),
        error_messages={"required": _("Cochez la case pour confirmer le retrait.")},
    )

    def __init__(self, *args, engineering_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_required_attribute = False
        self.add_token_field()
        self.add_seen_state_field(engineering_request.state)
        self.helper = dsfr_helper(
            "form_token",
            "seen_state",
            "reason",
            "confirm",
            Actions(
                Button(_("Retirer la demande"), icon="fr-icon-close-circle-line"),
                LinkButton(_("Annuler, garder la demande"), engineering_request.get_absolute_url()),
                css_class="fr-mt-3w",
            ),
            action=reverse("engineering_requests:withdraw", kwargs={"pk": engineering_request.pk}),
            form_id="withdraw-form",
            data_single_submit="",
        )


class ProgressNoteForm(TokenFormMixin, forms.Form):
    default_renderer = FAST_RENDERER

    body = forms.CharField(
        label=_("Point d'avancement"),
        help_text=_(
            "Où en est l'accompagnement : rencontres, livrables, prochaines étapes. Il sera lu "
            "par la collectivité et par le délégué territorial."
        ),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Écrivez le point d'avancement.")},
    )

    def __init__(self, *args, engineering_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_required_attribute = False
        self.add_token_field()
        self.helper = dsfr_helper(
            "form_token",
            "body",
            Actions(Button(_("Publier le point d'avancement"), icon="fr-icon-chat-check-line")),
            action=reverse(
                "engineering_requests:progress_note", kwargs={"pk": engineering_request.pk}
            ),
            form_id="progress-note-form",
            data_single_submit="",
        )


class RequestFilterForm(forms.Form):
    """Rendered by ``{% request_filter_form %}`` (engineering_requests/templatetags/
    request_rows.py, markup written out) from its fields and ``state_choices``."""

    q = forms.CharField(
        label=_("Rechercher"),
        help_text=_("Une référence ou un mot de l'intitulé"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    statut = forms.ChoiceField(
        label=_("Statut"), help_text=_("Où en est la demande"), required=False
    )

    def __init__(self, *args, state_counts=None, selected_state="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["statut"].choices = self.state_choices(state_counts, selected_state)

    @staticmethod
    def state_choices(state_counts=None, selected_state="", labels=None):
        """All states, then each state with requests (or the one selected) and its count.
        ``labels``: the states' labels already translated, by value."""
        counts = state_counts or {}
        return [("", _("Tous les statuts"))] + [
            (value, f"{labels[value] if labels else label} ({counts.get(value, 0)})")
            for value, label in RequestState.choices
            if counts.get(value) or value == selected_state
        ]

    def clean_statut(self):
        value = self.cleaned_data.get("statut", "")
        return value if value in RequestState.values else ""
