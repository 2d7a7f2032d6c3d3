"""Template tags of the reference templates (shell_reference/): what the views and tags built
before the request tables were written in Python (see test_shell_rendering.py)."""

from django import template
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from anct_portal.templatetags.portal_tags import state_badge
from engineering_requests.enums import RequestState as S
from engineering_requests.forms import RequestFilterForm
from engineering_requests.models import EngineeringRequest

register = template.Library()


@register.simple_tag(takes_context=True)
def old_filter_form(context):
    """The form the list views put in their context."""
    return RequestFilterForm(
        context["request"].GET or None,
        state_counts=context["counts"],
        selected_state=context["state"],
    )


# The rows as engineering_requests/templatetags/request_rows.py wrote them from model
# instances (the ORM's queryset, select_related("collectivity")).

_EMPTY_CELL = mark_safe(' class="portal-cell--empty"')
_NOTHING_TO_DO = mark_safe('<span class="portal-muted">—</span>')
_URL_PLACEHOLDER = 987654321


def _todo(state, follow_view: bool, text: dict):
    if state == S.INFO_REQUESTED:
        if follow_view:
            return "", text["complete"]
        return "", format_html("<strong>{}</strong>", text["answer"])
    if state == S.DRAFT:
        return "", format_html("<strong>{}</strong>", text["finish"])
    if state == S.LOCAL_SUPPORT and follow_view:
        return "", format_html("<strong>{}</strong>", text["progress"])
    return ("" if follow_view else _EMPTY_CELL), _NOTHING_TO_DO


def _updated(moment, date_format: str) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}">{}</time>', local.isoformat(), dateformat.format(local, date_format)
    )


@register.simple_tag
def old_request_rows(rows, follow_view=False):
    by_pk = EngineeringRequest.objects.select_related("collectivity").in_bulk(
        [row.pk for row in rows]
    )
    requests = [by_pk[row.pk] for row in rows]
    text = {
        "project": gettext("Projet"),
        "collectivity": gettext("Collectivité"),
        "state": gettext("Statut"),
        "todo": gettext("À faire"),
        "updated": gettext("Mise à jour"),
        "untitled": gettext("(projet sans intitulé)"),
        "draft": gettext("Brouillon, sans référence"),
        "complete": gettext("La collectivité complète sa demande"),
        "answer": gettext("Répondre au délégué territorial"),
        "finish": gettext("Terminer et déposer"),
        "progress": gettext("Publier un point d'avancement"),
    }
    text = {key: mark_safe(value) for key, value in text.items()}  # noqa: S308
    date_format = formats.get_format("SHORT_DATE_FORMAT")
    url_pattern = reverse("engineering_requests:detail", kwargs={"pk": _URL_PLACEHOLDER})
    rows = []
    for item in requests:
        todo_attrs, todo = _todo(item.state, follow_view, text)
        rows.append(
            (
                item.pk,
                text["project"],
                url_pattern.replace(str(_URL_PLACEHOLDER), str(item.pk)),
                item.title or text["untitled"],
                item.reference or text["draft"],
                text["collectivity"],
                item.collectivity.name,
                text["state"],
                state_badge(item.state, item.get_state_display(), small=True),
                text["todo"],
                todo_attrs,
                todo,
                text["updated"],
                _updated(item.last_transition_at, date_format),
            )
        )
    return format_html_join(
        "\n",
        '<tr data-row-key="{}">'
        '<td data-label="{}"><a class="fr-link" href="{}">{}</a>'
        '<br><span class="fr-text--xs fr-mb-0">{}</span></td>'
        '<td data-label="{}">{}</td>'
        '<td data-label="{}">{}</td>'
        '<td data-label="{}"{}>{}</td>'
        '<td data-label="{}">{}</td>'
        "</tr>",
        rows,
    )
