"""``format_html`` and ``conditional_escape`` for the change lists' cells: the same text as
Django's, without the lazy-string wrappers around each call (``keep_lazy``), which cost more
than the escaping itself when a page builds a few hundred cells."""

import html

from django.utils.functional import Promise
from django.utils.safestring import SafeString


def escaped(value) -> str:
    """``django.utils.html.conditional_escape(value)``."""
    kind = value.__class__
    if kind is str:  # most cells: no lazy string, no ``__html__`` to look for
        return html.escape(value)
    if kind is SafeString:
        return value
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def format_html(format_string: str, *args) -> SafeString:
    """``django.utils.html.format_html(format_string, *args)`` (positional arguments)."""
    return SafeString(format_string.format(*[escaped(arg) for arg in args]))


def format_html_join(separator: str, format_string: str, args_generator) -> SafeString:
    """``django.utils.html.format_html_join``."""
    return SafeString(
        escaped(separator).join(
            format_string.format(*[escaped(arg) for arg in args]) for args in args_generator
        )
    )
