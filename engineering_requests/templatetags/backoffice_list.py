"""The change lists' rows and filters, rendered in Python with the admin's markup.

``{% backoffice_result_list cl %}`` is the admin's ``{% result_list cl %}`` with rows built by
``changelist.fast_results``; ``{% backoffice_filters cl %}`` is the filters' panel of the
admin's ``change_list.html``, each filter rendered as ``{% admin_list_filter cl spec %}`` would
(``admin/filter.html`` and ``filter_select.html``) without a template loop over its choices (a
hundred choices a page). Same markup, a fraction of the time.
"""

from django import template
from django.contrib.admin.templatetags import admin_list
from django.utils.encoding import iri_to_uri
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext

from engineering_requests.admin.changelist import fast_results
from engineering_requests.admin.filters import ChoiceFilter
from engineering_requests.admin.markup import format_html, format_html_join

register = template.Library()

# Django's own texts (``admin/change_list.html``, ``change_list_results.html``, ``filter.html``),
# translated by Django's catalogue: variables, so that they are not extracted into the project's.
BY_FILTER = " By %(filter_title)s "
FILTER = "Filter"
CLEAR_ALL_FILTERS = "Clear all filters"
SHOW_COUNTS = "Show counts"
HIDE_COUNTS = "Hide counts"
REMOVE_FROM_SORTING = "Remove from sorting"
TOGGLE_SORTING = "Toggle sorting"
SORTING_PRIORITY = "Sorting priority: %(priority_number)s"
STOCK_FILTER_TEMPLATE = "admin/filter.html"
SELECT_FILTER_TEMPLATE = "admin/engineering_requests/filter_select.html"
_SELECTED_ITEM = mark_safe(' class="selected"')
_SELECTED_OPTION = mark_safe(" selected")


def result_headers_context(cl) -> dict:
    """The headers' part of ``change_list_results.html``'s context."""
    headers = list(admin_list.result_headers(cl))
    for header in headers:
        if header.get("sort_priority"):
            header["sort_priority_title"] = gettext(SORTING_PRIORITY) % {
                "priority_number": header["sort_priority"]
            }
    return {
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "labels": {
            "remove_sorting": gettext(REMOVE_FROM_SORTING),
            "toggle_sorting": gettext(TOGGLE_SORTING),
        },
    }


@register.inclusion_tag("admin/engineering_requests/change_list_results.html")
def backoffice_result_list(cl):
    results = fast_results(cl)
    if results is None:
        context = admin_list.result_list(cl)
        headers = result_headers_context(cl)
        context["result_headers"] = headers["result_headers"]
        context["labels"] = headers["labels"]
        return context
    return {
        "cl": cl,
        "result_hidden_fields": [],
        **result_headers_context(cl),
        "results": results,
        # One string for the page's rows (a template loop cost 15 µs a row).
        "rows": rows_html(results),
    }


def rows_html(results) -> str:
    return mark_safe(  # noqa: S308 (each row is escaped HTML, see fast_results)
        "".join(f"\n<tr>{row[0]}</tr>\n" for row in results)
    )


def _by_title(title) -> str:
    # The translated sentence is the template's text; only the title is a value.
    sentence = gettext(BY_FILTER).replace("{", "{{").replace("}", "}}")
    return format_html(sentence.replace("%(filter_title)s", "{}"), title)


@register.simple_tag
def backoffice_list_filter(cl, spec):
    """``admin_list_filter``, built in Python for the project's choice filters."""
    if not isinstance(spec, ChoiceFilter) or spec.template not in (
        STOCK_FILTER_TEMPLATE,
        SELECT_FILTER_TEMPLATE,
    ):
        return admin_list.admin_list_filter(cl, spec)
    title = spec.title
    choices = [
        (choice["selected"], iri_to_uri(choice["query_string"]), choice["display"])
        for choice in spec.choices(cl)
    ]
    if spec.template == STOCK_FILTER_TEMPLATE:
        items = format_html_join(
            "",
            '    <li{}>\n    <a href="{}">{}</a></li>\n',
            ((_SELECTED_ITEM if selected else "", url, text) for selected, url, text in choices),
        )
        return format_html(
            '<details data-filter-title="{}" open>\n  <summary>\n    {}\n  </summary>\n'
            "  <ul>\n{}  </ul>\n</details>\n",
            title,
            _by_title(title),
            items,
        )
    options = format_html_join(
        "",
        '      <option value="{}"{}>{}</option>\n',
        ((url, _SELECTED_OPTION if selected else "", text) for selected, url, text in choices),
    )
    name = spec.parameter_name
    return format_html(
        '<details data-filter-title="{}" open>\n  <summary>{}</summary>\n  <ul><li>\n'
        '    <label class="visually-hidden" for="filter-{}">{}</label>\n'
        '    <select id="filter-{}" class="backoffice-filter-select" data-navigate-on-change>\n'
        "{}    </select>\n  </li></ul>\n</details>\n",
        title,
        _by_title(title),
        name,
        capfirst(title),
        name,
        options,
    )


