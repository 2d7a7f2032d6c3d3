"""The portal's shell (head links, header, footer, scripts) with as little work per request as
possible: every portal page pays for it.

Its templates (``templates/includes/``) stay the source of the markup, but they hold no data of
the request: each is rendered once per process for each combination of what it tests (the
language, signed in or not, staff or not, the active menu entry, the unread count…), from a
plain ``Context`` holding only those values, never the request nor the user. What differs for
every request (the CSRF token, the user's name, the current path, the CSP nonce) is a *slot*:
the template writes it as a plain ``{{ name }}`` (or ``{% csrf_token %}``); it is rendered as a
marker, and each request's value is put in its place, escaped as ``{{ name }}`` escapes it.

Rendering the same templates with Django for every request cost ~1 ms of CPU per page; this
costs a few dictionary look-ups and joins. tests/anct_portal/test_shell_rendering.py compares
whole pages with the templates rendered for each request.
"""

import re
import secrets

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import QueryDict
from django.template import Context
from django.template.defaultfilters import urlencode
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.autoreload import file_changed
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

from anct_portal.context_processors import SERVICE_NAME, SERVICE_TAGLINE
from anct_portal.menu import menu_for

# Letters and digits only: escaping leaves a marker as it is. Random per process, so that no
# text of a template can look like one.
_MARK = f"shellslot{secrets.token_hex(6)}"
_SLOT = re.compile(f"{_MARK}([a-z_]+){_MARK}")
_MAX_FRAGMENTS = 2000  # far above what the keys can reach; a guard, not a policy

_fragments: dict = {}


@receiver(setting_changed)
def _forget_fragments(**kwargs) -> None:
    # Templates, URLs, static files and languages all come from settings (tests change them).
    _fragments.clear()


@receiver(file_changed)
def _forget_edited_templates(sender, file_path, **kwargs) -> None:
    # runserver reloads an edited template without restarting: so must the fragments. (Returns
    # None: a true value would stop the autoreloader from restarting for other files.)
    if file_path.suffix != ".py":
        _fragments.clear()


