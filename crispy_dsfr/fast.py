"""``{% crispy form %}`` for the pack's simple forms, written in Python (issue 10, speed).

Crispy renders a form through a dozen included templates (~1 ms for a two-field form, as
much as the rest of a page). ``render_form`` writes the same markup, character for character,
for the forms whose layout holds only field names (hidden fields, text inputs, text areas,
file uploads) and ``Actions`` of ``Button`` s; any other form gives None, and the caller
lets crispy render it. ``tests/crispy_dsfr/test_fast.py`` compares both, errors included.
"""

from crispy_forms.layout import Layout
from crispy_forms.utils import flatatt
from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from crispy_dsfr.layout import Actions, Button, LinkButton
from crispy_dsfr.templatetags.crispy_dsfr_tags import (
    dsfr_anchor,
    dsfr_files_dropped,
    dsfr_kind,
    dsfr_optional,
    dsfr_widget,
)

_KINDS = {"hidden", "input", "textarea", "file"}


def _supported(form, helper) -> bool:
    layout = getattr(helper, "layout", None)
    if not isinstance(layout, Layout) or helper.form_method != "post":
        return False
    if getattr(helper, "form_tag", True) is not True or helper.disable_csrf:
        return False
    if not helper.form_show_errors or not helper.form_show_labels or helper.inputs:
        return False
    if getattr(helper, "render_unmentioned_fields", False) or helper.form_group_wrapper_class:
        return False
    named = set()
    for item in layout.fields:
        if isinstance(item, str):
            if item not in form.fields or dsfr_kind(form[item]) not in _KINDS:
                return False
            named.add(item)
        elif isinstance(item, Actions):
            if not all(
                type(button) is Button and button.kind == "submit" for button in item.fields
            ) or any(isinstance(button, LinkButton) for button in item.fields):
                return False
        else:
            return False
    return named == set(form.fields)  # crispy would render the others hidden at the end


def _errors(form) -> str:
    """crispy_dsfr/errors.html"""
    if not form.errors:
        return ""
    count = sum(len(errors) for errors in form.errors.values())
    # Our catalogue's literal, not escaped, as {% blocktranslate %} writes it.
    title = ngettext(
        "Le formulaire contient une erreur", "Le formulaire contient %(counter)s erreurs", count
    ) % {"counter": count}
    items = [format_html("\n    <li>{}</li>", error) for error in form.non_field_errors()]
    for field in form:
        if not field.errors:
            continue
        if field.is_hidden:
            items.extend(format_html("\n    <li>{}</li>", error) for error in field.errors)
        else:
            items.extend(
                format_html(
                    '\n    <li><a href="#{}">{} : {}</a></li>',
                    dsfr_anchor(field),
                    field.label,
                    error,
                )
                for error in field.errors
            )
    return (
        '\n<div class="fr-alert fr-alert--error fr-mb-4w crispy-dsfr-error-summary" role="alert"'
        ' tabindex="-1" data-error-summary>\n'
        f'  <h2 class="fr-alert__title">{title}</h2>\n'
        f"  <ul>{''.join(items)}\n  </ul>\n</div>"
    )


def _label(field) -> str:
    """crispy_dsfr/fields/label.html"""
    optional = (
        f' <span class="crispy-dsfr-optional">{gettext("(facultatif)")}</span>'
        if dsfr_optional(field)
        else ""
    )
    help_text = (
        format_html(
            '\n  <span class="fr-hint-text" id="{}_helptext">{}</span>',
            field.auto_id,
            field.help_text,
        )
        if field.help_text
        else ""
    )
    return format_html(
        '<label class="fr-label" for="{}">{}{}{}</label>',
        field.id_for_label,
        field.label,
        mark_safe(optional),  # noqa: S308 - our catalogue's literal, as {% translate %}
        help_text,
    )


def _field_errors(field, indent: str) -> str:
    return "".join(
        format_html('\n{}<p class="fr-message fr-message--error">{}</p>', indent, error)
        for error in field.errors
    )


