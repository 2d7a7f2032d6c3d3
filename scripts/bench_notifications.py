"""Throughput of notification delivery: one Celery worker delivering outbox rows to a real SMTP
server, against the same worker running no-op tasks on the same broker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anct \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
    .venv/bin/python scripts/bench_notifications.py --count 2000

For each run the queue is filled first ([start marker, N tasks, end marker]); the worker (one
process, solo pool unless told otherwise) then drains it and the markers record, in Redis, when
it began and finished. An aiosmtpd server started by this script receives the e-mails. The
bench rows are deleted at the end. Not a test: numbers depend on the machine.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anct_portal.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from anct_portal.celery import app  # noqa: E402


@app.task(name="bench.noop", acks_late=True)
def noop(*args):
    return None


@app.task(name="bench.mark", acks_late=True)
def mark(key):
    import redis

    redis.Redis.from_url(app.conf.broker_url).set(key, repr(time.time()), ex=3600)


def _redis():
    import redis

    return redis.Redis.from_url(app.conf.broker_url)


def _wait_for(key, timeout):
    client = _redis()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = client.get(key)
        if value is not None:
            return float(value)
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {key}")


def _drain(run, label, publish, count, worker_args, env, timeout):
    """Fill the queue, start a worker, time it from the first to the last marker."""
    start_key, end_key = f"bench:{run}:{label}:start", f"bench:{run}:{label}:end"
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)
    with app.producer_or_acquire() as producer:
        mark.apply_async(args=[start_key], producer=producer)
        publish(producer)
        mark.apply_async(args=[end_key], producer=producer)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "anct_portal", "worker", "--loglevel", "WARNING",
         "--without-heartbeat", "--without-mingle", "--without-gossip",
         "-I", "scripts.bench_notifications", *worker_args],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        started = _wait_for(start_key, timeout)
        finished = _wait_for(end_key, timeout)
    finally:
        worker.terminate()
        worker.wait(30)
    elapsed = finished - started
    return count / elapsed, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="tasks per run")
    parser.add_argument("--pool", default="solo", help="worker pool (solo, prefork, threads)")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (median)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    if not app.conf.broker_url.startswith("redis://"):
        raise SystemExit("Set CELERY_BROKER_URL=redis://... (the bench measures a real broker).")

    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.core.management import call_command
    from django.db import connection

    from notifications.enums import Channel, NotificationStatus
    from notifications.models import Notification
    from notifications.tasks import deliver_notification

    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL=postgres://... (the bench measures a real database).")
    call_command("migrate", verbosity=0)

    class Counter:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Counter.received += 1
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        smtp_port = sock.getsockname()[1]
    smtp = Controller(Counter(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    run = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "PYTHONPATH": str(ROOT),
    }
    worker_args = ["--pool", args.pool, "--concurrency", str(args.concurrency)]

    def make_rows(label):
        return Notification.objects.bulk_create(
            Notification(
                event="submitted",
                audience="delegates",
                channel=Channel.EMAIL,
                email=f"delegue{i}@bench.example.fr",
                context={
                    "subject": f"Nouvelle demande d'appui en ingénierie : ING-2026-{i:06d}",
                    "body": "Commune de test a déposé la demande « Pont ». Elle attend votre "
                    "prise en charge.",
                    "url": f"/admin/engineering_requests/engineeringrequest/{i}/change/",
                },
                dedup_key=f"bench:{run}:{label}:{i}",
            )
            for i in range(args.count)
        )

    noop_rates, deliver_rates = [], []
    try:
        # Alternate the two kinds of run, so that a busy moment of the machine weighs on both.
        for repeat in range(args.repeat):
            ids = list(range(args.count))
            rate, _elapsed = _drain(
                run, f"noop{repeat}",
                lambda producer, ids=ids: [
                    noop.apply_async(args=[i], producer=producer) for i in ids
                ],
                args.count, worker_args, env, args.timeout,
            )  # fmt: skip
            noop_rates.append(rate)
            ids = [row.pk for row in make_rows(f"r{repeat}")]
            rate, _elapsed = _drain(
                run, f"deliver{repeat}",
                lambda producer, ids=ids: [
                    deliver_notification.apply_async(args=[i], producer=producer) for i in ids
                ],
                args.count, worker_args, env, args.timeout,
            )  # fmt: skip
            deliver_rates.append(rate)
            print(f"run {repeat + 1}: no-op {noop_rates[-1]:.0f}/s, delivered {rate:.0f}/s")
        sent = Notification.objects.filter(
            dedup_key__startswith=f"bench:{run}:", status=NotificationStatus.SENT
        ).count()
    finally:
        Notification.objects.filter(dedup_key__startswith=f"bench:{run}:").delete()
        smtp.stop()

    noop_rate, deliver_rate = statistics.median(noop_rates), statistics.median(deliver_rates)
    total = args.count * args.repeat
    print(f"worker: pool={args.pool} concurrency={args.concurrency}, {args.count} tasks per run, "
          f"median of {args.repeat} runs, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"no-op tasks:              {noop_rate:8.0f} /s")
    print(f"notifications delivered:  {deliver_rate:8.0f} /s")
    print(f"ratio delivered / no-op:  {deliver_rate / noop_rate:8.2f}")
    print(f"rows sent: {sent}/{total}, e-mails received by SMTP: {Counter.received}")
    return 0 if sent == total == Counter.received else 1


if __name__ == "__main__":
    sys.exit(main())
