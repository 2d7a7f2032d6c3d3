"""The request page's lists (history, thread, documents), written in Python.

The same markup as the template loops they replace (``tests/engineering_requests/
test_request_page_markup.py`` renders both): through the engine each entry cost ~0.07 ms (a
filter, a translation or a ``{% url %}`` per line), most of the page once its reads were cut.
Values are escaped as ``{{ }}`` escapes them; our catalogue's literals are not, as
``{% translate %}`` leaves them."""

import functools

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import (
    filesizeformat,
    floatformat,
    linebreaks_filter,
    linebreaksbr,
)
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from anct_portal.reversing import url_around
from engineering_requests.enums import MessageKind

register = template.Library()


def _local(moment):
    """A datetime as the template engine hands it to a filter (``template_localtime``)."""
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _time(moment, datetime_format=None) -> str:
    """``<time datetime="{{ x|date:'c' }}">{{ x|date:"DATETIME_FORMAT" }}</time>``
    (``datetime_format``: the DATETIME_FORMAT of the language, looked up once a list)."""
    local = _local(moment)
    return format_html(
        '<time datetime="{}">{}</time>',
        local.isoformat(),  # the date filter's "c"
        dateformat.format(local, datetime_format or formats.get_format("DATETIME_FORMAT")),
    )


def _person(user):
    """``{{ user.get_full_name|default:user.email }}``"""
    return user.get_full_name() or user.email


def _attachment_url(request_pk):
    """The download URL of an attachment of this request, by id: one ``reverse`` a page."""
    prefix, suffix = url_around("engineering_requests:attachment", "attachment_pk", pk=request_pk)
    return lambda attachment_pk: f"{prefix}{attachment_pk}{suffix}"


