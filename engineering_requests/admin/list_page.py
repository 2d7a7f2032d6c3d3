"""The back office's change-list page written out in Python (issue 10, speed).

The page was ``admin/change_list.html`` and its project overrides (``change_list.html``,
``search_form.html``, ``actions.html``, ``change_list_results.html``, ``pagination.html``)
inside the admin's shell: ~300 template nodes, half the page's CPU once its rows and filters
were already strings. ``ChangeListPage`` stands in for the template (Django's template
backends' ``render(context, request)``) and writes the same markup from the same context;
anything these pages never show (a popup, list_editable, a date hierarchy, an "add" button,
the navigation sidebar) keeps the stock templates. ``tests/engineering_requests/admin/
test_list_page.py`` compares the two renderings.
"""

from django.contrib.admin.templatetags.admin_list import pagination, search_form
from django.template.backends.utils import csrf_input
from django.template.defaultfilters import capfirst
from django.template.loader import get_template, select_template
from django.template.response import TemplateResponse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from anct_portal import admin_shell
from anct_portal.admin_shell import static_url, url
from engineering_requests.admin.changelist import fast_results
from engineering_requests.templatetags.backoffice_list import (
    backoffice_action_fields,
    backoffice_filters,
    backoffice_result_list,
    result_headers_context,
    rows_html,
)

esc = conditional_escape
RUN_ACTION = "Lancer l'action choisie"


class ChangeListPage:
    """A template-like object for ``TemplateResponse``: the stock templates' page, written
    out. ``template_name``: the templates it replaces; ``object_tools``: the HTML of the
    ``object-tools-items`` block (from the response's context), if the model admin's
    template overrides it."""

    def __init__(self, template_name, object_tools=None):
        self.template_name = template_name
        self.object_tools = object_tools

    def render(self, context=None, request=None):
        return SafeString(change_list_html(context, request, self.object_tools))

    def stock_template(self):
        """The templates' own rendering of the page (for tests)."""
        names = self.template_name
        return get_template(names) if isinstance(names, str) else select_template(names)


def written_out(response, object_tools=None) -> None:
    """Let ``response`` (a change list's, not rendered yet) render through ``ChangeListPage``
    when the page is one it writes like the templates."""
    if not isinstance(response, TemplateResponse) or response.is_rendered:
        return
    context = response.context_data or {}
    cl = context.get("cl")
    if (
        cl is None
        or cl.formset is not None
        or context.get("is_popup")
        or context.get("is_nav_sidebar_enabled")
        or context.get("has_add_permission")
        or cl.date_hierarchy
        or not cl.has_filters
    ):
        return
    response.template_name = ChangeListPage(response.template_name, object_tools)


def _texts() -> dict[str, str]:
    """The page's own texts in the current language, translated once per process (each
    ``gettext`` is a thread-local lookup; a page asked for a dozen)."""
    key = ("change_list_texts", get_language())
    found = admin_shell.PAGE_PARTS.get(key)
    if found is None:
        found = admin_shell.PAGE_PARTS[key] = {
            "search": gettext("Rechercher"),
            "clear_search": gettext("Effacer la recherche et les filtres"),
            "run_action": gettext(RUN_ACTION),
            "send": gettext("Envoyer"),
            "all_selected": gettext(
                "Toutes les demandes correspondant aux filtres sont sélectionnées"
            ),
            "select_across_title": gettext("Sélectionner aussi les pages suivantes"),
            "select_across": gettext(
                "Sélectionner toutes les demandes correspondant aux filtres ?"
            ),
            "clear_selection": gettext("Effacer la sélection"),
            "previous": gettext("Page précédente"),
            "lines": gettext("Lignes %(first)s à %(last)s"),
            "none": gettext("Aucune demande ne correspond."),
            "next": gettext("Page suivante"),
        }
    return found


