"""A change list that never counts the table (DESIGN §8).

The stock admin counts the filtered queryset (and, unless disabled, the whole table) on every
page. Here a page fetches one row more than it shows: that row tells whether a next page
exists, and the page shows "previous / next" instead of numbered pages. Cost: one query, a
LIMIT on an indexed ordering, whatever the size of the table.
"""

from html import escape as html_escape

from django.conf import settings
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR, IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_list import ResultList
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value, quote
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect

from anct_portal import admin_shell
from engineering_requests.admin.markup import escaped


class NextPagePaginator:
    """What the admin's templates expect of ``cl.paginator``, without a count."""

    def __init__(self, page_num: int, has_next: bool):
        self.page_num = page_num
        self.has_next = has_next

    def get_elided_page_range(self, number=1, **kwargs):
        last = self.page_num + 1 if self.has_next else self.page_num
        return range(max(1, self.page_num - 1), last + 1)


class NextPageChangeList(ChangeList):
    def get_results(self, request):
        per_page = self.list_per_page
        if self.page_num < 1:
            raise IncorrectLookupParameters
        offset = (self.page_num - 1) * per_page
        # Rows the model admin reads itself from the page's ids (``list_page_rows``: plain
        # values, no model instances), where it can and ``fast_results`` renders them (the
        # stock renderer, for a popup or editable rows, needs model instances).
        rows = None
        read_rows = getattr(self.model_admin, "list_page_rows", None)
        if read_rows and not self.is_popup and not self.list_editable:
            rows = read_rows(self.queryset.values("pk")[offset : offset + per_page + 1])
        if rows is None:
            rows = self._page_models(offset, per_page)
        if not rows and self.page_num > 1:
            raise IncorrectLookupParameters
        self.has_next_page = len(rows) > per_page
        self.result_list = rows[:per_page]
        if annotate := getattr(self.model_admin, "annotate_page", None):
            annotate(self.result_list)  # what the annotations could not read
        self.first_index = offset + 1 if self.result_list else 0
        self.last_index = offset + len(self.result_list)
        # ``result_count`` is a lower bound: the admin's own templates only compare it to the
        # page size (to offer "select across all pages"), which stays right.
        self.result_count = self.last_index + (1 if self.has_next_page else 0)
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.can_show_all = False
        self.multi_page = self.has_next_page or self.page_num > 1
        self.paginator = NextPagePaginator(self.page_num, self.has_next_page)
        self.previous_page_url = (
            self.get_query_string({"p": self.page_num - 1}) if self.page_num > 1 else None
        )
        self.export_query = self.get_query_string(remove=["p"])
        self.next_page_url = (
            self.get_query_string({"p": self.page_num + 1}) if self.has_next_page else None
        )

    def _page_models(self, offset, per_page):
        queryset = self.queryset
        # The columns a page shows (``ModelAdmin.list_page_fields``, for ``QuerySet.only``):
        # the long texts of a request are not read for a list.
        if page_fields := getattr(self.model_admin, "list_page_fields", ()):
            queryset = queryset.only(*page_fields)
        # Values of related rows a column shows, read in the same query as annotations
        # (``ModelAdmin.list_page_annotations()``): no related model instance per row.
        if annotations := getattr(self.model_admin, "list_page_annotations", None):
            queryset = queryset.annotate(**annotations())
        if offset:
            # A deep page: skip the first rows on the ordering's index alone (identifiers
            # only, no joins), then load the page's rows. Without this, page 100 joined and
            # read 5,000 full rows to throw 4,950 away.
            ids = self.queryset.values("pk")[offset : offset + per_page + 1]
            return list(queryset.filter(pk__in=ids)[: per_page + 1])
        return list(queryset[: per_page + 1])


# Rows ---------------------------------------------------------------------------------------
# The admin renders a change list cell by cell (``items_for_result``: a field lookup, a
# display function, a ``format_html`` and, for the checkbox, a form widget rendered through
# the template engine, for each of 50 × 9 cells). That was 40 % of a page's time. These
# columns are known in advance (admin methods and plain model fields), so a row is built
# once as one string, with the same markup as the admin's (``markup.escaped`` is
# ``conditional_escape``).

