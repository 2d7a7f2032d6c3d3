"""National-scale data for the benchmark, written with COPY on the real territories.

Requests are spread over the communes (85 %) and EPCI (15 %) in proportion to their population,
over ``years`` years, with states and delays in plausible proportions (most requests answered
locally, the rest escalated and decided), a full transition history per request, messages on
about half the reviewed requests, and two notifications (e-mail and in-portal) per transition.
Every official, delegate and national staff account exists, with its memberships.

``generate`` can be called again to add more requests (the 1,000,000 check): it continues the
reference numbers and reuses the accounts.
"""

import contextlib
import datetime
import json
import random
import time
from dataclasses import dataclass, field

WORDS = [
    "réhabilitation",
    "rénovation",
    "aménagement",
    "création",
    "extension",
    "requalification",
    "étude",
    "diagnostic",
    "école",
    "mairie",
    "médiathèque",
    "salle",
    "polyvalente",
    "centre-bourg",
    "halles",
    "gare",
    "friche",
    "industrielle",
    "maison",
    "de",
    "santé",
    "crèche",
    "gymnase",
    "piscine",
    "voirie",
    "pont",
    "place",
    "marché",
    "logements",
    "vacants",
    "cœur",
    "de",
    "ville",
    "quartier",
    "parc",
    "entrée",
    "de",
    "ville",
    "réseau",
    "de",
    "chaleur",
    "éclairage",
    "public",
    "assainissement",
    "eau",
    "potable",
    "pistes",
    "cyclables",
    "tiers-lieu",
    "commerce",
    "de",
    "proximité",
]
PROJECTS = [
    "Réhabilitation de l'école",
    "Rénovation énergétique de la mairie",
    "Aménagement du centre-bourg",
    "Requalification de la friche industrielle",
    "Création d'une maison de santé",
    "Extension de la médiathèque",
    "Réfection du pont communal",
    "Revitalisation des commerces du centre",
    "Réseau de chaleur bois",
    "Résorption des logements vacants",
    "Pistes cyclables vers la gare",
    "Tiers-lieu dans les anciennes halles",
]


@dataclass
class Accounts:
    """Ids of the accounts the data hangs on (created once)."""

    national_ids: list
    delegate_by_departement: dict
    official_by_collectivity: dict = field(default_factory=dict)


