"""Time the dashboard pages on 200,000 requests in a throwaway PostgreSQL database.

    .venv/bin/python scripts/bench_dashboard.py \
        --database-url postgres://postgres@127.0.0.1:5432/anct_bench_dashboard [--requests 200000]
        [--runs 7] [--explain] [--keep]

The database named in the URL is dropped and created again (never point it at real data), then
migrated and filled with COPY: 18 régions, 101 départements (real INSEE codes, so the map is
coloured), 10 collectivités each, and requests spread over three years, every state and every
département, with a local resolution rate drawn per département between 70 % and 98 %.
Each page is then requested through Django's test client (server time: middleware, queries and
template rendering, no network), once to warm up and ``--runs`` times: the median, min and max
are printed with the number of SQL queries.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import recreate_database  # noqa: E402 - shared with make bench
from bench_data import copy_rows  # noqa: E402

METRO = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
OVERSEAS = ["971", "972", "973", "974", "976"]
DEPARTEMENT_CODES = METRO + OVERSEAS  # 101


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/anct_bench_dashboard"
    )
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--keep", action="store_true", help="reuse the data if already there")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="keep the dashboard cache on (default: off, every run computes every aggregate)",
    )
    return parser.parse_args()


def fill(total: int) -> dict:
    """Reference data with the ORM (small), requests and domain links with COPY."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import CollectivityMembership, DelegateAssignment, User
    from accounts.roles import NATIONAL_STAFF_GROUP
    from dashboard import facts
    from engineering_requests.enums import EngineeringKind
    from engineering_requests.enums import RequestState as S
    from engineering_requests.models import EngineeringRequest
    from programmes.enums import InterventionForm, NationalInstrument
    from programmes.models import Operator, PriorityDomain, Programme
    from territories.models import Collectivity, Departement, Region

    rng = random.Random(2026)
    regions = [Region.objects.create(code=f"{n:02d}", name=f"Région {n:02d}") for n in range(18)]
    departements = [
        Departement.objects.create(code=code, name=f"Département {code}", region=regions[i % 18])
        for i, code in enumerate(DEPARTEMENT_CODES)
    ]
    collectivities = {
        dep.pk: [
            Collectivity.objects.create(
                kind="commune",
                code=f"{dep.code}{k:03d}",
                name=f"Commune {dep.code}-{k}",
                departement=dep,
            )
            for k in range(10)
        ]
        for dep in departements
    }
    officials = {}
    for dep in departements:
        user = User.objects.create(email=f"elu-{dep.code.lower()}@bench.test")
        CollectivityMembership.objects.create(user=user, collectivity=collectivities[dep.pk][0])
        officials[dep.pk] = user.pk
    national = User.objects.create(email="national@bench.test", is_staff=True)
    national.groups.add(Group.objects.get_or_create(name=NATIONAL_STAFF_GROUP)[0])
    delegate = User.objects.create(email="delegue@bench.test", is_staff=True)
    for dep in departements[:2]:
        DelegateAssignment.objects.create(user=delegate, departement=dep)
    programmes = [
        Programme.objects.create(code=code, name=code.upper())
        for code in ("acv", "pvd", "ti", "france_services", "cites_educatives", "villages_avenir")
    ]
    themes = [PriorityDomain.objects.create(code=f"theme-{t}", name=f"Thème {t}") for t in range(4)]
    items = [
        PriorityDomain.objects.create(code=f"item-{t}-{i}", name=f"Item {t}.{i}", parent=theme)
        for t, theme in enumerate(themes)
        for i in range(3)
    ]
    operators = [
        Operator.objects.create(code=code, name=code.upper())
        for code in ("ademe", "anru", "anah", "cerema", "banque_des_territoires")
    ]

    fields = [f for f in EngineeringRequest._meta.concrete_fields if not f.primary_key]
    columns = [f'"{f.column}"' for f in fields]
    defaults = {}
    for f in fields:
        if f.has_default():
            defaults[f.attname] = f.get_default()
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    local_rate = {dep.pk: rng.uniform(0.70, 0.98) for dep in departements}
    now = timezone.now()
    day = datetime.timedelta(days=1)
    kinds = list(EngineeringKind.values)
    instruments = list(NationalInstrument.values)
    request_ids = []

    def rows():
        for n in range(total):
            dep = departements[n % len(departements)]
            submitted_at = now - rng.uniform(0, 3 * 365) * day
            row = dict(defaults)
            row.update(
                collectivity_id=rng.choice(collectivities[dep.pk]).pk,
                departement_id=dep.pk,
                submitted_by_id=officials[dep.pk],
                title=f"Projet {n}",
                description="Description du projet.",
                need="Besoin d'ingénierie.",
                engineering_kind=rng.choice(kinds),
                created_at=submitted_at - day,
                updated_at=now,
            )
            if rng.random() < 0.3:
                row["intervention_form"] = InterventionForm.PROGRAMME
                row["programme_id"] = rng.choice(programmes).pk
            else:
                row["intervention_form"] = rng.choice(
                    [InterventionForm.CONTRACT, InterventionForm.CUSTOM]
                )
            age = (now - submitted_at) / day
            draw = rng.random()
            if draw < 0.04:
                row.update(state=S.DRAFT, last_transition_at=row["created_at"])
                yield row
                continue
            row["submitted_at"] = submitted_at
            row["reference"] = f"ING-B-{n:08d}"
            if draw < 0.08:
                state, last = S.WITHDRAWN, submitted_at + day
                row["withdrawn_at"] = last
            elif age < 2 or draw < 0.10:
                state, last = S.SUBMITTED, submitted_at
            else:
                review = submitted_at + rng.uniform(0.1, 2 if age > 4 else 1) * day
                row["review_started_at"] = review
                decision = review + rng.uniform(1, min(60, age - 1)) * day
                outcome = rng.random()
                if draw < 0.14 or decision > now:
                    state, last = rng.choice([S.IN_REVIEW, S.INFO_REQUESTED]), review
                elif draw < 0.17:
                    state, last = S.DECLINED, decision
                    row["declined_at"] = decision
                elif outcome < local_rate[dep.pk]:
                    row["resolved_locally_at"] = decision
                    row["contact_name"] = "Interlocuteur"
                    row["contact_organisation"] = "ATD"
                    row["contact_email"] = "contact@atd.bench.test"
                    state, last = (
                        (S.COMPLETED, decision + 30 * day)
                        if decision + 30 * day < now
                        else (S.LOCAL_SUPPORT, decision)
                    )
                    if state == S.COMPLETED:
                        row["completed_at"] = last
                else:
                    escalated = review + (decision - review) / 2
                    row["escalated_at"] = escalated
                    row["innovative_rationale"] = "Projet complexe." if rng.random() < 0.6 else ""
                    if not row["innovative_rationale"]:
                        row["fragility_rationale"] = "Commune fragile."
                        row["insufficient_resources_rationale"] = "Pas de ressources."
                    row["rare_expertise"] = rng.random() < 0.3
                    row["national_scope"] = rng.random() < 0.1
                    if rng.random() < 0.15:
                        state, last = S.ESCALATED, escalated
                    else:
                        instrument = rng.choice(instruments)
                        row["national_instrument"] = instrument
                        if instrument == NationalInstrument.FRAMEWORK_AGREEMENT:
                            row["operator_id"] = rng.choice(operators).pk
                        if instrument in NationalInstrument.credits():
                            row["granted_amount"] = rng.choice([15_000, 40_000, 120_000])
                        row["decided_at"] = decision
                        row["decided_by_id"] = national.pk
                        state, last = S.NATIONAL_SUPPORT, decision
            row["state"] = state
            row["last_transition_at"] = last
            yield row

    started = time.perf_counter()
    table = EngineeringRequest._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # Bulk load as a data migration would: without the dashboard's triggers, then the
        # rebuild below (dashboard.facts) computes the dashboard's copy of every request.
        raw.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {facts.TRIGGER}')
        copy_rows(raw, table, columns, ([row[f.attname] for f in fields] for row in rows()))
        raw.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {facts.TRIGGER}')
        raw.execute(f'SELECT id FROM "{table}" ORDER BY id')  # noqa: S608 - model table name
        request_ids = [r[0] for r in raw.fetchall()]
        through = EngineeringRequest.domains.through
        links = set()
        for request_id in request_ids:
            for item in rng.sample(items, k=rng.choice([1, 1, 2])):
                links.add((request_id, item.pk))
        copy_rows(
            raw,
            through._meta.db_table,
            ["engineeringrequest_id", "prioritydomain_id"],
            sorted(links),
        )
        raw.execute("ANALYZE")
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    call_command("rebuild_dashboard_facts", verbosity=0)
    rebuild_seconds = time.perf_counter() - started
    return {
        "requests": len(request_ids),
        "domain_links": len(links),
        "seconds": round(loaded, 1),
        "rebuild_seconds": round(rebuild_seconds, 1),
        "national": national,
        "delegate": delegate,
        "region": regions[3].code,
        "programme": programmes[1].code,
        "theme": themes[0].code,
    }


