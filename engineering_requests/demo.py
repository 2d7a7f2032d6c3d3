"""Demo data: accounts of every role and about fifty requests in every state, built through the
real services so that histories, logs and notifications are consistent.

Département A is the Creuse (Aubusson, 23008), département B the Saône-et-Loire (Autun, 71014).
"""

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import CollectivityMembership, DelegateAssignment, User
from accounts.roles import DELEGATES_GROUP, NATIONAL_STAFF_GROUP
from engineering_requests import services
from engineering_requests.enums import EngineeringKind
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest, RequestMessage, TransitionLog
from programmes.enums import InterventionForm, NationalInstrument
from programmes.models import Operator, PriorityDomain, Programme
from territories.models import Collectivity

COMMUNE_A = "23008"  # Aubusson (Creuse)
COMMUNE_B = "71014"  # Autun (Saône-et-Loire)

ACCOUNTS = {
    "elu-a@demo.test": ("Marie", "Lefèvre", "Maire d'Aubusson"),
    "elu-b@demo.test": ("Vincent", "Moreau", "Adjoint au maire d'Autun"),
    "delegue-a@demo.test": ("Sophie", "Garnier", "Déléguée territoriale adjointe, Creuse"),
    "delegue-b@demo.test": ("Karim", "Benali", "Délégué territorial adjoint, Saône-et-Loire"),
    "national@demo.test": ("Hélène", "Dubois", "Chargée de mission ingénierie, ANCT"),
    "contact-a@demo.test": ("Thomas", "Roux", "Ingénieur, agence technique départementale"),
}

PROJECTS = [
    ("Rénovation énergétique de l'école élémentaire", EngineeringKind.STUDY),
    ("Revitalisation du centre-bourg : étude de programmation", EngineeringKind.STUDY),
    ("Création d'une maison de santé pluriprofessionnelle", EngineeringKind.PROJECT_MANAGEMENT),
    ("Diagnostic du pont de la rue Vieille", EngineeringKind.TECHNICAL_EXPERTISE),
    ("Réseau de chaleur bois-énergie des bâtiments communaux", EngineeringKind.TECHNICAL_EXPERTISE),
    ("Aménagement d'un tiers-lieu numérique", EngineeringKind.PROJECT_MANAGEMENT),
    ("Requalification des berges de la rivière", EngineeringKind.STUDY),
    ("Reconversion de la friche industrielle", EngineeringKind.FINANCIAL),
    ("Ouverture d'un espace France Services itinérant", EngineeringKind.PROJECT_MANAGEMENT),
    ("Plan de mobilité rurale et covoiturage", EngineeringKind.STUDY),
    ("Réhabilitation de logements vacants en centre ancien", EngineeringKind.FINANCIAL),
    ("Concertation sur le réaménagement de la place du marché", EngineeringKind.CONSULTATION),
    ("Couverture mobile des hameaux", EngineeringKind.TECHNICAL_EXPERTISE),
    ("Création d'une halle gourmande en circuits courts", EngineeringKind.STUDY),
    ("Mise en accessibilité de la mairie", EngineeringKind.PROJECT_MANAGEMENT),
    ("Montage financier de la médiathèque", EngineeringKind.FINANCIAL),
    ("Étude de revitalisation commerciale", EngineeringKind.STUDY),
    ("Restauration de l'église classée", EngineeringKind.TECHNICAL_EXPERTISE),
    ("Schéma directeur d'assainissement", EngineeringKind.STUDY),
    ("Inclusion numérique des seniors", EngineeringKind.CONSULTATION),
    ("Création d'une voie verte entre deux bourgs", EngineeringKind.PROJECT_MANAGEMENT),
    ("Extension de la zone d'activités économiques", EngineeringKind.FINANCIAL),
    ("Désimperméabilisation de la cour d'école", EngineeringKind.STUDY),
    ("Programme de stages de 3e pour les jeunes du quartier", EngineeringKind.CONSULTATION),
    ("Centrale photovoltaïque sur l'ancienne décharge", EngineeringKind.TECHNICAL_EXPERTISE),
]

# Per département: the states of its requests, in order (DESIGN §7: in A at least one complete
# draft, two submitted, one in review, one escalated, and every other state).
STATES_A = [
    S.DRAFT, S.SUBMITTED, S.SUBMITTED, S.IN_REVIEW, S.ESCALATED, S.INFO_REQUESTED,
    S.LOCAL_SUPPORT, S.NATIONAL_SUPPORT, S.DECLINED, S.WITHDRAWN, S.COMPLETED, S.COMPLETED,
    S.LOCAL_SUPPORT, S.LOCAL_SUPPORT, S.LOCAL_SUPPORT, S.COMPLETED, S.COMPLETED, S.SUBMITTED,
    S.IN_REVIEW, S.LOCAL_SUPPORT, S.COMPLETED, S.ESCALATED, S.LOCAL_SUPPORT, S.COMPLETED,
    S.LOCAL_SUPPORT,
]  # fmt: skip
STATES_B = [
    S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED, S.LOCAL_SUPPORT, S.LOCAL_SUPPORT,
    S.ESCALATED, S.NATIONAL_SUPPORT, S.COMPLETED, S.COMPLETED, S.DECLINED, S.WITHDRAWN,
    S.LOCAL_SUPPORT, S.LOCAL_SUPPORT, S.COMPLETED, S.SUBMITTED, S.IN_REVIEW, S.LOCAL_SUPPORT,
    S.COMPLETED, S.LOCAL_SUPPORT, S.COMPLETED, S.LOCAL_SUPPORT, S.ESCALATED, S.LOCAL_SUPPORT,
    S.COMPLETED,
]  # fmt: skip


