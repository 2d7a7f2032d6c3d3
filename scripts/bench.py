"""National-scale benchmark: the portal's pages against a one-query baseline, in one run.

    make bench            # 200,000 requests, 15 s per page, then the delegate pages at 1,000,000
    make bench QUICK=1    # 200,000 requests, 3 s per page, no 1,000,000 step (under 3 minutes)

Steps: drop and create the benchmark database (its name must contain "bench"), migrate, load the
real territories and the programme catalogue (timed), generate requests with COPY
(``scripts/bench_data.py``), then serve the portal with gunicorn (production settings, 2 sync
workers) and drive each page with ``wrk`` at a fixed concurrency, with a signed-in session
cookie. The baseline (a view doing one indexed query and rendering a tiny template, routed only
when ``BENCH_BASELINE=true``) runs in the same run, first and again after every two pages: each
page is divided by the two baseline runs around it. SQL queries per page are
counted in this process with Django's test client on the same database; peak RSS per gunicorn
worker is read from /proc (VmHWM). Celery delivery rate is measured against a no-op task with
``scripts/bench_notifications.py``. The report (Markdown and JSON) goes to ``var/bench/``; the
exit status is 1 when a budget is missed.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import throwaway  # noqa: E402 - scripts/throwaway.py

BIN = Path(sys.executable).parent

BUDGETS = {
    "p95_ratio": 3.0,  # page p95 ÷ baseline p95
    "queries": 12,
    "dashboard_queries": 15,
    "rss_mb": 200,
    "submission_ratio": 0.5,  # submissions/s ÷ baseline requests/s
}

WRK_LUA = r"""
local method, body, headers = "%(method)s", %(body)s, {}
headers["Cookie"] = "%(cookie)s"
headers["Host"] = "127.0.0.1"
%(extra_headers)s
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
local function token()
  local t = {}
  for i = 1, 32 do
    local n = math.random(1, #alphabet)
    t[i] = alphabet:sub(n, n)
  end
  return table.concat(t)
end
function setup(thread) thread:set("seed", math.random(1, 1000000000)) end
function init(args) math.randomseed(seed + os.time()) end
request = function()
  if body ~= nil then
    return wrk.format(method, nil, headers, body:gsub("FORM_TOKEN", token))
  end
  return wrk.format(method, nil, headers, nil)
end
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH {\"requests\": %%d, \"seconds\": %%f, \"p50_us\": %%d, \"p95_us\": %%d, " ..
    "\"p99_us\": %%d, \"max_us\": %%d, \"errors_status\": %%d, \"errors_other\": %%d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/anct_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument("--quick", action="store_true", help="short mode (under 3 minutes)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI's check that the harness works: 3,000 requests, 1 s per page; fails on errors "
        "and wrong statuses only (timings on a shared CI machine prove nothing)",
    )
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--scale-to", type=int, default=1_000_000, help="0: skip that step")
    parser.add_argument("--duration", type=int, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--only", help="comma-separated page keys to run (debugging)")
    args = parser.parse_args()
    if args.smoke:
        args.quick, args.requests = True, 3000
        args.duration = args.duration or 1
    if args.duration is None:
        args.duration = 3 if args.quick else 15
    if args.quick:
        args.scale_to = 0
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def recreate_database(url: str) -> None:
    throwaway.recreate_database(
        url,
        allowed=r"[a-z0-9_]*bench[a-z0-9_]*",
        rule="the benchmark database name must contain 'bench'",
    )


def environment(args, run_dir: Path) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "anct_portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.redis_url,
        "REDIS_URL": args.redis_url,
        "VAR_DIR": str(run_dir),
        "MEDIA_ROOT": str(run_dir / "media"),
        "LOG_LEVEL": "WARNING",
        "BENCH_BASELINE": "true",
        "PYTHONPATH": str(ROOT),
    }


def timed(label, func, *a, **kw):
    started = time.perf_counter()
    result = func(*a, **kw)
    seconds = time.perf_counter() - started
    log(f"{label}: {seconds:.1f} s")
    return result, round(seconds, 1)


# --- the pages ----------------------------------------------------------------------------------
class Page:
    def __init__(self, key, label, user, path, *, method="GET", data=None, dashboard=False,
                 delegate_daily=False, expect=200):  # fmt: skip
        self.key, self.label, self.user, self.path = key, label, user, path
        self.method, self.data, self.dashboard = method, data, dashboard
        self.delegate_daily, self.expect = delegate_daily, expect


def choose_pages(sessions, targets) -> list[Page]:
    delegate, national, official = "delegate", "national", "official"  # keys of ``sessions``
    changelist = "/admin/engineering_requests/engineeringrequest/"
    queue = "/admin/engineering_requests/escalatedrequest/"
    return [
        Page("baseline", "baseline (1 indexed query, tiny template)", delegate,
             "/__bench__/baseline/"),
        Page("official_list", "official: Mes demandes", official, "/demandes/"),
        Page("request_page", "official: request page", official,
             f"/demandes/{targets['official_request']}/"),
        Page("admin_list", "delegate: admin change list, first page", delegate, changelist,
             delegate_daily=True),
        Page("admin_deep", f"delegate: admin change list, page {targets['deep_page']}", delegate,
             f"{changelist}?p={targets['deep_page']}", delegate_daily=True),
        Page("admin_search", "delegate: admin search + state filter", delegate,
             f"{changelist}?statut=local_support&q={targets['search']}", delegate_daily=True),
        Page("admin_change", "delegate: admin change view", delegate,
             f"{changelist}{targets['delegate_request']}/change/", delegate_daily=True),
        Page("national_queue", "national: queue (admin)", national, queue),
        Page("kpi_national", "national: dashboard, all of France", national, "/tableau-de-bord/",
             dashboard=True),
        Page("kpi_delegate", "delegate: dashboard", delegate, "/tableau-de-bord/",
             dashboard=True, delegate_daily=True),
        Page("public_stats", "public statistics", None, "/statistiques/", dashboard=True),
        Page("territory_search", "territory search (form autocomplete, JSON)", None,
             "/territoires/recherche?q=saint+etienne&types=commune"),
        Page("submit", "official: submission (POST)", official, "/demandes/nouvelle/",
             method="POST", data=targets["submission"], expect=302),
    ]  # fmt: skip


def sessions_and_targets(generator) -> tuple[dict, dict]:
    """Signed-in session cookies for three users, and the objects the pages show."""
    from django.db.models import Count
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    from accounts.models import User
    from engineering_requests.enums import RequestState as S
    from engineering_requests.models import EngineeringRequest
    from programmes.models import PriorityDomain

    busiest_dep = (
        EngineeringRequest.objects.values("departement_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["departement_id"]
    )
    busiest_collectivity = (
        EngineeringRequest.objects.values("collectivity_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["collectivity_id"]
    )
    users = {
        "delegate": User.objects.get(pk=generator.accounts.delegate_by_departement[busiest_dep]),
        "national": User.objects.get(pk=generator.accounts.national_ids[0]),
        "official": User.objects.get(
            pk=generator.accounts.official_by_collectivity[busiest_collectivity]
        ),
    }
    csrf = _get_new_csrf_string()
    sessions = {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[role] = {
            "user": user,
            "cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
            "csrf": csrf,
        }
    sessions[None] = {"user": None, "cookie": f"csrftoken={csrf}", "csrf": csrf}

    mine = EngineeringRequest.objects.filter(collectivity_id=busiest_collectivity)
    official_request = (
        mine.filter(state=S.COMPLETED, escalated_at__isnull=False).order_by("-pk").first()
        or mine.exclude(state=S.DRAFT).order_by("-pk").first()
    )
    in_busiest_dep = EngineeringRequest.objects.filter(departement_id=busiest_dep)
    delegate_request = (
        in_busiest_dep.filter(state=S.IN_REVIEW).order_by("-pk").first()
        or in_busiest_dep.exclude(state=S.DRAFT).order_by("-pk").first()
    )
    search_collectivity = official_request.collectivity.name.split(" ")[0]
    # A deep page: the 100th at national scale, halfway through a smaller data set.
    in_busiest = EngineeringRequest.objects.filter(departement_id=busiest_dep).count()
    deep_page = max(2, min(100, in_busiest // 50 // 2))
    domain = PriorityDomain.objects.filter(parent__isnull=False).first()
    tomorrow = datetime.date.today() + datetime.timedelta(days=90)
    submission = {
        "collectivity": str(busiest_collectivity),
        "title": "Rénovation énergétique de l'école élémentaire",
        "description": "L'école, construite en 1965, consomme trop : isolation et chauffage.",
        "need": "Un diagnostic énergétique et une assistance à maîtrise d'ouvrage.",
        "engineering_kind": "technical_expertise",
        "intervention_form": "custom",
        "programme": "",
        "contract": "",
        "domains": str(domain.pk),
        "estimated_budget": "350000",
        "desired_start": tomorrow.isoformat(),
        "action": "submit",
        "form_token": "FORM_TOKEN",
        "csrfmiddlewaretoken": csrf,
    }
    targets = {
        "official_request": official_request.pk,
        "delegate_request": delegate_request.pk,
        "search": search_collectivity,
        "deep_page": deep_page,
        "submission": submission,
        "busiest_departement": busiest_dep,
        "busiest_collectivity": busiest_collectivity,
    }
    return sessions, targets


def count_queries(page: Page, sessions) -> tuple[int, int]:
    """SQL queries and status of one request, through Django's test client (warm)."""
    import uuid

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    user = sessions[page.user]["user"] if page.user in sessions else None
    if user is not None:
        client.force_login(user)
    if page.method == "GET":
        client.get(page.path)  # warm: template loaders, caches a real user would also hit
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.path)
    else:
        data = dict(page.data)
        data["form_token"] = uuid.uuid4().hex
        data.pop("csrfmiddlewaretoken", None)
        with CaptureQueriesContext(connection) as queries:
            response = client.post(page.path, data)
    return len(queries), response.status_code


# --- processes ----------------------------------------------------------------------------------
class Gunicorn:
    def __init__(self, env, workers, log_dir: Path):
        self.env, self.workers, self.log_dir = env, workers, log_dir
        self.port = throwaway.free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.log_file = open(self.log_dir / "gunicorn.log", "ab")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "anct_portal.wsgi:application", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--timeout", "60",
             "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        import httpx

        def answers():
            try:
                return httpx.get(self.base + "/__bench__/baseline/", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        if not throwaway.wait_until(answers, 60, 0.25):
            raise SystemExit(f"gunicorn did not answer; see {self.log_dir / 'gunicorn.log'}")
        self.worker_pids = self._workers()
        return self

    def _workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(p) for p in path.read_text().split())

    def peak_rss_mb(self) -> dict:
        peaks = {}
        for pid in self._workers():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            peaks[pid] = round(int(match.group(1)) / 1024, 1)
        return peaks

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log_file.close()


def wrk(base: str, page: Page, session: dict, args, work_dir: Path, duration: int) -> dict:
    body = "nil"
    extra = ""
    if page.method == "POST":
        from urllib.parse import urlencode

        body = json.dumps(urlencode(page.data))  # FORM_TOKEN: a new token per request (Lua)
        extra = 'headers["Content-Type"] = "application/x-www-form-urlencoded"'
    script = work_dir / f"{page.key}.lua"
    script.write_text(
        WRK_LUA
        % {
            "method": page.method,
            "body": body,
            "cookie": session["cookie"],
            "extra_headers": extra,
        }
    )
    command = [
        shutil.which("wrk") or "wrk", "-t1", f"-c{args.connections}", f"-d{duration}s",
        "--timeout", "30s", "-s", str(script), base + page.path,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    result = json.loads(line[len("BENCH ") :])
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


# Pages between two runs of the baseline. The machine's speed drifts (±15 % over minutes, the
# baseline's p95 by up to 40 % between the start and the end of a run): each page is divided by
# the baseline as it was measured just before and just after it, not at the ends of the run.
BASELINE_EVERY = 2


def interleaved(pages) -> list:
    """The order of a run: the baseline (``pages[0]``) first, then again after every
    ``BASELINE_EVERY`` pages and after the last one."""
    baseline, *others = pages
    sequence = [baseline]
    for index, page in enumerate(others, 1):
        sequence.append(page)
        if index % BASELINE_EVERY == 0 or index == len(others):
            sequence.append(baseline)
    return sequence


def run_pages(pages, sessions, args, env, run_dir, *, label) -> dict:
    """wrk on each page in the order of ``interleaved``: ``results[key]`` for the pages,
    ``results["baselines"]`` the baseline's runs in order, ``results["around"][key]`` the
    indexes of the two runs around a page."""
    results = {"baselines": [], "around": {}}
    baseline_seconds = min(args.duration, 5)  # ~780 requests/s: thousands of samples
    with Gunicorn(env, args.workers, run_dir) as server:
        log(f"gunicorn ({args.workers} workers) on {server.base}; wrk {args.duration} s per page, "
            f"{args.connections} connections; the baseline ({baseline_seconds} s) after every "
            f"{BASELINE_EVERY} pages")  # fmt: skip
        baselines = results["baselines"]
        for page in interleaved(pages):
            session = sessions[page.user]
            if page.key != "baseline" or not baselines:
                wrk(server.base, page, session, args, run_dir, 1)  # warm-up
            if page.key == "baseline":
                result = wrk(server.base, page, session, args, run_dir, baseline_seconds)
                baselines.append(result)
            else:
                result = wrk(server.base, page, session, args, run_dir, args.duration)
                results[page.key] = result
                results["around"][page.key] = (len(baselines) - 1, len(baselines))
            log(f"{label} {page.label}: p50 {result['p50_us'] / 1000:.1f} ms, "
                f"p95 {result['p95_us'] / 1000:.1f} ms, {result['rps']} req/s, "
                f"errors {result['errors_status'] + result['errors_other']}")  # fmt: skip
        results["_rss_mb"] = server.peak_rss_mb()
        results["_workers_restarted"] = server._workers() != server.worker_pids
    return results


def celery_rates(args, env) -> dict:
    count = 100 if args.smoke else 300 if args.quick else 2000
    output = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_notifications.py"), "--count",
         str(count), "--repeat", "1"],
        cwd=ROOT, env={**env, "BENCH_BASELINE": "false"}, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    if output.returncode != 0:
        log(f"Celery benchmark failed:\n{output.stdout[-2000:]}\n{output.stderr[-2000:]}")
        return {"error": "failed"}
    noop = re.search(r"no-op tasks:\s+([\d.]+)", output.stdout)
    delivered = re.search(r"notifications delivered:\s+([\d.]+)", output.stdout)
    return {
        "tasks": count,
        "noop_per_s": float(noop.group(1)),
        "delivered_per_s": float(delivered.group(1)),
        "ratio": round(float(delivered.group(1)) / float(noop.group(1)), 2),
    }


# --- report -------------------------------------------------------------------------------------
def mean_run(runs) -> dict:
    """The baseline's runs as one: mean latencies and rate, summed requests and errors."""
    mean = {k: sum(r[k] for r in runs) / len(runs) for k in ("p50_us", "p95_us", "rps")}
    total = {k: sum(r[k] for r in runs) for k in ("requests", "errors_status", "errors_other")}
    return {**mean, **total, "rps": round(mean["rps"], 1)}


def evaluate(pages, results, queries) -> list[dict]:
    """A row per page; a page's ratios divide by the baseline's runs around it (the baseline's
    own row: all its runs)."""
    baselines = results["baselines"]
    rows = []
    for page in pages:
        if page.key == "baseline":
            r = base = mean_run(baselines)
        else:
            r = results[page.key]
            before, after = results["around"][page.key]
            base = mean_run([baselines[before], baselines[after]])
        baseline_p95, baseline_rps = base["p95_us"], base["rps"]
        count, status = queries[page.key]
        ratio = r["p95_us"] / baseline_p95
        # The query budget is for pages; the submission writes in one transaction (its count
        # is held constant by tests/engineering_requests/test_portal_form.py).
        limit = (
            None
            if page.method == "POST"
            else BUDGETS["dashboard_queries"]
            if page.dashboard
            else BUDGETS["queries"]
        )
        checks = {
            "queries": limit is None or count <= limit,
            "status": status == page.expect,
            "errors": r["errors_status"] + r["errors_other"] == 0,
        }
        if page.key != "baseline":
            checks["p95"] = ratio <= BUDGETS["p95_ratio"]
        if page.method == "POST":
            checks["throughput"] = r["rps"] / baseline_rps >= BUDGETS["submission_ratio"]
        rows.append({
            "key": page.key, "page": page.label, "p50_ms": round(r["p50_us"] / 1000, 1),
            "p95_ms": round(r["p95_us"] / 1000, 1), "ratio": round(ratio, 2), "rps": r["rps"],
            "rps_ratio": round(r["rps"] / baseline_rps, 2), "queries": count,
            "query_budget": limit, "status": status, "requests": r["requests"],
            "ok": all(checks.values()), "checks": checks,
        })  # fmt: skip
    return rows


def markdown_table(rows) -> str:
    lines = [
        "| page | p95 ÷ baseline | p50 ms | p95 ms | req/s | SQL | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        failed = ", ".join(k for k, v in r["checks"].items() if not v)
        lines.append(
            f"| {r['page']} | {r['ratio']:.2f} × | {r['p50_ms']} | {r['p95_ms']} | {r['rps']} | "
            f"{r['queries']}/{r['query_budget'] or '–'} | {'yes' if r['ok'] else 'NO: ' + failed} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=out))
    env = environment(args, run_dir)
    os.environ.update({k: v for k, v in env.items() if k not in ("PYTHONPATH",)})
    recreate_database(args.database_url)

    import django

    django.setup()
    from bench_data import Generator
    from django.core.management import call_command
    from django.db import connection

    report = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
              "mode": "smoke" if args.smoke else "quick" if args.quick else "full",
              "budgets": BUDGETS,
              "connections": args.connections, "duration": args.duration}  # fmt: skip
    quiet = {"verbosity": 0}
    _, report["migrate_s"] = timed("migrate", call_command, "migrate", **quiet)
    _, report["territories_s"] = timed("load_territories", call_command, "load_territories")
    _, report["programmes_s"] = timed("load_programmes", call_command, "load_programmes")
    # Static files are collected by another process while this one generates the data.
    collectstatic = subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        report["postgresql"] = cursor.fetchone()[0].split(" on ")[0]

    generator = Generator()
    generator.create_staff()
    generation = generator.generate(args.requests)
    report["generation"] = {**generation, **generator.stats}
    stats = generator.stats
    log(
        f"generated {stats['requests']:,} requests, {stats['logs']:,} transitions, "
        f"{stats['messages']:,} messages, {stats['notifications']:,} notifications, "
        f"{stats['users']:,} accounts in {generation['seconds']} s "
        f"({generation['requests_per_s']:,} requests/s)"
    )

    if collectstatic.wait() != 0:
        raise SystemExit("collectstatic failed")
    sessions, targets = sessions_and_targets(generator)
    pages = choose_pages(sessions, targets)
    if args.only:
        keep = {"baseline", *args.only.split(",")}
        pages = [p for p in pages if p.key in keep]
    queries = {p.key: count_queries(p, sessions) for p in pages}
    connection.close()
    results = run_pages(pages, sessions, args, env, run_dir, label=f"{args.requests // 1000}k")
    rows = evaluate(pages, results, queries)
    rss = results["_rss_mb"]
    report.update(
        requests=args.requests, pages=rows, rss_mb=rss,
        workers_restarted=results["_workers_restarted"], targets={
            k: v for k, v in targets.items() if k != "submission"},
        baseline=baseline_summary(results["baselines"]),
    )  # fmt: skip
    report["celery"] = celery_rates(args, env)
    log(f"Celery: {report['celery']}")

    if args.scale_to and args.scale_to > args.requests:
        more = generator.generate(args.scale_to - args.requests)
        log(f"added {more['requests']:,} requests in {more['seconds']} s")
        daily = [p for p in pages if p.key == "baseline" or p.delegate_daily]
        queries_big = {p.key: count_queries(p, sessions) for p in daily}
        connection.close()
        big = run_pages(daily, sessions, args, env, run_dir, label=f"{args.scale_to // 1000}k")
        report["scaled"] = {
            "requests": args.scale_to,
            "pages": evaluate(daily, big, queries_big),
            "baseline": baseline_summary(big["baselines"]),
            "rss_mb": big["_rss_mb"],
        }

    report["machine"] = machine()
    report["seconds"] = round(time.perf_counter() - started)
    budgets_ok = (
        all(r["ok"] for r in rows)
        and all(v <= BUDGETS["rss_mb"] for v in rss.values())
        and all(r["ok"] for r in report.get("scaled", {}).get("pages", []))
    )
    report["budgets_ok"] = budgets_ok
    text = render(report)
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    (out / "report.md").write_text(text)
    print("\n" + text)
    shutil.rmtree(run_dir / "static", ignore_errors=True)
    if args.smoke:
        broken = [r["page"] for r in rows if not (r["checks"]["status"] and r["checks"]["errors"])]
        if broken or "error" in report["celery"]:
            print(f"Smoke run: errors on {broken or 'the Celery benchmark'}")
            return 1
        return 0
    return 0 if budgets_ok else 1


def baseline_summary(runs) -> dict:
    return {"runs": runs}


def baseline_line(summary) -> str:
    p95 = [r["p95_us"] / 1000 for r in summary["runs"]]
    rps = [r["rps"] for r in summary["runs"]]
    return (
        f"Baseline: {len(p95)} runs, one before the first page and one after every "
        f"{BASELINE_EVERY} pages; p95 {min(p95):.1f}–{max(p95):.1f} ms, {min(rps)}–{max(rps)} "
        "req/s. Each page is divided by the two runs around it."
    )


def render(report) -> str:
    gen = report["generation"]
    celery = report["celery"]
    lines = [
        f"# Benchmark ({report['mode']} mode), {report['date']}",
        "",
        f"Machine: {report['machine']}; {report['postgresql']}; gunicorn 2 sync workers; "
        f"wrk, {report['connections']} connections, {report['duration']} s per page.",
        "",
        f"## {report['requests']:,} requests",
        "",
        markdown_table(report["pages"]),
        "",
        baseline_line(report["baseline"]),
        "",
        "Peak RSS per gunicorn worker: "
        + ", ".join(f"{v} MB" for v in report["rss_mb"].values())
        + f" (budget {BUDGETS['rss_mb']} MB).",
        "",
        f"Data: territories loaded in {report['territories_s']} s, programmes in "
        f"{report['programmes_s']} s; {gen['requests']:,} requests with {gen['logs']:,} "
        f"transitions, {gen['messages']:,} messages, {gen['notifications']:,} notifications "
        f"generated in {gen['seconds']} s ({gen['requests_per_s']:,} requests/s).",
        "",
    ]
    if "error" not in celery:
        lines += [
            f"Celery (one worker, {celery['tasks']} tasks): {celery['delivered_per_s']:.0f} "
            f"notifications delivered/s vs {celery['noop_per_s']:.0f} no-op tasks/s "
            f"(ratio {celery['ratio']}).",
            "",
        ]
    if "scaled" in report:
        at_base = {r["key"]: r for r in report["pages"]}
        growth = ", ".join(
            f"{r['page']}: {r['ratio'] / at_base[r['key']]['ratio']:.2f}"
            for r in report["scaled"]["pages"]
            if r["key"] != "baseline"
        )
        lines += [
            f"## {report['scaled']['requests']:,} requests: the pages delegates use daily",
            "",
            markdown_table(report["scaled"]["pages"]),
            "",
            baseline_line(report["scaled"]["baseline"]),
            "",
            f"Ratio at {report['scaled']['requests']:,} ÷ ratio at {report['requests']:,} "
            f"(1.00: no degradation): {growth}.",
            "",
        ]
    lines.append(f"Budgets: {'all hold' if report['budgets_ok'] else 'MISSED'}; "
                 f"run took {report['seconds']} s.")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