_PK_PLACEHOLDER = "__pk__"
# Bound on the shared cache of page parts (one link per set of preserved filters).
_PAGE_PARTS_MAX = 1000
_MISSING = object()


def page_value(obj, annotation: str, compute):
    """A column's value read by the page's query (``list_page_annotations``), or computed
    from the object when it was loaded otherwise."""
    value = obj.__dict__.get(annotation, _MISSING)
    return compute() if value is _MISSING else value


# The admin's own label for a row's checkbox (``ModelAdmin.action_checkbox``), translated by
# Django's catalogue: a variable, so that it is not extracted into the project's.
ACTION_CHECKBOX_LABEL = "Select this object for an action - {}"
_TEXT_FIELDS = (models.CharField, models.TextField, models.SlugField, models.EmailField)


def _column(cl, field_name):
    """(css class, function rows, memo -> their cells' escaped HTML) for one column, or None
    if the stock renderer must handle it. ``memo``: the page's escaped strings (escaping is
    a function of the text; a page repeats the same codes, names, labels and ages)."""
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    if field_name == "action_checkbox":
        label = _(ACTION_CHECKBOX_LABEL)
        name = helpers.ACTION_CHECKBOX_NAME

        def checkboxes(rows, memo):
            return [
                f'<input type="checkbox" name="{name}" value="{_pk_html(obj.pk)}" '
                f'class="action-select" aria-label="{label.format(_text_html(obj))}">'
                for obj in rows
            ]

        return "action-checkbox", checkboxes
    if not isinstance(field_name, str):
        return None
    method = getattr(model_admin, field_name, None)
    if callable(method):
        boolean = getattr(method, "boolean", False)
        cell_empty = getattr(method, "empty_value_display", empty)
        empty_html = escaped(cell_empty)

        def cells(rows, memo):
            out = []
            for value in map(method, rows):
                kind = value.__class__
                if kind is str and not boolean:
                    # ``display_for_value`` of a string: itself, or the empty display if
                    # blank; each text escaped once a page.
                    if value.strip():
                        html = memo.get(value)
                        if html is None:
                            html = memo[value] = html_escape(value)
                    else:
                        html = empty_html
                elif kind is SafeString and not boolean:
                    html = value if value.strip() else empty_html
                else:
                    if isinstance(value, str) and not value.strip():
                        value = ""
                    html = escaped(display_for_value(value, cell_empty, boolean))
                out.append(html)
            return out

        return f"field-{field_name}", cells
    try:
        field = cl.lookup_opts.get_field(field_name)
    except FieldDoesNotExist:
        return None
    if field.__class__ not in _TEXT_FIELDS or field.choices:
        return None
    attname = field.attname
    empty_html = escaped(empty)

    def field_cells(rows, memo):
        # ``display_for_field`` of a text field: the text, or the empty display if blank.
        out = []
        for obj in rows:
            value = getattr(obj, attname)
            out.append(empty_html if value is None or not str(value).strip() else escaped(value))
        return out

    return f"field-{field_name}", field_cells


def _pk_html(pk, transform=None) -> str:
    """``conditional_escape(transform(pk))``; an integer key is its digits."""
    if pk.__class__ is int:
        return str(pk)
    return escaped(transform(pk) if transform else pk)


def _text_html(obj) -> str:
    """``conditional_escape(obj)`` of an object that is not a string (a row)."""
    return obj.__html__() if hasattr(obj, "__html__") else html_escape(str(obj))