@register.simple_tag
def request_timeline(er, timeline):
    """The history: "Brouillon créé", then the ``{"log", "comment"}`` entries."""
    datetime_format = formats.get_format("DATETIME_FORMAT")
    parts = [
        format_html(
            '<li class="portal-timeline__item">\n'
            '          <p class="portal-timeline__date">{}</p>\n'
            '          <p class="portal-timeline__title">{}</p>\n'
            '          <p class="portal-timeline__who">{}</p>\n'
            "        </li>\n        ",
            _time(er.created_at, datetime_format),
            mark_safe(gettext("Brouillon créé")),  # noqa: S308 - our catalogue, as {% translate %}
            _person(er.submitted_by),
        )
    ]
    for entry in timeline:
        log = entry["log"]
        actor = log.actor
        comment = entry["comment"]
        parts.append(
            format_html(
                '\n          <li class="portal-timeline__item">\n'
                '            <p class="portal-timeline__date">{}</p>\n'
                '            <p class="portal-timeline__title">{}</p>\n'
                '            <p class="portal-timeline__who">{}{}</p>\n'
                "            {}\n"
                "          </li>\n        ",
                _time(log.created_at, datetime_format),
                log.get_transition_display(),
                _person(actor),
                format_html(", {}", actor.job_title) if actor.job_title else "",
                format_html('<div class="portal-timeline__comment">{}</div>', linebreaksbr(comment))
                if comment
                else "",
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - each part built by format_html


@register.simple_tag
def request_thread(thread, request_pk, user_pk):
    """The messages' list items."""
    url = _attachment_url(request_pk)
    datetime_format = formats.get_format("DATETIME_FORMAT")
    badge = mark_safe(  # noqa: S308 - our catalogue's literal, as {% translate %}
        '<span class="fr-badge fr-badge--sm fr-badge--green-emeraude fr-badge--no-icon fr-ml-1w">'
        + gettext("Point d'avancement")
        + "</span>"
    )
    parts = []
    for message in thread:
        author = message.author
        progress = message.kind == MessageKind.PROGRESS_NOTE
        css = "portal-thread__item"
        if message.author_id == user_pk:
            css += " portal-thread__item--mine"
        if progress:
            css += " portal-thread__item--progress"
        files = message.page_attachments
        if files:
            items = "".join(
                format_html(
                    '\n                    <li><a class="fr-link fr-icon-attachment-line '
                    'fr-link--icon-left" href="{}">{}</a> <span class="fr-text--xs">({})</span>'
                    "</li>",
                    url(attachment.pk),
                    attachment.original_name,
                    filesizeformat(attachment.size),
                )
                for attachment in files
                if not attachment.is_internal
            )
            files_html = (
                '\n                  <ul class="portal-thread__files">'
                f"{items}\n                  </ul>\n                "
            )
        else:
            files_html = ""
        parts.append(
            format_html(
                '\n              <li class="{}" id="message-{}">\n'
                '                <p class="portal-thread__meta">\n'
                "                  <strong>{}</strong>{}\n"
                "                  · {}\n"
                "                  {}\n"
                "                </p>\n"
                '                <div class="portal-thread__body">{}</div>\n'
                "                {}\n"
                "              </li>\n            ",
                css,
                message.pk,
                _person(author),
                format_html(", {}", author.job_title) if author.job_title else "",
                _time(message.created_at, datetime_format),
                badge if progress else "",
                linebreaks_filter(message.body),
                mark_safe(files_html),  # noqa: S308 - built by format_html above
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - each part built by format_html


@register.simple_tag
def request_documents(attachments, request_pk):
    """The documents' download links."""
    url = _attachment_url(request_pk)
    parts = []
    for attachment in attachments:
        local = _local(attachment.created_at)
        # {% blocktranslate with author=… date=… %}: the values escaped, the literal not.
        detail = gettext("déposé par %(author)s le %(date)s") % {
            "author": conditional_escape(attachment.uploaded_by.get_full_name()),
            "date": conditional_escape(formats.date_format(local, "SHORT_DATE_FORMAT")),
        }
        parts.append(
            format_html(
                '\n          <div class="fr-download fr-mb-1w">\n'
                '            <p><a class="fr-download__link" href="{}">{}\n'
                '              <span class="fr-download__detail">{} – {}</span></a></p>\n'
                "          </div>\n        ",
                url(attachment.pk),
                attachment.original_name,
                filesizeformat(attachment.size),
                mark_safe(detail),  # noqa: S308 - values escaped above
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - each part built by format_html


def _filter_date(value, format_name):
    """``{{ value|date:format_name }}``: datetimes in local time, as the engine hands them."""
    return date_filter(timezone.template_localtime(value), format_name)


@functools.lru_cache(maxsize=8)
def _summary_texts(language) -> dict:
    """The summary's terms in ``language``, translated once per process and language. Our
    catalogue's literals: safe as the template's ``_("…")`` arguments are."""
    # Literal calls, for makemessages.
    texts = {
        "carrier": gettext("Collectivité porteuse"),
        "description": gettext("Description du projet"),
        "need": gettext("Besoin d'ingénierie"),
        "kind": gettext("Type d'ingénierie"),
        "form": gettext("Forme d'intervention"),
        "domains": gettext("Domaines prioritaires"),
        "budget": gettext("Budget estimé"),
        "start": gettext("Démarrage souhaité"),
        "submitted_by": gettext("Déposée par"),
        "created_by": gettext("Créée par"),
        "submitted_at": gettext("Déposée le"),
        "delegate": gettext("Délégué territorial en charge"),
        "none_f": gettext("Non renseignée"),
        "none_m": gettext("Non renseigné"),
        "none_pl": gettext("Non renseignés"),
    }
    return {key: mark_safe(value) for key, value in texts.items()}  # noqa: S308


@register.simple_tag
def request_summary(er, domains):
    """The "La demande" list of terms (``<dl class="portal-summary">``)."""
    text = _summary_texts(get_language())
    intervention = conditional_escape(er.get_intervention_form_display() or text["none_f"])
    if er.programme:
        intervention += format_html(" — {}", er.programme.name)
    if er.contract:
        intervention += format_html(" — {}", er.contract.name)
    budget = (
        format_html("{} €", floatformat(er.estimated_budget, "0g"))
        if er.estimated_budget is not None
        else text["none_m"]
    )
    author = er.submitted_by
    rows = [
        (text["carrier"], format_html("{} — {}", er.collectivity, er.departement)),
        (text["description"], linebreaksbr(er.description or text["none_f"])),
        (text["need"], linebreaksbr(er.need or text["none_m"])),
        (text["kind"], er.get_engineering_kind_display() or text["none_m"]),
        (text["form"], intervention),
        (
            text["domains"],
            mark_safe(", ".join(conditional_escape(name) for name in domains))  # noqa: S308
            or text["none_pl"],
        ),
        (text["budget"], budget),
        (text["start"], _filter_date(er.desired_start, "DATE_FORMAT") or text["none_m"]),
        (
            text["submitted_by"] if er.submitted_at else text["created_by"],
            format_html(
                "{}{}",
                _person(author),
                format_html(", {}", author.job_title) if author.job_title else "",
            ),
        ),
    ]
    lines = [format_html("<dt>{}</dt><dd>{}</dd>", term, value) for term, value in rows]
    submitted = (
        format_html(
            "<dt>{}</dt><dd>{}</dd>",
            text["submitted_at"],
            _filter_date(er.submitted_at, "DATE_FORMAT"),
        )
        if er.submitted_at
        else ""
    )
    delegate = (
        format_html("<dt>{}</dt><dd>{}</dd>", text["delegate"], _person(er.assigned_delegate))
        if er.assigned_delegate
        else ""
    )
    return format_html(
        '<dl class="portal-summary">\n        {}\n        {}\n        {}\n      </dl>',
        mark_safe("\n        ".join(lines)),  # noqa: S308 - built by format_html
        submitted,
        delegate,
    )
