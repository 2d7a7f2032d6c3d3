"""English is complete: every catalogue entry is translated, the catalogue covers the sources,
and the portal's pages show no French interface text when the browser asks for English."""

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from engineering_requests.enums import RequestState
from tests.conftest import IN_CI
from tests.engineering_requests.factories import Cast

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%")


def entries():
    return [entry for entry in polib.pofile(str(CATALOGUE)) if not entry.obsolete]


def test_every_entry_of_the_english_catalogue_is_translated():
    untranslated = [
        entry.msgid
        for entry in entries()
        if "fuzzy" in entry.flags
        or (entry.msgid_plural and not all(entry.msgstr_plural.values()))
        or (not entry.msgid_plural and not entry.msgstr.strip())
    ]
    assert untranslated == []


def test_translations_keep_their_placeholders():
    broken = []
    for entry in entries():
        if entry.msgid_plural:
            pairs = [
                (entry.msgid, entry.msgstr_plural[0]),
                (entry.msgid_plural, entry.msgstr_plural[1]),
            ]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, text in pairs:
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                broken.append(source)
    assert broken == []


@pytest.mark.skipif(
    shutil.which("xgettext") is None and not IN_CI, reason="needs GNU gettext (xgettext)"
)
def test_the_catalogue_covers_every_string_of_the_sources(tmp_path):
    """Fails when code or templates gained a string the catalogue lacks: run
    ``make translations`` and translate the new entries."""
    base = Path(settings.BASE_DIR)
    skip = {".venv", "var", "tests", "node_modules", "locale", ".git", "docs", "scripts"}
    for item in base.iterdir():
        if item.name in skip or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(
                item, tmp_path / item.name, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif item.suffix == ".py":
            shutil.copy(item, tmp_path / item.name)
    (tmp_path / "locale").mkdir()
    env = {**os.environ, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "anct_portal.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "-i", "tests/*"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    known = {entry.msgid for entry in entries()}
    assert sorted({entry.msgid for entry in fresh} - known) == []


# Pages in English ----------------------------------------------------------------------------


def french_left_over(page: str, data=("Agence technique départementale",)) -> list[str]:
    """Interface strings of the catalogue still shown in French on an English page (``data``:
    what users typed, which stays as typed)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    text = re.sub(r"\s+", " ", text)
    for typed in data:
        text = text.replace(typed, "")
    return [
        entry.msgid
        for entry in entries()
        if not entry.msgid_plural
        and len(entry.msgid) > 12
        and entry.msgstr != entry.msgid
        and "%(" not in entry.msgid
        and entry.msgid in text
    ]


@pytest.fixture
def cast(db):
    return Cast.create()


def test_key_pages_render_in_english(client, cast):
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    pages = {reverse("home"): "Ask for engineering support", reverse("accounts:login"): "Sign in"}
    pages[reverse("accounts:password_reset")] = "Forgotten password"
    for url, expected in pages.items():
        page = client.get(url, **english).content.decode()
        assert 'lang="en"' in page and expected in page
        assert french_left_over(page) == [], url

    waiting = cast.request_in(RequestState.INFO_REQUESTED)
    followed = cast.request_in(RequestState.LOCAL_SUPPORT)
    draft = cast.draft()
    client.force_login(cast.official)
    official_pages = {
        reverse("engineering_requests:list"): "My requests",
        reverse("engineering_requests:create"): "New engineering support request",
        waiting.get_absolute_url(): "The territorial delegate asks you for more information",
        followed.get_absolute_url(): "Your single point of contact",
        reverse("engineering_requests:edit", kwargs={"pk": draft.pk}): "Edit the draft",
        reverse("engineering_requests:withdraw", kwargs={"pk": waiting.pk}): "Withdrawal is final",
        reverse("accounts:account"): "My local authorities",
        reverse("accounts:password_change"): "Change password",
    }
    for url, expected in official_pages.items():
        page = client.get(url, **english).content.decode()
        assert expected in page, url
        assert french_left_over(page) == [], url
    # A failed form in English: messages from the forms and the services are English too.
    page = client.post(
        reverse("engineering_requests:create"),
        {"collectivity": cast.collectivity.pk, "estimated_budget": "beaucoup", "action": "save"},
        **english,
    ).content.decode()
    assert "Give an amount in euros" in page and "The form contains" in page
    client.force_login(cast.contact)
    page = client.get(reverse("engineering_requests:followed"), **english).content.decode()
    assert "Requests I follow" in page and french_left_over(page) == []
