"""The workflow actions offered on a request's admin page: one entry per transition, with the
form for what it must carry and the service that performs it."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from engineering_requests import services
from engineering_requests.admin import forms


@dataclass(frozen=True)
class AdminTransition:
    name: str  # the transition method of EngineeringRequest
    label: str
    form_class: type[forms.TransitionForm]
    service: Callable
    description: str = ""
    style: str = ""  # CSS modifier of the button: "", "primary" or "danger"

    def perform(self, *, engineering_request, user, form):
        return self.service(
            engineering_request=engineering_request, user=user, **form.service_kwargs()
        )

    def is_possible(self, engineering_request) -> bool:
        """The transition exists from the request's current state (data checked later)."""
        return can_proceed(getattr(engineering_request, self.name), check_conditions=False)

    def is_permitted(self, engineering_request, user) -> bool:
        method = getattr(engineering_request, self.name)
        return method._django_fsm.has_transition_perm(
            engineering_request, engineering_request.state, user
        )


TRANSITIONS = [
    AdminTransition(
        "start_review",
        _("Prendre en charge"),
        forms.StartReviewForm,
        services.start_review,
        _("Vous devenez le délégué en charge de la demande, qui passe en instruction."),
        "primary",
    ),
    AdminTransition(
        "request_info",
        _("Demander un complément"),
        forms.RequestInfoForm,
        services.request_info,
        _("La collectivité reçoit votre message et complète sa demande."),
    ),
    AdminTransition(
        "resolve_locally",
        _("Répondre localement"),
        forms.ResolveLocallyForm,
        services.resolve_locally,
        _("Désignez l'interlocuteur unique qui accompagnera la collectivité."),
        "primary",
    ),
    AdminTransition(
        "escalate",
        _("Transmettre à l'ANCT"),
        forms.EscalateForm,
        services.escalate_request,
        _("Demandez un appui national, en justifiant pourquoi aucune réponse locale ne convient."),
    ),
    AdminTransition(
        "decline",
        _("Ne pas retenir"),
        forms.DeclineForm,
        services.decline_request,
        _("La demande est close ; la collectivité reçoit le motif."),
        "danger",
    ),
    AdminTransition(
        "approve_national",
        _("Accorder un appui national"),
        forms.ApproveNationalForm,
        services.approve_national_support,
        _(
            "Choisissez l'instrument ; l'opérateur pour une convention-cadre, le montant pour "
            "des crédits."
        ),
        "primary",
    ),
    AdminTransition(
        "refer_back",
        _("Renvoyer au département"),
        forms.ReferBackForm,
        services.refer_back,
        _("La demande revient en instruction chez le délégué territorial, avec votre motif."),
    ),
    AdminTransition(
        "complete",
        _("Clore l'accompagnement"),
        forms.CompleteForm,
        services.complete_request,
        _("Résumez ce que l'accompagnement a permis."),
    ),
]
BY_NAME = {transition.name: transition for transition in TRANSITIONS}


def available_transitions(engineering_request, user) -> list[AdminTransition]:
    """What this user may do on this request now: possible from its state and permitted to
    their role (the services check both again, under the row lock)."""
    return [
        transition
        for transition in TRANSITIONS
        if transition.is_possible(engineering_request)
        and transition.is_permitted(engineering_request, user)
    ]
