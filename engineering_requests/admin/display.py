"""Small renderings shared by the admin pages: state badges, ages, excerpts. None queries."""

import unicodedata

from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from engineering_requests.admin.markup import format_html, format_html_join
from engineering_requests.enums import RequestState

# (state, language) -> badge: fifty a list page, a dozen different ones.
_BADGES: dict[tuple[str, str | None], str] = {}


def state_badge(state: str, language: str | None = None) -> str:
    key = (state, language or get_language())
    badge = _BADGES.get(key)
    if badge is None:
        try:
            label = RequestState(state).label
        except ValueError:
            label = state
        # The colour comes from the CSS class (engineering_requests/admin.css), not a query.
        badge = format_html('<span class="request-state request-state--{}">{}</span>', state, label)
        if len(_BADGES) < 1000:  # the states of the enum, times the languages
            _BADGES[key] = badge
    return badge


def days_since(moment, now=None) -> int | None:
    if moment is None:
        return None
    return max(0, ((now or timezone.now()) - moment).days)


# (days, language) -> label: fifty a list page, most of them repeated.
_AGES: dict[tuple[int, str | None], str] = {}


def age_label(moment, *, now=None, language=None) -> str:
    """``now`` and ``language``: the page's, when it labels many rows."""
    days = days_since(moment, now)
    if days is None:
        return "–"
    key = (days, language or get_language())
    label = _AGES.get(key)
    if label is None:
        label = ngettext("%(days)d jour", "%(days)d jours", days) % {"days": days}
        if len(_AGES) < 20_000:  # ten years of days, in a few languages
            _AGES[key] = label
    return label


def excerpt(text: str, length: int = 160) -> str:
    text = " ".join((text or "").split())
    if length > 0 and len(text) <= length:
        # What ``Truncator.chars`` returns when it cuts nothing (it cannot, with at most
        # ``length`` characters), without its per-character loop.
        return unicodedata.normalize("NFC", text)
    return Truncator(text).chars(length)


def escalation_grounds(engineering_request) -> list[str]:
    grounds = []
    if engineering_request.claims_fragility_and_lack_of_resources:
        grounds.append(_("Fragilité et ressources locales insuffisantes"))
    elif engineering_request.fragility_rationale.strip():
        grounds.append(_("Fragilité"))
    elif engineering_request.insufficient_resources_rationale.strip():
        grounds.append(_("Ressources locales insuffisantes"))
    if engineering_request.claims_innovative_or_complex:
        grounds.append(_("Projet innovant ou complexe"))
    return grounds


def escalation_flags(engineering_request) -> list[str]:
    flags = []
    if engineering_request.rare_expertise:
        flags.append(_("Expertise rare"))
    if engineering_request.national_scope:
        flags.append(_("Envergure nationale"))
    return flags


def tag_list(values, css_class: str = "request-tag") -> str:
    if not values:
        return "–"
    return format_html_join(" ", '<span class="{}">{}</span>', ((css_class, v) for v in values))