def _field(field) -> str:
    """crispy_dsfr/field.html, with fields/input.html or fields/upload.html"""
    kind = dsfr_kind(field)
    if kind == "hidden":
        return f"{field}\n"
    if kind == "file":
        dropped = (
            '\n    <p class="fr-message fr-message--info" data-files-dropped>'
            + gettext(
                "Le formulaire n'a pas été enregistré : les fichiers que vous aviez choisis "
                "n'ont pas été conservés. Choisissez-les de nouveau."
            )
            + "</p>"
            if dsfr_files_dropped(field)
            else ""
        )
        body = (
            f'<div class="fr-upload-group{" fr-upload-group--error" if field.errors else ""}"'
            f' id="{conditional_escape(field.auto_id)}-group">\n'
            f"  {_label(field)}\n\n"
            f"  {dsfr_widget(field)}\n"
            f'  <div class="fr-messages-group" id="{conditional_escape(field.auto_id)}_error"'
            f' aria-live="polite">{_field_errors(field, "    ")}{dropped}</div>\n'
            "</div>\n"
        )
    else:
        disabled = " fr-input-group--disabled" if field.field.disabled else ""
        body = (
            f'<div class="fr-input-group{" fr-input-group--error" if field.errors else ""}'
            f'{disabled}" id="{conditional_escape(field.auto_id)}-group">\n'
            f"  {_label(field)}\n\n"
            f"  {dsfr_widget(field)}\n"
            f'  <div class="fr-messages-group" id="{conditional_escape(field.auto_id)}_error"'
            f' aria-live="polite">{_field_errors(field, "  ")}</div>\n\n'
            "</div>\n"
        )
    return f"\n{body}\n\n"


def _actions(actions) -> str:
    """crispy_dsfr/layout/actions.html with layout/button.html"""
    css = " fr-btns-group--inline-md" if actions.inline else ""
    if actions.css_class:
        css += f" {conditional_escape(actions.css_class)}"
    items = "".join(
        format_html(
            '\n  <li><button type="{}" class="{}"{}{}>{}</button>\n</li>',
            button.kind,
            button.css_class,
            format_html(' name="{}" value="{}"', button.name, button.value) if button.name else "",
            button.flat_attrs,
            button.label,
        )
        for button in actions.fields
    )
    return f'<ul class="fr-btns-group fr-btns-group--icon-left fr-mt-2w{css}">{items}\n</ul>\n'


def render_form(form: forms.Form, csrf_token) -> SafeString | None:
    """What ``{% crispy form %}`` renders for ``form`` (its ``helper``), or None when its
    layout holds something this module does not write."""
    helper = getattr(form, "helper", None)
    if helper is None or not _supported(form, helper):
        return None
    parts = []
    for item in helper.layout.fields:
        parts.append(_field(form[item]) if isinstance(item, str) else _actions(item))
    enctype = ' enctype="multipart/form-data"' if form.is_multipart() else ""
    # As {% csrf_token %} writes it.
    csrf = (
        format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)
        if csrf_token and csrf_token != "NOTPROVIDED"  # noqa: S105 - Django's marker
        else ""
    )
    # The form's attributes as FormHelper.get_attributes gives them (without its other keys).
    attrs = dict(helper.attrs) if helper.attrs else {}
    action = helper.form_action  # (crispy tries it as a URL name each time it is read)
    if action:
        attrs["action"] = action.strip()
    if helper.form_id:
        attrs["id"] = helper.form_id.strip()
    if helper.form_class:
        attrs["class"] = helper.form_class.strip()
    return mark_safe(  # noqa: S308 - every part is escaped above or a widget's rendering
        f'<form{flatatt(attrs)} method="post"{enctype} novalidate>\n'
        f"  {csrf}\n"
        f"  {_errors(form)}\n\n"
        f"  {''.join(parts)}\n\n"
        "  \n\n"
        "</form>\n"
    )