class DemoDataError(Exception):
    pass


@dataclass
class Side:
    collectivity: Collectivity
    official: User
    delegate: User
    contact: User | None


def _account(email, password, **extra) -> User:
    first_name, last_name, job_title = ACCOUNTS[email]
    user, _ = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "job_title": job_title,
            **extra,
        },
    )
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


def _collectivity(code: str) -> Collectivity:
    collectivity = Collectivity.objects.filter(kind="commune", code=code).first()
    if collectivity is None:
        raise DemoDataError(
            f"Commune {code} not found: run `python manage.py load_territories` first."
        )
    return collectivity


MILESTONE_OF = {
    "submit": "submitted_at",
    "start_review": "review_started_at",
    "request_info": "info_requested_at",
    "provide_info": "info_provided_at",
    "resolve_locally": "resolved_locally_at",
    "escalate": "escalated_at",
    "approve_national": "decided_at",
    "refer_back": "referred_back_at",
    "decline": "declined_at",
    "withdraw": "withdrawn_at",
    "complete": "completed_at",
}


def _spread_history(engineering_request: EngineeringRequest, *, age_days: float, rng) -> None:
    """Spread a freshly made history over the past, a few days between steps, so that the
    demo shows requests of various ages and realistic delays. Demo seeding only: the
    services always stamp the present."""
    logs = list(TransitionLog.objects.filter(engineering_request=engineering_request))
    gaps = [datetime.timedelta(days=rng.uniform(0.5, 12)) for _ in logs]
    moment = timezone.now() - datetime.timedelta(days=age_days) - sum(gaps, datetime.timedelta())
    updates = {"created_at": moment}
    times = []
    for log, gap in zip(logs, gaps, strict=True):
        moment += gap
        times.append(moment)
        TransitionLog.objects.filter(pk=log.pk).update(created_at=moment)
        updates[MILESTONE_OF[log.transition]] = moment
    updates["last_transition_at"] = moment
    EngineeringRequest.objects.filter(pk=engineering_request.pk).update(**updates)
    # Messages were written with their transition: give them the same moment.
    for message in RequestMessage.objects.filter(engineering_request=engineering_request):
        earlier = [
            t for log, t in zip(logs, times, strict=True) if log.created_at <= message.created_at
        ]
        when = earlier[-1] if earlier else updates["created_at"]
        RequestMessage.objects.filter(pk=message.pk).update(created_at=when)


