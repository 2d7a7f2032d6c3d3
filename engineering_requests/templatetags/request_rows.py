"""The officials' request tables ("Mes demandes", "Demandes que je suis"), written in Python:

- ``{% request_rows requests follow_view %}``: the rows (``selectors.TableRow``). The same
  markup through a template loop cost about 0.4 ms a row (a translation, a filter or a tag per
  cell);
- ``{% request_filter_form %}``: the search and state filter (``RequestFilterForm``'s fields,
  the markup of the crispy DSFR pack), 0.25 ms as a template.

What does not depend on the request (labels, state badges, "À faire" cells, the detail URL
around the id, dates already shown) is built once per language and script prefix.
tests/anct_portal/test_shell_rendering.py compares the pages with the templates they replaced.
"""

import functools
import html
import re

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix
from django.utils import dateformat, formats, timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from anct_portal.reversing import url_around
from anct_portal.templatetags.portal_tags import state_badge
from engineering_requests.enums import RequestState as S
from engineering_requests.forms import RequestFilterForm

register = template.Library()

# django.utils.html.escape without its lazy-string wrapper (a third of its cost): for str.
_escape = html.escape

# Constant markup, no data in it.
_EMPTY_CELL = mark_safe(' class="portal-cell--empty"')
_NOTHING_TO_DO = mark_safe('<span class="portal-muted">—</span>')

_per_language: dict = {}


@receiver(setting_changed)
def _forget(**kwargs) -> None:
    _per_language.clear()
    _shown_date.cache_clear()


def _todo(state, follow_view: bool, text: dict):
    """The "À faire" cell: its attributes and its content."""
    if state == S.INFO_REQUESTED:
        if follow_view:
            return "", text["complete"]
        return "", format_html("<strong>{}</strong>", text["answer"])
    if state == S.DRAFT:
        return "", format_html("<strong>{}</strong>", text["finish"])
    if state == S.LOCAL_SUPPORT and follow_view:
        return "", format_html("<strong>{}</strong>", text["progress"])
    return ("" if follow_view else _EMPTY_CELL), _NOTHING_TO_DO


# Format characters that read only the date (not the time, the time zone nor the epoch).
_DATE_ONLY_FORMAT = re.compile(r"(?:\\.|[^a-zA-Z]|[bdDEFjLlmMnNoStwWyYz])*")


@functools.cache
def _date_only(date_format: str) -> bool:
    return bool(_DATE_ONLY_FORMAT.fullmatch(date_format))


@functools.lru_cache(maxsize=8192)
def _shown_date(language: str | None, date_format: str, day) -> str:
    """A day as ``date_format`` shows it in ``language`` (ten years: ~3,650 days)."""
    return escape(dateformat.format(day, date_format))


def _updated(moment, date_format: str) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if _date_only(date_format):
        shown = _shown_date(get_language(), date_format, local.date())
    else:
        shown = escape(dateformat.format(local, date_format))
    # The template's |date:"c" is isoformat().
    return f'<time datetime="{_escape(local.isoformat())}">{shown}</time>'


def _constants() -> dict:
    """The markup of the rows that depends only on the language and the script prefix."""
    key = (get_language(), get_script_prefix())
    constants = _per_language.get(key)
    if constants is not None:
        return constants
    # Translations of literals, trusted as ``{% translate "…" %}`` trusts them (not escaped).
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
    text = {key: mark_safe(value) for key, value in text.items()}  # noqa: S308 (our catalogue)
    # One reverse() for the page: the detail URLs differ only by the id.
    url_start, url_end = url_around("engineering_requests:detail", "pk")
    state_cells = {}
    for follow_view in (False, True):
        for state in S:
            todo_attrs, todo = _todo(state, follow_view, text)
            # From the badge to the "Mise à jour" label: all fixed by the state.
            state_cells[follow_view, state.value] = format_html(
                '<td data-label="{}">{}</td><td data-label="{}"{}>{}</td><td data-label="{}">',
                text["state"],
                state_badge(state, state.label, small=True),
                text["todo"],
                todo_attrs,
                todo,
                text["updated"],
            )
    constants = {
        "text": text,
        "row_start": format_html('<td data-label="{}"><a class="fr-link" href="', text["project"]),
        "url_start": escape(url_start),
        "url_end": escape(url_end),
        "collectivity_cell": format_html('<td data-label="{}">', text["collectivity"]),
        "state_cells": state_cells,
        "date_format": formats.get_format("SHORT_DATE_FORMAT"),
    }
    _per_language[key] = constants
    return constants