def _search_html(cl, texts) -> str:
    """The project's ``search_form.html``."""
    if not cl.search_fields:
        return ""
    search_var = search_form(cl)["search_var"]
    label = texts["search"]
    described = ' aria-describedby="searchbar_helptext"' if cl.search_help_text else ""
    out = [
        '<div id="toolbar"><form id="changelist-search" method="get" role="search">\n'
        "<div><!-- DIV needed for valid HTML -->\n"
        f'<label for="searchbar"><img src="{static_url("admin/img/search.svg")}" '
        f'alt="{label}"></label>\n'
        f'<input type="text" size="40" name="{esc(search_var)}" value="{esc(cl.query)}" '
        f'id="searchbar"{described}>\n'
        f'<input type="submit" value="{label}">\n'
    ]
    if cl.query:
        out.append(f'<span class="small quiet"><a href="?">{texts["clear_search"]}</a></span>\n')
    for name, value in cl.params.items():
        if name != search_var:
            out.append(f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">\n')
    out.append("</div>\n")
    if cl.search_help_text:
        out.append(
            '<br class="clear">\n'
            f'<div class="help" id="searchbar_helptext">{esc(cl.search_help_text)}</div>\n'
        )
    out.append("</form></div>\n")
    return "".join(out)


def _actions_html(context, index: int, texts) -> str:
    """The project's ``actions.html`` (``{% admin_actions %}``; ``index``: its
    ``action_index``)."""
    cl = context["cl"]
    out = [
        '<div class="actions">\n',
        backoffice_action_fields(context["action_form"]),
        '\n<button type="submit" class="button" '
        f'title="{texts["run_action"]}" name="index" value="{index}">'
        f"{texts['send']}</button>\n",
    ]
    if context.get("actions_selection_counter"):
        out.append(
            f'<span class="action-counter" data-actions-icnt="{len(cl.result_list)}">'
            f"{esc(context.get('selection_note', ''))}</span>\n"
        )
        if cl.multi_page:
            out.append(
                '<span class="all hidden">'
                f"{texts['all_selected']}"
                "</span>\n"
                '<span class="question hidden">\n'
                '<a role="button" href="#" '
                f'title="{texts["select_across_title"]}">'
                f"{texts['select_across']}"
                "</a>\n</span>\n"
                '<span class="clear hidden"><a role="button" href="#">'
                f"{texts['clear_selection']}</a></span>\n"
            )
    out.append("</div>\n")
    return "".join(out)


# The results' headers (``<thead>``) by what they are made of (see ``_headers_key``): the
# same few on most pages (a label, three sorting links and a dozen query strings a column).
_HEADERS_HTML: dict[tuple, str] = {}
_HEADERS_HTML_MAX = 200


def _headers_key(cl) -> tuple:
    """The model admin, the language, the columns and the list's parameters (its sorting
    among them)."""
    return (
        type(cl.model_admin),
        get_language(),
        tuple(map(str, cl.list_display)),
        tuple(cl.list_display_links or ()),
        tuple(cl.sortable_by) if cl.sortable_by is not None else None,
        tuple(cl.get_ordering_field_columns().items()),
        tuple(sorted((name, tuple(values)) for name, values in cl.filter_params.items())),
    )


def _headers_html(context) -> str:
    """The headers' row of the project's ``change_list_results.html``."""
    labels = context["labels"]
    several = context["num_sorted_fields"] > 1
    out = []
    for header in context["result_headers"]:
        out.append(f'<th scope="col"{esc(header["class_attrib"])}>\n')
        text = esc(capfirst(header["text"]))
        if header["sortable"]:
            if header["sort_priority"] > 0:
                out.append(
                    '<div class="sortoptions">\n'
                    f'<a class="sortremove" href="{esc(header["url_remove"])}" '
                    f'title="{esc(labels["remove_sorting"])}"></a>\n'
                )
                if several:
                    out.append(
                        '<span class="sortpriority" '
                        f'title="{esc(header["sort_priority_title"])}">'
                        f"{esc(header['sort_priority'])}</span>\n"
                    )
                direction = "ascending" if header["ascending"] else "descending"
                out.append(
                    f'<a href="{esc(header["url_toggle"])}" class="toggle {direction}" '
                    f'title="{esc(labels["toggle_sorting"])}"></a>\n</div>\n'
                )
            out.append(
                f'<div class="text"><a href="{esc(header["url_primary"])}">{text}</a></div>\n'
            )
        else:
            out.append(f'<div class="text"><span>{text}</span></div>\n')
        out.append('<div class="clear"></div>\n</th>')
    return "".join(out)


def _results_html(cl) -> str:
    """``{% backoffice_result_list cl %}``: the project's ``change_list_results.html``."""
    results = fast_results(cl)
    if results is None:  # rows the stock renderer builds: its template
        return get_template("admin/engineering_requests/change_list_results.html").render(
            backoffice_result_list(cl)
        )
    if not results:
        return ""
    key = _headers_key(cl)
    headers = _HEADERS_HTML.get(key)
    if headers is None:
        headers = _headers_html(result_headers_context(cl))
        if len(_HEADERS_HTML) >= _HEADERS_HTML_MAX:
            _HEADERS_HTML.clear()
        _HEADERS_HTML[key] = headers
    return (
        '<div class="results">\n<table id="result_list">\n<thead>\n<tr>\n'
        f"{headers}</tr>\n</thead>\n<tbody>\n{rows_html(results)}\n</tbody>\n</table>\n</div>\n"
    )


def _pagination_html(cl, texts) -> str:
    """``{% pagination cl %}``: the project's ``pagination.html``."""
    pagination(cl)  # what the tag computes (nothing of it is shown by the template)
    out = ['<p class="paginator next-page-paginator">\n']
    if cl.previous_page_url:
        out.append(f'<a href="{esc(cl.previous_page_url)}" rel="prev">← {texts["previous"]}</a>')
    out.append("\n")
    if cl.result_list:
        text = texts["lines"] % {
            "first": cl.first_index,
            "last": cl.last_index,
        }
        out.append(f"\n  {text}\n")
    else:
        out.append(f"\n  {texts['none']}\n")
    out.append("\n")
    if cl.next_page_url:
        out.append(f'<a href="{esc(cl.next_page_url)}" rel="next">{texts["next"]} →</a>')
    out.append("\n</p>\n")
    return "".join(out)


def _fixed(request, app_label) -> dict[str, str]:
    """The change lists' parts that depend only on the application, language, prefix and
    site."""
    key = ("change_list", app_label, *admin_shell.cache_key(request))
    found = admin_shell.PAGE_PARTS.get(key)
    if found is None:
        current_app = getattr(request, "current_app", None)
        found = admin_shell.PAGE_PARTS[key] = {
            "app_list_url": url("admin:app_list", current_app, app_label=app_label),
            "changelists_css": (
                f'<link rel="stylesheet" href="{static_url("admin/css/changelists.css")}">\n'
            ),
            "jsi18n": f'<script src="{url("admin:jsi18n", current_app)}"></script>\n',
            "filters_js": (f'<script src="{static_url("admin/js/filters.js")}" defer></script>\n'),
        }
    return found


def change_list_html(context, request, object_tools=None) -> str:
    """``admin/change_list.html`` as the project's templates extend it."""
    cl = context["cl"]
    opts = cl.opts
    fixed = _fixed(request, opts.app_label)
    texts = _texts()
    media = context.get("media")
    action_form = context.get("action_form")
    on_top = context.get("actions_on_top")
    on_bottom = context.get("actions_on_bottom")
    extrastyle = [fixed["changelists_css"]]
    if action_form:
        extrastyle.append(fixed["jsi18n"])
    extrastyle.append(f"{esc(media['css'])}\n" if media else "\n")
    if not on_top and not on_bottom:
        extrastyle.append(
            "<style>\n#changelist table thead th:first-child {width: inherit}\n</style>\n"
        )
    extrahead = f"{esc(media['js']) if media else ''}\n{fixed['filters_js']}"
    model_name = esc(context["opts"].model_name)
    shell = admin_shell.parts(request)
    breadcrumbs = (
        '<div class="breadcrumbs">\n'
        f'<a href="{shell["index_url"]}">{shell["home"]}</a>\n'
        f'&rsaquo; <a href="{fixed["app_list_url"]}">'
        f"{esc(opts.app_config.verbose_name)}</a>\n"
        f"&rsaquo; {esc(capfirst(opts.verbose_name_plural))}\n</div>"
    )
    csrf = csrf_input(request)
    show_actions = action_form and cl.show_admin_actions
    content = [
        '<div id="content-main">\n<ul class="object-tools">\n',
        object_tools(context, request) if object_tools else "",
        "\n</ul>\n",
        f'<div class="module{" filtered" if cl.has_filters else ""}" id="changelist">\n'
        '<div class="changelist-form-container">\n',
        _search_html(cl, texts),
        f'\n<form id="changelist-form" method="post" novalidate>{csrf}\n',
        _actions_html(context, 0, texts) if show_actions and on_top else "",
        _results_html(cl),
        _actions_html(context, 1 if on_top else 0, texts) if show_actions and on_bottom else "",
        _pagination_html(cl, texts),
        "</form>\n</div>\n",
        backoffice_filters(cl),
        "</div>\n</div>\n",
    ]
    return admin_shell.page(
        request,
        context,
        extrastyle="".join(extrastyle),
        extrahead=extrahead,
        bodyclass=f" app-{esc(context['opts'].app_label)} model-{model_name} change-list",
        breadcrumbs=breadcrumbs,
        coltype="",
        content="".join(content),
        csrf=csrf,
    )
