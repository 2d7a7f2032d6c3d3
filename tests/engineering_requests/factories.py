"""Factories and a small cast of people around one collectivité, to drive the workflow.

``EngineeringRequestFactory`` builds rows directly (fast, for lists and query counts);
``Cast.request_in(state)`` walks the real services so that histories are consistent.
"""

import datetime
from dataclasses import dataclass

import factory
from django.utils import timezone

from engineering_requests import services
from engineering_requests.enums import EngineeringKind, MessageKind, RequestState
from engineering_requests.models import Attachment, EngineeringRequest, RequestMessage
from programmes.enums import InterventionForm, NationalInstrument
from tests.accounts.factories import (
    DelegateFactory,
    NationalStaffFactory,
    OfficialFactory,
    UserFactory,
)
from tests.programmes.factories import OperatorFactory, PriorityDomainFactory
from tests.territories.factories import CollectivityFactory, DepartementFactory


class EngineeringRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngineeringRequest

    collectivity = factory.SubFactory(CollectivityFactory)
    departement = factory.LazyAttribute(lambda o: o.collectivity.departement)
    # An official of the request's collectivité (pass ``submitted_by`` to reuse one).
    submitted_by = factory.LazyAttribute(lambda o: OfficialFactory(collectivities=[o.collectivity]))
    title = factory.Sequence(lambda n: f"Réhabilitation du pont communal n°{n}")
    description = "Le pont de la rue principale présente des fissures inquiétantes."
    need = "Un diagnostic structurel de l'ouvrage d'art."
    engineering_kind = EngineeringKind.TECHNICAL_EXPERTISE
    intervention_form = InterventionForm.CUSTOM
    state = RequestState.DRAFT
    last_transition_at = factory.LazyFunction(timezone.now)

    class Params:
        submitted = factory.Trait(
            state=RequestState.SUBMITTED,
            reference=factory.Sequence(lambda n: f"ING-2026-{n + 500000:06d}"),
            submitted_at=factory.LazyFunction(timezone.now),
        )
        # Rows straight in a later state, for lists, filters and reports (no history rows;
        # use ``Cast.request_in`` when the history matters).
        in_review = factory.Trait(
            submitted=True,
            state=RequestState.IN_REVIEW,
            review_started_at=factory.LazyFunction(timezone.now),
        )
        escalated = factory.Trait(
            submitted=True,
            state=RequestState.ESCALATED,
            escalated_at=factory.LazyFunction(timezone.now),
            innovative_rationale="Ouvrage d'art ancien : une expertise rare est nécessaire.",
        )
        resolved = factory.Trait(
            submitted=True,
            state=RequestState.LOCAL_SUPPORT,
            resolved_locally_at=factory.LazyFunction(timezone.now),
            contact_name="Claire Martin",
            contact_organisation="Agence technique départementale",
            contact_email="claire.martin@atd.example.fr",
        )
        info_requested = factory.Trait(
            submitted=True,
            state=RequestState.INFO_REQUESTED,
            review_started_at=factory.LazyFunction(timezone.now),
            info_requested_at=factory.LazyFunction(timezone.now),
        )
        completed = factory.Trait(
            submitted=True,
            state=RequestState.COMPLETED,
            completed_at=factory.LazyFunction(timezone.now),
        )


def draft_fields(**overrides) -> dict:
    fields = {
        "title": "Réhabilitation du pont de la Creuse",
        "description": "Le pont communal, construit en 1890, présente des fissures.",
        "need": "Un diagnostic structurel par un bureau d'études spécialisé.",
        "engineering_kind": EngineeringKind.TECHNICAL_EXPERTISE,
        "intervention_form": InterventionForm.CUSTOM,
        "domains": [PriorityDomainFactory(code="ouvrages", name="Ouvrages d'art")],
        "estimated_budget": "250000",
        "desired_start": timezone.localdate() + datetime.timedelta(days=60),
    }
    fields.update(overrides)
    return fields