def bench(pages, runs: int) -> list[dict]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results = []
    for label, user, url in pages:
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(url)  # warm-up: connection, templates, the map file
        assert response.status_code == 200, (label, response.status_code)
        timings = []
        for _ in range(runs):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        results.append(
            {
                "page": label,
                "median_ms": round(statistics.median(timings), 1),
                "min_ms": round(min(timings), 1),
                "max_ms": round(max(timings), 1),
                "queries": len(queries),
                "kb": round(len(response.content) / 1024),
            }
        )
    return results


def explain(scope, filters) -> None:
    from django.db import connection

    from dashboard import selectors

    reference = selectors.reference_data(scope)
    statements = []
    with connection.execute_wrapper(lambda execute, sql, params, many, context: (
        statements.append((sql, params)) or execute(sql, params, many, context)
    )):  # fmt: skip
        selectors.dashboard(scope, filters, reference)
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n--- {sql[:100]}…\n{plan}")


def main() -> None:
    args = parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anct_portal.settings_test")
    if not args.keep:
        recreate_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User
    from dashboard import selectors
    from engineering_requests.models import EngineeringRequest

    call_command("migrate", verbosity=0)
    if not args.cache:
        from django.test.utils import override_settings

        dummy = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
        override_settings(CACHES=dummy).enable()
    if args.keep and EngineeringRequest.objects.exists():
        info = {
            "requests": EngineeringRequest.objects.count(),
            "national": User.objects.get(email="national@bench.test"),
            "delegate": User.objects.get(email="delegue@bench.test"),
            "region": "03",
            "programme": "pvd",
            "theme": "theme-0",
        }
    else:
        info = fill(args.requests)
        print(
            f"Generated {info['requests']} requests and {info['domain_links']} domain links "
            f"in {info['seconds']} s; dashboard facts rebuilt in {info['rebuild_seconds']} s."
        )
    year_ago = (timezone.localdate() - datetime.timedelta(days=365)).isoformat()
    kpi, public, public_csv = (
        reverse("dashboard:kpi"),
        reverse("dashboard:public"),
        reverse("dashboard:public_csv"),
    )
    pages = [
        ("national staff, all of France", info["national"], kpi),
        ("national staff, sorted by rate", info["national"], f"{kpi}?tri=taux&ordre=desc"),
        ("national staff, 12 months, all of France", info["national"], f"{kpi}?du={year_ago}"),
        (
            "national staff, 12 months + région + programme + domain",
            info["national"],
            f"{kpi}?du={year_ago}&region={info['region']}&programme={info['programme']}"
            f"&domaine={info['theme']}",
        ),
        ("delegate (2 départements)", info["delegate"], kpi),
        ("public statistics", None, public),
        ("public CSV", None, public_csv),
    ]
    results = bench(pages, args.runs)
    cache = "cache on" if args.cache else "no cache: every aggregate computed on each run"
    print(f"\n{info['requests']} requests, {args.runs} runs per page, server time, {cache}\n")
    print("| page | median ms | min ms | max ms | SQL queries | HTML KiB |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['page']} | {r['median_ms']} | {r['min_ms']} | {r['max_ms']} | "
            f"{r['queries']} | {r['kb']} |"
        )
    if args.explain:
        explain(selectors.Scope("national", info["national"]), selectors.Filters())


if __name__ == "__main__":
    main()
