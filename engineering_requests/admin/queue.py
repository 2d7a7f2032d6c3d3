"""The national queue: escalations awaiting a decision, oldest first, with their justification
readable in the list, so that national staff can sort their work without opening each one."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts import roles
from engineering_requests.admin import filters
from engineering_requests.admin.access import request_is_backoffice
from engineering_requests.admin.changelist import NextPageChangeList, page_value
from engineering_requests.admin.display import (
    age_label,
    days_since,
    escalation_flags,
    escalation_grounds,
    excerpt,
    tag_list,
)
from engineering_requests.admin.markup import escaped, format_html
from engineering_requests.admin.requests import DELEGATE_NAME_FIELDS, BackofficeRequestAdminMixin
from engineering_requests.enums import RequestState
from engineering_requests.models import EscalatedRequest


def _is_national(request) -> bool:
    user = request.user
    return request_is_backoffice(request) and (roles.is_national_staff(user) or user.is_superuser)


# (local day, age in days, language) -> the cell: a few hundred combinations.
_ESCALATED_ON: dict[tuple, str] = {}


def _escalated_on(obj, tz=None, now=None, language=None) -> str:
    if obj.escalated_at is None:
        return "–"
    moment = obj.escalated_at.astimezone(tz) if tz else timezone.localtime(obj.escalated_at)
    language = language or get_language()
    key = (moment.date(), days_since(obj.escalated_at, now), language)
    html = _ESCALATED_ON.get(key)
    if html is None:
        html = format_html(
            '{}<br><span class="quiet">{}</span>',
            moment.strftime("%d/%m/%Y"),
            age_label(obj.escalated_at, now=now, language=language),
        )
        if len(_ESCALATED_ON) >= 20_000:
            _ESCALATED_ON.clear()
        _ESCALATED_ON[key] = html
    return html


# (language, grounds and flags claimed) -> their tags: a few dozen combinations.
_GROUNDS: dict[tuple, str] = {}


def _grounds(obj, language=None) -> str:
    key = (
        language or get_language(),
        obj.claims_fragility_and_lack_of_resources,
        bool(obj.fragility_rationale.strip()),
        bool(obj.insufficient_resources_rationale.strip()),
        obj.claims_innovative_or_complex,
        obj.rare_expertise,
        obj.national_scope,
    )
    html = _GROUNDS.get(key)
    if html is None:
        flags = escalation_flags(obj)
        html = format_html(
            "{} {}",
            tag_list(escalation_grounds(obj)),
            tag_list(flags, "request-tag request-tag--flag") if flags else "",
        )
        if len(_GROUNDS) < 1000:
            _GROUNDS[key] = html
    return html


def _justification_labels() -> tuple[str, str, str]:
    return (str(_("Fragilité")), str(_("Ressources locales")), str(_("Innovant ou complexe")))


def _justification_openings(labels=None) -> tuple[str, str, str]:
    """Each justification's paragraph up to its text (the label escaped once a page)."""
    return tuple(
        f'<p class="justification"><strong>{escaped(label)} :</strong> '
        for label in labels or _justification_labels()
    )


def _justification(obj, openings=None) -> str:
    """``format_html_join`` of a paragraph per justification given (written out: three
    ``format_html`` a row cost more than their escaping)."""
    fragility, resources, innovative = openings or _justification_openings()
    parts = []
    for opening, text in (
        (fragility, obj.fragility_rationale),
        (resources, obj.insufficient_resources_rationale),
        (innovative, obj.innovative_rationale),
    ):
        if text.strip():
            parts.append(f"{opening}{escaped(excerpt(text, 220))}</p>")
    return SafeString("".join(parts))


