"""Where a page's time goes: one benchmark page timed in this process, optionally profiled.

    make bench QUICK=1                      # once: leaves the anct_bench database behind
    make profile PAGE=official_list         # CPU and wall time per request, SQL queries
    make profile PAGE=admin_change PROFILE=1   # and the cProfile summary

Uses the database and the objects of the last ``make bench`` (``var/bench/report.json``), the
same users (first delegate of the busiest département, first national staff member, first
official of the busiest collectivité) and production settings, through Django's test client.
CPU time of this process is printed beside wall time, and so is the CPU time of its PostgreSQL
backend (read from /proc: the database on the same machine); both stay meaningful on a busy
machine. Page keys: those of ``scripts/bench.py``.
"""

import argparse
import cProfile
import json
import os
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="a page key of scripts/bench.py, e.g. official_list")
    parser.add_argument("-n", type=int, default=200, help="requests to time")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument("--dump", help="with --profile: write the cProfile stats to this file")
    parser.add_argument(
        "--queries", action="store_true", help="print each SQL query and its mean wall time"
    )
    parser.add_argument("--full-sql", action="store_true", help="with --queries: whole statements")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/anct_bench"
        ),
    )
    parser.add_argument("--report", default=str(ROOT / "var" / "bench" / "report.json"))
    args = parser.parse_args()
    report = Path(args.report)
    if not report.exists():
        print(f"{report} is missing: run `make bench QUICK=1` first.")
        return 1
    targets = json.loads(report.read_text())["targets"]

    os.environ.update(
        DJANGO_SETTINGS_MODULE="anct_portal.settings",
        DEBUG="false",
        SECRET_KEY="profile-only-secret-key-not-for-production-0123456789abcdef",  # noqa: S106
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=args.database_url,
        LOG_LEVEL="WARNING",
        BENCH_BASELINE="true",
    )
    import django
    from django.conf import settings

    django.setup()
    # No collected files here: plain static storage instead of the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    import bench
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from profile_submit import measure

    from accounts.models import User
    from accounts.roles import NATIONAL_STAFF_GROUP

    users = {
        "delegate": User.objects.filter(
            delegate_assignments__departement_id=targets["busiest_departement"]
        ),
        "national": User.objects.filter(groups__name=NATIONAL_STAFF_GROUP),
        "official": User.objects.filter(
            collectivity_memberships__collectivity_id=targets["busiest_collectivity"]
        ),
    }
    pages = {p.key: p for p in bench.choose_pages({}, {**targets, "submission": {}})}
    page = pages.get(args.page)
    if page is None or page.method != "GET":
        print(f"Pages: {', '.join(k for k, p in pages.items() if p.method == 'GET')}")
        return 1
    client = Client()
    if page.user:
        client.force_login(users[page.user].order_by("pk").first())
    for _ in range(20):  # warm: template loaders, caches a real user would also hit
        response = client.get(page.path)
    if response.status_code != 200:
        print(f"{page.path}: status {response.status_code}")
        return 1
    with CaptureQueriesContext(connection) as queries:
        client.get(page.path)
    query_count = len(queries)  # now: the next request resets Django's query log

    cpu, wall, backend, collecting = measure(lambda: client.get(page.path), args.n, connection)
    print(
        f"{page.label}: {cpu:.2f} ms CPU, {wall:.2f} ms wall per request "
        f"(garbage collection {collecting:.2f} ms), "
        f"{query_count} SQL queries, {len(response.content):,} bytes, "
        f"PostgreSQL backend {backend:.2f} ms CPU"
    )
    if args.queries:
        totals = None
        for _ in range(args.n):
            with CaptureQueriesContext(connection) as captured:
                client.get(page.path)
            times = [float(q["time"]) * 1000 for q in captured]
            if totals is not None:
                times = [a + b for a, b in zip(totals, times, strict=True)]
            totals = times
        for query, total in zip(captured, totals, strict=True):
            print(
                f"{total / args.n:6.2f} ms  {query['sql'] if args.full_sql else query['sql'][:300]}"
            )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.n):
            client.get(page.path)
        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