@contextlib.contextmanager
def _bulk_load(cursor, tables):
    """The usual bulk-load recipe: secondary indexes dropped and rebuilt once at the end, and
    (when the role may) foreign-key triggers off while loading. The generator writes consistent
    rows (tests/anct_portal/test_bench.py checks them)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
        "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
        (list(tables),),
    )
    indexes = cursor.fetchall()
    from psycopg.errors import InsufficientPrivilege

    try:  # first, so that a refusal rolls back nothing else
        cursor.execute("SET session_replication_role = replica")
        triggers_off = True
    except InsufficientPrivilege:
        cursor.connection.rollback()
        triggers_off = False
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        if triggers_off:
            cursor.execute("SET session_replication_role = DEFAULT")
        for _name, definition in indexes:
            cursor.execute(definition)


def copy_rows(cursor, table: str, columns: list[str], rows) -> int:
    count = 0
    with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _columns(model, skip=("id",)):
    fields = [f for f in model._meta.concrete_fields if f.column not in skip]
    defaults = {}
    for f in fields:
        if f.has_default():
            value = f.get_default()
            defaults[f.attname] = value if not callable(value) else value()
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    return fields, defaults


class Generator:
    """Fills the database; ``generate(n)`` adds ``n`` requests with their histories."""

    def __init__(self, *, seed: int = 2026, years: int = 10):
        from django.utils import timezone

        from territories.models import Collectivity

        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.years = years
        self.next_reference = {}
        communes = list(
            Collectivity.objects.filter(kind="commune").values_list(
                "pk", "departement_id", "population"
            )
        )
        epcis = list(
            Collectivity.objects.filter(kind="epci").values_list(
                "pk", "departement_id", "population"
            )
        )
        if not communes:
            raise SystemExit("No territories: run load_territories first.")
        self.communes = [(pk, dep) for pk, dep, _ in communes]
        self.commune_weights = _cumulative([max(pop or 0, 50) for _, _, pop in communes])
        self.epcis = [(pk, dep) for pk, dep, _ in epcis if dep is not None]
        self.epci_weights = _cumulative(
            [max(pop or 0, 500) for _, dep, pop in epcis if dep is not None]
        )
        self.departement_ids = sorted({dep for _, dep in self.communes})
        self.accounts = None
        self.stats = {"requests": 0, "logs": 0, "messages": 0, "notifications": 0, "users": 0}

    # --- accounts -------------------------------------------------------------------------
    def create_staff(self) -> Accounts:
        from django.contrib.auth.models import Group

        from accounts.models import DelegateAssignment, User
        from accounts.roles import DELEGATES_GROUP, NATIONAL_STAFF_GROUP

        national_group, _ = Group.objects.get_or_create(name=NATIONAL_STAFF_GROUP)
        delegates_group, _ = Group.objects.get_or_create(name=DELEGATES_GROUP)
        national = []
        for n in range(5):
            user = User.objects.create(
                email=f"national-{n}@bench.invalid", first_name="Agent", last_name=f"N{n}",
                is_staff=True,
            )  # fmt: skip
            user.groups.add(national_group)
            national.append(user.pk)
        delegates = {}
        for dep in self.departement_ids:
            user = User.objects.create(
                email=f"delegue-{dep}@bench.invalid", first_name="Délégué", last_name=str(dep),
                is_staff=True,
            )  # fmt: skip
            user.groups.add(delegates_group)
            DelegateAssignment.objects.create(user=user, departement_id=dep)
            delegates[dep] = user.pk
        self.stats["users"] += len(national) + len(delegates)
        self.accounts = Accounts(national, delegates)
        return self.accounts

    def _officials_for(self, cursor, collectivity_ids) -> None:
        """One official per collectivité that has requests (created with COPY)."""
        from accounts.models import CollectivityMembership, User

        missing = sorted(set(collectivity_ids) - set(self.accounts.official_by_collectivity))
        if not missing:
            return
        fields, defaults = _columns(User)
        now = self.now

        def users():
            for pk in missing:
                row = dict(defaults)
                row.update(
                    password="!",  # noqa: S106 - unusable: these accounts never sign in with a password
                    email=f"elu-{pk}@bench.invalid",
                    first_name="Élu",
                    last_name=f"C{pk}",
                    date_joined=now,
                    is_active=True,
                )
                yield [row[f.attname] for f in fields]

        copy_rows(cursor, User._meta.db_table, [f'"{f.column}"' for f in fields], users())
        cursor.execute(
            f'SELECT id, email FROM "{User._meta.db_table}" WHERE email LIKE %s',  # noqa: S608
            ("elu-%@bench.invalid",),
        )
        by_email = {email: pk for pk, email in cursor.fetchall()}
        for pk in missing:
            self.accounts.official_by_collectivity[pk] = by_email[f"elu-{pk}@bench.invalid"]
        copy_rows(
            cursor,
            CollectivityMembership._meta.db_table,
            ["user_id", "collectivity_id", "created_at"],
            ((self.accounts.official_by_collectivity[pk], pk, now) for pk in missing),
        )
        self.stats["users"] += len(missing)

    # --- requests -------------------------------------------------------------------------
    def _collectivity(self):
        rng = self.rng
        if self.epcis and rng.random() < 0.15:
            return rng.choices(self.epcis, cum_weights=self.epci_weights)[0]
        return rng.choices(self.communes, cum_weights=self.commune_weights)[0]

    def _reference(self, when) -> str:
        year = when.year
        number = self.next_reference.get(year, 0) + 1
        self.next_reference[year] = number
        return f"ING-{year}-{number:06d}"

    def generate(self, total: int, *, chunk: int = 50_000) -> dict:
        """Add ``total`` requests with histories, messages and notifications."""
        from django.core.management import call_command
        from django.db import connection

        from engineering_requests.models import (
            EngineeringRequest,
            ReferenceSequence,
            RequestMessage,
            TransitionLog,
        )
        from notifications.models import Notification
        from programmes.models import Operator, PriorityDomain, Programme

        programmes = list(Programme.objects.values_list("pk", flat=True))
        domains = list(
            PriorityDomain.objects.filter(parent__isnull=False).values_list("pk", flat=True)
        )
        domains = domains or list(PriorityDomain.objects.values_list("pk", flat=True))
        operators = list(Operator.objects.values_list("pk", flat=True))
        started = time.perf_counter()
        big_tables = [
            EngineeringRequest._meta.db_table,
            TransitionLog._meta.db_table,
            RequestMessage._meta.db_table,
            Notification._meta.db_table,
        ]
        with connection.cursor() as wrapper, _bulk_load(wrapper.cursor, big_tables):
            cursor = wrapper.cursor
            # Continue after what exists (the benchmark's submissions took numbers too).
            cursor.execute(
                f'SELECT year, last_number FROM "{ReferenceSequence._meta.db_table}"'  # noqa: S608
            )
            self.next_reference = dict(cursor.fetchall())
            done = 0
            while done < total:
                size = min(chunk, total - done)
                plans = [self._plan(programmes, operators) for _ in range(size)]
                self._officials_for(cursor, {p["collectivity_id"] for p in plans})
                for p in plans:
                    p["submitted_by_id"] = self.accounts.official_by_collectivity[
                        p["collectivity_id"]
                    ]
                fields, defaults = _columns(EngineeringRequest)
                cursor.execute(
                    f'SELECT coalesce(max(id), 0) FROM "{EngineeringRequest._meta.db_table}"'  # noqa: S608
                )
                last_id = cursor.fetchone()[0]

                def request_rows(plans=plans, fields=fields, defaults=defaults):
                    for p in plans:
                        row = dict(defaults)
                        row.update(p["fields"])
                        row["collectivity_id"] = p["collectivity_id"]
                        row["departement_id"] = p["departement_id"]
                        row["submitted_by_id"] = p["submitted_by_id"]
                        yield [row[f.attname] for f in fields]

                copy_rows(cursor, EngineeringRequest._meta.db_table,
                          [f'"{f.column}"' for f in fields], request_rows())  # fmt: skip
                cursor.execute(
                    f'SELECT id FROM "{EngineeringRequest._meta.db_table}" '  # noqa: S608
                    "WHERE id > %s ORDER BY id",
                    (last_id,),
                )
                ids = [r[0] for r in cursor.fetchall()]
                assert len(ids) == len(plans), (len(ids), len(plans))
                rng = self.rng
                through = EngineeringRequest.domains.through
                copy_rows(
                    cursor, through._meta.db_table, ["engineeringrequest_id", "prioritydomain_id"],
                    ((pk, d) for pk in ids
                     for d in rng.sample(domains, k=min(len(domains), rng.choice((1, 1, 2))))),
                )  # fmt: skip
                self.stats["logs"] += copy_rows(
                    cursor, TransitionLog._meta.db_table,
                    ["engineering_request_id", "transition", "source_state", "target_state",
                     "actor_id", "comment", "created_at"],
                    ((pk, t, src, dst, actor or p["submitted_by_id"], comment, when)
                     for pk, p in zip(ids, plans, strict=True)
                     for t, src, dst, actor, comment, when in p["logs"]),
                )  # fmt: skip
                self.stats["messages"] += copy_rows(
                    cursor, RequestMessage._meta.db_table,
                    ["engineering_request_id", "author_id", "kind", "body", "created_at"],
                    ((pk, author or p["submitted_by_id"], kind, body, when)
                     for pk, p in zip(ids, plans, strict=True)
                     for author, kind, body, when in p["messages"]),
                )  # fmt: skip
                self.stats["notifications"] += copy_rows(
                    cursor, Notification._meta.db_table,
                    ["event", "audience", "channel", "recipient_id", "email",
                     "engineering_request_id", "context", "status", "attempts", "last_error",
                     "dedup_key", "created_at", "retry_at", "sent_at", "read_at"],
                    self._notifications(ids, plans),
                )  # fmt: skip
                done += size
                self.stats["requests"] += size
            for year, number in self.next_reference.items():
                cursor.execute(
                    f'INSERT INTO "{ReferenceSequence._meta.db_table}" (year, last_number) '  # noqa: S608
                    "VALUES (%s, %s) ON CONFLICT (year) "
                    "DO UPDATE SET last_number = EXCLUDED.last_number",
                    (year, number),
                )
        # The dashboard's copy and counters are kept by triggers, off during the load.
        call_command("rebuild_dashboard_facts", verbosity=0)
        with connection.cursor() as cursor:
            # VACUUM and statistics as autovacuum would have by then, on every table (the
            # domain links and the dashboard's copy too): index-only scans need the visibility
            # map, and stale statistics send small queries to parallel plans and JIT.
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        seconds = time.perf_counter() - started
        return {
            "requests": total,
            "seconds": round(seconds, 1),
            "requests_per_s": round(total / seconds),
        }

    def _notifications(self, ids, plans):
        rng = self.rng
        serial = self.stats["notifications"]
        for pk, p in zip(ids, plans, strict=True):
            official = p["submitted_by_id"]
            delegate = self.accounts.delegate_by_departement.get(p["departement_id"])
            for transition, _source, _target, _actor, _comment, when in p["logs"]:
                recipient = delegate if transition == "submit" else official
                audience = "delegate" if transition == "submit" else "official"
                context = json.dumps({
                    "subject": f"Demande {p['fields']['reference']} : {transition}",
                    "body": "Le statut de votre demande a changé.",
                    "url": f"/demandes/{pk}/",
                })  # fmt: skip
                for channel in ("email", "in_app"):
                    serial += 1
                    read = when if channel == "in_app" and rng.random() < 0.7 else None
                    yield (
                        transition, audience, channel, recipient,
                        f"user{recipient}@bench.invalid" if channel == "email" else "",
                        pk, context, "sent", 1, "", f"bench:{serial}", when, None, when, read,
                    )  # fmt: skip

    def _plan(self, programmes, operators) -> dict:
        """One request: its fields, the path of states it went through, its messages."""
        from engineering_requests.enums import EngineeringKind
        from engineering_requests.enums import RequestState as S
        from programmes.enums import InterventionForm, NationalInstrument

        rng = self.rng
        collectivity_id, departement_id = self._collectivity()
        delegate = self.accounts.delegate_by_departement.get(departement_id)
        national = rng.choice(self.accounts.national_ids)
        day = datetime.timedelta(days=1)
        now = self.now
        # More requests in recent years (the service grows), none in the future.
        age_days = self.years * 365 * (rng.random() ** 1.3)
        created = now - age_days * day
        project = rng.choice(PROJECTS)
        fields = {
            "title": f"{project} ({rng.randrange(1, 99)})",
            "description": " ".join(rng.choices(WORDS, k=40)).capitalize() + ".",
            "need": " ".join(rng.choices(WORDS, k=15)).capitalize() + ".",
            "engineering_kind": rng.choice(EngineeringKind.values),
            "estimated_budget": rng.randrange(20, 3000) * 1000,
            "desired_start": (created + 90 * day).date(),
            "created_at": created,
            "updated_at": created,
        }
        if programmes and rng.random() < 0.35:
            fields["intervention_form"] = InterventionForm.PROGRAMME
            fields["programme_id"] = rng.choice(programmes)
        else:
            fields["intervention_form"] = InterventionForm.CUSTOM
        logs, messages = [], []
        official = None  # filled by the caller (submitted_by); logs use a placeholder then

        def log(transition, source, target, actor, when, comment=""):
            logs.append((transition, source, target, actor, comment, when))

        draw = rng.random()
        if draw < 0.03:
            fields.update(state=S.DRAFT, last_transition_at=created)
            return self._finish(fields, logs, messages, collectivity_id, departement_id)
        submitted = created + rng.uniform(0.01, 2) * day
        if submitted > now:
            submitted = now
        fields.update(submitted_at=submitted, reference=self._reference(submitted))
        log("submit", S.DRAFT, S.SUBMITTED, official, submitted)
        state, last = S.SUBMITTED, submitted
        age = (now - submitted) / day
        if draw < 0.06:
            withdrawn = submitted + min(age, rng.uniform(1, 30)) * day
            fields["withdrawn_at"] = withdrawn
            fields["withdrawal_reason"] = "Projet abandonné par le conseil municipal."
            log("withdraw", S.SUBMITTED, S.WITHDRAWN, official, withdrawn)
            state, last = S.WITHDRAWN, withdrawn
        elif age > 1:
            review = submitted + rng.uniform(0.05, min(age, 5)) * day
            fields.update(review_started_at=review, assigned_delegate_id=delegate)
            log("start_review", S.SUBMITTED, S.IN_REVIEW, delegate, review)
            state, last = S.IN_REVIEW, review
            if rng.random() < 0.25 and review + 2 * day < now:
                asked = review + rng.uniform(0.5, 2) * day
                fields["info_requested_at"] = asked
                log("request_info", S.IN_REVIEW, S.INFO_REQUESTED, delegate, asked,
                    "Merci de préciser le plan de financement.")  # fmt: skip
                messages.append(
                    (delegate, "message", "Pouvez-vous préciser le plan de financement ?", asked)
                )
                state, last = S.INFO_REQUESTED, asked
                answered = asked + rng.uniform(1, 20) * day
                if answered < now and rng.random() < 0.85:
                    fields["info_provided_at"] = answered
                    log("provide_info", S.INFO_REQUESTED, S.IN_REVIEW, official, answered)
                    messages.append(
                        (official, "message", "Le plan de financement est joint.", answered)
                    )
                    state, last = S.IN_REVIEW, answered
            if state == S.IN_REVIEW:
                decision = last + rng.uniform(1, 45) * day
                outcome = rng.random()
                if decision > now:
                    pass  # still in review
                elif outcome < 0.05:
                    fields.update(
                        declined_at=decision, decline_reason="Hors du champ de l'ingénierie."
                    )
                    log("decline", S.IN_REVIEW, S.DECLINED, delegate, decision)
                    state, last = S.DECLINED, decision
                elif outcome < 0.90:
                    fields.update(
                        resolved_locally_at=decision, contact_name="Interlocuteur unique",
                        contact_organisation="Agence technique départementale",
                        contact_email=f"atd-{departement_id}@bench.invalid",
                    )  # fmt: skip
                    log("resolve_locally", S.IN_REVIEW, S.LOCAL_SUPPORT, delegate, decision)
                    state, last = S.LOCAL_SUPPORT, decision
                else:
                    fields.update(
                        escalated_at=decision,
                        innovative_rationale=(
                            "Projet complexe, expertise rare." if rng.random() < 0.6 else ""
                        ),
                        rare_expertise=rng.random() < 0.3,
                    )  # fmt: skip
                    if not fields["innovative_rationale"]:
                        fields["fragility_rationale"] = "Commune fragile, sans ingénierie propre."
                        fields["insufficient_resources_rationale"] = (
                            "Pas d'offre locale disponible."
                        )
                    log("escalate", S.IN_REVIEW, S.ESCALATED, delegate, decision)
                    messages.append(
                        (delegate, "internal_note", "Transmis : expertise rare.", decision)
                    )
                    state, last = S.ESCALATED, decision
                    decided = decision + rng.uniform(2, 40) * day
                    if decided < now and rng.random() < 0.9:
                        instrument = rng.choice(NationalInstrument.values)
                        fields.update(national_instrument=instrument, decided_at=decided,
                                      decided_by_id=national,
                                      decision_comment="Appui national accordé.")  # fmt: skip
                        if instrument == NationalInstrument.FRAMEWORK_AGREEMENT and operators:
                            fields["operator_id"] = rng.choice(operators)
                        if instrument in NationalInstrument.credits():
                            fields["granted_amount"] = rng.choice((15_000, 40_000, 120_000))
                        log("approve_national", S.ESCALATED, S.NATIONAL_SUPPORT, national, decided)
                        state, last = S.NATIONAL_SUPPORT, decided
                if state in (S.LOCAL_SUPPORT, S.NATIONAL_SUPPORT):
                    ended = last + rng.uniform(60, 400) * day
                    if ended < now:
                        fields.update(completed_at=ended, outcome="Accompagnement mené à terme.")
                        log("complete", state, S.COMPLETED, delegate, ended)
                        state, last = S.COMPLETED, ended
        fields.update(state=state, last_transition_at=last, updated_at=last)
        return self._finish(fields, logs, messages, collectivity_id, departement_id)

    def _finish(self, fields, logs, messages, collectivity_id, departement_id):
        return {
            "fields": fields, "logs": logs, "messages": messages,
            "collectivity_id": collectivity_id, "departement_id": departement_id,
        }  # fmt: skip


def _cumulative(weights):
    total, out = 0, []
    for w in weights:
        total += w
        out.append(total)
    return out