def _marker(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


def _parts(template_name: str, values: dict, slots: tuple[str, ...], extra=None) -> list[str]:
    """``template_name`` rendered with ``values`` (what it tests) and a marker for each slot,
    split at the markers: literal markup at even positions, slot names at odd ones. ``extra``:
    more context that ``values`` and the language determine (not part of the key)."""
    key = (
        template_name,
        get_language(),
        get_script_prefix(),
        get_urlconf(),
        tuple(values.items()),
        slots,  # a template may test whether a slot is there
    )
    parts = _fragments.get(key)
    if parts is None:
        context = {
            "SERVICE_NAME": SERVICE_NAME,
            "SERVICE_TAGLINE": SERVICE_TAGLINE,
            **(extra or {}),
            **values,
            **{name: mark_safe(_marker(name)) for name in slots},  # noqa: S308
        }
        html = get_template(template_name).template.render(Context(context))
        parts = _SLOT.split(html)
        if any(_MARK in part for part in parts[::2]) or not set(parts[1::2]) <= set(slots):
            raise ImproperlyConfigured(
                f"{template_name}: a slot must be written as a plain {{{{ name }}}}"
            )
        if len(_fragments) >= _MAX_FRAGMENTS:
            _fragments.clear()
        _fragments[key] = parts
    return parts


def _fill(parts: list[str], slots: dict) -> str:
    if len(parts) == 1:
        return parts[0]
    # As {{ name }} does: escaped unless already safe.
    return "".join(
        part if index % 2 == 0 else conditional_escape(slots[part])
        for index, part in enumerate(parts)
    )


def fragment(template_name: str, values: dict | None = None, *, extra=None, **slots) -> str:
    """``template_name`` rendered with ``values`` (small, hashable: part of the cache key) and
    the per-request ``slots``, as safe markup."""
    parts = _parts(template_name, values or {}, tuple(slots), extra)
    return mark_safe(_fill(parts, slots))  # noqa: S308


def _csrf_token(context) -> str:
    # What {% csrf_token %} needs: none (or Django's "NOTPROVIDED") renders no field at all.
    token = context.get("csrf_token")
    return str(token) if token and token != "NOTPROVIDED" else ""  # noqa: S105


def _user(context, request):
    user = context.get("user")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    return user


def head() -> str:
    """The DSFR's style sheets and icons and the portal's style sheet."""
    return fragment("includes/head.html")


def scripts(context) -> str:
    """The DSFR's scripts with the request's CSP nonce, and the portal's script."""
    request = context.get("request")
    # Read as a string: the lazy nonce is false until read, and reading it is what puts it in
    # the Content-Security-Policy header.
    nonce = str(getattr(request, "csp_nonce", ""))
    if not nonce:
        return fragment("includes/scripts.html")
    return fragment("includes/scripts.html", {"has_nonce": True}, nonce=nonce)


def footer() -> str:
    return fragment("includes/footer.html")


def header(context) -> str:
    """The skip links and the header: brand, tools (notifications, account, sign-out,
    language) and the main menu."""
    request = context.get("request")
    user = _user(context, request)
    signed_in = bool(getattr(user, "is_authenticated", False))
    path = getattr(request, "path", "")
    full_path = request.get_full_path() if request is not None else ""
    view_name = getattr(getattr(request, "resolver_match", None), "view_name", "")
    token = _csrf_token(context)
    tools_values = {"signed_in": signed_in, "has_csrf": bool(token)}
    tools_slots = {"full_path": full_path}
    if token:
        tools_slots["csrf_token"] = token
    unread = 0
    if signed_in:
        from notifications.templatetags.notifications_tags import unread_notifications_count

        unread = unread_notifications_count(context)
        tools_values["staff"] = bool(user.is_staff)
        tools_values["on_account_page"] = view_name == "accounts:account"
        tools_slots["short_name"] = user.get_short_name()
    elif path != "/" and view_name != "accounts:login":
        tools_values["with_next"] = True
        tools_slots["next_query"] = urlencode(full_path)
    tools_slots["notifications"] = fragment(
        "includes/header_notifications.html", {"signed_in": signed_in, "unread": unread}
    )
    tools = fragment("includes/header_tools.html", tools_values, **tools_slots)
    menu = context.get("MAIN_MENU")  # from the context processor
    if menu is None:
        menu = menu_for(request) if request is not None else []
    # The entries' labels follow from their URL and the language (both in the key).
    return fragment(
        "includes/header.html",
        {"menu": tuple((item["url"], item["active"]) for item in menu)},
        extra={"MAIN_MENU": menu},
        header_tools=tools,
    )


def breadcrumb(current, parent_url=None, parent_label=None) -> str:
    """includes/breadcrumb.html as ``{% include %}`` renders it, from its fragments."""
    slots = {"current": current}
    if parent_url:
        slots.update(parent_url=parent_url, parent_label=parent_label)
    return fragment("includes/breadcrumb.html", **slots)


# Pagination -------------------------------------------------------------------------------


def _pagination_text() -> dict:
    key = ("pagination", get_language())
    text = _fragments.get(key)
    if text is None:
        # As {% translate %} and {% blocktranslate %} give them: literals, not escaped.
        text = {
            "nav": gettext("Pagination"),
            "first": gettext("Première page"),
            "previous": gettext("Page précédente"),
            "next": gettext("Page suivante"),
            "last": gettext("Dernière page"),
            "page": gettext("Page %(number)s"),
        }
        _fragments[key] = text
    return text


def pagination(context) -> str:
    """The DSFR pagination of ``page_obj`` over ``page_range`` (the page numbers to show, with
    the paginator's ellipsis), each link keeping the query string but its page."""
    page = context.get("page_obj")
    paginator = getattr(page, "paginator", None)
    if paginator is None or not paginator.num_pages > 1:
        return ""
    text = _pagination_text()
    request = context.get("request")
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)

    def href(number) -> str:
        # As {% query_replace page=… %}: the page replaced where it stands, or added last.
        if number is None:
            without = query.copy()
            without.pop("page", None)
            encoded = without.urlencode()
        else:
            query["page"] = number
            encoded = query.urlencode()
        return escape(f"?{encoded}" if encoded else "?")

    def link(css, label, number, enabled) -> str:
        if enabled:
            return f'<a class="fr-pagination__link {css}" href="{href(number)}">{label}</a>'
        return f'<a class="fr-pagination__link {css}" aria-disabled="true" role="link">{label}</a>'

    previous_css = "fr-pagination__link--prev fr-pagination__link--lg-label"
    next_css = "fr-pagination__link--next fr-pagination__link--lg-label"
    has_previous, has_next = page.has_previous(), page.has_next()
    items = [
        link("fr-pagination__link--first", text["first"], None, has_previous),
        link(previous_css, text["previous"], has_previous and page.number - 1, has_previous),
    ]
    for number in context.get("page_range") or ():
        if number == paginator.ELLIPSIS:
            items.append('<span class="fr-pagination__link fr-hidden fr-unhidden-lg">…</span>')
            continue
        shown = escape(localize(number))  # as {{ number }} shows it
        title = text["page"] % {"number": shown}
        if number == page.number:
            items.append(
                f'<a class="fr-pagination__link" aria-current="page" title="{title}">{shown}</a>'
            )
        else:
            items.append(
                f'<a class="fr-pagination__link" href="{href(number)}" title="{title}">{shown}</a>'
            )
    items.append(link(next_css, text["next"], has_next and page.number + 1, has_next))
    items.append(link("fr-pagination__link--last", text["last"], paginator.num_pages, has_next))
    body = "\n".join(f"    <li>{item}</li>" for item in items)
    return mark_safe(  # noqa: S308 (values escaped above, texts from our catalogue)
        f'<nav role="navigation" class="fr-pagination fr-mt-3w" aria-label="{text["nav"]}">\n'
        f'  <ul class="fr-pagination__list">\n{body}\n  </ul>\n</nav>\n'
    )