def _change_url_parts(cl) -> tuple[str, str]:
    """The rows' link (the change view's URL with the list's preserved filters), escaped,
    before and after the key; kept per model, site, URLs and filters (``reverse`` costs more
    than the page's fifty links)."""
    site = cl.model_admin.admin_site.name
    key = (
        "change_url",
        cl.opts.label,
        site,
        get_script_prefix(),
        get_urlconf(),
        cl.preserved_filters,
    )
    found = admin_shell.PAGE_PARTS.get(key)
    if found is None:
        url = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(_PK_PLACEHOLDER,),
            current_app=site,
        )
        url = add_preserved_filters(
            {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url
        )
        # Escaped in parts (escaping is per character): the same as the whole link escaped.
        found = tuple(map(escaped, url.split(_PK_PLACEHOLDER, 1)))
        if len(admin_shell.PAGE_PARTS) >= _PAGE_PARTS_MAX:
            admin_shell.PAGE_PARTS.clear()
        admin_shell.PAGE_PARTS[key] = found
    return found


def _braces(text: str) -> str:
    """``text`` as a literal part of a ``str.format`` template."""
    return text.replace("{", "{{").replace("}", "}}")


def fast_results(cl):
    """``cl.result_list`` as the admin's ``results(cl)`` renders it, one string per row; None
    when a column needs the stock renderer (list_editable, foreign keys, dates…).

    Built column by column (one call per column, not per cell), each row then written by one
    ``str.format`` of a template made of the columns' fixed markup."""
    if cl.formset is not None or cl.is_popup:
        return None
    links = cl.list_display_links
    columns = []
    first_link = True
    for field_name in cl.list_display:
        column = _column(cl, field_name)
        if column is None:
            return None
        css, cells = column
        is_link = links is not None and ((first_link and not links) or field_name in (links or ()))
        tag = "td"
        if is_link:
            tag = "th" if first_link else "td"
            first_link = False
        columns.append((css, tag, cells, is_link))
    url_start = url_end = ""
    if any(is_link for *_rest, is_link in columns):
        url_start, url_end = _change_url_parts(cl)
    rows = cl.result_list
    memo: dict[str, str] = {}
    template = []
    values = []
    for css, tag, cells, is_link in columns:
        if is_link:
            template.append(
                f'<{tag} class="{_braces(css)}"><a href="{_braces(url_start)}{{}}'
                f'{_braces(url_end)}">{{}}</a></{tag}>'
            )
            values.append([_pk_html(obj.pk, quote) for obj in rows])
        else:
            template.append(f'<{tag} class="{_braces(css)}">{{}}</{tag}>')
        values.append(cells(rows, memo))
    row_format = "".join(template).format
    return [
        ResultList(None, [SafeString(row_format(*cells))])  # escaped above
        for cells in zip(*values, strict=True)
    ]


# Media ----------------------------------------------------------------------------------------
# A change list's media (the admin's scripts, the action form's, the model admin's own) is
# merged from a dozen lists and rendered through the static files storage on every page: the
# same few lines for a given model admin.


class RenderedMedia:
    """A ``forms.Media`` rendered once: what the admin's templates read of it (``{{ media }}``,
    ``{{ media.css }}``, ``{{ media.js }}``)."""

    def __init__(self, media):
        self.media = media
        self.css = media["css"].render()
        self.js = media["js"].render()
        self.html = media.render()

    def __getitem__(self, name):
        return {"css": self.css, "js": self.js}[name]

    def __str__(self):
        return self.html

    def __html__(self):
        return self.html

    def __add__(self, other):
        return self.media + other


_RENDERED_MEDIA: dict[tuple, RenderedMedia] = {}


def _media_key(model_admin, action_form) -> tuple:
    return (type(model_admin), settings.DEBUG, type(action_form))


def use_rendered_media(model_admin, response) -> None:
    """Replace a change list response's ``media`` by its rendering, made once per model admin
    (``ModelAdmin.media`` depends on its class and DEBUG; the action form's media is fixed)."""
    context = getattr(response, "context_data", None)
    if not context or "media" not in context:
        return
    cl = context.get("cl")
    if cl is None or cl.formset is not None:
        return
    key = _media_key(model_admin, context.get("action_form"))
    rendered = _RENDERED_MEDIA.get(key)
    if rendered is None:
        rendered = _RENDERED_MEDIA[key] = RenderedMedia(context["media"])
    context["media"] = rendered


# The view ---------------------------------------------------------------------------------------
# Django's own texts (``ModelAdmin.changelist_view``), translated by Django's catalogue:
# variables, so that they are not extracted into the project's.
DATABASE_ERROR = "Database error"
SELECTED_NONE = "0 of %(cnt)s selected"
SELECTED_ALL = ("%(total_count)s selected", "All %(total_count)s selected")


def lists_only(model_admin, request) -> bool:
    """Whether ``listing_view`` serves this request: a GET of a list without a popup or
    editable rows (a POST runs an action or saves rows: the stock view)."""
    return (
        request.method == "GET"
        and not model_admin.list_editable
        and IS_POPUP_VAR not in request.GET
        and TO_FIELD_VAR not in request.GET
    )


# (model admin, form class, language, choices) -> the unbound action form: only read (its
# fields rendered by ``backoffice_action_fields``, its media), never bound or changed.
_ACTION_FORMS: dict[tuple, object] = {}
_ACTION_FORMS_MAX = 100


def _action_form(model_admin, choices):
    """``model_admin.action_form(auto_id=None)`` offering ``choices``, built once per set of
    choices and language (a form deep-copies its fields: ~0.05 ms a page)."""
    key = (
        type(model_admin),
        model_admin.action_form,
        get_language(),
        tuple((name, str(label)) for name, label in choices),
    )
    form = _ACTION_FORMS.get(key)
    if form is None:
        form = model_admin.action_form(auto_id=None)
        form.fields["action"].choices = choices
        if len(_ACTION_FORMS) >= _ACTION_FORMS_MAX:
            _ACTION_FORMS.clear()
        _ACTION_FORMS[key] = form
    return form


@csrf_protect
def listing_view(request, model_admin, extra_context=None):
    """``ModelAdmin.changelist_view`` for a request that only lists (``lists_only``): the same
    permission check, invalid-filter redirect, context and templates, without what serves a
    POST (running an action, saving rows) nor the media merged again when it was rendered
    already (``use_rendered_media``)."""
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    try:
        cl = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        # As the stock view: the list without its parameters, flagged; a database error page
        # if the flag is already there.
        if ERROR_FLAG in request.GET:
            return SimpleTemplateResponse("admin/invalid_setup.html", {"title": _(DATABASE_ERROR)})
        return HttpResponseRedirect(request.path + "?" + ERROR_FLAG + "=1")
    cl.formset = None
    actions = model_admin.get_actions(request)
    action_form = None
    if actions:
        action_form = _action_form(model_admin, model_admin.get_action_choices(request))
    media = _RENDERED_MEDIA.get(_media_key(model_admin, action_form))
    if media is None:
        media = model_admin.media
        if action_form is not None:
            media += action_form.media
    selection_note_all = ngettext(*SELECTED_ALL, cl.result_count)
    opts = model_admin.opts
    context = {
        **model_admin.admin_site.each_context(request),
        "module_name": str(opts.verbose_name_plural),
        "selection_note": _(SELECTED_NONE) % {"cnt": len(cl.result_list)},
        "selection_note_all": selection_note_all % {"total_count": cl.result_count},
        "title": cl.title,
        "subtitle": None,
        "is_popup": cl.is_popup,
        "to_field": cl.to_field,
        "cl": cl,
        "media": media,
        "has_add_permission": model_admin.has_add_permission(request),
        "opts": cl.opts,
        "action_form": action_form,
        "actions_on_top": model_admin.actions_on_top,
        "actions_on_bottom": model_admin.actions_on_bottom,
        "actions_selection_counter": model_admin.actions_selection_counter,
        "preserved_filters": model_admin.get_preserved_filters(request),
        **(extra_context or {}),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(
        request,
        model_admin.change_list_template
        or [
            f"admin/{opts.app_label}/{opts.model_name}/change_list.html",
            f"admin/{opts.app_label}/change_list.html",
            "admin/change_list.html",
        ],
        context,
    )