@admin.register(EscalatedRequest)
class NationalQueueAdmin(BackofficeRequestAdminMixin, admin.ModelAdmin):
    list_display = (
        "reference_link",
        "collectivity_name",
        "escalated_on",
        "grounds",
        "justification",
        "delegate_name",
    )
    list_display_links = None
    # The delegate is a model (``User.get_full_name``); the collectivité and the département
    # are read as annotations (``list_page_annotations``).
    list_select_related = ("assigned_delegate",)
    list_page_fields = (
        "reference",
        "title",
        "state",
        "escalated_at",
        "fragility_rationale",
        "insufficient_resources_rationale",
        "innovative_rationale",
        "rare_expertise",
        "national_scope",
        *DELEGATE_NAME_FIELDS,
    )
    list_page_columns = (
        "pk",
        "reference",
        "title",
        "state",
        "escalated_at",
        "fragility_rationale",
        "insufficient_resources_rationale",
        "innovative_rationale",
        "rare_expertise",
        "national_scope",
        "list_collectivity_name",
        "list_departement_code",
        "list_departement_name",
        "assigned_delegate",
    )
    list_filter = (filters.EscalationGroundFilter, filters.DepartementFilter)
    search_fields = ("reference", "title", "collectivity__name", "collectivity__code")
    search_help_text = _("Référence, intitulé, nom ou code INSEE de la collectivité.")
    ordering = ("escalated_at", "pk")
    sortable_by = ()
    list_per_page = 50
    actions = None

    class Media:
        css = {"all": ("engineering_requests/admin.css",)}
        js = ("engineering_requests/admin.js",)

    def has_module_permission(self, request):
        return _is_national(request)

    def has_view_permission(self, request, obj=None):
        return _is_national(request) and super().has_view_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(state=RequestState.ESCALATED)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "title": _("Transmissions en attente de décision"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def get_changelist(self, request, **kwargs):
        return NextPageChangeList

    def _request_url(self, obj, view="change"):
        return reverse(f"admin:engineering_requests_engineeringrequest_{view}", args=[obj.pk])

    # The queue only lists; a request opens on its own page, where the decisions are taken.
    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return HttpResponseRedirect(self._request_url(obj))

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return HttpResponseRedirect(self._request_url(obj, "history"))

    def annotate_page(self, rows):
        """The page's cells that need the language, the time zone or the translated labels,
        computed once for the page rather than once per cell (each ``gettext`` or
        ``localtime`` costs a thread-local lookup)."""
        # One ``reverse`` for the page's links (fifty cost 0.7 ms).
        start, end = reverse(
            "admin:engineering_requests_engineeringrequest_change", args=["__pk__"]
        ).split("__pk__")
        tz, now, language = timezone.get_current_timezone(), timezone.now(), get_language()
        openings = _justification_openings()
        for row in rows:
            row.list_change_url = f"{start}{row.pk}{end}"
            row.list_escalated_on = _escalated_on(row, tz, now, language)
            row.list_grounds = _grounds(row, language)
            row.list_justification = _justification(row, openings)

    @admin.display(description=_("référence"))
    def reference_link(self, obj):
        url = obj.__dict__.get("list_change_url") or self._request_url(obj)
        return SafeString(
            f'<a href="{escaped(url)}"><strong>{escaped(obj.reference)}</strong></a><br>'
            f'<span class="quiet">{escaped(excerpt(obj.title, 80))}</span>'
        )

    def list_page_annotations(self):
        return {
            "list_collectivity_name": F("collectivity__name"),
            "list_departement_code": F("departement__code"),
            "list_departement_name": F("departement__name"),
        }

    @admin.display(description=_("collectivité"))
    def collectivity_name(self, obj):
        name = page_value(obj, "list_collectivity_name", lambda: obj.collectivity.name)
        code = page_value(obj, "list_departement_code", lambda: obj.departement.code)
        departement = page_value(obj, "list_departement_name", lambda: obj.departement.name)
        return SafeString(
            f'{escaped(name)}<br><span class="quiet">{escaped(code)} – '
            f"{escaped(departement)}</span>"
        )

    @admin.display(description=_("transmise le"))
    def escalated_on(self, obj):
        return page_value(obj, "list_escalated_on", lambda: _escalated_on(obj))

    @admin.display(description=_("motifs et indicateurs"))
    def grounds(self, obj):
        return page_value(obj, "list_grounds", lambda: _grounds(obj))

    @admin.display(description=_("justification"))
    def justification(self, obj):
        return page_value(obj, "list_justification", lambda: _justification(obj))

    @admin.display(description=_("délégué"))
    def delegate_name(self, obj):
        delegate = obj.assigned_delegate
        return (delegate.get_full_name() or delegate.email) if delegate else "–"
