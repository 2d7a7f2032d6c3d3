"""Load and fault test: the whole stack under concurrent users, then with Redis, the mail
server and the Celery worker failing, and checks that nothing was lost or done twice.

    make loadtest            # 16 users, four phases of 90 s
    make loadtest QUICK=1    # 8 users, four phases of 25 s (CI, under 3 minutes)

The script builds everything it needs and owns all of it:

- a throwaway PostgreSQL database (dropped and recreated; its name must start with
  ``anct_ops_``), migrated, with the territories, the programme catalogue, the demo data and
  extra accounts (officials, a second delegate per département, a second national staff member);
- its own redis-server on a free port (so that it can stop and restart it), an aiosmtpd mail
  sink in this process (which it can make answer 451, or stop listening), gunicorn with the
  production settings (``DEBUG=false``, ``SECURE_SSL_REDIRECT=false`` because it speaks HTTP),
  and a Celery worker and beat (two processes, restarted by the script when they die, as a
  supervisor does in production), with a short sweep and back-off;
- simulated users (threads, one httpx client each, signed in through the login form) that read
  (Mes demandes, request pages, the admin change list, dashboards), submit requests (GET the form,
  POST it with its one-time token, sometimes twice at once like a double click), answer requests
  for information, write messages, withdraw, and — delegates and national staff in the admin —
  take requests in review, ask for information, resolve locally, escalate, decline, approve,
  refer back and complete.

Four phases, each followed by a drain (wait until the outbox is empty): ``normal``; ``redis``
(Redis stopped, then restarted empty, mid-phase); ``smtp`` (the mail server answers 451, then
stops listening, then comes back); ``worker`` (the Celery worker killed twice with SIGKILL).
After each phase the invariants are checked on the database and on what the mail sink
received: no 5xx; every accepted submission is in the database with the reference its
confirmation page showed; references unique and gap-free per year; every outbox row ``sent``;
every e-mail row received exactly once (by its Message-ID); every message sent is in its thread
once; every transition that notifies has its outbox rows; transition logs chain from ``draft``
to the request's state. Figures go to ``var/loadtest/latest.json`` and ``latest.md``; the exit
status is 1 when an invariant is broken.
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from email.parser import BytesHeaderParser
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import throwaway  # noqa: E402 - scripts/throwaway.py
from throwaway import free_port, wait_until  # noqa: E402

BIN = Path(sys.executable).parent

PASSWORD = "charge-et-pannes-2026"  # noqa: S105 - throwaway accounts of a throwaway database
ADMIN_REQUESTS = "/admin/engineering_requests/engineeringrequest/"
MESSAGE_ID = re.compile(r"<notification-(\d+)@")

PROFILES = {
    # users, seconds per phase, gunicorn workers, gunicorn threads
    "quick": {"users": 8, "seconds": 25, "workers": 2, "threads": 4},
    "full": {"users": 16, "seconds": 90, "workers": 3, "threads": 4},
}

# What the product guarantees under faults depends on these: a short sweep and back-off let a
# phase drain in seconds (production: 300 s sweep, 30 s first back-off).
FAULT_SETTINGS = {
    "NOTIFICATIONS_SWEEP_AFTER_SECONDS": "5",
    "NOTIFICATIONS_SWEEP_EVERY_SECONDS": "2",
    "NOTIFICATIONS_RETRY_BACKOFF_SECONDS": "1",
    "NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS": "4",
    "NOTIFICATIONS_MAX_RETRIES": "60",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


# Processes ---------------------------------------------------------------------------------


class Process:
    """A child process in its own process group (the Celery worker forks; gunicorn too), its
    output in a log file of the run."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log_dir: Path,
                 supervised: bool = False):  # fmt: skip
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None
        # Restarted when it dies, as systemd (Restart=always) does in production.
        self.supervised = supervised

    def start(self):
        handle = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        handle.close()
        return self

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self):
        """SIGKILL the whole group, as an out-of-memory killer or a lost machine would."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)

    def stop(self, timeout: float = 20):
        if not self.running():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


class Redis(Process):
    def __init__(self, *, log_dir: Path, data_dir: Path):
        self.port = free_port()
        super().__init__(
            "redis",
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(data_dir)],
            env=dict(os.environ), log_dir=log_dir,
        )  # fmt: skip
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        super().start()
        if not wait_until(lambda: port_open(self.port), 10):
            raise SystemExit("redis-server did not start")
        return self


class MailSink:
    """aiosmtpd in this process. ``accept``: takes every message and records its headers;
    ``tempfail``: answers 451 to DATA; ``stop()``: nobody listens on the port any more."""

    def __init__(self):
        self.port = free_port()
        self.mode = "accept"
        self.lock = threading.Lock()
        self.received: list[dict] = []
        self.refused = 0
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "tempfail":
            with self.lock:
                self.refused += 1
            return "451 4.3.0 Service temporarily unavailable (load test)"
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            self.received.append(
                {
                    "message_id": str(headers.get("Message-ID", "")),
                    "key": str(headers.get("X-ANCT-Notification", "")),
                    "to": list(envelope.rcpt_tos),
                    "at": time.time(),
                }
            )
        return "250 Message accepted for delivery"

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def counts_by_notification(self) -> Counter:
        counts: Counter = Counter()
        with self.lock:
            for item in self.received:
                match = MESSAGE_ID.search(item["message_id"])
                counts[int(match.group(1)) if match else -1] += 1
        return counts

    def total(self) -> int:
        with self.lock:
            return len(self.received)


# HTML forms --------------------------------------------------------------------------------


class Form:
    def __init__(self, attrs: dict):
        self.attrs = attrs
        self.fields: list[dict] = []  # {name, kind, value, checked}
        self.options: dict[str, list[tuple[str, bool]]] = defaultdict(list)

    @property
    def action(self) -> str:
        return self.attrs.get("action") or ""

    def has(self, name: str) -> bool:
        return any(f["name"] == name for f in self.fields) or name in self.options

    def choices(self, name: str) -> list[str]:
        values = [f["value"] for f in self.fields if f["name"] == name and f["kind"] in
                  ("radio", "checkbox")]  # fmt: skip
        values += [value for value, _selected in self.options.get(name, []) if value]
        return values

    def values(self) -> dict:
        """What a browser would send without touching anything (buttons left out)."""
        data: dict = {}
        for f in self.fields:
            kind, name = f["kind"], f["name"]
            if kind in ("submit", "button", "file", "image", "reset"):
                continue
            if kind in ("radio", "checkbox") and not f["checked"]:
                continue
            if kind == "checkbox":
                data.setdefault(name, []).append(f["value"])
            else:
                data[name] = f["value"]
        for name, options in self.options.items():
            selected = [value for value, chosen in options if chosen]
            data[name] = selected[0] if selected else (options[0][0] if options else "")
        return data


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: dict | None = None
        self._select: str | None = None
        self._option: tuple | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a)
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input" and a.get("name"):
            self._form.fields.append(
                {"name": a["name"], "kind": a.get("type", "text").lower(),
                 "value": a.get("value", "on" if a.get("type") in ("checkbox", "radio") else ""),
                 "checked": "checked" in a}
            )  # fmt: skip
        elif tag == "button" and a.get("name"):
            self._form.fields.append(
                {"name": a["name"], "kind": "submit", "value": a.get("value", ""), "checked": False}
            )
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "kind": "textarea", "value": "", "checked": False}
            self._form.fields.append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._form.options.setdefault(self._select, [])
        elif tag == "option" and self._select:
            self._option = (a.get("value"), "selected" in a)
            if a.get("value") is not None:
                self._form.options[self._select].append((a["value"], "selected" in a))
                self._option = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data
        elif self._option is not None and self._select:
            self._form.options[self._select].append((data.strip(), self._option[1]))
            self._option = None

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms_of(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def form_with(html: str, field: str, action_suffix: str = "") -> Form | None:
    for form in forms_of(html):
        if form.has(field) and form.action.endswith(action_suffix):
            return form
    return None


# Figures -----------------------------------------------------------------------------------


class ActionFailed(Exception):
    pass


class Stats:
    """What the users did and saw during one phase (thread-safe)."""

    def __init__(self, name: str):
        self.name = name
        self.lock = threading.Lock()
        self.requests = 0
        self.by_status: Counter = Counter()
        self.by_page: Counter = Counter()
        self.server_errors: list[dict] = []
        self.transport_errors: list[str] = []
        self.errors: list[str] = []
        self.outcomes: Counter = Counter()
        self.accepted: list[tuple[int, str]] = []
        self.messages: list[str] = []  # the unique mark of each message a user sent
        self.latencies: list[float] = []

    def record(self, label: str, status: int | None, elapsed: float, url: str, body: str = ""):
        with self.lock:
            self.requests += 1
            self.by_page[label] += 1
            self.latencies.append(elapsed)
            if status is None:
                self.transport_errors.append(f"{label} {url}: {body}")
                return
            self.by_status[status] += 1
            if status >= 500:
                self.server_errors.append({"page": label, "url": url, "status": status,
                                           "body": body[:300]})  # fmt: skip

    def error(self, text: str):
        with self.lock:
            self.errors.append(text[:500])

    def outcome(self, name: str, n: int = 1):
        with self.lock:
            self.outcomes[name] += n

    def message_sent(self, mark: str):
        with self.lock:
            self.messages.append(mark)

    def accept(self, pk: int, reference: str):
        with self.lock:
            self.accepted.append((pk, reference))


# Simulated users ---------------------------------------------------------------------------


class Browser:
    def __init__(self, base_url: str, stats_ref):
        import httpx

        # Idle connections are dropped after 1 s, before gunicorn's 2 s keep-alive closes them:
        # otherwise a request sent on a connection the server is closing at that instant gets
        # "connection reset" (a client-side race that reverse proxies avoid the same way).
        self.client = httpx.Client(
            base_url=base_url, follow_redirects=False, timeout=60.0,
            headers={"User-Agent": "anct-load-faults/1"},
            limits=httpx.Limits(keepalive_expiry=1.0),
        )  # fmt: skip
        self.stats_ref = stats_ref

    @property
    def stats(self) -> Stats:
        return self.stats_ref()

    def request(self, method: str, url: str, label: str, **kwargs):
        import httpx

        started = time.monotonic()
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.stats.record(label, None, time.monotonic() - started, url, repr(exc))
            raise ActionFailed(f"{label}: {exc!r}") from exc
        self.stats.record(label, response.status_code, time.monotonic() - started, url,
                          response.text if response.status_code >= 500 else "")  # fmt: skip
        if response.status_code >= 500:
            raise ActionFailed(f"{label}: HTTP {response.status_code} on {method} {url}")
        return response

    def get(self, url, label, **kwargs):
        return self.request("GET", url, label, **kwargs)

    def post(self, url, data, label):
        return self.request("POST", url, label, data=data)

    def post_maybe_twice(self, url, data, label, rng, stats, chance: float = 0.15) -> list:
        """POST the form; sometimes twice at once, like a double click (same token)."""
        if rng.random() >= chance:
            return [self.post(url, data, label)]
        stats.outcome("double clicks")
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            return list(pool.map(lambda _i: self.post(url, data, label), range(2)))

    def expect(self, response, *statuses, what: str):
        if response.status_code not in statuses:
            raise ActionFailed(f"{what}: HTTP {response.status_code} on {response.request.url}")
        return response

    def location(self, response) -> str:
        return urlparse(response.headers.get("location", "")).path or "/"

    def login(self, email: str):
        page = self.expect(self.get("/compte/connexion/", "login form"), 200, what="login form")
        form = form_with(page.text, "username")
        if form is None:
            raise ActionFailed("no login form")
        data = form.values()
        data.update(username=email, password=PASSWORD)
        response = self.post("/compte/connexion/", data, "login")
        self.expect(response, 302, what=f"sign-in of {email}")


REQUEST_LINK = re.compile(r'href="/demandes/(\d+)/"')
ADMIN_LINK = re.compile(r'href="/admin/engineering_requests/engineeringrequest/(\d+)/change/')


class User:
    """One simulated person: a browser signed in as ``email``, and weighted actions."""

    role = "anonymous"

    def __init__(self, email: str | None, base_url: str, stats_ref, seed: int):
        self.email = email
        self.browser = Browser(base_url, stats_ref)
        self.rng = random.Random(seed)

    @property
    def stats(self) -> Stats:
        return self.browser.stats

    def sign_in(self):
        if self.email:
            self.browser.login(self.email)

    def actions(self) -> list[tuple[float, callable]]:
        raise NotImplementedError

    def step(self):
        actions = self.actions()
        action = self.rng.choices([a for _w, a in actions], [w for w, _a in actions])[0]
        action()

    def mark(self) -> str:
        return f"[lt-{self.rng.getrandbits(48):012x}]"

    def words(self, n: int = 12) -> str:
        vocabulary = ("étude", "commune", "projet", "réseau", "école", "pont", "chaleur",
                      "mobilité", "centre-bourg", "friche", "santé", "numérique", "berges",
                      "logement", "halle", "médiathèque", "concertation", "diagnostic")  # fmt: skip
        return " ".join(self.rng.choice(vocabulary) for _ in range(n)).capitalize() + "."


class Anonymous(User):
    def actions(self):
        return [
            (3, lambda: self.browser.expect(self.browser.get("/", "home"), 200, what="home")),
            (2, lambda: self.browser.expect(
                self.browser.get("/statistiques/", "public statistics"), 200, what="statistics")),
            (1, lambda: self.browser.expect(
                self.browser.get("/programmes/", "programmes"), 200, what="programmes")),
        ]  # fmt: skip


class Official(User):
    role = "official"

    def actions(self):
        return [
            (4, self.read),
            (4, self.submit_new),
            (3, self.answer_info),
            (1, self.write_message),
            (0.5, self.withdraw),
            (1, self.notifications),
        ]

    def _my_requests(self, state: str = "") -> list[int]:
        url = "/demandes/" + (f"?statut={state}" if state else "")
        page = self.browser.expect(self.browser.get(url, "Mes demandes"), 200, what="Mes demandes")
        return sorted({int(pk) for pk in REQUEST_LINK.findall(page.text)})

    def read(self):
        ids = self._my_requests(self.rng.choice(["", "", "submitted", "in_review"]))
        if ids:
            pk = self.rng.choice(ids)
            self.browser.expect(self.browser.get(f"/demandes/{pk}/", "request page"), 200,
                                what="request page")  # fmt: skip

    def notifications(self):
        self.browser.expect(self.browser.get("/notifications/", "notification centre"), 200,
                            what="notification centre")  # fmt: skip

    def submit_new(self):
        page = self.browser.expect(self.browser.get("/demandes/nouvelle/", "request form"), 200,
                                   what="request form")  # fmt: skip
        form = form_with(page.text, "form_token", "")
        if form is None or not form.has("title"):
            raise ActionFailed("request form not found")
        data = form.values()
        if not data.get("collectivity"):
            data["collectivity"] = form.choices("collectivity")[0]
        domains = form.choices("domains")
        data.update(
            title=f"Charge {self.rng.randrange(10**6)} : {self.words(4)}"[:200],
            description=self.words(40),
            need=self.words(20),
            engineering_kind=self.rng.choice(form.choices("engineering_kind")),
            intervention_form="custom",
            programme="",
            contract="",
            domains=self.rng.sample(domains, k=min(len(domains), self.rng.randint(1, 3))),
            estimated_budget=f"{self.rng.randrange(10, 900) * 1000:,}".replace(",", " "),
            desired_start=(datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
            action="submit",
        )
        # Sometimes the same form twice at once: one request, both answers lead to it.
        responses = self.browser.post_maybe_twice("/demandes/nouvelle/", data, "submit request",
                                                  self.rng, self.stats)  # fmt: skip
        targets = set()
        for response in responses:
            self.browser.expect(response, 302, what="submission")
            targets.add(self.browser.location(response))
        confirmations = {t for t in targets if re.fullmatch(r"/demandes/\d+/confirmation/", t)}
        if len(confirmations) != 1 or len(targets) != 1:
            raise ActionFailed(f"submission redirected to {sorted(targets)}")
        target = confirmations.pop()
        page = self.browser.expect(self.browser.get(target, "confirmation"), 200,
                                   what="confirmation")  # fmt: skip
        match = re.search(r"data-reference>(ING-\d{4}-\d{6})<", page.text)
        if match is None:
            raise ActionFailed(f"no reference on {target}")
        self.stats.accept(int(target.split("/")[2]), match.group(1))
        self.stats.outcome("submissions accepted")

    def _detail_form(self, state: str, action_suffix: str, field: str):
        ids = self._my_requests(state)
        if not ids:
            return None, None
        pk = self.rng.choice(ids)
        page = self.browser.expect(self.browser.get(f"/demandes/{pk}/", "request page"), 200,
                                   what="request page")  # fmt: skip
        return pk, form_with(page.text, field, action_suffix)

    def _post_and_classify(self, url: str, data: dict, label: str, done: str, mark=None):
        responses = self.browser.post_maybe_twice(url, data, label, self.rng, self.stats)
        success = False
        for response in responses:
            if response.status_code == 200:
                raise ActionFailed(f"{label}: form shown again with errors on {url}")
            self.browser.expect(response, 302, what=label)
            page = self.browser.get(self.browser.location(response), "request page")
            if "fr-alert--success" in page.text:
                success = True
            elif "déjà été pris en compte" in page.text:
                pass  # the second click of a double click: told the first one counted
            elif "traitée par quelqu" in page.text:
                self.stats.outcome("conflicts (already handled)")
            else:
                self.stats.outcome("refused (state changed)")
        if success:
            self.stats.outcome(done)
            if mark:
                self.stats.message_sent(mark)

    def answer_info(self):
        pk, form = self._detail_form("info_requested", "/complement/", "message")
        if form is None:
            return
        data = form.values()
        mark = self.mark()
        data["message"] = f"{self.words(15)} {mark}"
        self._post_and_classify(f"/demandes/{pk}/complement/", data, "provide info",
                                "provide_info", mark)  # fmt: skip

    def write_message(self):
        pk, form = self._detail_form(self.rng.choice(["submitted", "in_review"]), "/message/",
                                     "body")  # fmt: skip
        if form is None:
            return
        data = form.values()
        mark = self.mark()
        data["body"] = f"{self.words(10)} {mark}"
        self._post_and_classify(f"/demandes/{pk}/message/", data, "message", "messages", mark)

    def withdraw(self):
        ids = self._my_requests("submitted")
        if not ids:
            return
        pk = self.rng.choice(ids)
        url = f"/demandes/{pk}/retrait/"
        page = self.browser.get(url, "withdraw form")
        if page.status_code == 302:
            self.stats.outcome("refused (state changed)")
            return
        self.browser.expect(page, 200, what="withdraw form")
        form = form_with(page.text, "confirm")
        if form is None:
            raise ActionFailed("withdraw form not found")
        data = form.values()
        data.update(confirm="on", reason=self.words(6))
        self._post_and_classify(url, data, "withdraw", "withdraw")


class Staff(User):
    """Delegates and national staff act in the admin: each transition is the page's form,
    posted with the state the page showed."""

    def changelist(self, state: str = "", extra: str = "") -> list[int]:
        url = ADMIN_REQUESTS + (f"?statut={state}" if state else "") + extra
        page = self.browser.expect(self.browser.get(url, "admin change list"), 200,
                                   what="admin change list")  # fmt: skip
        return sorted({int(pk) for pk in ADMIN_LINK.findall(page.text)})

    def read(self):
        ids = self.changelist(self.rng.choice(["", "submitted", "in_review", "escalated"]))
        if ids:
            pk = self.rng.choice(ids)
            self.browser.expect(
                self.browser.get(f"{ADMIN_REQUESTS}{pk}/change/", "admin change page"), 200,
                what="admin change page")  # fmt: skip

    def dashboard(self):
        self.browser.expect(self.browser.get("/tableau-de-bord/", "dashboard"), 200,
                            what="dashboard")  # fmt: skip

    def act(self, state: str, choose):
        ids = self.changelist(state)
        if not ids:
            return
        pk = self.rng.choice(ids[-30:])
        name, fields = choose()
        url = f"{ADMIN_REQUESTS}{pk}/action/{name}/"
        page = self.browser.get(url, "admin action form")
        if page.status_code == 302:
            self.stats.outcome("refused (state changed)")
            return
        self.browser.expect(page, 200, what=f"{name} form")
        form = form_with(page.text, "seen_state")
        if form is None:
            raise ActionFailed(f"{name}: no form on {url}")
        data = form.values()
        data.update(fields)
        response = self.browser.post(url, data, f"admin {name}")
        if response.status_code == 200:
            raise ActionFailed(f"{name}: form shown again with errors on {url}")
        self.browser.expect(response, 302, what=name)
        page = self.browser.get(self.browser.location(response), "admin change page")
        if 'class="success"' in page.text:
            self.stats.outcome(name)
        elif "déjà été traitée" in page.text:
            self.stats.outcome("conflicts (already handled)")
        else:
            self.stats.outcome("refused (state changed)")

    def write_message(self):
        ids = self.changelist(self.rng.choice(["in_review", "local_support"]))
        if not ids:
            return
        pk = self.rng.choice(ids)
        url = f"{ADMIN_REQUESTS}{pk}/message/"
        change = self.browser.get(f"{ADMIN_REQUESTS}{pk}/change/", "admin change page")
        self.browser.expect(change, 200, what="admin change page")
        form = form_with(change.text, "body", "/message/")
        if form is None:  # closed since the change list was read: no more messages
            self.stats.outcome("refused (state changed)")
            return
        data = form.values()
        mark = self.mark()
        data["body"] = f"{self.words(8)} {mark}"
        responses = self.browser.post_maybe_twice(url, data, "admin message", self.rng,
                                                  self.stats)  # fmt: skip
        for response in responses:
            self.browser.expect(response, 302, what="admin message")
        self.stats.outcome("messages")
        self.stats.message_sent(mark)


class Delegate(Staff):
    role = "delegate"

    def actions(self):
        return [
            (3, self.read),
            (1, self.dashboard),
            (4, lambda: self.act("submitted", lambda: ("start_review", {}))),
            (5, lambda: self.act("in_review", self.instruction)),
            (1, lambda: self.act("local_support", lambda: (
                "complete", {"outcome": self.words(10)}))),
            (1, self.write_message),
        ]  # fmt: skip

    def instruction(self):
        choice = self.rng.choices(["request_info", "resolve_locally", "escalate", "decline"],
                                  [4, 4, 2, 1])[0]  # fmt: skip
        if choice == "request_info":
            return choice, {"message": self.words(12)}
        if choice == "resolve_locally":
            email = self.rng.choice(
                ["contact-a@demo.test", f"contact{self.rng.randrange(50)}@loadtest.example"]
            )
            return choice, {"contact_name": "Claire Martin", "contact_email": email,
                            "contact_organisation": "Agence technique départementale",
                            "comment": self.words(5)}  # fmt: skip
        if choice == "escalate":
            return choice, {"innovative_or_complex": self.words(12), "rare_expertise": "on"}
        return choice, {"reason": self.words(10)}


class National(Staff):
    role = "national"

    def actions(self):
        return [
            (3, self.read),
            (2, self.dashboard),
            (4, lambda: self.act("escalated", self.decision)),
            (1, lambda: self.act("national_support", lambda: (
                "complete", {"outcome": self.words(10)}))),
        ]  # fmt: skip

    def decision(self):
        if self.rng.random() < 0.3:
            return "refer_back", {"reason": self.words(10)}
        if self.rng.random() < 0.5:
            return "approve_national", {"instrument": "subsidy", "amount": "15000",
                                        "comment": self.words(5)}  # fmt: skip
        return "approve_national", {"instrument": "internal_skills", "comment": self.words(5)}


# The stack ---------------------------------------------------------------------------------


class Stack:
    def __init__(self, args, run_dir: Path):
        self.args = args
        self.run_dir = run_dir
        self.log_dir = run_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.redis = Redis(log_dir=self.log_dir, data_dir=run_dir)
        self.sink = MailSink()
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.processes: list[Process] = []
        self.restarts: list[dict] = []
        self.stopping = threading.Event()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "anct_portal.settings",
            "DEBUG": "false",
            "SECRET_KEY": "load-faults-only-" + "x" * 50,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SITE_URL": self.base_url,
            "DATABASE_URL": args.database_url,
            "CELERY_BROKER_URL": self.redis.url,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.sink.port),
            "EMAIL_TIMEOUT": "5",
            "VAR_DIR": str(run_dir),
            "MEDIA_ROOT": str(run_dir / "media"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **FAULT_SETTINGS,
        }
        self.env.pop("REDIS_URL", None)

    def start_services(self):
        self.redis.start()
        self.sink.start()
        log(f"redis-server on :{self.redis.port}, mail sink on :{self.sink.port}")

    def start_app(self):
        gunicorn = Process(
            "gunicorn",
            [str(BIN / "gunicorn"), "anct_portal.wsgi:application",
             "--bind", f"127.0.0.1:{self.web_port}", "--workers", str(self.args.workers),
             "--threads", str(self.args.threads), "--timeout", "60", "--graceful-timeout", "10",
             "--keep-alive", "2",
             "--log-level", "warning"],
            env=self.env, log_dir=self.log_dir,
        ).start()  # fmt: skip
        # Worker and beat in two processes, each under a supervisor (see README, "Operations"):
        # a worker that dies must not take the sweep with it.
        worker = Process(
            "celery-worker",
            [str(BIN / "celery"), "-A", "anct_portal", "worker", "--loglevel", "INFO",
             "--concurrency", "2", "--without-gossip", "--without-mingle"],
            env={**self.env, "LOG_LEVEL": "INFO"}, log_dir=self.log_dir, supervised=True,
        ).start()  # fmt: skip
        beat = Process(
            "celery-beat",
            [str(BIN / "celery"), "-A", "anct_portal", "beat", "--loglevel", "INFO",
             "--schedule", str(self.run_dir / "celerybeat-schedule")],
            env={**self.env, "LOG_LEVEL": "INFO"}, log_dir=self.log_dir, supervised=True,
        ).start()  # fmt: skip
        self.processes += [gunicorn, worker, beat]
        threading.Thread(target=self._supervise, daemon=True).start()
        if not wait_until(lambda: self._answers("/compte/connexion/"), 60, 0.25):
            raise SystemExit(f"gunicorn did not answer; see {gunicorn.log_path}")
        log(f"gunicorn ({self.args.workers}×{self.args.threads}) on {self.base_url}, "
            "Celery worker and beat started, supervised")  # fmt: skip

    def _answers(self, path: str) -> bool:
        import httpx

        try:
            return httpx.get(self.base_url + path, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _supervise(self):
        while not self.stopping.is_set():
            for process in self.processes:
                if process.supervised and not process.running() and not self.stopping.is_set():
                    code = process.popen.returncode if process.popen else None
                    self.restarts.append({"process": process.name, "exit_code": code,
                                          "at": time.monotonic()})  # fmt: skip
                    log(f"{process.name} exited ({code}): restarted by the supervisor")
                    process.start()
            self.stopping.wait(0.5)

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def check_alive(self) -> list[str]:
        return [p.name for p in self.processes if not p.running()]

    def stop(self):
        self.stopping.set()
        for process in reversed(self.processes):
            process.stop()
        self.sink.stop()
        self.redis.stop()


# Database ----------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    throwaway.recreate_database(
        url, allowed=r"anct_ops_[a-z0-9_]+", rule="the database name must start with anct_ops_"
    )


def prepare_data(stack: Stack, *, extra_officials: int) -> dict:
    """Migrate, load reference and demo data, add the load test's accounts. Runs in this
    process with the stack's environment (the demo data's notifications go to its Redis)."""
    import django
    from django.core.management import call_command

    django.setup()
    from django.contrib.auth.models import Group

    from accounts.models import CollectivityMembership, DelegateAssignment, User
    from accounts.roles import DELEGATES_GROUP, NATIONAL_STAFF_GROUP
    from engineering_requests.demo import COMMUNE_A, COMMUNE_B
    from territories.models import Collectivity

    quiet = {"verbosity": 0, "stdout": open(os.devnull, "w")}  # noqa: SIM115
    started = time.monotonic()
    call_command("migrate", interactive=False, **quiet)
    call_command("load_territories", **quiet)
    call_command("load_programmes", **quiet)
    os.environ["DEMO_PASSWORD"] = PASSWORD
    call_command("create_demo_data", force=True, **quiet)
    # The production manifest (hashed names), without WhiteNoise's gzip and Brotli copies: they
    # take 40 s to build and the simulated users never download static files.
    from django.conf import settings
    from django.test.utils import override_settings

    storages = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}  # fmt: skip
    with override_settings(STORAGES=storages):
        call_command("collectstatic", interactive=False, **quiet)
    accounts = {"official": [], "delegate": [], "national": []}
    for code, letter in ((COMMUNE_A, "a"), (COMMUNE_B, "b")):
        home = Collectivity.objects.get(kind="commune", code=code)
        accounts["official"].append(f"elu-{letter}@demo.test")
        neighbours = list(
            Collectivity.objects.filter(kind="commune", departement=home.departement)
            .exclude(pk=home.pk)
            .order_by("-population")[:extra_officials]
        )
        # A colleague in the same commune (told of information requests), then neighbours.
        for i, collectivity in enumerate([home, *neighbours]):
            email = f"elu-{letter}{i}@loadtest.test"
            user = User.objects.create_user(email, PASSWORD, first_name="Élu", last_name=f"{i}")
            CollectivityMembership.objects.create(user=user, collectivity=collectivity)
            accounts["official"].append(email)
        accounts["delegate"].append(f"delegue-{letter}@demo.test")
        email = f"delegue-{letter}2@loadtest.test"
        user = User.objects.create_user(email, PASSWORD, first_name="Délégué", last_name="2",
                                        is_staff=True)  # fmt: skip
        user.groups.add(Group.objects.get_or_create(name=DELEGATES_GROUP)[0])
        DelegateAssignment.objects.create(user=user, departement=home.departement)
        accounts["delegate"].append(email)
    accounts["national"].append("national@demo.test")
    user = User.objects.create_user("national2@loadtest.test", PASSWORD, first_name="ANCT",
                                    last_name="2", is_staff=True)  # fmt: skip
    user.groups.add(Group.objects.get(name=NATIONAL_STAFF_GROUP))
    accounts["national"].append("national2@loadtest.test")
    from django.db import connections

    connections.close_all()
    log(f"database ready in {time.monotonic() - started:.1f} s "
        f"({sum(len(v) for v in accounts.values())} accounts)")  # fmt: skip
    return accounts


# Checks ------------------------------------------------------------------------------------

EVENT_OF_TRANSITION = {
    "submit": "submitted",
    "request_info": "info_requested",
    "provide_info": "info_provided",
    "resolve_locally": "resolved_locally",
    "escalate": "escalated",
    "approve_national": "national_approved",
    "refer_back": "referred_back",
    "decline": "declined",
    "withdraw": "withdrawn",
    "complete": "completed",
}


def outbox_status() -> dict:
    from django.db.models import Count

    from notifications.models import Notification

    return dict(Notification.objects.values_list("status").annotate(n=Count("pk")))


def drain(sink: MailSink, timeout: float) -> float:
    """Wait until no outbox row is pending and the mail sink has been quiet for a moment."""
    from django.db import connection

    started = time.monotonic()
    quiet_since, last_total = time.monotonic(), -1
    while time.monotonic() - started < timeout:
        pending = outbox_status().get("pending", 0)
        total = sink.total()
        if total != last_total:
            quiet_since, last_total = time.monotonic(), total
        if pending == 0 and time.monotonic() - quiet_since > 1.5:
            break
        time.sleep(0.5)
    connection.close()
    return time.monotonic() - started


def check(stats: Stats, sink: MailSink, first_notification_id: int, first_log_id: int,
          tolerated_duplicates: int = 0) -> dict:  # fmt: skip
    """The invariants, on the whole database (cumulative) and on this phase's rows.

    ``tolerated_duplicates``: when the phase killed workers, each process killed between the
    mail server's "250" and its commit sends that e-mail again (the documented at-least-once
    window, same Message-ID); up to that many duplicates are noted, not failed."""
    from django.db.models import Max

    from engineering_requests.models import EngineeringRequest, ReferenceSequence, TransitionLog
    from notifications.enums import Channel, NotificationStatus
    from notifications.models import Notification

    violations: list[str] = []

    # Accepted submissions are in the database with the reference the official was shown.
    found = 0
    accepted = dict(stats.accepted)
    rows = dict(
        EngineeringRequest.objects.filter(pk__in=list(accepted)).values_list("pk", "reference")
    )
    states = dict(
        EngineeringRequest.objects.filter(pk__in=list(accepted)).values_list("pk", "state")
    )
    for pk, reference in accepted.items():
        if rows.get(pk) == reference and states.get(pk) != "draft":
            found += 1
        else:
            violations.append(f"accepted submission {pk} {reference}: database has "
                              f"{rows.get(pk)!r} in state {states.get(pk)!r}")  # fmt: skip
    if len(stats.accepted) != len(accepted):
        violations.append("one submission page was shown for two different requests")

    # References: unique (a constraint) and gap-free per year.
    numbers = defaultdict(list)
    for reference in EngineeringRequest.objects.exclude(reference=None).values_list(
        "reference", flat=True
    ):
        _prefix, year, number = reference.split("-")
        numbers[int(year)].append(int(number))
    for year, values in numbers.items():
        last = ReferenceSequence.objects.filter(year=year).values_list("last_number", flat=True)
        expected = list(range(1, (last.first() or 0) + 1))
        if sorted(values) != expected:
            missing = sorted(set(expected) - set(values))[:10]
            extra = sorted(set(values) - set(expected))[:10]
            violations.append(f"references {year} not gap-free: missing {missing}, "
                              f"unexpected {extra}, {len(values)} vs {len(expected)}")  # fmt: skip

    # Transition logs chain from draft to the request's state.
    chains = defaultdict(list)
    for request_id, source, target in TransitionLog.objects.order_by(
        "engineering_request_id", "created_at", "pk"
    ).values_list("engineering_request_id", "source_state", "target_state"):
        chains[request_id].append((source, target))
    broken = 0
    for pk, state, reference, submitted_at in EngineeringRequest.objects.values_list(
        "pk", "state", "reference", "submitted_at"
    ):
        chain = chains.get(pk, [])
        ok = True
        expected_source = "draft"
        for source, target in chain:
            if source != expected_source:
                ok = False
            expected_source = target
        if expected_source != state:
            ok = False
        if (reference is None) != (submitted_at is None):
            ok = False
        if not ok:
            broken += 1
            if broken <= 5:
                violations.append(f"request {pk}: logs {chain} do not lead to {state}")
    if broken > 5:
        violations.append(f"… {broken} requests with inconsistent logs in all")

    # Every notifying transition of the phase has its outbox rows (same transaction).
    phase_logs = list(
        TransitionLog.objects.filter(pk__gte=first_log_id).values_list(
            "pk", "transition", "source_state"
        )
    )
    keys_prefixes = set()
    for pk, transition, source in phase_logs:
        event = EVENT_OF_TRANSITION.get(transition)
        if event and not (transition == "withdraw" and source == "draft"):
            keys_prefixes.add(f"{event}:log{pk}:")
    recorded = {
        ":".join(key.split(":")[:2]) + ":"
        for key in Notification.objects.filter(pk__gte=first_notification_id).values_list(
            "dedup_key", flat=True
        )
    }
    without_rows = sorted(keys_prefixes - recorded)
    if without_rows:
        violations.append(f"{len(without_rows)} transitions without outbox rows: "
                          f"{without_rows[:5]}")  # fmt: skip

    # The outbox: every row sent, every e-mail received exactly once.
    received = sink.counts_by_notification()
    all_email_ids = set(
        Notification.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True)
    )
    phase_rows = list(
        Notification.objects.filter(pk__gte=first_notification_id).values_list(
            "pk", "channel", "status", "attempts", "created_at", "sent_at"
        )
    )
    email_rows = [r for r in phase_rows if r[1] == Channel.EMAIL]
    delivered = sum(1 for r in email_rows if received.get(r[0], 0) >= 1)
    lost = [r[0] for r in email_rows if received.get(r[0], 0) == 0]
    duplicated = sum(received.get(r[0], 0) - 1 for r in email_rows if received.get(r[0], 0) > 1)
    not_sent = [r[0] for r in phase_rows if r[2] != NotificationStatus.SENT]
    unknown = sum(n for pk, n in received.items() if pk not in all_email_ids)
    if lost:
        violations.append(f"{len(lost)} e-mail notifications never received: {lost[:10]}")
    notes = []
    if duplicated and duplicated <= tolerated_duplicates:
        notes.append(f"{duplicated} e-mail(s) sent twice with the same Message-ID by a worker "
                     "killed between sending and committing (documented window)")  # fmt: skip
    elif duplicated:
        violations.append(f"{duplicated} e-mail notifications received more than once")
    if not_sent:
        violations.append(f"{len(not_sent)} outbox rows not sent: {not_sent[:10]}")
    if unknown:
        violations.append(f"{unknown} e-mails received that match no outbox row")
    delays = sorted(
        (r[5] - r[4]).total_seconds() for r in phase_rows if r[5] is not None and r[4] is not None
    )
    retried = sum(1 for r in email_rows if r[3] > 1)

    # Each message a user sent (double clicks included) is in the thread exactly once.
    from engineering_requests.models import RequestMessage

    bodies = Counter()
    for body in RequestMessage.objects.filter(body__contains="[lt-").values_list("body", flat=True):
        for mark in re.findall(r"\[lt-[0-9a-f]{12}\]", body):
            bodies[mark] += 1
    messages_missing = [m for m in stats.messages if bodies.get(m, 0) == 0]
    messages_twice = [m for m in stats.messages if bodies.get(m, 0) > 1]
    if messages_missing:
        violations.append(f"{len(messages_missing)} messages sent but not in the thread")
    if messages_twice:
        violations.append(f"{len(messages_twice)} messages recorded more than once "
                          f"(double click): {messages_twice[:3]}")  # fmt: skip

    # No 5xx, no transport error, no unexpected page.
    if stats.server_errors:
        violations.append(f"{len(stats.server_errors)} responses 5xx")
    if stats.transport_errors:
        violations.append(f"{len(stats.transport_errors)} requests without an answer")
    if stats.errors:
        violations.append(f"{len(stats.errors)} user actions failed")

    last_log = TransitionLog.objects.aggregate(m=Max("pk"))["m"] or 0
    last_notification = Notification.objects.aggregate(m=Max("pk"))["m"] or 0
    return {
        "submissions_accepted": len(stats.accepted),
        "submissions_found": found,
        "messages_sent": len(stats.messages),
        "messages_duplicated": len(messages_twice),
        "transitions_logged": len(phase_logs),
        "notifications": {
            "rows": len(phase_rows),
            "email_expected": len(email_rows),
            "email_delivered": delivered,
            "lost": len(lost),
            "duplicated": duplicated,
            "not_sent": len(not_sent),
            "retried": retried,
            "delivery_seconds_median": round(statistics.median(delays), 2) if delays else None,
            "delivery_seconds_max": round(delays[-1], 2) if delays else None,
        },
        "violations": violations,
        "notes": notes,
        "next_ids": (last_notification + 1, last_log + 1),
    }


# Phases ------------------------------------------------------------------------------------


def make_users(accounts: dict, count: int, base_url: str, stats_ref, seed: int) -> list[User]:
    shares = [("official", Official, 0.5), ("delegate", Delegate, 0.25),
              ("national", National, 0.125)]  # fmt: skip
    users: list[User] = []
    for role, cls, share in shares:
        emails = accounts[role]
        for i in range(max(1, round(count * share))):
            users.append(cls(emails[i % len(emails)], base_url, stats_ref, seed + len(users)))
    while len(users) < count:
        users.append(Anonymous(None, base_url, stats_ref, seed + len(users)))
    return users[:count] if len(users) > count else users


def run_phase(name, users, stack: Stack, seconds: float, faults, stats: Stats) -> list[dict]:
    stop = threading.Event()
    events: list[dict] = []
    started = time.monotonic()

    def loop(user: User):
        while not stop.is_set():
            try:
                user.step()
            except ActionFailed as exc:
                stats.error(f"{user.role} {user.email}: {exc}")
            except Exception as exc:
                stats.error(f"{user.role} {user.email}: script error {exc!r}")
            stop.wait(user.rng.uniform(0.0, 0.3))

    threads = [threading.Thread(target=loop, args=(u,), daemon=True) for u in users]
    for thread in threads:
        thread.start()
    for at, label, action in faults:
        delay = started + at * seconds - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        action()
        events.append({"at_seconds": round(time.monotonic() - started, 1), "event": label})
        log(f"{name}: {label}")
    remaining = started + seconds - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    stop.set()
    for thread in threads:
        thread.join(90)
    return events


def smtp_down(sink: MailSink):
    sink.stop()


def smtp_up(sink: MailSink):
    sink.mode = "accept"
    sink.start()


def phase_plan(stack: Stack):
    sink, redis = stack.sink, stack.redis
    return [
        ("normal", []),
        ("redis", [
            (0.3, "Redis stopped", redis.stop),
            (0.6, "Redis restarted (empty)", redis.start),
        ]),
        ("smtp", [
            (0.2, "mail server answers 451", lambda: setattr(sink, "mode", "tempfail")),
            (0.4, "mail server stopped (connection refused)", lambda: smtp_down(sink)),
            (0.65, "mail server back", lambda: smtp_up(sink)),
        ]),
        ("worker", [
            (0.3, "Celery worker killed (SIGKILL)", lambda: stack.process("celery-worker").kill()),
            (0.6, "Celery worker killed (SIGKILL)", lambda: stack.process("celery-worker").kill()),
        ]),
    ]  # fmt: skip


def markdown(report: dict) -> str:
    lines = [
        f"Load and fault test ({report['mode']} mode, {report['users']} users, "
        f"{report['seconds_per_phase']} s per phase, gunicorn {report['gunicorn']}, "
        f"{report['finished_at']})",
        "",
        "| phase | requests | 5xx | errors | submissions accepted / found | transitions | "
        "conflicts | e-mails expected / delivered / lost / duplicated | retried | "
        "delivery s (median / max) | worker restarts | drain s | duration s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in report["phases"]:
        n = p["notifications"]
        lines.append(
            f"| {p['name']} | {p['requests']} | {p['http_5xx']} | {p['errors']} | "
            f"{p['submissions_accepted']} / {p['submissions_found']} | {p['transitions_logged']} | "
            f"{p['outcomes'].get('conflicts (already handled)', 0)} | "
            f"{n['email_expected']} / {n['email_delivered']} / {n['lost']} / {n['duplicated']} | "
            f"{n['retried']} | {n['delivery_seconds_median']} / {n['delivery_seconds_max']} | "
            f"{len(p['process_restarts'])} | {p['drain_seconds']} | {p['duration_seconds']} |"
        )
    verdict = "All invariants hold." if report["ok"] else "**Invariants broken.**"
    lines += ["", f"Total duration {report['total_seconds']} s "
              f"(set-up {report['setup_seconds']} s). {verdict}"]  # fmt: skip
    for p in report["phases"]:
        events = [f"{e['event']} at {e['at_seconds']} s" for e in p["events"]]
        events += [f"{r['process']} died (exit {r['exit_code']}) and was restarted at "
                   f"{r['at_seconds']} s" for r in p["process_restarts"]]  # fmt: skip
        if events:
            lines.append(f"- {p['name']}: " + "; ".join(events))
        for violation in p["violations"]:
            lines.append(f"  - **{p['name']}**: {violation}")
        for note in p.get("notes", []):
            lines.append(f"  - {p['name']}: {note}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short mode (CI)")
    parser.add_argument("--users", type=int)
    parser.add_argument("--seconds", type=float, help="duration of each phase")
    parser.add_argument("--phases", default="normal,redis,smtp,worker")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drain-timeout", type=float, default=90)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/anct_ops_loadtest"
        ),
        help="dropped and recreated; its name must start with anct_ops_",
    )
    parser.add_argument("--out", default=str(ROOT / "var" / "loadtest"))
    args = parser.parse_args()
    profile = PROFILES["quick" if args.quick else "full"]
    args.users = args.users or profile["users"]
    args.seconds = args.seconds or profile["seconds"]
    args.workers = args.workers or profile["workers"]
    args.threads = args.threads or profile["threads"]
    wanted = [p.strip() for p in args.phases.split(",") if p.strip()]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=out))
    began = time.monotonic()
    stack = Stack(args, run_dir)
    os.environ.update(stack.env)
    os.environ["LOG_LEVEL"] = "ERROR"  # this process: the report says what matters
    report: dict = {
        "mode": "quick" if args.quick else "full",
        "users": args.users,
        "seconds_per_phase": args.seconds,
        "gunicorn": f"{args.workers} workers × {args.threads} threads",
        "fault_settings": FAULT_SETTINGS,
        "phases": [],
        "run_dir": str(run_dir),
    }
    try:
        recreate_database(args.database_url)
        stack.start_services()
        accounts = prepare_data(stack, extra_officials=3)
        stack.start_app()
        current = {"stats": Stats("setup")}
        users = make_users(accounts, args.users, stack.base_url, lambda: current["stats"],
                           args.seed)  # fmt: skip
        for user in users:
            user.sign_in()
        # The demo data's notifications first: each phase starts from an empty outbox.
        drain(stack.sink, args.drain_timeout)
        report["setup_seconds"] = round(time.monotonic() - began, 1)
        from django.db import connections
        from django.db.models import Max

        from engineering_requests.models import TransitionLog
        from notifications.models import Notification

        next_ids = (
            (Notification.objects.aggregate(m=Max("pk"))["m"] or 0) + 1,
            (TransitionLog.objects.aggregate(m=Max("pk"))["m"] or 0) + 1,
        )
        counts = Counter(type(u).__name__ for u in users)
        log(f"{len(users)} users signed in: {dict(counts)}")
        for name, faults in phase_plan(stack):
            if name not in wanted:
                continue
            stats = Stats(name)
            current["stats"] = stats
            phase_began = time.monotonic()
            refused_before = stack.sink.refused
            log(f"phase {name}: {args.seconds:.0f} s")
            events = run_phase(name, users, stack, args.seconds, faults, stats)
            if not stack.redis.running():
                stack.redis.start()
            if stack.sink.controller is None:
                smtp_up(stack.sink)
            drained = drain(stack.sink, args.drain_timeout)
            kills = sum(1 for e in events if "killed" in e["event"])
            # Each kill can catch each of the worker's two processes in the window.
            result = check(stats, stack.sink, *next_ids, tolerated_duplicates=2 * kills)
            connections.close_all()
            next_ids = result.pop("next_ids")
            dead = stack.check_alive()
            if dead:
                result["violations"].append(f"processes down at the end: {dead}")
            restarts = [
                {"process": r["process"], "exit_code": r["exit_code"],
                 "at_seconds": round(r["at"] - phase_began, 1)}
                for r in stack.restarts if r["at"] >= phase_began
            ]  # fmt: skip
            phase = {
                "name": name,
                "requests": stats.requests,
                "http_5xx": len(stats.server_errors),
                "errors": len(stats.errors) + len(stats.transport_errors),
                "status_codes": dict(sorted(stats.by_status.items())),
                "outcomes": dict(sorted(stats.outcomes.items())),
                "pages": dict(stats.by_page.most_common()),
                "events": events,
                "process_restarts": restarts,
                "drain_seconds": round(drained, 1),
                "duration_seconds": round(time.monotonic() - phase_began, 1),
                "error_samples": (stats.errors + stats.transport_errors)[:10],
                "server_error_samples": stats.server_errors[:5],
                "mail_refused_451": stack.sink.refused - refused_before,
                **result,
            }
            report["phases"].append(phase)
            n = phase["notifications"]
            log(f"phase {name}: {stats.requests} requests, {phase['http_5xx']} 5xx, "
                f"{phase['errors']} errors, submissions {phase['submissions_accepted']}/"
                f"{phase['submissions_found']}, e-mails {n['email_expected']}/"
                f"{n['email_delivered']} lost {n['lost']} duplicated {n['duplicated']}, "
                f"drain {drained:.1f} s, {len(phase['violations'])} violations")  # fmt: skip
            for violation in phase["violations"]:
                log(f"  ✗ {violation}")
            for sample in phase["error_samples"][:5]:
                log(f"  ! {sample}")
    finally:
        stack.stop()
        # The logs stay for a look; the collected static files (tens of MB) go.
        shutil.rmtree(run_dir / "static", ignore_errors=True)
    report["total_seconds"] = round(time.monotonic() - began, 1)
    report["finished_at"] = datetime.datetime.now().isoformat(timespec="seconds")
    report["ok"] = bool(report["phases"]) and not any(p["violations"] for p in report["phases"])
    (out / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (out / "latest.md").write_text(markdown(report))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    shutil.copy(out / "latest.json", out / f"report-{report['mode']}-{stamp}.json")
    log(f"report: {out / 'latest.md'} ({report['total_seconds']} s in all)")
    print(markdown(report))
    failed = sum(1 for p in report["phases"] if p["violations"])
    # A closing line CI reads like a test runner's: one "test" per phase.
    print(f"loadtest: {len(report['phases']) - failed} passed, {failed} failed")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
