"""Where a submission's time goes: the bench's submission POST timed in this process.

    .venv/bin/python scripts/profile_submit.py [-n 200] [--profile] [--sql] [--split]

The official of the busiest collectivité of the last ``make bench`` (``var/bench/report.json``)
posts the bench's submission form (``scripts/bench.py``, ``sessions_and_targets``), a fresh
form token each time, through Django's test client with production settings and a Redis broker
(``--redis-url``, default db 10: the Celery messages are purged at the end). CPU time of this
process is printed beside wall time, and so is the CPU time of this connection's PostgreSQL
backend (read from /proc: the database on the same machine), which the bench's 2 cores pay too.
Everything it created (requests, their log rows, notifications) is deleted at the end, so the
benchmark database stays as it was but for the year's reference counter.
"""

import argparse
import cProfile
import datetime
import gc
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORM = "application/x-www-form-urlencoded"
TITLE = "Rénovation énergétique de l'école élémentaire (profile_submit)"


def backend_cpu(connection) -> float:
    """CPU seconds of this connection's PostgreSQL backend (same machine only; else 0)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(run, n: int, connection) -> tuple[float, float, float, float]:
    """``run()`` n times: ms per run of this process's CPU, of wall time, of the PostgreSQL
    backend's CPU, and of Python's garbage collector (wall time in its collections: a full
    collection of a warm Django process takes tens of ms, a tail cost a mean hides)."""
    collecting = {"since": 0.0, "total": 0.0}

    def on_collection(phase, _info):
        if phase == "start":
            collecting["since"] = time.perf_counter()
        else:
            collecting["total"] += time.perf_counter() - collecting["since"]

    backend = backend_cpu(connection)
    gc.callbacks.append(on_collection)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        for _ in range(n):
            run()
    finally:
        gc.callbacks.remove(on_collection)
    wall = (time.perf_counter() - wall) / n * 1000
    cpu = (time.process_time() - cpu) / n * 1000
    backend = (backend_cpu(connection) - backend) / n * 1000
    return cpu, wall, backend, collecting["total"] / n * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="submissions to time")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument(
        "--split",
        action="store_true",
        help="PostgreSQL backend CPU per kind of statement (same machine; use -n 1000+)",
    )
    parser.add_argument("--dump", help="with --profile: write the cProfile stats to this file")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one submission")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/anct_bench"
        ),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--report", default=str(ROOT / "var" / "bench" / "report.json"))
    args = parser.parse_args()
    targets = json.loads(Path(args.report).read_text())["targets"]

    os.environ.update(
        DJANGO_SETTINGS_MODULE="anct_portal.settings",
        DEBUG="false",
        SECRET_KEY="profile-only-secret-key-not-for-production-0123456789abcdef",  # noqa: S106
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=args.redis_url,
        REDIS_URL=args.redis_url,
        LOG_LEVEL="WARNING",
    )
    import django
    from django.conf import settings

    django.setup()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.db import connection, transaction
    from django.test import Client

    from accounts.models import User
    from engineering_requests.models import EngineeringRequest, TransitionLog
    from programmes.models import PriorityDomain

    collectivity = targets["busiest_collectivity"]
    user = (
        User.objects.filter(collectivity_memberships__collectivity_id=collectivity)
        .order_by("pk")
        .first()
    )
    domain = PriorityDomain.objects.filter(parent__isnull=False).first()
    data = {  # as scripts/bench.py posts it
        "collectivity": str(collectivity),
        "title": TITLE,
        "description": "L'école, construite en 1965, consomme trop : isolation et chauffage.",
        "need": "Un diagnostic énergétique et une assistance à maîtrise d'ouvrage.",
        "engineering_kind": "technical_expertise",
        "intervention_form": "custom",
        "programme": "",
        "contract": "",
        "domains": str(domain.pk),
        "estimated_budget": "350000",
        "desired_start": (datetime.date.today() + datetime.timedelta(days=90)).isoformat(),
        "action": "submit",
    }
    client = Client()
    client.force_login(user)

    def post():
        body = urlencode({**data, "form_token": uuid.uuid4().hex})  # as wrk sends it
        response = client.post("/demandes/nouvelle/", body, content_type=FORM)
        if response.status_code != 302:
            raise SystemExit(f"status {response.status_code}: {response.content[:2000]!r}")
        return response

    try:
        for _ in range(20):
            response = post()
        queries = []  # (Django's query log is reset when a request starts)

        def log(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((time.perf_counter() - started, sql))

        with connection.execute_wrapper(log):
            response = post()
        query_count = len(queries)
        cpu, wall, backend, collecting = measure(post, args.n, connection)
        print(
            f"submission: {cpu:.2f} ms CPU, {wall:.2f} ms wall per POST "
            f"(garbage collection {collecting:.2f} ms), "
            f"{query_count} SQL queries, PostgreSQL backend {backend:.2f} ms CPU, "
            f"-> {response['Location']}"
        )
        if args.sql:
            for seconds, sql in queries:
                print(f"  {seconds * 1000:.2f} ms  {sql[:400]}")
        if args.split:  # the backend's CPU per kind of statement (sampled by clock ticks)
            import collections

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

            def ticks():
                fields = stat.read_text().rsplit(")", 1)[1].split()
                return int(fields[11]) + int(fields[12])

            split = collections.Counter()

            def by_statement(execute, sql, params, many, context):
                before = ticks()
                try:
                    return execute(sql, params, many, context)
                finally:
                    split[" ".join(sql.split()[:4])[:80]] += ticks() - before

            total = ticks()
            with connection.execute_wrapper(by_statement):
                for _ in range(args.n):
                    post()
            total = ticks() - total
            tick = 1000 / os.sysconf("SC_CLK_TCK") / args.n
            for statement, count in split.most_common():
                print(f"  {count * tick:6.3f} ms  {statement}")
            print(f"  {(total - sum(split.values())) * tick:6.3f} ms  commit and the rest")
        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU: the machine is shared
            profiler.enable()
            for _ in range(args.n):
                post()
            profiler.disable()
            stats = pstats.Stats(profiler)
            if args.dump:
                stats.dump_stats(args.dump)
            stats.sort_stats("cumulative").print_stats(50)
            stats.sort_stats("tottime").print_stats(30)
    finally:
        mine = EngineeringRequest.objects.filter(collectivity_id=collectivity, title=TITLE)
        with transaction.atomic():  # the transition log is append-only for the ORM (RESTRICT)
            TransitionLog.objects.filter(engineering_request__in=mine)._raw_delete(
                TransitionLog.objects.db
            )
            deleted = mine.delete()
        print(f"cleaned up: {deleted[0]} rows")
        from anct_portal.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(app.conf.task_default_queue or "celery")
    return 0


if __name__ == "__main__":
    sys.exit(main())