@register.simple_tag
def request_rows(requests, follow_view=False):
    constants = _constants()
    text, state_cells = constants["text"], constants["state_cells"]
    follow_view = bool(follow_view)
    rows = []
    for item in requests:
        rows.append(
            "".join(
                (
                    f'<tr data-row-key="{int(item.pk)}">',
                    constants["row_start"],
                    constants["url_start"],
                    str(int(item.pk)),
                    constants["url_end"],
                    '">',
                    _escape(item.title) if item.title else text["untitled"],
                    '</a><br><span class="fr-text--xs fr-mb-0">',
                    _escape(item.reference) if item.reference else text["draft"],
                    "</span></td>",
                    constants["collectivity_cell"],
                    _escape(item.collectivity_name),
                    "</td>",
                    state_cells[follow_view, item.state],
                    _updated(item.last_transition_at, constants["date_format"]),
                    "</td></tr>",
                )
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (every value above escaped)


# The filter form ---------------------------------------------------------------------------


def _filter_form_markup() -> dict:
    key = ("filter_form", get_language())
    markup = _per_language.get(key)
    if markup is not None:
        return markup
    fields = RequestFilterForm.base_fields
    q, statut = fields["q"], fields["statut"]
    # Labels and help texts escaped as {{ field.label }} escapes them.
    markup = {
        "all_states": escape(RequestFilterForm.state_choices()[0][1]),
        "labels": {value: str(label) for value, label in S.choices},
        "start": format_html(
            '<form id="filter-form" role="search" method="get" novalidate>\n'
            '  <div class="fr-grid-row fr-grid-row--gutters">\n'
            '    <div class="fr-col-12 fr-col-md-5">\n'
            '      <div class="fr-input-group" id="id_q-group">\n'
            '        <label class="fr-label" for="id_q">{}\n'
            '          <span class="fr-hint-text" id="id_q_helptext">{}</span></label>\n'
            '        <input type="search" name="q" maxlength="100" class="fr-input" '
            'aria-describedby="id_q_helptext" id="id_q"',
            q.label,
            q.help_text,
        ),
        "middle": format_html(
            '>\n        <div class="fr-messages-group" id="id_q_error" aria-live="polite"></div>\n'
            "      </div>\n"
            "    </div>\n"
            '    <div class="fr-col-12 fr-col-md-4">\n'
            '      <div class="fr-select-group" id="id_statut-group">\n'
            '        <label class="fr-label" for="id_statut">{}\n'
            '          <span class="fr-hint-text" id="id_statut_helptext">{}</span></label>\n'
            '        <select name="statut" class="fr-select" '
            'aria-describedby="id_statut_helptext" id="id_statut">\n          ',
            statut.label,
            statut.help_text,
        ),
        "end": format_html(
            "\n        </select>\n"
            '        <div class="fr-messages-group" id="id_statut_error" '
            'aria-live="polite"></div>\n'
            "      </div>\n"
            "    </div>\n"
            '    <div class="fr-col-12 fr-col-md-3 portal-filter-actions">'
            '<button type="submit" class="fr-btn fr-btn--secondary">{}</button></div>\n'
            "  </div>\n"
            "</form>\n",
            mark_safe(gettext("Filtrer")),  # noqa: S308 (a literal, as {% translate %})
        ),
    }
    _per_language[key] = markup
    return markup


@register.simple_tag(takes_context=True)
def request_filter_form(context):
    """The form ``RequestFilterForm(request.GET or None, state_counts=counts,
    selected_state=state)`` renders: the search as typed, each state with its count."""
    request = context["request"]
    data = request.GET or None  # unbound without a query string: no value shown
    typed = data.get("q") if data else None
    selected = (data.get("statut") if data else None) or ""
    markup = _filter_form_markup()
    choices = RequestFilterForm.state_choices(
        context.get("counts"), context.get("state") or "", labels=markup["labels"]
    )
    options = "".join(
        f'<option value="{_escape(value)}"{" selected" if value == selected else ""}>'
        f"{markup['all_states'] if not value else _escape(label)}</option>"
        for value, label in choices
    )
    value = f' value="{_escape(typed)}"' if typed else ""
    return mark_safe(  # noqa: S308 (escaped above)
        f"{markup['start']}{value}{markup['middle']}{options}{markup['end']}"
    )
