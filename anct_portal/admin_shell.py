"""The admin's page shell (``admin/base.html`` with ``admin/base_site.html``) written out in
Python, for the pages the back office serves most (the change lists).

Rendering the shell through the template engine cost ~1 ms a page (a hundred nodes, a dozen
``{% static %}``, ``{% url %}`` and ``{% translate %}``); its fixed parts depend only on the
language, the script prefix and the static files storage, so they are built once per process
for each of those and the page adds what is per request (title, user, CSRF token, messages,
UTC offset). Same markup as the stock templates: ``tests/anct_portal/test_admin_shell.py``
compares the two.
"""

from datetime import datetime
from pathlib import Path

import django.contrib.admin
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.backends.utils import csrf_input
from django.template.defaultfilters import capfirst
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import conditional_escape
from django.utils.translation import get_language, get_language_bidi, gettext

# Django's own texts (admin/base.html, base_site.html, color_theme_toggle.html), translated by
# Django's catalogue: variables, so that they are not extracted into the project's.
SKIP_TO_CONTENT = "Skip to main content"
WELCOME = "Welcome,"
VIEW_SITE = "View site"
DOCUMENTATION = "Documentation"
CHANGE_PASSWORD = "Change password"  # noqa: S105 (a label)
LOG_OUT = "Log out"
BREADCRUMBS = "Breadcrumbs"
HOME = "Home"
DEFAULT_SITE_TITLE = "Django site admin"
DEFAULT_SITE_HEADER = "Django administration"
THEME_AUTO = "Toggle theme (current theme: auto)"
THEME_LIGHT = "Toggle theme (current theme: light)"
THEME_DARK = "Toggle theme (current theme: dark)"


def _stock_svgs() -> str:
    """The icons at the end of the admin's ``base.html`` (plain markup, no template tag)."""
    source = (Path(django.contrib.admin.__file__).parent / "templates/admin/base.html").read_text()
    start = source.index("<!-- SVGs -->")
    end = source.index("<!-- END SVGs -->") + len("<!-- END SVGs -->")
    return source[start:end]


_SVGS = _stock_svgs()


def static_url(path: str) -> str:
    """``{% static path %}`` as a template writes it (escaped)."""
    return conditional_escape(static(path))


def url(name: str, current_app: str | None, *args, **kwargs) -> str:
    """``{% url name … %}`` in a page of the admin site ``current_app`` (escaped)."""
    return conditional_escape(reverse(name, args=args, kwargs=kwargs, current_app=current_app))


# (language, script prefix, admin site) -> the shell's fixed parts. A handful of keys.
_PARTS: dict[tuple, dict[str, str]] = {}
# Anything else a page caches alongside (its own fixed parts), under the same lifetime.
PAGE_PARTS: dict[tuple, object] = {}


@receiver(setting_changed)
def _forget_parts(**kwargs):
    # Static files storage, URLs or languages may change under tests' override_settings.
    _PARTS.clear()
    PAGE_PARTS.clear()


def cache_key(request) -> tuple:
    return (get_language(), get_script_prefix(), getattr(request, "current_app", None))


def parts(request) -> dict[str, str]:
    key = cache_key(request)
    found = _PARTS.get(key)
    if found is None:
        found = _PARTS[key] = _build_parts(getattr(request, "current_app", None))
    return found


def _build_parts(current_app) -> dict[str, str]:
    language = get_language() or "en-us"
    bidi = get_language_bidi()
    try:
        docsroot = url("django-admindocs-docroot", current_app)
    except NoReverseMatch:
        docsroot = ""
    rtl = f'<link rel="stylesheet" href="{static_url("admin/css/rtl.css")}">' if bidi else ""
    responsive_rtl = (
        f'<link rel="stylesheet" href="{static_url("admin/css/responsive_rtl.css")}">'
        if bidi
        else ""
    )
    return {
        "head": (
            f'<!DOCTYPE html>\n\n<html lang="{conditional_escape(language)}" '
            f'dir="{"rtl" if bidi else "ltr"}">\n<head>\n<title>'
        ),
        "stylesheets": (
            f'<link rel="stylesheet" href="{static_url("admin/css/base.css")}">\n'
            f'  <link rel="stylesheet" href="{static_url("admin/css/dark_mode.css")}">\n'
            f'  <script src="{static_url("admin/js/theme.js")}"></script>\n'
        ),
        "rtl": rtl,
        "responsive": (
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f'    <link rel="stylesheet" href="{static_url("admin/css/responsive.css")}">\n'
            f"    {responsive_rtl}\n"
            '<meta name="robots" content="NONE,NOARCHIVE">\n</head>\n'
        ),
        "skip": (
            '<a href="#content-start" class="skip-to-content-link">'
            f"{gettext(SKIP_TO_CONTENT)}</a>\n"
            '<!-- Container -->\n<div id="container">\n'
        ),
        "index_url": url("admin:index", current_app),
        "welcome": gettext(WELCOME),
        "view_site": gettext(VIEW_SITE),
        "docs": (f'<a href="{docsroot}">{gettext(DOCUMENTATION)}</a> /\n' if docsroot else ""),
        "password": (
            f'<a href="{url("admin:password_change", current_app)}">'
            f"{gettext(CHANGE_PASSWORD)}</a> /\n"
        ),
        "logout_form": (
            f'<form id="logout-form" method="post" action="{url("admin:logout", current_app)}">'
        ),
        "logout": (f'<button type="submit">{gettext(LOG_OUT)}</button>\n</form>\n'),
        "theme_toggle": (
            '<button class="theme-toggle">\n'
            '  <span class="visually-hidden theme-label-when-auto">'
            f"{gettext(THEME_AUTO)}</span>\n"
            '  <span class="visually-hidden theme-label-when-light">'
            f"{gettext(THEME_LIGHT)}</span>\n"
            '  <span class="visually-hidden theme-label-when-dark">'
            f"{gettext(THEME_DARK)}</span>\n"
            '  <svg aria-hidden="true" class="theme-icon-when-auto">\n'
            '    <use xlink:href="#icon-auto" />\n  </svg>\n'
            '  <svg aria-hidden="true" class="theme-icon-when-dark">\n'
            '    <use xlink:href="#icon-moon" />\n  </svg>\n'
            '  <svg aria-hidden="true" class="theme-icon-when-light">\n'
            '    <use xlink:href="#icon-sun" />\n  </svg>\n</button>\n'
        ),
        "breadcrumbs_label": gettext(BREADCRUMBS),
        "home": gettext(HOME),
        "default_site_title": gettext(DEFAULT_SITE_TITLE),
        "default_site_header": gettext(DEFAULT_SITE_HEADER),
        "end": (
            '<footer id="footer"></footer>\n</div>\n<!-- END Container -->\n\n'
            f"{_SVGS}\n\n</body>\n</html>\n"
        ),
    }


