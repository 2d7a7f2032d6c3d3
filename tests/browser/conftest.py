"""Real-browser fixtures: Debian's Chromium driven by Playwright, and axe-core from npm.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``. axe-core is
installed once by ``npm install --prefix var/node`` (a cache folder, not committed).
"""

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import CHROMIUM

AXE_VERSION = "4.14.1"
NODE_DIR = Path(settings.BASE_DIR) / "var" / "node"
AXE_FILE = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_FILE.exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(NODE_DIR),
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE_FILE.read_text()


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread while it lives; the ORM calls of
    # the tests (the delegate acting through the services, the database flush between tests)
    # are still synchronous and safe here. Set for this module only: it must not leak into
    # other tests (``check --deploy`` refuses it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Chromium reports what the Content-Security-Policy blocked (an inline script or style,
    # a handler attribute, another origin) as console errors: there must be none.
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    assert violations == [], f"Content-Security-Policy violations: {violations}"


class Auditor:
    """Runs axe-core on a page and keeps a screenshot of it."""

    def __init__(self, axe_source):
        self.axe_source = axe_source
        self.audited: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name: str) -> list:
        page.wait_for_load_state("load")
        # caret="initial": by default Playwright hides the caret with an injected <style>, which
        # the page's CSP blocks and reports as a violation of ours.
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, caret="initial")
        # evaluate() is not subject to the page's CSP, unlike an injected <script>.
        page.evaluate(self.axe_source)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        blocking = [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [node["target"] for node in violation["nodes"]][:5],
            }
            for violation in result["violations"]
            if violation["impact"] in BLOCKING_IMPACTS
        ]
        self.audited.append(name)
        assert blocking == [], f"axe: serious or critical violations on {name}: {blocking}"
        return result["violations"]


@pytest.fixture
def audit(axe_source):
    return Auditor(axe_source)
