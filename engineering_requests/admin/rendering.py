"""Form rendering of the back office without the template engine (issue 10, speed).

Each widget, label or error list of a Django form is a small template rendered through the
template engine: ~40 µs each, and a request's admin page has dozens. ``FastFormRenderer``
renders the stock templates below in Python, and only while the template the engine would
use is, character for character, the one mirrored here (``MIRRORED``): an app overriding it
(the DSFR app overrides the error lists, for instance) or another Django version sends it
back to the template engine. ``tests/engineering_requests/admin/test_rendering.py`` checks
that both render the same HTML.

``form_fields_html`` renders ``admin/engineering_requests/form_fields.html`` the same way.
"""

from functools import cached_property

from django.forms import ChoiceField, ModelChoiceField
from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language

_ATTRS = (
    "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
    "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
    "{% endfor %}"
)
_INPUT = (
    '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} '
    "value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
    '{% include "django/forms/widgets/attrs.html" %}>\n'
)
_INCLUDE_INPUT = '{% include "django/forms/widgets/input.html" %}\n'

# The stock templates rendered in Python, as Django 5.2 ships them.
MIRRORED = {
    "django/forms/widgets/attrs.html": _ATTRS,
    "django/forms/attrs.html": _ATTRS.replace("widget.attrs.items", "attrs.items"),
    "django/forms/widgets/input.html": _INPUT,
    **{
        f"django/forms/widgets/{name}.html": _INCLUDE_INPUT
        for name in (
            "text",
            "hidden",
            "checkbox",
            "email",
            "number",
            "url",
            "password",
            "date",
            "datetime",
            "time",
            "search",
            "tel",
            "color",
            "file",
        )
    },
    "django/forms/widgets/textarea.html": (
        '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"
    ),
    "django/forms/widgets/select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}"
        '{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}'
        "{% for option in group_choices %}\n  "
        "{% include option.template_name with widget=option %}{% endfor %}"
        "{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n"
    ),
    "django/forms/widgets/select_option.html": (
        "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n'
    ),
    "django/forms/widgets/clearable_file_input.html": (
        '{% if widget.is_initial %}{{ widget.initial_text }}: <a href="{{ widget.value.url }}">'
        "{{ widget.value }}</a>{% if not widget.required %}\n"
        '<input type="checkbox" name="{{ widget.checkbox_name }}" id="{{ widget.checkbox_id }}"'
        "{% if widget.attrs.disabled %} disabled{% endif %}"
        "{% if widget.attrs.checked %} checked{% endif %}>\n"
        '<label for="{{ widget.checkbox_id }}">{{ widget.clear_checkbox_label }}</label>'
        "{% endif %}<br>\n{{ widget.input_text }}:{% endif %}\n"
        '<input type="{{ widget.type }}" name="{{ widget.name }}"'
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    ),
    "django/forms/label.html": (
        "{% if use_tag %}<{{ tag }}{% include 'django/forms/attrs.html' %}>{{ label }}</{{ tag }}>"
        "{% else %}{{ label }}{% endif %}\n"
    ),
}


class _Fallback(Exception):
    """A value this module does not render as the template engine would: use the engine."""


def _text(value) -> str:
    """``{{ value }}`` for the strings a form puts in its templates (escaped unless safe)."""
    if isinstance(value, (str, Promise)):
        return conditional_escape(value)
    raise _Fallback


def _stringformat(value) -> str:
    """``{{ value|stringformat:'s' }}``: the filter keeps a safe string safe."""
    if isinstance(value, tuple):
        value = str(value)
    text = "%s" % (value,)  # noqa: UP031 - the filter's own formatting
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs) -> str:
    if not attrs:
        return ""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_stringformat(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(context) -> str:
    widget = context["widget"]
    value = widget["value"]
    value = "" if value is None else f' value="{_stringformat(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}'
        f"{_attrs(widget['attrs'])}>\n"
    )


def _textarea(context) -> str:
    widget = context["widget"]
    value = widget["value"]
    return (
        f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_text(value) if value else ''}</textarea>\n"
    )


def _option(option) -> str:
    if option["template_name"] != "django/forms/widgets/select_option.html":
        raise _Fallback
    return (
        f'<option value="{_stringformat(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_text(option['label'])}</option>\n"
    )


def _select(context) -> str:
    widget = context["widget"]
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            parts.append("\n  ")
            parts.append(_option(option))
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _clearable_file_input(context) -> str:
    widget = context["widget"]
    if widget["is_initial"]:
        raise _Fallback
    return f'\n<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"' + (
        f"{_attrs(widget['attrs'])}>\n"
    )


