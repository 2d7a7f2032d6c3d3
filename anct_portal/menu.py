"""The portal's main menu. Apps register their entries here so that the header stays one list."""

from dataclasses import dataclass

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MenuEntry:
    url_name: str
    label: str
    # None: everyone; "authenticated": signed-in users only; "staff": delegates and national
    # staff (is_staff, so that the menu runs no query).
    audience: str | None = None


MAIN_MENU: list[MenuEntry] = [
    MenuEntry("home", _("Accueil")),
    MenuEntry("engineering_requests:list", _("Mes demandes"), audience="authenticated"),
    MenuEntry("programmes:programme_list", _("Programmes et contrats")),
    MenuEntry("programmes:domain_list", _("Domaines prioritaires")),
    MenuEntry("programmes:territory_search", _("Ma commune")),
    MenuEntry("dashboard:public", _("Statistiques")),
    MenuEntry("dashboard:kpi", _("Tableau de bord"), audience="staff"),
]


# The entries' URLs per (script prefix, URL conf): seven reverse() on every page cost 0.05 ms.
_urls: dict = {}


@receiver(setting_changed)
def _forget_urls(**kwargs) -> None:
    _urls.clear()


def _entry_urls() -> list[tuple[MenuEntry, str]]:
    key = (get_script_prefix(), get_urlconf())
    urls = _urls.get(key)
    if urls is None:
        urls = []
        for entry in MAIN_MENU:
            try:
                urls.append((entry, reverse(entry.url_name)))
            except NoReverseMatch:
                continue
        _urls[key] = urls
    return urls


def menu_for(request) -> list[dict]:
    items = []
    authenticated = getattr(getattr(request, "user", None), "is_authenticated", False)
    staff = authenticated and getattr(request.user, "is_staff", False)
    for entry, url in _entry_urls():
        if entry.audience == "authenticated" and not authenticated:
            continue
        if entry.audience == "staff" and not staff:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": entry.label, "active": active})
    return items