def _walk(side: Side, national: User, state: str, index: int, rng: random.Random):
    title, kind = PROJECTS[index % len(PROJECTS)]
    domains = list(PriorityDomain.objects.filter(parent__isnull=False).order_by("pk"))
    programme = Programme.objects.filter(code="pvd").first()
    use_programme = programme is not None and index % 3 == 0
    fields = {
        "title": title,
        "description": (
            f"{side.collectivity.name} porte le projet « {title.lower()} ». Les élus souhaitent "
            "l'engager d'ici deux ans ; les premiers échanges avec les habitants ont eu lieu."
        ),
        "need": "Un appui pour cadrer le projet, estimer son coût et choisir les bons partenaires.",
        "engineering_kind": kind,
        "intervention_form": InterventionForm.PROGRAMME
        if use_programme
        else InterventionForm.CUSTOM,
        "programme": programme if use_programme else None,
        "domains": rng.sample(domains, k=min(2, len(domains))),
        "estimated_budget": str(rng.choice([45_000, 120_000, 380_000, 1_200_000, 2_500_000])),
        "desired_start": timezone.localdate() + datetime.timedelta(days=rng.randint(60, 400)),
    }
    request = services.create_draft(user=side.official, collectivity=side.collectivity, **fields)
    if state == S.DRAFT:
        return request
    if state == S.WITHDRAWN:
        request = services.submit_request(engineering_request=request, user=side.official)
        return services.withdraw_request(
            engineering_request=request,
            user=side.official,
            reason="Le conseil municipal a décidé de reporter le projet.",
        )
    request = services.submit_request(engineering_request=request, user=side.official)
    if state == S.SUBMITTED:
        return request
    request = services.start_review(engineering_request=request, user=side.delegate)
    if state == S.IN_REVIEW:
        return request
    if state == S.INFO_REQUESTED:
        return services.request_info(
            engineering_request=request,
            user=side.delegate,
            message="Pouvez-vous nous transmettre le plan de financement prévisionnel ?",
        )
    if state == S.DECLINED:
        return services.decline_request(
            engineering_request=request,
            user=side.delegate,
            reason="Le projet bénéficie déjà d'un accompagnement du conseil départemental.",
        )
    if state == S.LOCAL_SUPPORT or (state == S.COMPLETED and index % 5 != 4):
        contact = side.contact
        request = services.resolve_locally(
            engineering_request=request,
            user=side.delegate,
            contact_name=contact.get_full_name() if contact else "Claire Martin",
            contact_organisation="Agence technique départementale",
            contact_email=contact.email if contact else "claire.martin@atd.example.fr",
            comment="L'ATD accompagne déjà des projets semblables.",
        )
        if state == S.LOCAL_SUPPORT:
            return request
        return services.complete_request(
            engineering_request=request,
            user=side.delegate,
            outcome="Étude rendue ; la collectivité a lancé sa consultation.",
        )
    request = services.escalate_request(
        engineering_request=request,
        user=side.delegate,
        fragility="Commune fragile, sans service technique, en déprise démographique."
        if index % 2
        else "",
        insufficient_local_resources="Aucun acteur local ne dispose de cette expertise."
        if index % 2
        else "",
        innovative_or_complex="" if index % 2 else "Projet complexe, premier du genre ici.",
        rare_expertise=index % 3 == 0,
        national_scope=index % 4 == 0,
    )
    if state == S.ESCALATED:
        return request
    instrument = [
        NationalInstrument.FRAMEWORK_AGREEMENT,
        NationalInstrument.SUBSIDY,
        NationalInstrument.STATE_MISSION,
    ][index % 3]
    request = services.approve_national_support(
        engineering_request=request,
        user=national,
        instrument=instrument,
        operator=Operator.objects.filter(code="cerema").first()
        if instrument == NationalInstrument.FRAMEWORK_AGREEMENT
        else None,
        amount="40000" if instrument == NationalInstrument.SUBSIDY else None,
        comment="Appui accordé au titre de l'expertise rare.",
    )
    if state == S.NATIONAL_SUPPORT:
        return request
    return services.complete_request(
        engineering_request=request, user=national, outcome="Mission terminée, rapport remis."
    )


@transaction.atomic
def create_demo_data(*, password: str) -> dict:
    """Create the demo accounts and requests. Idempotent: accounts are kept (their password
    reset), and requests are only created when the demo official has none."""
    if not PriorityDomain.objects.exists():
        raise DemoDataError("No priority domain: run `python manage.py load_programmes` first.")
    collectivity_a, collectivity_b = _collectivity(COMMUNE_A), _collectivity(COMMUNE_B)

    national_group, _ = Group.objects.get_or_create(name=NATIONAL_STAFF_GROUP)
    delegates_group, _ = Group.objects.get_or_create(name=DELEGATES_GROUP)
    elu_a = _account("elu-a@demo.test", password)
    elu_b = _account("elu-b@demo.test", password)
    delegue_a = _account("delegue-a@demo.test", password, is_staff=True)
    delegue_b = _account("delegue-b@demo.test", password, is_staff=True)
    national = _account("national@demo.test", password, is_staff=True)
    contact_a = _account("contact-a@demo.test", password)
    national.groups.add(national_group)
    delegue_a.groups.add(delegates_group)
    delegue_b.groups.add(delegates_group)
    CollectivityMembership.objects.get_or_create(user=elu_a, collectivity=collectivity_a)
    CollectivityMembership.objects.get_or_create(user=elu_b, collectivity=collectivity_b)
    DelegateAssignment.objects.get_or_create(user=delegue_a, departement=collectivity_a.departement)
    DelegateAssignment.objects.get_or_create(user=delegue_b, departement=collectivity_b.departement)

    try:
        from programmes.demo import mark_demo_memberships
    except ImportError:  # the catalogue app may not ship demo memberships
        mark_demo_memberships = None
    if mark_demo_memberships is not None:
        mark_demo_memberships([collectivity_a.commune, collectivity_b.commune])

    created = 0
    if not EngineeringRequest.objects.filter(submitted_by__in=[elu_a, elu_b]).exists():
        rng = random.Random(2026)
        sides = [
            (Side(collectivity_a, elu_a, delegue_a, contact_a), STATES_A),
            (Side(collectivity_b, elu_b, delegue_b, None), STATES_B),
        ]
        for side, states in sides:
            for index, state in enumerate(states):
                request = _walk(side, national, state, index, rng)
                # The first requests of each list are the freshest (e.g. the ready draft).
                _spread_history(request, age_days=index * 6 + rng.random() * 3, rng=rng)
                created += 1
    return {"accounts": len(ACCOUNTS), "requests_created": created}
