"""The read-only parts of a request's admin page, rendered once in Python (issue 10, speed).

Everything on the page is read-only (``RoleBasedAdminMixin``: no change permission), so the
admin's model form, its inline formsets and the templates that render them field by field
(``includes/fieldset.html``, ``edit_inline/tabular.html``) only produced markup around values.
This module produces the same markup from the same values: labels and help texts from
``label_for_field`` / ``help_text_for_field``, values as ``AdminReadonlyField.contents``
displays them (``lookup_field``, ``display_for_field``, links to related objects' admin
pages), every value escaped. What only served editing is left out: the inline formsets'
management forms, their hidden id inputs and the ``data-inline-formset`` of ``inlines.js``.
``tests/engineering_requests/admin/test_change_page.py`` compares it with the stock admin.
"""

import html
import json
import re
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR, ModelAdmin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    display_for_field,
    help_text_for_field,
    label_for_field,
    lookup_field,
    quote,
)
from django.core.exceptions import EmptyResultSet, ObjectDoesNotExist, PermissionDenied
from django.db import connections, router
from django.db.models import ForeignObjectRel, ManyToManyRel, OneToOneField
from django.db.models.expressions import RawSQL
from django.db.models.query import ModelIterable, get_related_populators
from django.forms import Media, ModelChoiceField
from django.forms.models import _get_foreign_key
from django.template.backends.utils import csrf_input
from django.template.defaultfilters import capfirst, striptags, truncatewords
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language, gettext

from accounts import roles
from anct_portal import admin_shell
from anct_portal.prepared import FROM_JSON, aggregate_order, positional, prepared_cursor
from engineering_requests.admin.rendering import form_fields_html, hidden_fields_html


