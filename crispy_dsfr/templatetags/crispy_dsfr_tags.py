"""Template helpers of the ``crispy_dsfr`` pack: which DSFR component a field becomes, and its
widget rendered with the DSFR classes. Django itself adds ``aria-invalid`` and
``aria-describedby`` ("<id>_helptext <id>_error"), which the templates give those ids."""

from django import forms, template

register = template.Library()

INPUT_CLASS = {
    "input": "fr-input",
    "textarea": "fr-input",
    "password": "fr-password__input fr-input",
    "select": "fr-select",
    "file": "fr-upload",
}


@register.filter
def dsfr_kind(field) -> str:
    widget = field.field.widget
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "choices"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, forms.PasswordInput):
        return "password"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    return "input"


@register.simple_tag
def dsfr_widget(field):
    kind = dsfr_kind(field)
    attrs = {}
    css = INPUT_CLASS.get(kind, "")
    if css:
        if field.errors and kind in {"input", "textarea", "password"}:
            css += " fr-input--error"
        elif field.errors and kind == "select":
            css += " fr-select--error"
        existing = field.field.widget.attrs.get("class", "")
        attrs["class"] = f"{css} {existing}".strip()
    return field.as_widget(attrs=attrs)


@register.filter
def dsfr_options(field):
    """The options of a radio or checkbox field, grouped: [(group label, [option, …])]."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    attrs.pop("aria-describedby", None)  # the fieldset carries the messages
    values = widget.format_value(field.value())
    return [
        (group_name, options)
        for group_name, options, _index in widget.optgroups(field.html_name, values, attrs)
    ]


@register.filter
def dsfr_anchor(field) -> str:
    """The id of the element an error-summary link should focus."""
    if dsfr_kind(field) == "choices":
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id


@register.filter
def dsfr_optional(field) -> bool:
    """Whether the label says "(facultatif)". A form field may decide with ``dsfr_optional``."""
    explicit = getattr(field.field, "dsfr_optional", None)
    if explicit is not None:
        return explicit
    return not field.field.required and dsfr_kind(field) != "checkbox"


@register.filter
def dsfr_files_dropped(field) -> bool:
    """A failed form cannot give the chosen files back: the user must choose them again."""
    form = field.form
    if not form.is_bound or not form.errors or getattr(form, "files_stored", False):
        return False
    files = form.files
    chosen = (
        files.getlist(field.html_name) if hasattr(files, "getlist") else files.get(field.html_name)
    )
    return bool(chosen)


@register.filter
def dsfr_error_count(form) -> int:
    return sum(len(errors) for errors in form.errors.values())


@register.simple_tag(takes_context=True)
def dsfr_form(context, form):
    """``{% crispy form %}``, written in Python for the simple forms ``crispy_dsfr.fast``
    knows (the same markup), by crispy for the others."""
    from crispy_forms.utils import render_crispy_form

    from crispy_dsfr.fast import render_form

    html = render_form(form, context.get("csrf_token"))
    if html is None:
        html = render_crispy_form(form, context=context.flatten())
    return html
