"""Real services for the notification tests: an SMTP server (aiosmtpd), a Celery worker in a
thread consuming from the configured Redis, a Redis server the test can stop and restart, and
Celery in eager mode for unit tests that run the tasks in-process."""

import email
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from email import policy

import kombu.pools
import pytest
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.db import connections

from anct_portal.celery import app as celery_app
from tests.engineering_requests.factories import Cast


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class SMTPServer:
    """aiosmtpd on a free local port; collects what it receives."""

    def __init__(self, port: int | None = None):
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.received: list[tuple[list[str], email.message.EmailMessage]] = []
        self.sessions: list[tuple[int, str]] = []  # (id of the SMTP session, recipient)
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), message))
            self.sessions.append((id(session), envelope.rcpt_tos[0]))
        return "250 Message accepted for delivery"

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    @property
    def messages(self):
        with self._lock:
            return [message for _, message in self.received]

    def wait_for(self, count: int, timeout: float = 20.0):
        wait_until(lambda: len(self.received) >= count, timeout)
        return self.messages


@pytest.fixture
def cast(db):
    return Cast.create()


@pytest.fixture
def smtp_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    """Django sends through the real SMTP backend to the test's server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return settings


@pytest.fixture
def eager_celery():
    """Tasks run in-process when published (retries included, countdowns ignored)."""
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = False
    yield celery_app
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def _reset_producers():
    # The app caches its connection and producer pools: drop them so the next publish
    # connects to the broker URL now configured.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def broker(url: str):
    """Publish to (and start workers on) another broker for the duration of the block."""
    # The read/write URLs win over the CELERY_BROKER_URL environment variable, which Celery
    # otherwise prefers to any setting.
    conf = celery_app.conf
    keys = ("broker_read_url", "broker_write_url", "broker_transport_options")
    previous = {key: conf.get(key) for key in keys}
    _reset_producers()
    conf.update(
        broker_read_url=url,
        broker_write_url=url,
        broker_transport_options=django_settings.REDIS_BROKER_TRANSPORT_OPTIONS,
    )
    try:
        yield url
    finally:
        _reset_producers()
        conf.update(previous)


def purge_queue():
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(celery_app.conf.task_default_queue)


@contextmanager
def _worker_closes_its_connections():
    """The worker thread keeps its database connection between tasks (as in production); close
    it after each task here, so that no connection outlives the test database."""

    def close(**kwargs):
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()

    task_postrun.connect(close, weak=False)
    try:
        yield
    finally:
        task_postrun.disconnect(close)


@contextmanager
def running_worker():
    """A real Celery worker (solo pool) in a thread of the test process: it shares the test's
    settings (database, e-mail backend) and consumes from the configured broker."""
    from celery.contrib.testing.worker import start_worker

    with (
        _worker_closes_its_connections(),
        start_worker(
            celery_app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker,
    ):
        yield worker


@pytest.fixture
def celery_worker(transactional_db):
    _reset_producers()
    purge_queue()
    with running_worker() as worker:
        yield worker


class RedisServer:
    """A redis-server process of the test's own, on a free port, that the test stops and
    restarts to play a broker outage."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process = None

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        up = wait_until(self._answers, timeout=10)
        assert up, "the test's redis-server did not start"
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    yield server
    server.stop()
