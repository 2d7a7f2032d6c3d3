"""The admin's index page (``admin/index.html`` with ``app_list.html``) written out in Python.

The index is the back office's home page; its template rendered ~150 nodes (the application
list, one row and three links per model, the recent actions) around the shell. ``IndexPage``
stands in for the template in the index's ``TemplateResponse`` and writes the same markup
from the same context (``tests/anct_portal/test_admin_shell.py`` compares the two).
"""

from django.template.defaultfilters import capfirst, urlencode
from django.template.loader import get_template, select_template
from django.template.response import TemplateResponse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from anct_portal import admin_shell
from anct_portal.admin_shell import static_url

esc = conditional_escape

# Django's own texts (admin/index.html, app_list.html), translated by Django's catalogue:
# variables, so that they are not extracted into the project's.
MODELS_IN = "Models in the %(name)s application"
MODEL_NAME = "Model name"
ADD_LINK = "Add link"
CHANGE_OR_VIEW = "Change or view list link"
ADD = "Add"
VIEW = "View"
CHANGE = "Change"
NO_PERMISSION = "You don’t have permission to view or edit anything."
RECENT_ACTIONS = "Recent actions"
MY_ACTIONS = "My actions"
NONE_AVAILABLE = "None available"
ADDED = "Added:"
CHANGED = "Changed:"
DELETED = "Deleted:"
UNKNOWN_CONTENT = "Unknown content"
RECENT_ACTIONS_LIMIT = 10  # {% get_admin_log 10 … %}


class IndexPage:
    """A template-like object for the index's ``TemplateResponse``: the stock page, written
    out. ``template_name``: the template it replaces."""

    def __init__(self, template_name):
        self.template_name = template_name

    def render(self, context=None, request=None):
        return SafeString(index_html(context, request))

    def stock_template(self):
        """The template's own rendering of the page (for tests)."""
        names = self.template_name
        return get_template(names) if isinstance(names, str) else select_template(names)


def written_out(response) -> None:
    """Let the index's ``response`` render through ``IndexPage`` when it is the stock page
    without the navigation sidebar."""
    if not isinstance(response, TemplateResponse) or response.is_rendered:
        return
    context = response.context_data or {}
    if (
        response.template_name != "admin/index.html"
        or context.get("is_popup")
        or context.get("is_nav_sidebar_enabled")
        or "app_list" not in context
    ):
        return
    response.template_name = IndexPage(response.template_name)


def app_list_html(request, app_list, show_changelinks=True) -> str:
    """``admin/app_list.html``."""
    if not app_list:
        return f"<p>{gettext(NO_PERMISSION)}</p>\n"
    path = urlencode(request.path)
    out = []
    for app in app_list:
        label = esc(app["app_label"])
        app_url = app["app_url"]
        current = " current-app" if app_url in path else ""
        title = gettext(MODELS_IN).replace("%(name)s", str(esc(app["name"])))
        out.append(
            f'<div class="app-{label} module{current}">\n<table>\n<caption>\n'
            f'<a href="{esc(app_url)}" class="section" title="{title}">{esc(app["name"])}</a>\n'
            '</caption>\n<thead class="visually-hidden">\n<tr>\n'
            f'<th scope="col">{gettext(MODEL_NAME)}</th>\n'
            f'<th scope="col">{gettext(ADD_LINK)}</th>\n'
            f'<th scope="col">{gettext(CHANGE_OR_VIEW)}</th>\n'
            "</tr>\n</thead>\n"
        )
        for model in app["models"]:
            model_name = esc(str(model["object_name"]).lower())
            admin_url = model["admin_url"]
            here = admin_url and admin_url in path
            out.append(
                f'<tr class="model-{model_name}{" current-model" if here else ""}">\n'
                f'<th scope="row" id="{label}-{model_name}">\n'
            )
            if admin_url:
                current_page = ' aria-current="page"' if here else ""
                out.append(f'<a href="{esc(admin_url)}"{current_page}>{esc(model["name"])}</a>\n')
            else:
                out.append(f"{esc(model['name'])}\n")
            out.append("</th>\n")
            described = f'aria-describedby="{label}-{model_name}"'
            if model["add_url"]:
                out.append(
                    f'<td><a href="{esc(model["add_url"])}" class="addlink" {described}>'
                    f"{gettext(ADD)}</a></td>\n"
                )
            else:
                out.append("<td></td>\n")
            if admin_url and show_changelinks:
                if model.get("view_only"):
                    kind, text = "viewlink", gettext(VIEW)
                else:
                    kind, text = "changelink", gettext(CHANGE)
                out.append(
                    f'<td><a href="{esc(admin_url)}" class="{kind}" {described}>{text}</a></td>\n'
                )
            elif show_changelinks:
                out.append("<td></td>\n")
            out.append("</tr>\n")
        out.append("</table>\n</div>\n")
    return "".join(out)


def recent_actions_html(context, request) -> str:
    """The ``sidebar`` block of ``admin/index.html`` (``{% get_admin_log 10 as admin_log
    for_user user %}``: the site's ``log_entries`` of this user)."""
    entries = list(context["log_entries"].filter(user__pk=request.user.pk)[:RECENT_ACTIONS_LIMIT])
    out = [
        '<div id="content-related">\n<div class="module" id="recent-actions-module">\n'
        f"<h2>{gettext(RECENT_ACTIONS)}</h2>\n<h3>{gettext(MY_ACTIONS)}</h3>\n"
    ]
    if not entries:
        out.append(f"<p>{gettext(NONE_AVAILABLE)}</p>\n")
    else:
        out.append('<ul class="actionlist">\n')
        for entry in entries:
            css = (
                ("addlink" if entry.is_addition() else "")
                + ("changelink" if entry.is_change() else "")
                + ("deletelink" if entry.is_deletion() else "")
            )
            if entry.is_addition():
                verb = gettext(ADDED)
            elif entry.is_change():
                verb = gettext(CHANGED)
            elif entry.is_deletion():
                verb = gettext(DELETED)
            else:
                verb = ""
            out.append(f'<li class="{css}">\n<span class="visually-hidden">{verb}</span>\n')
            admin_url = None if entry.is_deletion() else entry.get_admin_url()
            if admin_url:
                out.append(f'<a href="{esc(admin_url)}">{esc(entry.object_repr)}</a>\n')
            else:
                out.append(f"{esc(entry.object_repr)}\n")
            out.append("<br>\n")
            if entry.content_type:
                # {% filter capfirst %}: the escaped name, capitalised.
                name = capfirst(str(esc(entry.content_type.name)))
                out.append(f'<span class="mini quiet">{name}</span>\n')
            else:
                out.append(f'<span class="mini quiet">{gettext(UNKNOWN_CONTENT)}</span>\n')
            out.append("</li>\n")
        out.append("</ul>\n")
    out.append("</div>\n</div>\n")
    return "".join(out)


def index_html(context, request) -> str:
    """``admin/index.html``."""
    key = ("index", *admin_shell.cache_key(request))
    dashboard_css = admin_shell.PAGE_PARTS.get(key)
    if dashboard_css is None:
        dashboard_css = admin_shell.PAGE_PARTS[key] = (
            f'<link rel="stylesheet" href="{static_url("admin/css/dashboard.css")}">'
        )
    return admin_shell.page(
        request,
        context,
        extrastyle=dashboard_css,
        bodyclass=" dashboard",
        breadcrumbs=None,
        coltype="colMS",
        content=(f'<div id="content-main">\n{app_list_html(request, context["app_list"])}</div>\n'),
        sidebar=recent_actions_html(context, request),
    )
