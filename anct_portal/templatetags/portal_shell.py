"""The portal shell's tags for base.html (see anct_portal/shell.py)."""

from django import template

from anct_portal import shell

register = template.Library()


@register.simple_tag
def shell_head():
    return shell.head()


@register.simple_tag(takes_context=True)
def shell_header(context):
    return shell.header(context)


@register.simple_tag
def shell_footer():
    return shell.footer()


@register.simple_tag(takes_context=True)
def shell_scripts(context):
    return shell.scripts(context)


@register.simple_tag
def breadcrumb(current, parent_url=None, parent_label=None):
    """What ``{% include "includes/breadcrumb.html" %}`` shows, rendered once per language."""
    return shell.breadcrumb(current, parent_url, parent_label)


@register.simple_tag(takes_context=True)
def pagination(context):
    return shell.pagination(context)
