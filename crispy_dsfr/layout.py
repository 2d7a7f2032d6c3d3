"""Layout objects of the ``crispy_dsfr`` pack, for what crispy's generic ones cannot express in
DSFR markup: form sections (``fr-fieldset`` with a heading as legend), button groups and
buttons (``<button class="fr-btn">``, never ``<input type="submit">``)."""

from crispy_forms.layout import LayoutObject
from crispy_forms.utils import TEMPLATE_PACK, flatatt
from django.template.loader import render_to_string


class Section(LayoutObject):
    """A DSFR fieldset whose legend is a heading: one clear section of a long form."""

    template = "%s/layout/section.html"

    def __init__(self, legend, *fields, hint=None, css_id=None, heading_level=2):
        self.legend = legend
        self.fields = list(fields)
        self.hint = hint
        self.css_id = css_id
        self.heading_level = heading_level

    def render(self, form, context, template_pack=TEMPLATE_PACK, **kwargs):
        # Fields inside a fieldset are wrapped in ``fr-fieldset__element`` (see field.html).
        with context.push(in_fieldset=True):
            fields = self.get_rendered_fields(form, context, template_pack, **kwargs)
        return render_to_string(
            self.get_template_name(template_pack),
            {**context.flatten(), "section": self, "fields": fields},
        )


class Button:
    """A DSFR button. ``name``/``value`` tell the view which button was pressed."""

    template = "%s/layout/button.html"

    def __init__(self, label, *, name=None, value="1", kind="submit", secondary=False,
                 icon=None, css_class="", **attrs):  # fmt: skip
        self.label = label
        self.name = name
        self.value = value
        self.kind = kind
        self.css_class = " ".join(
            part
            for part in (
                "fr-btn",
                "fr-btn--secondary" if secondary else "",
                f"{icon} fr-btn--icon-left" if icon else "",
                css_class,
            )
            if part
        )
        self.flat_attrs = flatatt(attrs)

    def render(self, form, context, template_pack=TEMPLATE_PACK, **kwargs):
        return render_to_string(self.template % template_pack, {"button": self})


class LinkButton(Button):
    """A link styled as a DSFR button (e.g. "Annuler" back to the previous page)."""

    template = "%s/layout/link_button.html"

    def __init__(self, label, url, *, secondary=True, **kwargs):
        super().__init__(label, kind="link", secondary=secondary, **kwargs)
        self.url = url


class Actions(LayoutObject):
    """A DSFR button group: each child becomes one ``<li>``."""

    template = "%s/layout/actions.html"

    def __init__(self, *fields, inline=True, css_class=""):
        self.fields = list(fields)
        self.inline = inline
        self.css_class = css_class

    def render(self, form, context, template_pack=TEMPLATE_PACK, **kwargs):
        items = [field.render(form, context, template_pack=template_pack) for field in self.fields]
        return render_to_string(
            self.get_template_name(template_pack), {"actions": self, "items": items}
        )
