from django import template
from django.utils.html import format_html

from engineering_requests.enums import RequestState as S

register = template.Library()

# DSFR badge per state: warning for what waits for the official, success for a found answer.
STATE_BADGES = {
    S.DRAFT: "fr-badge--beige-gris-galet",
    S.SUBMITTED: "fr-badge--info",
    S.IN_REVIEW: "fr-badge--blue-ecume",
    S.INFO_REQUESTED: "fr-badge--warning",
    S.LOCAL_SUPPORT: "fr-badge--success",
    S.ESCALATED: "fr-badge--purple-glycine",
    S.NATIONAL_SUPPORT: "fr-badge--success",
    S.DECLINED: "fr-badge--error",
    S.WITHDRAWN: "fr-badge--beige-gris-galet",
    S.COMPLETED: "fr-badge--green-menthe",
}


@register.simple_tag
def state_badge(state, label=None, small=False):
    css = STATE_BADGES.get(state, "")
    if css and not any(css.endswith(kind) for kind in ("info", "warning", "success", "error")):
        css += " fr-badge--no-icon"
    if small:
        css += " fr-badge--sm"
    return format_html('<p class="fr-badge {}">{}</p>', css, label or S(state).label)


@register.simple_tag(takes_context=True)
def query_replace(context, **changes):
    """The current query string with some parameters replaced (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"