def _label(context) -> str:
    label = _text(context["label"])
    if not context["use_tag"]:
        return f"{label}\n"
    tag = _text(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>\n"


# What renders each template, and the templates it includes (all must be the mirrored ones).
_RENDERERS = {
    "django/forms/widgets/textarea.html": (_textarea, ("django/forms/widgets/attrs.html",)),
    "django/forms/widgets/select.html": (
        _select,
        ("django/forms/widgets/attrs.html", "django/forms/widgets/select_option.html"),
    ),
    "django/forms/widgets/clearable_file_input.html": (
        _clearable_file_input,
        ("django/forms/widgets/attrs.html",),
    ),
    "django/forms/label.html": (_label, ("django/forms/attrs.html",)),
    **{
        name: (_input, ("django/forms/widgets/input.html", "django/forms/widgets/attrs.html"))
        for name, source in MIRRORED.items()
        if source in (_INPUT, _INCLUDE_INPUT)
    },
}


class FastFormRenderer(DjangoTemplates):
    """Django's default form renderer, with the stock templates of ``MIRRORED`` rendered in
    Python while the engine would use exactly those templates."""

    @cached_property
    def fast_renderers(self) -> dict:
        def unchanged(name):
            try:
                return self.get_template(name).template.source == MIRRORED[name]
            except Exception:  # a missing template: the engine decides
                return False

        return {
            name: render
            for name, (render, includes) in _RENDERERS.items()
            if unchanged(name) and all(unchanged(include) for include in includes)
        }

    def render(self, template_name, context, request=None):
        render = self.fast_renderers.get(template_name)
        if render is not None:
            try:
                return render(context).strip()
            except _Fallback:
                pass
        return super().render(template_name, context, request=request)


FAST_RENDERER = FastFormRenderer()


# The markup of visible fields, kept per process for the forms that declare it depends only on
# their class, the language and the field's initial value (``fields_html_cacheable``): an
# action's form looks the same on every request in the same state. Choices read from the
# database are always rendered again.
_FIELD_HTML: dict = {}
_FIELD_HTML_SIZE = 1000


def _field_html(field) -> str:
    errors = field.errors
    checkbox = field.widget_type == "checkbox"
    css = "form-row"
    if errors:
        css += " errors"
    if checkbox:
        css += " checkbox-row"
    control = f"{field} {field.label_tag()}" if checkbox else f"{field.label_tag()} {field}"
    help_text = field.help_text
    help_html = f'<span class="help">{conditional_escape(help_text)}</span>' if help_text else ""
    return (
        f'\n  <div class="{css}">\n    {errors if errors else ""}\n    {control}\n'
        f"    {help_html}\n  </div>\n"
    )


def _field_key(form, field):
    """The cache key of a field's markup (visible, or hidden with a value among fixed
    choices), or None when it is not to be kept."""
    if isinstance(field.field, ModelChoiceField):
        return None
    if field.is_hidden and not isinstance(field.field, ChoiceField):
        return None  # a token, an id: a new value each time
    value = field.value()
    if value is not None and not isinstance(value, (str, int, bool)):
        return None
    return (
        type(form),
        form.prefix,
        form.auto_id,
        field.name,
        field.is_hidden,
        get_language(),
        type(value),  # a safe string renders unescaped
        value,
    )


def hidden_fields_html(form) -> str:
    """``{% for field in form.hidden_fields %}{{ field }}{% endfor %}``."""
    cacheable = getattr(form, "fields_html_cacheable", False) and not form.is_bound
    parts = []
    for field in form.hidden_fields():
        key = _field_key(form, field) if cacheable else None
        html = None if key is None else _FIELD_HTML.get(key)
        if html is None:
            html = str(field)
            if key is not None and len(_FIELD_HTML) < _FIELD_HTML_SIZE:
                _FIELD_HTML[key] = html
        parts.append(html)
    return "".join(parts)


_FORM_HTML: dict = {}


def _form_key(form):
    """The cache key of the whole markup of a form each of whose fields' is kept (no
    choices from the database, no token), or None."""
    if not getattr(form, "fields_html_cacheable", False) or form.is_bound:
        return None
    values = []
    for name, field in form.fields.items():
        if isinstance(field, ModelChoiceField):
            return None
        if field.widget.is_hidden and not isinstance(field, ChoiceField):
            return None
        value = form.get_initial_for_field(field, name)
        if value is not None and not isinstance(value, (str, int, bool)):
            return None
        values.append((type(value), value))  # a safe string renders unescaped
    return (
        type(form),
        form.prefix,
        form.auto_id,
        get_language(),
        tuple(form.fields),
        tuple(values),
    )


def form_fields_html(form) -> SafeString:
    """``admin/engineering_requests/form_fields.html`` for ``form``, character for
    character (see the test), without the template engine."""
    key = _form_key(form)
    found = None if key is None else _FORM_HTML.get(key)
    if found is None:
        found = _form_fields_html(form)
        if key is not None and len(_FORM_HTML) < _FIELD_HTML_SIZE:
            _FORM_HTML[key] = found
    return found


def _form_fields_html(form) -> SafeString:
    parts = []
    non_field_errors = form.non_field_errors()
    if non_field_errors:
        parts.append(
            '<div class="errornote">'
            + " ".join(conditional_escape(error) for error in non_field_errors)
            + "</div>"
        )
    parts.append("\n")
    parts.append(hidden_fields_html(form))
    parts.append("\n")
    cacheable = getattr(form, "fields_html_cacheable", False) and not form.is_bound
    for field in form.visible_fields():
        key = _field_key(form, field) if cacheable else None
        html = None if key is None else _FIELD_HTML.get(key)
        if html is None:
            html = _field_html(field)
            if key is not None and len(_FIELD_HTML) < _FIELD_HTML_SIZE:
                _FIELD_HTML[key] = html
        parts.append(html)
    parts.append("\n")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped or a widget
