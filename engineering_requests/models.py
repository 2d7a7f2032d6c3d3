"""Engineering-support requests, their state machine, transition log, messages and attachments.

The state field is protected: only the transition methods below change it, and only the
functions of ``engineering_requests.services`` call them (inside a transaction, with the row
locked, a log row written and notifications recorded).
"""

import secrets
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from anct_portal.choices import FastChoicesDisplayMixin
from engineering_requests import permissions
from engineering_requests.enums import EngineeringKind, MessageKind, RequestState
from programmes.enums import InterventionForm, NationalInstrument

S = RequestState


class ReferenceSequence(models.Model):
    """Last reference number given for a year. Locked while a submission takes the next one,
    so references are unique and gap-free per year even under concurrent submissions."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de références")
        verbose_name_plural = _("compteurs de références")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


def waiting_priority() -> models.Case:
    """What waits for the official first: answers to give, then drafts, then the open ones,
    then the closed ones. Shared by "Mes demandes" and the index that serves its order."""
    return models.Case(
        models.When(state=RequestState.INFO_REQUESTED, then=models.Value(0)),
        models.When(state=RequestState.DRAFT, then=models.Value(1)),
        models.When(state__in=RequestState.open_states(), then=models.Value(2)),
        default=models.Value(3),
        output_field=models.IntegerField(),
    )


class EngineeringRequest(
    FastChoicesDisplayMixin, ConcurrentTransitionMixin, FSMModelMixin, models.Model
):
    reference = models.CharField(
        _("référence"),
        max_length=20,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Attribuée au dépôt, par exemple ING-2026-000123."),
    )
    state = FSMField(_("statut"), default=S.DRAFT, choices=S.choices, protected=True, db_index=True)

    # Who carries the project, and which département instructs it.
    collectivity = models.ForeignKey(
        "territories.Collectivity",
        on_delete=models.PROTECT,
        related_name="engineering_requests",
        verbose_name=_("collectivité porteuse"),
    )
    departement = models.ForeignKey(
        "territories.Departement",
        on_delete=models.PROTECT,
        related_name="engineering_requests",
        verbose_name=_("département"),
    )

    # The project and the need.
    title = models.CharField(_("intitulé du projet"), max_length=200, blank=True)
    description = models.TextField(_("description du projet"), blank=True)
    need = models.TextField(_("besoin d'ingénierie"), blank=True)
    engineering_kind = models.CharField(
        _("type d'ingénierie"), max_length=30, choices=EngineeringKind.choices, blank=True
    )
    intervention_form = models.CharField(
        _("forme d'intervention"), max_length=20, choices=InterventionForm.choices, blank=True
    )
    programme = models.ForeignKey(
        "programmes.Programme",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="engineering_requests",
        verbose_name=_("programme"),
    )
    contract = models.ForeignKey(
        "programmes.Contract",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="engineering_requests",
        verbose_name=_("contrat ou pacte"),
    )
    domains = models.ManyToManyField(
        "programmes.PriorityDomain",
        blank=True,
        related_name="engineering_requests",
        verbose_name=_("domaines prioritaires"),
    )
    estimated_budget = models.DecimalField(
        _("budget estimé du projet (€)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    desired_start = models.DateField(_("démarrage souhaité"), null=True, blank=True)

    # People.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="submitted_requests",
        verbose_name=_("élu ou agent demandeur"),
    )
    assigned_delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_requests",
        verbose_name=_("délégué en charge"),
    )

    # The "interlocuteur unique" named when the request is resolved locally.
    contact_name = models.CharField(_("interlocuteur unique"), max_length=200, blank=True)
    contact_organisation = models.CharField(_("organisme"), max_length=250, blank=True)
    contact_email = models.EmailField(_("e-mail de l'interlocuteur"), blank=True, db_index=True)
    local_provider = models.ForeignKey(
        "programmes.LocalProvider",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="engineering_requests",
        verbose_name=_("acteur local de l'annuaire"),
    )

    # Escalation justification: a ground is claimed by writing its rationale.
    fragility_rationale = models.TextField(_("fragilité de la collectivité"), blank=True)
    insufficient_resources_rationale = models.TextField(
        _("insuffisance des ressources locales"), blank=True
    )
    innovative_rationale = models.TextField(_("caractère innovant ou complexe"), blank=True)
    rare_expertise = models.BooleanField(_("expertise rare"), default=False)
    national_scope = models.BooleanField(_("projet d'envergure nationale"), default=False)

    # National decision.
    national_instrument = models.CharField(
        _("instrument national"), max_length=30, choices=NationalInstrument.choices, blank=True
    )
    operator = models.ForeignKey(
        "programmes.Operator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="engineering_requests",
        verbose_name=_("opérateur"),
    )
    granted_amount = models.DecimalField(
        _("montant accordé (€)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decision_comment = models.TextField(_("commentaire de la décision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_requests",
        verbose_name=_("décision prise par"),
    )

    # Reasons and outcome.
    referral_reason = models.TextField(_("motif du renvoi au département"), blank=True)
    decline_reason = models.TextField(_("motif de non-retenue"), blank=True)
    withdrawal_reason = models.TextField(_("motif du retrait"), blank=True)
    outcome = models.TextField(_("bilan de l'accompagnement"), blank=True)

    # Milestones.
    created_at = models.DateTimeField(_("créée le"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    submitted_at = models.DateTimeField(_("déposée le"), null=True, blank=True)
    review_started_at = models.DateTimeField(_("instruction commencée le"), null=True, blank=True)
    info_requested_at = models.DateTimeField(_("complément demandé le"), null=True, blank=True)
    info_provided_at = models.DateTimeField(_("complément apporté le"), null=True, blank=True)
    resolved_locally_at = models.DateTimeField(_("réponse locale le"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("transmise à l'ANCT le"), null=True, blank=True)
    decided_at = models.DateTimeField(_("décision nationale le"), null=True, blank=True)
    referred_back_at = models.DateTimeField(_("renvoyée au département le"), null=True, blank=True)
    declined_at = models.DateTimeField(_("non retenue le"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("retirée le"), null=True, blank=True)
    completed_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    last_transition_at = models.DateTimeField(_("dernier changement de statut"), null=True)

    class Meta:
        verbose_name = _("demande d'appui en ingénierie")
        verbose_name_plural = _("demandes d'appui en ingénierie")
        ordering = ["-submitted_at", "-created_at"]
        indexes = [
            # Delegates' queues and filters: their départements, by state, newest first, in
            # the change list's exact order (the id breaks ties), so that a page is a range
            # of the index; the state is included so that skipping to a deep page reads the
            # index alone (an index-only scan).
            models.Index(
                fields=["departement", "state", "-submitted_at", "-id"],
                name="request_dep_state_id_idx",
            ),
            models.Index(
                fields=["departement", "-submitted_at", "-id", "state"],
                name="request_dep_submitted_id_idx",
            ),
            # National queue and dashboards.
            models.Index(fields=["state", "escalated_at"], name="request_state_escalated_idx"),
            models.Index(fields=["state", "-submitted_at"], name="request_state_submitted_idx"),
            # The national change list: every submitted request, newest first, paged by LIMIT.
            models.Index(fields=["-submitted_at", "-id"], name="request_submitted_idx"),
            # Officials' "Mes demandes": its counts by state, and its order (what waits first),
            # read from the index, so that a commune with thousands of requests sorts nothing.
            models.Index(
                fields=["collectivity", "-last_transition_at"], name="request_collectivity_idx"
            ),
            models.Index(fields=["collectivity", "state"], name="request_collectivity_state_idx"),
            models.Index(
                models.F("collectivity"),
                waiting_priority(),
                models.F("last_transition_at").desc(),
                models.F("id").desc(),
                name="request_waiting_first_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | Q(reference__isnull=False),
                name="request_submitted_has_reference",
            ),
            models.CheckConstraint(
                condition=Q(estimated_budget__isnull=True) | Q(estimated_budget__gte=0),
                name="request_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(granted_amount__isnull=True) | Q(granted_amount__gt=0),
                name="request_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference or _('Brouillon')} – {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("engineering_requests:detail", kwargs={"pk": self.pk})

    @property
    def state_fields(self):
        # django-fsm-2 looks for its fields among all the model's fields for every instance it
        # builds (~20 µs a row in lists); ``state`` is the only one.
        return (self._meta.get_field("state"),)

    # Justification helpers, shared by the escalate condition, the services and the admin.
    @property
    def claims_fragility_and_lack_of_resources(self) -> bool:
        return bool(
            self.fragility_rationale.strip() and self.insufficient_resources_rationale.strip()
        )

    @property
    def claims_innovative_or_complex(self) -> bool:
        return bool(self.innovative_rationale.strip())

    def has_valid_justification(self) -> bool:
        return self.claims_fragility_and_lack_of_resources or self.claims_innovative_or_complex

    def has_local_contact(self) -> bool:
        return bool(
            self.contact_name.strip()
            and self.contact_organisation.strip()
            and self.contact_email.strip()
        )

    def has_valid_national_decision(self) -> bool:
        if self.national_instrument not in NationalInstrument.values:
            return False
        if self.national_instrument == NationalInstrument.FRAMEWORK_AGREEMENT:
            return self.operator_id is not None
        if self.national_instrument in NationalInstrument.credits():
            return self.granted_amount is not None and self.granted_amount > 0
        return True

    # Transitions (DESIGN §3). Each one only moves the state and stamps its milestone; the data
    # it must carry is validated and stored by the service before the call, and the conditions
    # below are the last guard.
    @transition(
        field=state, source=S.DRAFT, target=S.SUBMITTED, permission=permissions.is_member_official
    )
    def submit(self):
        self.submitted_at = timezone.now()

    @transition(
        field=state,
        source=S.SUBMITTED,
        target=S.IN_REVIEW,
        permission=permissions.is_delegate_of_departement,
    )
    def start_review(self, *, by):
        self.review_started_at = timezone.now()
        self.assigned_delegate = by

    @transition(
        field=state,
        source=S.IN_REVIEW,
        target=S.INFO_REQUESTED,
        permission=permissions.is_delegate_of_departement,
    )
    def request_info(self):
        self.info_requested_at = timezone.now()

    @transition(
        field=state,
        source=S.INFO_REQUESTED,
        target=S.IN_REVIEW,
        permission=permissions.is_member_official,
    )
    def provide_info(self):
        self.info_provided_at = timezone.now()

    @transition(
        field=state,
        source=S.IN_REVIEW,
        target=S.LOCAL_SUPPORT,
        permission=permissions.is_delegate_of_departement,
        conditions=[has_local_contact],
    )
    def resolve_locally(self):
        self.resolved_locally_at = timezone.now()

    @transition(
        field=state,
        source=S.IN_REVIEW,
        target=S.ESCALATED,
        permission=permissions.is_delegate_of_departement,
        conditions=[has_valid_justification],
    )
    def escalate(self):
        self.escalated_at = timezone.now()

    @transition(
        field=state,
        source=S.ESCALATED,
        target=S.NATIONAL_SUPPORT,
        permission=permissions.is_national_staff,
        conditions=[has_valid_national_decision],
    )
    def approve_national(self, *, by):
        self.decided_at = timezone.now()
        self.decided_by = by

    @transition(
        field=state,
        source=S.ESCALATED,
        target=S.IN_REVIEW,
        permission=permissions.is_national_staff,
    )
    def refer_back(self):
        self.referred_back_at = timezone.now()

    @transition(
        field=state,
        source=S.IN_REVIEW,
        target=S.DECLINED,
        permission=permissions.is_delegate_of_departement,
    )
    def decline(self):
        self.declined_at = timezone.now()

    @transition(
        field=state,
        source=[S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED],
        target=S.WITHDRAWN,
        permission=permissions.is_member_official,
    )
    def withdraw(self):
        self.withdrawn_at = timezone.now()

    @transition(
        field=state,
        source=[S.LOCAL_SUPPORT, S.NATIONAL_SUPPORT],
        target=S.COMPLETED,
        permission=permissions.may_complete,
    )
    def complete(self):
        self.completed_at = timezone.now()


class TransitionLog(FastChoicesDisplayMixin, models.Model):
    """One row per successful transition: the audit trail and the timeline. Append-only."""

    engineering_request = models.ForeignKey(
        EngineeringRequest,
        on_delete=models.RESTRICT,
        related_name="transition_logs",
        verbose_name=_("demande"),
    )
    transition = models.CharField(_("transition"), max_length=30)
    source_state = models.CharField(_("statut de départ"), max_length=30, choices=S.choices)
    target_state = models.CharField(_("statut d'arrivée"), max_length=30, choices=S.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.RESTRICT,
        related_name="request_transitions",
        verbose_name=_("auteur"),
    )
    comment = models.TextField(_("commentaire"), blank=True)
    created_at = models.DateTimeField(_("date"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("historique de la demande")
        verbose_name_plural = _("historique des demandes")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["engineering_request", "created_at"], name="log_request_idx"),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.created_at)
        return f"{self.get_transition_display()} ({when:%d/%m/%Y %H:%M})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Transition logs are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Transition logs are never deleted.")

    def get_transition_display(self) -> str:
        from engineering_requests.enums import Transition

        try:
            return str(Transition(self.transition).label)
        except ValueError:
            return self.transition


class RequestMessage(FastChoicesDisplayMixin, models.Model):
    """The thread of a request: official ↔ delegate messages, staff-only internal notes, and
    the progress notes of the interlocuteur unique."""

    engineering_request = models.ForeignKey(
        EngineeringRequest,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("demande"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="request_messages",
        verbose_name=_("auteur"),
    )
    kind = models.CharField(
        _("nature"), max_length=20, choices=MessageKind.choices, default=MessageKind.MESSAGE
    )
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("date"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["engineering_request", "created_at"], name="message_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.author}"

    @property
    def is_internal(self) -> bool:
        return self.kind == MessageKind.INTERNAL_NOTE


def attachment_upload_to(instance, filename: str) -> str:
    # A random name: never the user's, so nothing can be guessed or traversed.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"attachments/{timezone.now():%Y/%m}/{secrets.token_urlsafe(24)}{suffix}"


class Attachment(models.Model):
    engineering_request = models.ForeignKey(
        EngineeringRequest,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("demande"),
    )
    message = models.ForeignKey(
        RequestMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("message"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="request_attachments",
        verbose_name=_("déposé par"),
    )
    file = models.FileField(_("fichier"), upload_to=attachment_upload_to, max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(max_length=64)
    is_internal = models.BooleanField(_("interne"), default=False)
    created_at = models.DateTimeField(_("date"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["engineering_request", "created_at"], name="attachment_request_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class EscalatedRequest(EngineeringRequest):
    """The national queue in the admin: the same rows, listed as escalations awaiting a
    decision (a proxy, so that it has its own admin page and URL)."""

    class Meta:
        proxy = True
        verbose_name = _("transmission en attente de décision")
        verbose_name_plural = _("file nationale : transmissions en attente de décision")