# The filters' panel, by everything it is made of (see ``_filters_key``): the same few
# panels on most pages (a hundred choices each, ~0.4 ms to write). A bounded dict.
_FILTERS_HTML: dict[tuple, str] = {}
_FILTERS_HTML_MAX = 200


def _filters_key(cl) -> tuple | None:
    """What the panel of the project's choice filters depends on: the language, the list's
    parameters, and each filter's class (its title), value and choices (read on this
    request: a renamed programme or another user's départements make another key; choices
    fixed by the class, by their number). None if another kind of filter is shown."""
    specs = []
    for spec in cl.filter_specs:
        if not isinstance(spec, ChoiceFilter) or spec.template not in (
            STOCK_FILTER_TEMPLATE,
            SELECT_FILTER_TEMPLATE,
        ):
            return None
        if spec.fixed_choices:  # the class's own choices, the same in a given language
            choices = len(spec.lookup_choices)
        else:
            choices = tuple((str(value), str(label)) for value, label in spec.lookup_choices)
        specs.append((type(spec), spec.parameter_name, spec.value(), choices))
    return (
        get_language(),
        tuple(sorted((name, tuple(values)) for name, values in cl.filter_params.items())),
        cl.has_active_filters,
        cl.clear_all_filters_qs,
        cl.is_facets_optional,
        cl.add_facets,
        tuple(specs),
    )


@register.simple_tag
def backoffice_filters(cl):
    """The ``filters`` block of the admin's ``change_list.html`` (kept by its inputs)."""
    if not cl.has_filters:
        return ""
    key = _filters_key(cl)
    html = _FILTERS_HTML.get(key) if key is not None else None
    if html is None:
        html = _filters_html(cl)
        if key is not None:
            if len(_FILTERS_HTML) >= _FILTERS_HTML_MAX:
                _FILTERS_HTML.clear()
            _FILTERS_HTML[key] = html
    return html


def _filters_html(cl):
    extra = ""
    if cl.is_facets_optional or cl.has_active_filters:
        facets = ""
        if cl.is_facets_optional:
            if cl.add_facets:
                link = format_html(
                    '<a href="{}" class="hidelink">{}</a>',
                    cl.remove_facet_link,
                    gettext(HIDE_COUNTS),
                )
            else:
                link = format_html(
                    '<a href="{}" class="viewlink">{}</a>', cl.add_facet_link, gettext(SHOW_COUNTS)
                )
            facets = format_html("<h3>\n        {}\n      </h3>", link)
        clear = ""
        if cl.has_active_filters:
            clear = format_html(
                '<h3>\n        <a href="{}">&#10006; {}</a>\n      </h3>',
                cl.clear_all_filters_qs,
                gettext(CLEAR_ALL_FILTERS),
            )
        extra = format_html(
            '<div id="changelist-filter-extra-actions">\n      {}\n      {}\n    </div>',
            facets,
            clear,
        )
    return format_html(
        '<nav id="changelist-filter" aria-labelledby="changelist-filter-header">\n'
        '    <h2 id="changelist-filter-header">{}</h2>\n    {}\n{}  </nav>\n',
        gettext(FILTER),
        extra,
        format_html_join(
            "", "{}", ((backoffice_list_filter(cl, spec),) for spec in cl.filter_specs)
        ),
    )


# (form class, language, fields and choices) -> the action form's fields, rendered: the same
# few strings on every page, each rendered through a dozen widget templates.
_ACTION_FIELDS: dict[tuple, str] = {}


@register.simple_tag
def backoffice_action_fields(action_form):
    """The fields of the admin's ``actions.html`` (``{% for field in action_form %}…``),
    rendered once per set of choices and language while the form is unbound."""

    def render():
        return format_html_join(
            "",
            "{}",
            (
                (format_html("<label>{} {}</label>", field.label, field) if field.label else field,)
                for field in action_form
            ),
        )

    if action_form.is_bound:
        return render()
    key = (
        type(action_form),
        get_language(),
        tuple(
            (name, tuple((str(v), str(label)) for v, label in getattr(field, "choices", ())))
            for name, field in action_form.fields.items()
        ),
        tuple(sorted((k, str(v)) for k, v in action_form.initial.items())),
    )
    html = _ACTION_FIELDS.get(key)
    if html is None:
        html = render()
        if len(_ACTION_FIELDS) < 100:
            _ACTION_FIELDS[key] = html
    return html