def _esc(value) -> str:
    """``conditional_escape`` without its lazy-argument wrapper (a page calls it hundreds
    of times): markup as it is, anything else escaped as Django's ``escape`` does."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _linebreaksbr(value) -> str:
    """The ``linebreaksbr`` filter (autoescaping), without its decorators."""
    text = str(value)
    if not isinstance(text, SafeData):
        text = html.escape(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\n", "<br>")


_LABELS: dict = {}


def _label_and_help(name, model, model_admin, language):
    """Label (capitalised) and help text of a read-only field in the current language, both
    escaped, computed once per admin class, field and language."""
    key = (type(model_admin), model, name, language)
    found = _LABELS.get(key)
    if found is None:
        found = _LABELS[key] = (
            _esc(capfirst(label_for_field(name, model, model_admin))),
            _esc(help_text_for_field(name, model)),
            # The inline's column header shows it without tags.
            _esc(striptags(help_text_for_field(name, model))),
        )
    return found


_URLS: dict = {}
_SIMPLE_ARG = re.compile(r"[A-Za-z0-9_-]+")


def cached_reverse(viewname: str, args=(), current_app=None) -> str:
    """``reverse(viewname, args=args)``, the pattern reversed once per view name, number of
    arguments, URL configuration, prefix and language, with stand-ins then replaced by the
    arguments: for arguments that no converter or quoting changes (letters, digits, ``_``,
    ``-``); otherwise, or if the stand-ins do not match the pattern, ``reverse``."""
    args = [str(arg) for arg in args]
    if not all(_SIMPLE_ARG.fullmatch(arg) for arg in args):
        return reverse(viewname, args=args, current_app=current_app)
    key = (viewname, len(args), current_app, get_script_prefix(), get_urlconf(), get_language())
    pattern = _URLS.get(key)
    if pattern is None:
        stand_ins = [f"__arg{index}__" for index in range(len(args))]
        try:
            pattern = reverse(viewname, args=stand_ins, current_app=current_app)
        except NoReverseMatch:
            pattern = ""  # e.g. an int converter: reversed each time
        if pattern and not all(pattern.count(stand_in) == 1 for stand_in in stand_ins):
            pattern = ""
        _URLS[key] = pattern
    if not pattern:
        return reverse(viewname, args=args, current_app=current_app)
    for index, arg in enumerate(args):
        pattern = pattern.replace(f"__arg{index}__", arg)
    return pattern


def _admin_link(model_admin, remote_field, remote_obj) -> str:
    """``AdminReadonlyField.get_admin_url``."""
    opts = remote_field.model._meta
    try:
        url = cached_reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[quote(remote_obj.pk)],
            current_app=model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return str(remote_obj)
    return mark_safe(f'<a href="{_esc(url)}">{_esc(remote_obj)}</a>')  # noqa: S308 - escaped


def readonly_contents(name, obj, model_admin, empty) -> str:
    """``AdminReadonlyField.contents`` of the field ``name`` of ``obj`` (no form involved:
    every field of these pages is read-only), as HTML. ``empty``: the admin's
    ``get_empty_value_display()``."""
    from django.contrib.admin.templatetags.admin_list import _boolean_icon

    try:
        field, attr, value = lookup_field(name, obj, model_admin)
    except (AttributeError, ValueError, ObjectDoesNotExist):
        return _esc(empty)
    if field is None:
        if getattr(attr, "boolean", False):
            return _boolean_icon(value)
        if hasattr(value, "__html__"):
            return value.__html__()
        return _linebreaksbr(value)
    if isinstance(field.remote_field, ManyToManyRel) and value is not None:
        result = ", ".join(map(str, value.all()))
    elif isinstance(field.remote_field, (ForeignObjectRel, OneToOneField)) and value is not None:
        result = _admin_link(model_admin, field.remote_field, value)
    else:
        result = display_for_field(value, field, empty)
    return _linebreaksbr(result)


def _field_names(line):
    return line if isinstance(line, (list, tuple)) else (line,)


def fieldsets_html(model_admin, obj, fieldsets) -> SafeString:
    """``includes/fieldset.html`` for each fieldset (``change_form.html``'s loop)."""
    model = type(obj)
    suffix = _esc(gettext(":"))
    empty = model_admin.get_empty_value_display()
    language = get_language()
    parts = []
    for index, (name, options) in enumerate(fieldsets):
        classes = options.get("classes", ())
        collapsible = "collapse" in classes
        heading_id = f"fieldset-0-{index}-heading"
        parts.append(
            f'<fieldset class="module aligned {_esc(" ".join(classes))}"'
            + (f' aria-labelledby="{heading_id}">' if name else ">")
        )
        if name:
            parts.append(
                ("<details><summary>" if collapsible else "")
                + f'<h2 id="{heading_id}" class="fieldset-heading">{_esc(name)}</h2>'
                + ("</summary>" if collapsible else "")
            )
        description = options.get("description")
        if description:
            parts.append(f'<div class="description">{_esc(description)}</div>')
        for line in options["fields"]:
            names = _field_names(line)
            single = len(names) == 1
            classes = _esc("".join(f" field-{field_name}" for field_name in names))
            parts.append(f'<div class="form-row{classes}">')
            if not single:
                parts.append('<div class="flex-container form-multiline">')
            for position, field_name in enumerate(names):
                label, help_text, _help_title = _label_and_help(
                    field_name, model, model_admin, language
                )
                box = "" if single else _esc(f" fieldBox field-{field_name}")
                inline_label = "" if position == 0 else ' class="inline"'
                contents = readonly_contents(field_name, obj, model_admin, empty)
                parts.append(
                    f'<div><div class="flex-container{box}">'
                    f"<label{inline_label}>{label}{suffix}</label>"
                    f'<div class="readonly">{contents}</div></div>'
                )
                if help_text:
                    # Escaped (the stock template marks it safe): the models' help texts are
                    # plain text.
                    parts.append(f'<div class="help"><div>{help_text}</div></div>')
                parts.append("</div>")
            if not single:
                parts.append("</div>")
            parts.append("</div>")
        if name and collapsible:
            parts.append("</details>")
        parts.append("</fieldset>\n")
    return mark_safe("".join(parts))  # noqa: S308 - built of escaped values


_INLINE_HEADS: dict = {}


def _inline_head(inline, prefix: str, last: bool) -> str:
    """The start of ``edit_inline/tabular.html`` up to its rows, once per inline, prefix and
    language."""
    key = (type(inline), prefix, last, get_language())
    found = _INLINE_HEADS.get(key)
    if found is not None:
        return found
    heading = capfirst(inline.verbose_name if inline.max_num == 1 else inline.verbose_name_plural)
    prefix = _esc(prefix)
    parts = [
        f'<div class="js-inline-admin-formset inline-group" id="{prefix}-group">'
        f'<div class="tabular inline-related {"last-related" if last else ""}">'
        f'<fieldset class="module {_esc(" ".join(inline.classes or ()))}" '
        f'aria-labelledby="{prefix}-heading">'
        f'<h2 id="{prefix}-heading" class="inline-heading">{_esc(heading)}</h2>'
        '<table><thead><tr><th class="original"></th>'
    ]
    for name in inline.get_fields(None):
        label, _help_text, help_title = _label_and_help(name, inline.model, inline, key[-1])
        parts.append(f'<th class="column-{_esc(name)}">{label}')
        if help_title:
            parts.append(
                f'<img src="{_esc(static("admin/img/icon-unknown.svg"))}" '
                f'class="help help-tooltip" width="10" height="10" alt="({help_title})" '
                f'title="{help_title}">'
            )
        parts.append("</th>")
    parts.append("<th></th></tr></thead><tbody>")
    found = _INLINE_HEADS[key] = "".join(parts)
    return found


def tabular_inline_html(inline, prefix: str, rows, *, last: bool) -> SafeString:
    """``edit_inline/tabular.html`` of a read-only inline (no form, nothing to submit)."""
    names = inline.get_fields(None)
    empty = inline.get_empty_value_display()
    row_prefix = _esc(prefix)
    parts = [_inline_head(inline, prefix, last)]
    for index, row in enumerate(rows):
        parts.append(
            f'<tr class="form-row has_original" id="{row_prefix}-{index}">'
            f'<td class="original"><p>{_esc(row)}</p></td>'
        )
        for name in names:
            parts.append(
                f'<td class="field-{_esc(name)}"><p>'
                f"{readonly_contents(name, row, inline, empty)}</p></td>"
            )
        parts.append('<td class="delete"></td></tr>\n')
    parts.append("</tbody></table></fieldset></div></div>\n")
    return mark_safe("".join(parts))  # noqa: S308 - built of escaped values


# Reading several lists in one round trip --------------------------------------------------


def _json_decoders(compiler):
    """One decoder (or None) per selected column; None if a column's type is not handled."""
    decoders = []
    for expression, _sql, _alias in compiler.select:
        internal_type = expression.output_field.get_internal_type()
        if internal_type not in FROM_JSON:
            return None
        decoders.append(FROM_JSON[internal_type])
    return decoders


def _combinable(queryset) -> bool:
    return (
        queryset._result_cache is None
        and queryset._iterable_class is ModelIterable
        and not queryset._prefetch_related_lookups
        and not queryset._known_related_objects
        and not queryset.query.combinator
    )


def _json_list_sql(sql: str, compiler, alias: str) -> str | None:
    """A scalar subquery giving the rows of a compiled queryset as a JSON array of rows, in
    its order, or None if it cannot (a column type or an order this module does not read)."""
    if compiler.has_extra_select or compiler.col_count != len(compiler.select):
        return None
    terms = aggregate_order(compiler)
    if terms is None or _json_decoders(compiler) is None:
        return None
    order = ", ".join(f"{alias}.{term}" for term in terms)
    columns = ", ".join(f"c{index}" for index in range(len(compiler.select)))
    order = f" ORDER BY {order}" if order else ""
    # Django's SQL for the queryset, its values passed as parameters.
    return f"(SELECT json_agg({alias}{order})::text FROM ({sql}) {alias}({columns}))"  # noqa: S608


def fetch_together(querysets) -> list[list]:
    """The model instances of each queryset, as ``list(queryset)`` gives them, read in one
    query on PostgreSQL: each queryset's own SQL (its filters, order, ``select_related``)
    becomes a JSON array (``json_agg`` of the rows, in the queryset's order), and the rows are
    turned into instances as Django's ``ModelIterable`` does. A page of small lists costs one
    round trip instead of one each. Elsewhere, or for a queryset this does not handle,
    ``list()``."""
    results: list = [None] * len(querysets)
    pending = []
    candidates = [
        (index, queryset)
        for index, queryset in enumerate(querysets)
        if connections[queryset.db].vendor == "postgresql" and _combinable(queryset)
    ]
    for index, queryset in candidates if len(candidates) > 1 else ():
        db = queryset.db
        compiler = queryset.query.get_compiler(using=db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            results[index] = []
            continue
        subquery = _json_list_sql(sql, compiler, f"q{len(pending)}")
        if subquery is not None:
            pending.append((index, queryset, compiler, subquery, params))
    if len(pending) > 1 and len({queryset.db for _i, queryset, *_rest in pending}) == 1:
        all_params = [param for *_rest, params in pending for param in params]
        with connections[pending[0][1].db].cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(subquery for *_rest, subquery, _params in pending),
                all_params,
            )
            texts = cursor.fetchone()
        for (index, queryset, compiler, _subquery, _params), text in zip(
            pending, texts, strict=True
        ):
            results[index] = _instances(queryset.db, compiler, _json_rows(compiler, text))
            queryset._result_cache = results[index]
            queryset._prefetch_done = True
    return [
        list(queryset) if found is None else found
        for queryset, found in zip(querysets, results, strict=True)
    ]


def _json_rows(compiler, text) -> list[list]:
    """The rows of ``_json_list_sql``'s array, each value as the database driver gives it."""
    if not text:
        return []
    decoders = _json_decoders(compiler)
    rows = json.loads(text, parse_float=Decimal, object_pairs_hook=positional)
    return [
        [
            value if decode is None or value is None else decode(value)
            for value, decode in zip(row, decoders, strict=True)
        ]
        for row in rows
    ]


def _plan(db, compiler):
    """What ``ModelIterable`` works out from a compiled query before reading its rows,
    worked out once per compiler (those of ``compiled`` live as long as the process)."""
    plan = getattr(compiler, "_page_plan", None)
    if plan is None or plan[0] != db:
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        fields = [column[0] for column in select[0 : compiler.col_count]]
        plan = compiler._page_plan = (
            db,
            klass_info["model"],
            [column[0].target.attname for column in select[start:end]],
            start,
            end,
            get_related_populators(klass_info, select, db),
            list(compiler.get_converters(fields).items()),
            list((compiler.annotation_col_map or {}).items()),
        )
    return plan


def _instances(db, compiler, rows) -> list:
    """``ModelIterable`` on rows of the compiled queryset."""
    _db, model_cls, init_list, start, end, populators, converters, annotations = _plan(db, compiler)
    connection = connections[db]
    instances = []
    for row in rows:
        if converters:
            row = list(row)
            for position, (functions, expression) in converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
        obj = model_cls.from_db(db, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for attr_name, col_pos in annotations:
            setattr(obj, attr_name, row[col_pos])
        instances.append(obj)
    return instances


# The page's query, compiled once ----------------------------------------------------------

# Stand-ins for the ids a query is compiled with: integers no row has as an id and no query
# holds as a constant.
_STAND_IN = -(2**62)
_STATEMENTS: dict = {}


def compiled(using: str, key, build, arity: int):
    """``(compiler, sql, slots)`` of the queryset ``build(*ids)``, compiled by Django once per
    process, database and ``key``: building and compiling a queryset costs 0.2–0.8 ms of CPU,
    far more than running these. ``build`` must depend on ``key`` and on its ``arity`` ids
    only, which it passes to lookups as they are: it is compiled with stand-ins, whose places
    in the parameters are the slots (``(True, n)``: the n-th id; ``(False, constant)``)."""
    entry = _STATEMENTS.get((using, key))
    if entry is None:
        stand_ins = tuple(_STAND_IN - index for index in range(arity))
        compiler = build(*stand_ins).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = tuple(
            (True, stand_ins.index(param))
            if type(param) is int and param in stand_ins
            else (False, param)
            for param in params
        )
        if {item for is_value, item in slots if is_value} != set(range(arity)):
            raise ValueError(f"{key}: each id must be a parameter of the query")
        entry = _STATEMENTS[(using, key)] = (compiler, sql, slots)
    return entry


class _Statement(NamedTuple):
    sql: str
    slots: tuple
    object_compiler: object
    list_compilers: tuple
    relations: tuple  # (field, attnames, columns, decoders) per relation shown when set
    choices: tuple  # (form class, field name, compiler) per choice list of the actions' forms


def _inline_rows(inline, ordering, staff_role, object_id):
    """The inline's rows of one request, as the stock formset reads them: the inline's
    queryset (``narrow``) in its order, else by primary key."""
    fk = _get_foreign_key(inline.parent_model, inline.model, fk_name=inline.fk_name)
    queryset = inline.model._default_manager.get_queryset()
    if ordering:
        queryset = queryset.order_by(*ordering)
    queryset = inline.narrow(queryset, staff_role=staff_role).filter(**{fk.name: object_id})
    return queryset if queryset.ordered else queryset.order_by(inline.model._meta.pk.name)


def _row_decoders(model):
    """(attnames, columns, decoders) to read a row of ``model``'s table given as a JSON
    object, or None if a column's type is not handled."""
    fields = model._meta.concrete_fields
    types = [field.get_internal_type() for field in fields]
    if any(internal_type not in FROM_JSON for internal_type in types):
        return None
    return (
        tuple(field.attname for field in fields),
        tuple(field.column for field in fields),
        tuple(FROM_JSON[internal_type] for internal_type in types),
    )


def _statement(using, model_admin, key, scope_size, staff_role, inlines, many, optional):
    """The page's SQL: the request as ``get_object`` reads it (the admin's queryset, the
    relations always shown), with, as columns of its row, each list as a JSON array
    (``_json_list_sql``) and each relation shown when set as its row in JSON. Its values:
    the request's id, then the scope's départements."""
    entry = _STATEMENTS.get((using, key))
    if entry is not None:
        return entry
    from engineering_requests import selectors

    model = model_admin.model

    def request_query(object_id, *departement_ids):
        scope = None if scope_size is None else departement_ids
        return (
            selectors.backoffice_requests(scope)
            .select_related(*model_admin.page_related)
            .filter(pk=object_id)
        )

    object_compiler, object_sql, object_slots = compiled(
        using, (*key, "request"), request_query, 1 + (scope_size or 0)
    )
    select = object_compiler.select
    parts, slots, list_compilers = [], [], []
    builds = [
        (
            ("inline", inline_class, ordering, staff_role),
            lambda object_id, inline=inline, ordering=ordering: _inline_rows(
                inline, ordering, staff_role, object_id
            ),
        )
        for inline_class, ordering, inline in inlines
    ] + [
        (
            ("many", model, name),
            lambda object_id, name=name: getattr(model(pk=object_id), name).all(),
        )
        for name in many
    ]
    for index, (list_key, build) in enumerate(builds):
        compiler, sql, list_slots = compiled(using, list_key, build, 1)
        subquery = _json_list_sql(sql, compiler, f"q{index}")
        if subquery is None:
            raise ValueError(f"{list_key}: not readable as JSON")
        parts.append(subquery)
        slots.extend(list_slots)
        list_compilers.append(compiler)
    qn = connections[using].ops.quote_name
    start, end = (
        object_compiler.klass_info["select_fields"][0],
        object_compiler.klass_info["select_fields"][-1] + 1,
    )
    relations = []
    for index, name in enumerate(optional):
        field = model._meta.get_field(name)
        decoders = _row_decoders(field.related_model)
        if decoders is None:
            continue  # read when shown, by the relation's descriptor
        position = next(
            position for position in range(start, end) if select[position][0].target is field
        )
        alias = f"r{index}"
        parts.append(
            f"(SELECT row_to_json({alias})::text FROM "  # noqa: S608 - names from the models
            f"{qn(field.related_model._meta.db_table)} {alias} "
            f"WHERE {alias}.{qn(field.target_field.column)} = o.c{position})"
        )
        relations.append((field, *decoders))

    def column(attname):
        """The request's field ``attname`` as a column of its row (``o``)."""
        position = next(p for p in range(start, end) if select[p][0].target.attname == attname)
        return RawSQL(f"o.c{position}", ())  # noqa: S611 - a column alias of this query

    choices = []
    for form_class, name in model_admin.page_choices:
        build = form_class.choice_querysets[name]
        compiler, sql, choice_slots = compiled(
            using,
            ("choices", type(model_admin), form_class, name),
            lambda build=build: build(column),
            0,
        )
        subquery = _json_list_sql(sql, compiler, f"k{len(choices)}")
        if subquery is None:
            continue  # read when shown (fetch_together)
        parts.append(subquery)
        slots.extend(choice_slots)
        choices.append((form_class, name, compiler))
    columns = ", ".join(f"c{index}" for index in range(len(select)))
    sql = f"SELECT o.*, {', '.join(parts)} FROM ({object_sql}) o({columns})"  # noqa: S608
    entry = _STATEMENTS[(using, key)] = _Statement(
        sql,
        (*slots, *object_slots),
        object_compiler,
        tuple(list_compilers),
        tuple(relations),
        tuple(choices),
    )
    return entry


class Page(NamedTuple):
    obj: object
    inline_rows: dict  # inline class -> its rows, read with the request
    inlines: list | None  # the inline instances ``load`` built, if valid for any request
    choices: dict  # (form class, field name) -> (compiler, JSON rows) of the actions' choices


def load(model_admin, request, object_id: str) -> Page | None:
    """The request shown, as ``get_object`` reads it (None outside the admin's queryset), and
    the lists of its page, in one query compiled once per shape (``_statement``): the rows
    of each inline the user may view, the ``page_many`` relations (as if prefetched), the
    ``page_optional`` relations when set and the choices of the actions' forms
    (``page_choices``). The admin's queryset is ``selectors.backoffice_visible_to``, here
    ``backoffice_requests(backoffice_scope(user))``; an admin that changes it reads the
    request through ``get_object``."""
    from engineering_requests import selectors
    from engineering_requests.admin.requests import BackofficeRequestAdminMixin

    using = router.db_for_read(model_admin.model)
    stock_queryset = type(model_admin).get_queryset is BackofficeRequestAdminMixin.get_queryset
    if connections[using].vendor != "postgresql" or not stock_queryset:
        obj = model_admin.get_object(request, object_id)
        return None if obj is None else Page(obj, {}, None, {})
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        return None
    user = request.user
    scope = selectors.backoffice_scope(user)
    if scope == ():
        return None
    staff_role = roles.is_staff_role(user)
    # The inlines this user may view (checked again with the request once read).
    instances = model_admin.get_inline_instances(request)
    inlines = tuple(
        (type(inline), tuple(inline.get_ordering(request) or ()), inline)
        for inline in instances
        if hasattr(inline, "narrow") and inline.has_view_or_change_permission(request)
    )
    scope_size = None if scope is None else len(scope)
    many, optional = model_admin.page_many, model_admin.page_optional
    key = (
        "page",
        type(model_admin),
        scope_size,
        staff_role,
        tuple(entry[:2] for entry in inlines),
        many,
        optional,
    )
    statement = _statement(using, model_admin, key, scope_size, staff_role, inlines, many, optional)
    values = (pk, *(scope or ()))
    params = [values[item] if is_value else item for is_value, item in statement.slots]
    # Kept prepared on the connection: its text depends only on the key above, and PostgreSQL
    # spent ~1 ms planning it for ~0.3 ms running it.
    with prepared_cursor(using) as cursor:
        cursor.execute(statement.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    compiler = statement.object_compiler
    count = len(compiler.select)
    obj = _instances(using, compiler, [row[:count]])[0]
    texts = iter(row[count:])
    inline_rows = {}
    for (inline_class, _ordering, _inline), list_compiler in zip(
        inlines, statement.list_compilers, strict=False
    ):
        inline_rows[inline_class] = _instances(
            using, list_compiler, _json_rows(list_compiler, next(texts))
        )
    prefetched = {}
    for name, list_compiler in zip(many, statement.list_compilers[len(inlines) :], strict=True):
        queryset = getattr(obj, name).all()
        queryset._result_cache = _instances(
            using, list_compiler, _json_rows(list_compiler, next(texts))
        )
        queryset._prefetch_done = True
        prefetched[name] = queryset
    obj._prefetched_objects_cache = prefetched
    for field, attnames, columns, decoders in statement.relations:
        text = next(texts)
        if text is None:
            continue
        found = json.loads(text, parse_float=Decimal)
        values = [found[column] for column in columns]
        setattr(
            obj,
            field.name,
            field.related_model.from_db(
                using,
                attnames,
                [
                    value if decode is None or value is None else decode(value)
                    for value, decode in zip(values, decoders, strict=True)
                ],
            ),
        )
    # The choices of every action's form, read whatever the actions shown (the lists are
    # small); rows made into instances only for the forms shown (response).
    choices = {
        (form_class, name): (choice_compiler, next(texts))
        for form_class, name, choice_compiler in statement.choices
    }
    request.__dict__.setdefault("_backoffice_objects", {})[object_id] = obj
    # The stock get_inlines gives the same inlines whatever the request shown: the page
    # reuses these instances (building one deep-copies the admin's form field defaults).
    stock_inlines = type(model_admin).get_inlines is ModelAdmin.get_inlines
    return Page(obj, inline_rows, instances if stock_inlines else None, choices)


# The workflow panel ----------------------------------------------------------------------


def workflow_panel_html(actions, *, csrf_input, has_role: bool, state_label) -> SafeString:
    """The "Actions possibles" panel of change_form.html (the stock page's template), with
    each action's form fields rendered by ``rendering.form_fields_html`` (``fields_html``)."""
    csrf_input = _esc(csrf_input)
    if actions:
        items = []
        for action in actions:
            transition, form = action["transition"], action["form"]
            label, description, url = (
                _esc(transition.label),
                _esc(transition.description),
                _esc(action["url"]),
            )
            name = _esc(transition.name)
            if any(not field.widget.is_hidden for field in form.fields.values()):
                form_help = getattr(form, "help_text", "")
                form_help = f'<p class="help">{_esc(form_help)}</p>' if form_help else ""
                items.append(
                    '<details class="workflow-action '
                    f'workflow-action--{_esc(transition.style or "plain")}" id="action-{name}">'
                    f"<summary>{label}</summary>"
                    f'<form method="post" action="{url}" class="backoffice-form">{csrf_input}'
                    f'<p class="help">{description}</p>{form_help}{_esc(action["fields_html"])}'
                    '<div class="submit-row"><input type="submit" '
                    f'class="{"danger" if transition.style == "danger" else "default"}" '
                    f'value="{label}"></div></form></details>\n'
                )
            else:
                items.append(
                    f'<form method="post" action="{url}" class="workflow-inline-form" '
                    f'id="action-{name}">{csrf_input}{hidden_fields_html(form)}'
                    f'<input type="submit" class="default" value="{label}">'
                    f' <span class="help">{description}</span></form>\n'
                )
        body = f'<div class="workflow-actions">{"".join(items)}</div>'
    elif has_role:
        body = "<p>{}</p>".format(
            _esc(
                gettext("Aucune action ne vous revient sur cette demande au statut « %(state)s ».")
                % {"state": state_label}
            )
        )
    else:
        body = "<p>{}</p>".format(
            _esc(
                gettext(
                    "Consultation seule : les actions sont réservées aux délégués territoriaux "
                    "et à l'équipe nationale."
                )
            )
        )
    return mark_safe(  # noqa: S308 - built of escaped values and widgets
        '<div id="content-main-top" class="clear-both">'
        '<div class="module backoffice-panel" id="workflow-actions">'
        f'<h2>{_esc(gettext("Actions possibles"))}</h2><div class="panel-body">{body}</div>'
        "</div></div>"
    )


# The page ----------------------------------------------------------------------------------

# The read-only page's own files: it has no form to edit, so none of the admin's form scripts.
PAGE_MEDIA = Media(
    css={"all": ("engineering_requests/admin.css",)}, js=("engineering_requests/admin.js",)
)


_APP_LIST_URLS: dict = {}


def _app_list_url(app_label: str, site_name: str) -> str:
    """The application's index (a regular expression of the app labels: no stand-in)."""
    key = (app_label, site_name, get_script_prefix(), get_urlconf(), get_language())
    found = _APP_LIST_URLS.get(key)
    if found is None:
        found = _APP_LIST_URLS[key] = reverse(
            "admin:app_list", kwargs={"app_label": app_label}, current_app=site_name
        )
    return found


_MEDIA_HTML: dict = {}


def _page_media() -> str:
    """PAGE_MEDIA as rendered, once per static files URL."""
    key = (settings.STATIC_URL, settings.DEBUG)
    found = _MEDIA_HTML.get(key)
    if found is None:
        found = _MEDIA_HTML[key] = mark_safe(str(PAGE_MEDIA))  # noqa: S308 - Media's markup
    return found


def applies_to(request) -> bool:
    """GET (and HEAD) of the page; a POST (refused: nothing is changed through the model
    form), a popup or a ``_to_field`` keep the stock view."""
    return (
        request.method in ("GET", "HEAD")
        and IS_POPUP_VAR not in request.GET
        and TO_FIELD_VAR not in request.GET
    )


def response(model_admin, request, page: Page, extra_context):
    """The stock change view's page (GET), built without its model form and inline formsets:
    the same checks (``has_view_permission`` on the object, and only the inlines the user may
    view), the read-only values rendered once. ``page``: the request and the lists read with
    it (``load``)."""
    obj = page.obj
    if not model_admin.has_view_permission(request, obj):
        raise PermissionDenied
    request.current_app = model_admin.admin_site.name
    opts = model_admin.opts
    url_prefix = f"admin:{opts.app_label}_{opts.model_name}"
    site_name = model_admin.admin_site.name
    changelist_url = cached_reverse(f"{url_prefix}_changelist", current_app=site_name)
    history_url = cached_reverse(
        f"{url_prefix}_history", args=[quote(obj.pk)], current_app=site_name
    )
    filters = {"preserved_filters": model_admin.get_preserved_filters(request), "opts": opts}
    # What ``load`` did not read, in one more query (fetch_together): the actions' choices,
    # and, should the rules for this request differ, its inlines' rows, its relations.
    optional_fields = [
        field
        for field in map(opts.get_field, model_admin.page_optional)
        if getattr(obj, field.attname) is not None and not field.is_cached(obj)
    ]
    optional = [
        field.related_model._default_manager.filter(pk=getattr(obj, field.attname))
        for field in optional_fields
    ]
    inline_rows, missing = [], []
    if page.inlines is None:
        inline_instances = model_admin.get_inline_instances(request, obj)
    else:
        # get_inline_instances(request, obj) with the instances ``load`` built.
        inline_instances = [
            inline for inline in page.inlines if inline.has_view_or_change_permission(request, obj)
        ]
    for inline in inline_instances:
        fk = _get_foreign_key(model_admin.model, inline.model, fk_name=inline.fk_name)
        rows = page.inline_rows.get(type(inline))
        if rows is None:
            rows = inline.get_queryset(request).filter(**{fk.name: obj})
            if not rows.ordered:
                rows = rows.order_by(inline.model._meta.pk.name)
            missing.append(rows)
        prefix = fk.remote_field.get_accessor_name(model=inline.model).replace("+", "")
        inline_rows.append((inline, prefix, rows))
    many = {
        name: getattr(obj, name).all()
        for name in model_admin.page_many
        if name not in getattr(obj, "_prefetched_objects_cache", {})
    }
    choices = []
    for action in extra_context["workflow_actions"]:
        form = action["form"]
        for name, field in form.fields.items():
            if not isinstance(field, ModelChoiceField):
                continue
            read = page.choices.get((type(form), name))
            if read is None:
                choices.append(field.queryset)
                continue
            compiler, text = read
            field.queryset._result_cache = _instances(
                field.queryset.db, compiler, _json_rows(compiler, text)
            )
            field.queryset._prefetch_done = True
    fetched = fetch_together([*optional, *missing, *many.values(), *choices])
    for field, found in zip(optional_fields, fetched, strict=False):
        if found:
            setattr(obj, field.name, found[0])
    if many:
        # As if prefetched: the fields read them without a query.
        obj._prefetched_objects_cache = {
            **getattr(obj, "_prefetched_objects_cache", {}),
            **many,
        }
    inlines = [
        tabular_inline_html(inline, prefix, rows, last=index == len(inline_rows) - 1)
        for index, (inline, prefix, rows) in enumerate(inline_rows)
    ]
    for action in extra_context["workflow_actions"]:
        action["fields_html"] = form_fields_html(action["form"])
    message_form = extra_context["message_form"]
    panel_html = workflow_panel_html(
        extra_context["workflow_actions"],
        csrf_input=csrf_input(request),
        has_role=extra_context["has_role"],
        state_label=obj.get_state_display(),
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "original": obj,
        "object_id": str(obj.pk),
        "change": True,
        "add": False,
        "is_popup": False,
        "has_view_permission": True,
        "media": _page_media(),
        "form_url": add_preserved_filters(filters, ""),
        "app_list_url": _app_list_url(opts.app_label, site_name),
        "index_url": cached_reverse("admin:index", current_app=site_name),
        "changelist_url": changelist_url,
        "close_url": add_preserved_filters(filters, changelist_url),
        "history_url": add_preserved_filters(filters, history_url),
        "absolute_url": model_admin.get_view_on_site_url(obj),
        "fieldsets_html": fieldsets_html(model_admin, obj, model_admin.get_fieldsets(request, obj)),
        "inlines_html": mark_safe("".join(inlines)),  # noqa: S308 - change_page's HTML
        "message_fields_html": form_fields_html(message_form) if message_form else "",
        "workflow_panel_html": panel_html,
        **extra_context,
    }
    response = TemplateResponse(request, PAGE_TEMPLATE, context)
    if not context.get("is_nav_sidebar_enabled"):
        response.template_name = ChangePage(PAGE_TEMPLATE)
    return response


# The page's shell and frame written out ----------------------------------------------------

PAGE_TEMPLATE = "admin/engineering_requests/engineeringrequest/change_page.html"

# Django's own texts (admin/change_form.html, object-tools), translated by Django's
# catalogue: variables, so that they are not extracted into the project's.
HISTORY = "History"
VIEW_ON_SITE = "View on site"
CLOSE = "Close"


class ChangePage:
    """A template-like object for the page's ``TemplateResponse``: ``change_page.html`` in
    the admin's shell (``anct_portal.admin_shell``), written out. Rendering that shell
    through the template engine (``admin/base_site.html`` and its context processors) cost
    ~0.65 ms a page. ``tests/engineering_requests/admin/test_change_page.py`` compares the
    two renderings."""

    def __init__(self, template_name):
        self.template_name = template_name

    def render(self, context=None, request=None):
        return SafeString(change_page_html(context, request))

    def stock_template(self):
        """The template's own rendering of the page (for tests)."""
        return get_template(self.template_name)


def _fixed(request) -> dict[str, str]:
    """The page's parts that depend only on the language, prefix and site."""
    key = ("change_page", *admin_shell.cache_key(request))
    found = admin_shell.PAGE_PARTS.get(key)
    if found is None:
        # Translations as {% translate %} writes them: not escaped (the texts are markup).
        found = admin_shell.PAGE_PARTS[key] = {
            "forms_css": (
                f'<link rel="stylesheet" href="{admin_shell.static_url("admin/css/forms.css")}">'
            ),
            "history": gettext(HISTORY),
            "view_on_site": gettext(VIEW_ON_SITE),
            "close": gettext(CLOSE),
            "write": gettext("Écrire au sujet de cette demande"),
            "write_help": gettext(
                "Un message est envoyé à la collectivité. Une note interne reste entre les "
                "équipes de l'État (délégués et ANCT) : la collectivité ne la voit jamais."
            ),
            "send": gettext("Envoyer"),
        }
    return found


def change_page_html(context, request) -> str:
    """``change_page.html`` (which extends ``admin/base_site.html``)."""
    fixed = _fixed(request)
    shell = admin_shell.parts(request)
    opts = context["opts"]
    model_name = _esc(opts.model_name)
    breadcrumbs = (
        '<div class="breadcrumbs">\n'
        f'<a href="{_esc(context["index_url"])}">{shell["home"]}</a>\n'
        f'&rsaquo; <a href="{_esc(context["app_list_url"])}">'
        f"{_esc(opts.app_config.verbose_name)}</a>\n"
        f'&rsaquo; <a href="{_esc(context["changelist_url"])}">'
        f"{_esc(capfirst(opts.verbose_name_plural))}</a>\n"
        f"&rsaquo; {_esc(truncatewords(context['original'], 18))}\n</div>"
    )
    csrf = csrf_input(request)
    absolute_url = context.get("absolute_url")
    form_url = context.get("form_url")
    content = [
        '<div id="content-main">\n  <ul class="object-tools">\n<li>\n'
        f'    <a href="{_esc(context["history_url"])}" class="historylink">{fixed["history"]}</a>'
        "\n</li>\n",
        (
            f'<li><a href="{_esc(absolute_url)}" class="viewsitelink">'
            f"{fixed['view_on_site']}</a></li>"
            if absolute_url
            else ""
        ),
        f"\n  </ul>\n{_esc(context.get('workflow_panel_html', ''))}\n<form ",
        f'action="{_esc(form_url)}" ' if form_url else "",
        f'method="post" id="{model_name}_form" novalidate>{csrf}\n<div>\n'
        f"{_esc(context.get('fieldsets_html', ''))}\n{_esc(context.get('inlines_html', ''))}\n"
        '<div class="submit-row">\n'
        f'<a href="{_esc(context["close_url"])}" class="closelink">{fixed["close"]}</a>\n'
        "</div>\n</div>\n</form></div>\n",
    ]
    if context.get("message_form"):
        content.append(
            '<div class="module backoffice-panel" id="messages">\n'
            f"  <h2>{fixed['write']}</h2>\n"
            f'  <form method="post" action="{_esc(context.get("message_url", ""))}" '
            'enctype="multipart/form-data" class="backoffice-form panel-body">'
            f"{csrf}\n"
            f'    <p class="help">{fixed["write_help"]}</p>\n'
            f"    {_esc(context.get('message_fields_html', ''))}\n"
            '    <div class="submit-row"><input type="submit" class="default" '
            f'value="{fixed["send"]}"></div>\n'
            "  </form>\n</div>\n"
        )
    media = context.get("media")
    return admin_shell.page(
        request,
        context,
        extrastyle=fixed["forms_css"],
        extrahead=f"\n{_esc(media) if media else ''}\n",
        bodyclass=f" app-{_esc(opts.app_label)} model-{model_name} change-form",
        breadcrumbs=breadcrumbs,
        coltype="colM",
        content="".join(content),
        csrf=csrf,
    )