@dataclass
class Cast:
    """The people around one collectivité (A) and one elsewhere (B)."""

    collectivity: object
    official: object
    colleague: object  # another official of the same collectivité
    other_official: object  # official of another collectivité, another département
    delegate: object
    other_delegate: object
    national: object
    contact: object  # will be named interlocuteur unique
    nobody: object

    @classmethod
    def create(cls) -> "Cast":
        collectivity = CollectivityFactory()
        other_collectivity = CollectivityFactory(commune__departement=DepartementFactory())
        return cls(
            collectivity=collectivity,
            official=OfficialFactory(collectivities=[collectivity]),
            colleague=OfficialFactory(collectivities=[collectivity]),
            other_official=OfficialFactory(collectivities=[other_collectivity]),
            delegate=DelegateFactory(departements=[collectivity.departement]),
            other_delegate=DelegateFactory(departements=[other_collectivity.departement]),
            national=NationalStaffFactory(),
            contact=UserFactory(email="interlocuteur@atd.example.fr"),
            nobody=UserFactory(),
        )

    def draft(self, **overrides):
        return services.create_draft(
            user=self.official, collectivity=self.collectivity, **draft_fields(**overrides)
        )

    def request_in(self, state: str, **overrides) -> EngineeringRequest:
        """A request brought to ``state`` through the services, as people would."""
        request = self.draft(**overrides)
        if state == RequestState.DRAFT:
            return request
        if state == RequestState.WITHDRAWN:
            return services.withdraw_request(engineering_request=request, user=self.official)
        request = services.submit_request(engineering_request=request, user=self.official)
        if state == RequestState.SUBMITTED:
            return request
        request = services.start_review(engineering_request=request, user=self.delegate)
        if state == RequestState.IN_REVIEW:
            return request
        if state == RequestState.INFO_REQUESTED:
            return services.request_info(
                engineering_request=request, user=self.delegate, message="Quel est le budget ?"
            )
        if state == RequestState.DECLINED:
            return services.decline_request(
                engineering_request=request, user=self.delegate, reason="Hors du champ."
            )
        if state in (RequestState.LOCAL_SUPPORT, RequestState.COMPLETED):
            request = self.resolve(request)
            if state == RequestState.LOCAL_SUPPORT:
                return request
            return services.complete_request(
                engineering_request=request, user=self.delegate, outcome="Diagnostic rendu."
            )
        request = self.escalate(request)
        if state == RequestState.ESCALATED:
            return request
        if state == RequestState.NATIONAL_SUPPORT:
            return self.approve(request)
        raise ValueError(state)

    def resolve(self, request):
        return services.resolve_locally(
            engineering_request=request,
            user=self.delegate,
            contact_name="Claire Martin",
            contact_organisation="Agence technique départementale",
            contact_email=self.contact.email,
        )

    def escalate(self, request):
        return services.escalate_request(
            engineering_request=request,
            user=self.delegate,
            innovative_or_complex="Ouvrage d'art ancien, expertise du Cerema nécessaire.",
            rare_expertise=True,
        )

    def approve(self, request):
        return services.approve_national_support(
            engineering_request=request,
            user=self.national,
            instrument=NationalInstrument.FRAMEWORK_AGREEMENT,
            operator=OperatorFactory(),
        )


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_upload(name: str = "plan-de-financement.pdf"):
    """A small real PDF, as a browser would upload it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


class RequestMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestMessage

    engineering_request = factory.SubFactory(EngineeringRequestFactory, submitted=True)
    author = factory.LazyAttribute(lambda o: o.engineering_request.submitted_by)
    body = factory.Sequence(lambda n: f"Message n°{n} sur le projet.")

    class Params:
        internal = factory.Trait(kind=MessageKind.INTERNAL_NOTE, body="Note interne : à voir.")


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    engineering_request = factory.SubFactory(EngineeringRequestFactory, submitted=True)
    uploaded_by = factory.LazyAttribute(lambda o: o.engineering_request.submitted_by)
    file = factory.django.FileField(filename="piece.pdf", data=PDF_BYTES)
    original_name = factory.Sequence(lambda n: f"piece-{n}.pdf")
    content_type = "application/pdf"
    size = len(PDF_BYTES)
    sha256 = "0" * 64

    class Params:
        internal = factory.Trait(is_internal=True, original_name="note-interne.pdf")