def utc_offset() -> str:
    """``{% now "Z" %}``."""
    tzinfo = timezone.get_current_timezone() if settings.USE_TZ else None
    return date_format(datetime.now(tz=tzinfo), "Z")


def messages_html(request) -> str:
    """The ``messages`` block (the messages context processor's storage; reading it marks
    them shown, as the template does)."""
    messages = get_messages(request)
    if not messages:
        return ""
    items = []
    for message in messages:
        tags = f' class="{conditional_escape(message.tags)}"' if message.tags else ""
        items.append(f"<li{tags}>{conditional_escape(capfirst(message))}</li>\n")
    items = "".join(items)
    return f'<ul class="messagelist">{items}</ul>\n'


def page(
    request,
    context,
    *,
    title_prefix: str = "",
    extrastyle: str = "",
    extrahead: str = "",
    bodyclass: str = "",
    breadcrumbs: str | None,
    coltype: str = "colM",
    content: str,
    sidebar: str = "",
    csrf: str | None = None,
) -> str:
    """An admin page (not a popup, without the navigation sidebar) around its blocks, each
    given as escaped HTML (``breadcrumbs`` None: no ``nav-breadcrumbs`` block at all).
    ``context``: the admin site's ``each_context`` with the page's ``title`` and
    ``subtitle``; ``csrf``: the page's ``{% csrf_token %}`` if already read."""
    fixed = parts(request)
    user = request.user
    title = context.get("title")
    subtitle = context.get("subtitle")
    site_title = context.get("site_title")
    site_title = conditional_escape(site_title) if site_title else fixed["default_site_title"]
    site_header = context.get("site_header")
    site_header = conditional_escape(site_header) if site_header else fixed["default_site_header"]
    html_title = conditional_escape(title)
    html_subtitle = conditional_escape(subtitle) if subtitle else ""
    out = [
        fixed["head"],
        title_prefix,
        f"{html_subtitle} | " if subtitle else "",
        f"{html_title} | {site_title}</title>\n",
        fixed["stylesheets"],
        extrastyle,
        fixed["rtl"],
        extrahead,
        fixed["responsive"],
        f'\n<body class="{bodyclass}"\n  data-admin-utc-offset="{utc_offset()}">\n',
        fixed["skip"],
        '<!-- Header -->\n<header id="header">\n<div id="branding">\n<div id="site-name">'
        f'<a href="{fixed["index_url"]}">{site_header}</a></div>\n',
    ]
    if user.is_anonymous:
        out.append(fixed["theme_toggle"])
    out.append("</div>\n")
    if context.get("has_permission"):
        name = user.get_short_name() or user.get_username()
        out.append(
            f'<div id="user-tools">\n{fixed["welcome"]}\n'
            f"<strong>{conditional_escape(name)}</strong>.\n"
        )
        if site_url := context.get("site_url"):
            out.append(f'<a href="{conditional_escape(site_url)}">{fixed["view_site"]}</a> /\n')
        if user.is_active and user.is_staff:
            out.append(fixed["docs"])
        if user.has_usable_password():
            out.append(fixed["password"])
        if csrf is None:
            csrf = csrf_input(request)
        out.append(
            f"{fixed['logout_form']}\n{csrf}\n{fixed['logout']}{fixed['theme_toggle']}</div>\n"
        )
    out.append("</header>\n<!-- END Header -->\n")
    if breadcrumbs is not None:
        out.append(f'<nav aria-label="{fixed["breadcrumbs_label"]}">\n{breadcrumbs}\n</nav>\n')
    out.append(
        '<div class="main" id="main">\n<main id="content-start" class="content" tabindex="-1">\n'
    )
    out.append(messages_html(request))
    out.append(f'<!-- Content -->\n<div id="content" class="{coltype}">\n')
    if title:
        out.append(f"<h1>{html_title}</h1>\n")
    if subtitle:
        out.append(f"<h2>{html_subtitle}</h2>\n")
    out.append(content)
    out.append(sidebar)
    out.append(
        '\n<br class="clear">\n</div>\n<!-- END Content -->\n</main>\n</div>\n' + fixed["end"]
    )
    return "".join(out)
