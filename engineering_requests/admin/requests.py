"""The requests in the admin: where delegates triage and national staff decide (issue 6).

Everything is read-only as a model form: the state is a protected field and every change is a
workflow action (one view per transition, calling its service), a message, or a bulk action.
"""

import functools
import re
import time
from collections import OrderedDict, defaultdict

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Expression, F, OuterRef, Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed

from accounts import roles
from anct_portal import admin_shell
from anct_portal.services import AlreadySubmitted, claim_form_token, record_form_result
from engineering_requests import permissions, selectors, services
from engineering_requests.admin import (
    change_page,
    exports,
    filters,
    forms,
    list_page,
    page_rows,
)
from engineering_requests.admin.access import RoleBasedAdminMixin, request_is_backoffice
from engineering_requests.admin.changelist import (
    NextPageChangeList,
    listing_view,
    lists_only,
    page_value,
    use_rendered_media,
)
from engineering_requests.admin.display import age_label, state_badge
from engineering_requests.admin.inlines import AttachmentInline, MessageInline, TransitionLogInline
from engineering_requests.admin.transitions import BY_NAME, TRANSITIONS, available_transitions
from engineering_requests.enums import RequestState
from engineering_requests.exceptions import AlreadyHandled
from engineering_requests.models import EngineeringRequest
from territories.models import Collectivity
from territories.text import normalize

REFERENCE_RE = re.compile(r"^ING-\d{4}-\d{6}$", re.IGNORECASE)
INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$", re.IGNORECASE)

# The request's relations always shown on its page, joined to its row.
OBJECT_RELATED = ("collectivity", "departement", "submitted_by", "assigned_delegate")
# Those shown when set (most requests have none of them): the change page reads them with its
# lists (change_page.load), other views when they use them. Joining all nine relations
# cost PostgreSQL more to plan (~1.3 ms) than the query.
OPTIONAL_RELATED = ("programme", "contract", "local_provider", "operator", "decided_by")

# ``User.get_full_name`` and the e-mail, for a "délégué" column.
DELEGATE_NAME_FIELDS = (
    "assigned_delegate__first_name",
    "assigned_delegate__last_name",
    "assigned_delegate__email",
    "assigned_delegate__deleted_at",
)

QUEUE_URL_NAME = "admin:engineering_requests_escalatedrequest_changelist"

DATE_FIELDS = (
    "submitted_at",
    "review_started_at",
    "info_requested_at",
    "info_provided_at",
    "resolved_locally_at",
    "escalated_at",
    "decided_at",
    "referred_back_at",
    "declined_at",
    "withdrawn_at",
    "completed_at",
    "last_transition_at",
)


def audit(request, *, obj=None, message: str, repr_text: str = "") -> None:
    """Record a sensitive admin action in Django's LogEntry: who, what, when."""
    if obj is not None:
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[obj],
            action_flag=CHANGE,
            change_message=message,
            single_object=True,
        )
        return
    # Not about one request (an export, a report): no object id, so it never shows in the
    # history of a request that someone else may open.
    LogEntry.objects.create(
        user_id=request.user.pk,
        content_type=ContentType.objects.get_for_model(EngineeringRequest),
        object_id=None,
        object_repr=(repr_text or message)[:200],
        action_flag=CHANGE,
        change_message=message,
    )


class BackofficeRequestAdminMixin(RoleBasedAdminMixin):
    """Scope shared by every admin listing requests (the request admin and the national
    queue): ``selectors.backoffice_visible_to`` everywhere, 404 outside it."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # What a list page's columns read (``page_rows``: plain values in plain SQL, on
    # PostgreSQL; model instances with ``list_page_fields`` and annotations elsewhere).
    list_page_columns: tuple[str, ...] = ()

    def list_page_rows(self, ids):
        if not self.list_page_columns or not page_rows.supported(ids):
            return None
        return page_rows.read(ids, self.list_page_columns)

    def get_queryset(self, request):
        return selectors.backoffice_visible_to(request.user)

    def get_actions(self, request):
        # Asked three times a change list (its checkbox column, the view, the action form's
        # choices), each time checking every action's permissions: answered once per request,
        # for the user and query string it was asked about.
        memo = request.__dict__.setdefault("_backoffice_actions", {})
        found = memo.get(self)
        if found is not None and found[0] is request.user and found[1] is request.GET:
            return found[2]
        actions = super().get_actions(request)
        memo[self] = (request.user, request.GET, actions)
        return actions

    def has_view_permission(self, request, obj=None):
        if not super().has_view_permission(request, obj):
            return False
        # The object was loaded through get_queryset; this re-checks with the permissions
        # module, without a query, so that no code path shows a request out of scope.
        return (
            obj is None or request.user.is_superuser or permissions.is_staff_for(obj, request.user)
        )

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Out of scope and nonexistent look the same: 404 (DESIGN §2), never a redirect that
        # would tell the two apart.
        raise Http404(_("Aucune demande ne correspond à cette adresse."))

    def changelist_view(self, request, extra_context=None):
        if lists_only(self, request):
            response = listing_view(request, self, extra_context)
        else:
            response = super().changelist_view(request, extra_context)
        use_rendered_media(self, response)
        list_page.written_out(response, getattr(self, "list_object_tools", None))
        return response

    def get_search_results(self, request, queryset, search_term):
        """Reference, title, collectivité name or INSEE code; never widens ``queryset``.

        A full reference or an INSEE code is looked up exactly (indexed); other words match
        titles and names. Also serves the admin autocomplete, which passes the scoped queryset.
        """
        terms = search_term.split()[:5]
        words = [t for t in terms if not REFERENCE_RE.match(t) and not INSEE_RE.match(t)]
        longest = sorted(words, key=len, reverse=True)[:2]
        answers = _few_matches(queryset, longest, self.get_ordering(request))
        for word, matches in zip(longest, answers, strict=True):
            if matches is not None:
                # A rare word: its matches, found on the trigram indexes, replace its
                # condition; otherwise the page would read every request in scope to find
                # none (a common word is met early in the list's order).
                queryset = queryset.filter(AmongIds(matches) if matches else Q(pk__in=()))
                terms.remove(word)
        for term in terms:
            if REFERENCE_RE.match(term):
                queryset = queryset.filter(reference=term.upper())
            elif INSEE_RE.match(term):
                queryset = queryset.filter(
                    Q(collectivity__code=term.upper()) | Q(reference__endswith=term)
                )
            else:
                queryset = queryset.filter(WordMatch(term))
        return queryset, False


SEARCH_NAME_COLUMN = Collectivity._meta.get_field("search_name").column


class WordMatch(Expression):
    """A word of the search: in the request's reference or title (case-insensitive), or in
    its collectivité's name (``search_name``, when the word has letters or digits left once
    normalised).

    The SQL of ``Q(reference__icontains=w) | Q(title__icontains=w) |
    Q(collectivity__in=Collectivity.objects.filter(search_name__contains=…).values("pk"))``,
    lookup casts and operators included (the trigram indexes are on those expressions),
    without its cost: the ORM spent ~0.3 ms of CPU building and compiling the three lookups
    and the subquery on every search."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, word: str):
        super().__init__()
        self.word = word
        self.normalized = normalize(word)
        self.columns = [F("reference"), F("title"), F("collectivity")]

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, exprs):
        self.columns = list(exprs)

    def as_sql(self, compiler, connection):
        reference, title, collectivity = (compiler.compile(column)[0] for column in self.columns)
        ops, operators = connection.ops, connection.operators
        icontains = ops.lookup_cast("icontains", "CharField")
        pattern = f"%{ops.prep_for_like_query(self.word)}%"
        sql = (
            f"{icontains % reference} {operators['icontains'] % '%s'} "
            f"OR {icontains % title} {operators['icontains'] % '%s'}"
        )
        params = [pattern, pattern]
        if self.normalized:
            qn = connection.ops.quote_name
            name = ops.lookup_cast("contains", "CharField") % f"sc.{qn(SEARCH_NAME_COLUMN)}"
            sql += (
                f" OR {collectivity} IN (SELECT sc.{qn(Collectivity._meta.pk.column)} "  # noqa: S608
                f"FROM {qn(Collectivity._meta.db_table)} sc "
                f"WHERE {name} {operators['contains'] % '%s'})"
            )
            params.append(f"%{ops.prep_for_like_query(self.normalized)}%")
        return f"({sql})", params


class AmongIds(Expression):
    """``pk IN (ids)`` written ``pk = ANY(%s)``, the ids one array parameter (PostgreSQL): as
    many parameters, a rare word's matches (up to 499) cost the ORM ~0.8 ms of CPU to
    compile (~0.03 ms so), and PostgreSQL as many constants to parse; the same plan."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, ids):
        super().__init__()
        self.ids = list(ids)
        self.column = F("pk")

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column, _params = compiler.compile(self.column)
        return f"{column} = ANY(%s)", [self.ids]


# A word matching fewer requests than this in the list (titles, references and collectivité
# names) is looked up on the trigram indexes first; a commoner one is found faster by reading
# the list in its order, which meets 50 matches early. Not lower: at 500 matches in the
# busiest département's 9,000 requests the list's walk already reads ~900 rows (~4 ms of
# PostgreSQL; 5 times more at 1,000,000 requests), and the check's own cost is the rows it reads.
RARE_WORD_MATCHES = 500

# Before counting, the first requests of the list in its default order are read: a word found
# in a page of them (and the next page's first row) is common, and the list's own reading
# stops within as many rows. A common title word cost the count 8-10 ms (the trigram bitmap
# of every title holding it, 200,000 requests; ~5 times more at 1,000,000), a common
# collectivité name ~0.9 ms (plan and run); both now ~0.6 ms. A rare word pays the read and
# its planning, ~0.8 ms; the read does not grow with the data.
PROBE_ROWS = 400
PROBE_MATCHES = 51

# Words found common in a list (its SQL, the word, the limit) -> until when this process
# believes it without asking again: paging through a search, sorting it or coming back to it
# re-ran the check (~1 ms of PostgreSQL, ~0.3 ms of CPU) for the same answer. Only "common"
# is kept: it applies the word's own condition, whose results are exact whatever the data
# has become since (at worst a list that lost its matches reads more rows, for a few minutes);
# "rare" answers are ids, which a new request would make stale.
COMMON_WORD_SECONDS = 300
COMMON_WORDS_KEPT = 512
_common_words: OrderedDict[tuple, float] = OrderedDict()


def _few_matches(queryset, words: list[str], ordering=()) -> list[list[int] | None]:
    """For each word, the requests of ``queryset`` it matches (as the search's condition), or
    None when they are many, the word is too short for a trigram index (under 3 characters)
    or the database is not PostgreSQL. ``ordering``: the list's default order (field names).

    Plain SQL around the list's own query (compiled once by the ORM, with the columns of
    ``ordering``): ORM branches per word and their union cost ~1.5 ms of CPU to build. One
    query for all the words, one row per word: the probe (``PROBE_ROWS``), then, only when it
    did not find the word common, the count: the word's branches (collectivité names,
    references, titles: each on its trigram index) under one ``LIMIT``, so that a common
    word stops at the first branch that fills it; its ids are only counted, not sent back.
    A common answer is kept a while (``_common_words``)."""
    if connection.vendor != "postgresql":
        return [None for _word in words]
    eligible = [
        (index, word, normalized)
        for index, word in enumerate(words)
        if len(word) >= 3 and len(normalized := normalize(word)) >= 3
    ]
    if not eligible:
        return [None for _word in words]
    opts = queryset.model._meta
    order = [(name.removeprefix("-"), name.startswith("-")) for name in ordering]
    if not all(
        isinstance(name, str) and (field == "pk" or field in _local_fields(opts))
        for name, (field, _descending) in zip(ordering, order, strict=True)
    ):
        order = []
    columns = dict.fromkeys(
        ("pk", "title", "reference", "collectivity_id", *(f for f, _d in order))
    )
    try:
        scope_sql, scope_params = queryset.order_by().values(*columns).query.sql_with_params()
    except EmptyResultSet:
        return [None for _word in words]
    limit = RARE_WORD_MATCHES
    try:
        scope_key = (connection.alias, scope_sql, tuple(scope_params), limit)
        hash(scope_key)
    except TypeError:  # a list among the parameters: not kept
        scope_key = None
    now = time.monotonic()
    if scope_key is not None:
        eligible = [
            (index, word, normalized)
            for index, word, normalized in eligible
            if _common_words.get((*scope_key, word), 0) <= now
        ]
        if not eligible:
            return [None for _word in words]
    qn = connection.ops.quote_name
    in_names = (
        f"IN (SELECT c.{qn(Collectivity._meta.pk.column)} "  # noqa: S608 (names)
        f"FROM {qn(Collectivity._meta.db_table)} c "
        f"WHERE c.{qn(SEARCH_NAME_COLUMN)}::text LIKE %s)"
    )
    like = connection.ops.prep_for_like_query
    order_by = ", ".join(f"s.{qn(f)}{' DESC' if d else ''}" for f, d in order)
    parts, params = [], []
    for index, word, normalized in eligible:
        pattern, name_pattern = f"%{like(word)}%", f"%{like(normalized)}%"
        # Each branch keeps its own LIMIT: without it, PostgreSQL plans the union as a
        # parallel append (2 workers, ~20 ms to start for a 1 ms query). References and
        # titles apart: or-ed in one branch, a rare word in a département's whole list was
        # planned as a bitmap of the département's 10,000 requests and-ed with the trigram
        # bitmaps (2.1 ms instead of 0.7).
        count = (
            f"SELECT CASE WHEN COUNT(*) < {limit} "  # noqa: S608 (names from the models)
            "THEN COALESCE(ARRAY_AGG(u.pk), '{}') END FROM ("
            f"(SELECT s.pk FROM ({scope_sql}) s WHERE s.collectivity_id {in_names} "
            f"LIMIT {limit}) "
            f"UNION ALL (SELECT s.pk FROM ({scope_sql}) s "
            f"WHERE UPPER(s.reference::text) LIKE UPPER(%s) LIMIT {limit}) "
            f"UNION ALL (SELECT s.pk FROM ({scope_sql}) s "
            f"WHERE UPPER(s.title::text) LIKE UPPER(%s) LIMIT {limit})"
            f" LIMIT {limit}) u"
        )
        count_params = [
            *scope_params,
            name_pattern,
            *scope_params,
            pattern,
            *scope_params,
            pattern,
        ]
        if order_by and PROBE_ROWS:
            # The count is an InitPlan of the CASE: run only when the probe did not decide.
            parts.append(
                "(SELECT %s, CASE WHEN (SELECT COUNT(*) FROM (SELECT 1 FROM ("  # noqa: S608
                f"SELECT s.title, s.reference, s.collectivity_id FROM ({scope_sql}) s "
                f"ORDER BY {order_by} LIMIT {PROBE_ROWS}) w "
                "WHERE UPPER(w.reference::text) LIKE UPPER(%s) "
                f"OR UPPER(w.title::text) LIKE UPPER(%s) OR w.collectivity_id {in_names} "
                f"LIMIT {PROBE_MATCHES}) p) < {PROBE_MATCHES} THEN ({count}) END)"
            )
            params += [index, *scope_params, pattern, pattern, name_pattern, *count_params]
        else:
            parts.append(f"(SELECT %s, ({count}))")
            params += [index, *count_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = dict(cursor.fetchall())
    if scope_key is not None:
        for index, word in enumerate(words):
            if index in found and found[index] is None:
                key = (*scope_key, word)
                _common_words.pop(key, None)  # to the end: the oldest go first
                _common_words[key] = now + COMMON_WORD_SECONDS
        while len(_common_words) > COMMON_WORDS_KEPT:
            _common_words.popitem(last=False)
    return [found.get(index) for index in range(len(words))]


@functools.cache
def _local_fields(opts) -> frozenset[str]:
    """The names of a model's own columns (what the probe may order by)."""
    return frozenset(f.name for f in opts.concrete_fields)


@admin.register(EngineeringRequest)
class EngineeringRequestAdmin(BackofficeRequestAdminMixin, admin.ModelAdmin):
    list_display = (
        "reference",
        "collectivity_name",
        "departement_code",
        "state_label",
        "age",
        "domain_names",
        "programme_name",
        "delegate_name",
    )
    list_display_links = ("reference",)
    # The delegate is a model (their name follows ``User.get_full_name``); the other related
    # values are annotations (``list_page_annotations``).
    list_select_related = ("assigned_delegate",)
    # What the columns read (the checkbox's label is ``str(request)``: reference and title).
    list_page_fields = ("reference", "title", "state", "submitted_at", *DELEGATE_NAME_FIELDS)
    list_page_columns = (
        "pk",
        "reference",
        "title",
        "state",
        "submitted_at",
        "list_collectivity_name",
        "list_departement_code",
        "list_programme_name",
        "domain_name_list",
        "assigned_delegate",
    )
    list_filter = (
        filters.WaitingForMeFilter,
        filters.StateFilter,
        filters.DepartementFilter,
        filters.DomainFilter,
        filters.ProgrammeFilter,
        filters.InterventionFormFilter,
        filters.EscalationGroundFilter,
        filters.AgeFilter,
    )
    search_fields = ("reference", "title", "collectivity__name", "collectivity__code")
    search_help_text = gettext_lazy(
        "Référence (ING-2026-000123), intitulé, nom ou code INSEE de la collectivité."
    )
    list_per_page = 50
    ordering = ("-submitted_at", "-pk")
    sortable_by = ("reference", "departement_code", "state_label", "age")
    actions = ("take_in_review", "export_csv", "export_xlsx")
    inlines = (TransitionLogInline, MessageInline, AttachmentInline)
    change_form_template = "admin/engineering_requests/engineeringrequest/change_form.html"
    change_list_template = "admin/engineering_requests/engineeringrequest/change_list.html"

    class Media:
        css = {"all": ("engineering_requests/admin.css",)}
        js = ("engineering_requests/admin.js",)

    # Change list ------------------------------------------------------------------------

    def get_changelist(self, request, **kwargs):
        return NextPageChangeList

    def list_page_annotations(self):
        """Read with the page's rows: no model instance for a collectivité, a département or
        a programme, and the domains' names in the same query on PostgreSQL."""
        annotations = {
            "list_collectivity_name": F("collectivity__name"),
            "list_departement_code": F("departement__code"),
            "list_programme_name": F("programme__name"),
        }
        if connection.vendor == "postgresql":
            through = EngineeringRequest.domains.through
            annotations["domain_name_list"] = ArraySubquery(
                through.objects.filter(engineeringrequest_id=OuterRef("pk"))
                .order_by("prioritydomain__position", "prioritydomain__name")
                .values("prioritydomain__name")
            )
        return annotations

    def annotate_page(self, rows):
        """The domains' names of the page's requests, in one query and without model
        instances (a prefetch built a hundred domains and as many links per page), where
        the page's query could not read them; the state badges and ages with the page's
        language and time, looked up once (``get_language`` costs a thread-local lookup)."""
        now, language = timezone.now(), get_language()
        for row in rows:
            row.list_state_badge = state_badge(row.state, language)
            row.list_age = age_label(row.submitted_at, now=now, language=language)
        if connection.vendor == "postgresql":
            return
        through = EngineeringRequest.domains.through
        names = defaultdict(list)
        pairs = (
            through.objects.filter(engineeringrequest_id__in=[row.pk for row in rows])
            .order_by("prioritydomain__position", "prioritydomain__name")
            .values_list("engineeringrequest_id", "prioritydomain__name")
        )
        for request_id, name in pairs:
            names[request_id].append(name)
        for row in rows:
            row.domain_name_list = names[row.pk]

    @admin.display(description=gettext_lazy("collectivité"), ordering="collectivity__name")
    def collectivity_name(self, obj):
        return page_value(obj, "list_collectivity_name", lambda: obj.collectivity.name)

    @admin.display(description=gettext_lazy("dép."), ordering="departement__code")
    def departement_code(self, obj):
        return page_value(obj, "list_departement_code", lambda: obj.departement.code)

    @admin.display(description=gettext_lazy("statut"), ordering="state")
    def state_label(self, obj):
        return page_value(obj, "list_state_badge", lambda: state_badge(obj.state))

    @admin.display(description=gettext_lazy("ancienneté"), ordering="submitted_at")
    def age(self, obj):
        return page_value(obj, "list_age", lambda: age_label(obj.submitted_at))

    @admin.display(description=gettext_lazy("domaines"))
    def domain_names(self, obj):
        names = getattr(obj, "domain_name_list", None)
        if names is None:
            names = [domain.name for domain in obj.domains.all()]
        return ", ".join(names) or "–"

    @admin.display(description=gettext_lazy("programme"))
    def programme_name(self, obj):
        name = page_value(
            obj, "list_programme_name", lambda: obj.programme.name if obj.programme_id else None
        )
        return name or "–"

    @admin.display(description=gettext_lazy("délégué en charge"))
    def delegate_name(self, obj):
        delegate = obj.assigned_delegate
        return (delegate.get_full_name() or delegate.email) if delegate else "–"

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "title": _("Demandes d'appui en ingénierie"),
            **(extra_context or {}),
            "show_national_queue": roles.is_national_staff(request.user)
            or request.user.is_superuser,
        }
        return super().changelist_view(request, extra_context)

    def list_object_tools(self, context, request):
        """The ``object-tools-items`` block of this admin's ``change_list.html``, written out
        for ``list_page.ChangeListPage``."""
        key = ("request_object_tools", *admin_shell.cache_key(request))
        links = admin_shell.PAGE_PARTS.get(key)
        if links is None:
            current_app = getattr(request, "current_app", None)
            prefix = "admin:engineering_requests_engineeringrequest"
            title = _("Toutes les demandes de la liste filtrée")
            links = admin_shell.PAGE_PARTS[key] = {
                "queue": (
                    f'<li><a href="{admin_shell.url(QUEUE_URL_NAME, current_app)}">'
                    f"{_('File nationale')}</a></li>\n"
                ),
                "report": (
                    f'<li><a href="{admin_shell.url(f"{prefix}_comite_report", current_app)}">'
                    f"{_('Rapport comité local')}</a></li>\n"
                ),
                "csv": (
                    admin_shell.url(f"{prefix}_export", current_app, "csv"),
                    f'" title="{title}">{_("Exporter la liste (CSV)")}</a></li>\n',
                ),
                "xlsx": (
                    admin_shell.url(f"{prefix}_export", current_app, "xlsx"),
                    f'" title="{title}">{_("Exporter la liste (XLSX)")}</a></li>\n',
                ),
            }
        query = conditional_escape(context["cl"].export_query)
        return "".join(
            (
                links["queue"] if context.get("show_national_queue") else "",
                links["report"],
                f'<li><a href="{links["csv"][0]}{query}{links["csv"][1]}',
                f'<li><a href="{links["xlsx"][0]}{query}{links["xlsx"][1]}',
            )
        )

    # Change view --------------------------------------------------------------------------

    def get_object(self, request, object_id, from_field=None):
        cache = request.__dict__.setdefault("_backoffice_objects", {})
        if object_id not in cache:
            queryset = self.get_queryset(request).select_related(*OBJECT_RELATED)
            try:
                cache[object_id] = queryset.get(pk=int(object_id))
            except (EngineeringRequest.DoesNotExist, ValueError, TypeError):
                cache[object_id] = None
        return cache[object_id]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                None,
                {
                    "fields": (
                        ("reference", "state_label"),
                        ("collectivity", "departement"),
                        ("submitted_by", "assigned_delegate"),
                        ("submitted_at", "age"),
                    )
                },
            ),
            (
                _("Le projet et le besoin"),
                {
                    "fields": (
                        "title",
                        "description",
                        "need",
                        "engineering_kind",
                        ("intervention_form", "programme", "contract"),
                        "domains",
                        ("estimated_budget", "desired_start"),
                    )
                },
            ),
        ]
        if obj is None:
            return fieldsets
        if obj.resolved_locally_at or obj.contact_name:
            fieldsets.append(
                (
                    _("Interlocuteur unique"),
                    {
                        "fields": (
                            ("contact_name", "contact_organisation"),
                            ("contact_email", "local_provider"),
                        )
                    },
                )
            )
        if obj.escalated_at:
            fieldsets.append(
                (
                    _("Justification de la transmission à l'ANCT"),
                    {
                        "fields": (
                            "fragility_rationale",
                            "insufficient_resources_rationale",
                            "innovative_rationale",
                            ("rare_expertise", "national_scope"),
                        )
                    },
                )
            )
        if obj.decided_at or obj.referred_back_at:
            fields = []
            if obj.decided_at:
                fields += [
                    ("national_instrument", "operator", "granted_amount"),
                    "decision_comment",
                    "decided_by",
                ]
            if obj.referred_back_at:
                fields.append("referral_reason")
            fieldsets.append((_("Décision nationale"), {"fields": fields}))
        closing = [
            name
            for name in ("decline_reason", "withdrawal_reason", "outcome")
            if getattr(obj, name)
        ]
        if closing:
            fieldsets.append((_("Clôture"), {"fields": closing}))
        dates = [name for name in DATE_FIELDS if getattr(obj, name) and name != "submitted_at"]
        if dates:
            fieldsets.append((_("Jalons"), {"fields": dates, "classes": ("collapse",)}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.get_fieldsets(request, obj))

    # The request's page reads these with the request, in the same query (change_page.load).
    page_related = OBJECT_RELATED
    page_many = ("domains",)
    page_optional = OPTIONAL_RELATED
    # The choices of the actions' forms (the local providers of the request's département…).
    page_choices = tuple(
        (transition.form_class, name)
        for transition in TRANSITIONS
        for name in transition.form_class.choice_querysets
    )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        page = None
        if self.renders_read_only_page(request):
            # The request and every list of its page in one query.
            page = change_page.load(self, request, unquote(object_id))
            obj = page and page.obj
        else:
            obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("Aucune demande ne correspond à cette adresse."))
        user = request.user
        actions = []
        for transition in available_transitions(obj, user):
            actions.append(
                {
                    "transition": transition,
                    "form": transition.form_class(engineering_request=obj),
                    "url": self._url("transition", obj.pk, transition.name),
                }
            )
        may_write = roles.is_staff_role(user) and obj.state not in RequestState.closed_states()
        extra_context = {
            **(extra_context or {}),
            "workflow_actions": actions,
            "message_form": forms.MessageForm() if may_write else None,
            "message_url": self._url("message", obj.pk),
            "has_role": roles.is_staff_role(user),
            "title": str(obj),
            "subtitle": None,
        }
        if page is not None:
            return self.read_only_change_view(request, page, extra_context)
        # A POST (refused: nothing is changed through the model form), a popup or a
        # ``_to_field``: the stock view.
        return super().change_view(request, object_id, form_url, extra_context)

    def renders_read_only_page(self, request) -> bool:
        return change_page.applies_to(request)

    def read_only_change_view(self, request, page, extra_context):
        """The stock change view's page, built without its model form and inline formsets
        (``change_page.response``): same checks, same markup."""
        return change_page.response(self, request, page, extra_context)

    # Workflow actions -----------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/action/<str:transition_name>/",
                wrap(self.transition_view),
                name=f"{prefix}_transition",
            ),
            path(
                "<path:object_id>/message/",
                wrap(self.message_view),
                name=f"{prefix}_message",
            ),
            path(
                "<path:object_id>/attachments/<int:attachment_id>/",
                wrap(self.attachment_view),
                name=f"{prefix}_attachment",
            ),
            path("export/<str:fmt>/", wrap(self.export_view), name=f"{prefix}_export"),
            path("comite-local/", wrap(self.comite_report_view), name=f"{prefix}_comite_report"),
            *super().get_urls(),
        ]

    def _url(self, view: str, *args) -> str:
        return change_page.cached_reverse(
            f"admin:engineering_requests_engineeringrequest_{view}", args=args
        )

    def _change_url(self, obj) -> str:
        return reverse("admin:engineering_requests_engineeringrequest_change", args=[obj.pk])

    def _scoped_object(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(_("Aucune demande ne correspond à cette adresse."))
        return obj

    def transition_view(self, request, object_id, transition_name):
        obj = self._scoped_object(request, object_id)
        transition = BY_NAME.get(transition_name)
        if transition is None:
            raise Http404
        if request.method == "POST":
            if transition.is_possible(obj) and not transition.is_permitted(obj, request.user):
                # A role that may not take it gets a 403 whatever it posts (a transition no
                # longer possible goes on to "déjà traitée par quelqu'un d'autre").
                raise PermissionDenied
            form = transition.form_class(request.POST, engineering_request=obj)
            if form.is_valid():
                response = self._perform(request, obj, transition, form)
                if response is not None:
                    return response
        else:
            if not transition.is_possible(obj):
                self.message_user(
                    request,
                    _("Cette action n'est pas possible pour une demande au statut « %(state)s ».")
                    % {"state": obj.get_state_display()},
                    messages.WARNING,
                )
                return HttpResponseRedirect(self._change_url(obj))
            if not transition.is_permitted(obj, request.user):
                raise PermissionDenied
            form = transition.form_class(engineering_request=obj)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"{transition.label} – {obj.reference}",
            "subtitle": None,
            "transition": transition,
            "form": form,
            "action_url": self._url("transition", obj.pk, transition.name),
            "change_url": self._change_url(obj),
            "state_badge": state_badge(obj.state),
            "media": self.media,
        }
        return TemplateResponse(
            request, "admin/engineering_requests/engineeringrequest/transition.html", context
        )

    def _perform(self, request, obj, transition, form):
        """Run the service; return a redirect, or None to show the form again with errors."""
        seen_state = form.cleaned_data["seen_state"]
        source_label = RequestState(obj.state).label
        try:
            if seen_state != obj.state:
                # The page showed another state: someone acted since it was displayed.
                raise AlreadyHandled()
            updated = transition.perform(engineering_request=obj, user=request.user, form=form)
        except AlreadyHandled:
            current = EngineeringRequest.objects.filter(pk=obj.pk).values_list("state", flat=True)
            self.message_user(
                request,
                _(
                    "La demande %(reference)s a déjà été traitée par quelqu'un d'autre : elle "
                    "est maintenant « %(state)s ». Rien n'a été modifié ; vérifiez-la avant "
                    "d'agir."
                )
                % {
                    "reference": obj.reference,
                    "state": RequestState(current.first() or obj.state).label,
                },
                messages.ERROR,
            )
            return HttpResponseRedirect(self._change_url(obj))
        except TransitionNotAllowed:
            self.message_user(
                request,
                _("Cette action n'est pas possible pour une demande au statut « %(state)s ».")
                % {"state": source_label},
                messages.ERROR,
            )
            return HttpResponseRedirect(self._change_url(obj))
        except ValidationError as exc:
            form.add_service_errors(exc)
            return None
        # PermissionDenied propagates: the admin answers 403.
        audit(
            request,
            obj=updated,
            message=_("%(action)s : %(source)s → %(target)s")
            % {
                "action": transition.label,
                "source": source_label,
                "target": RequestState(updated.state).label,
            },
        )
        self.message_user(
            request,
            _("%(action)s : la demande %(reference)s est maintenant « %(state)s ».")
            % {
                "action": transition.label,
                "reference": updated.reference,
                "state": updated.get_state_display(),
            },
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._change_url(updated))

    def message_view(self, request, object_id):
        return require_POST(self._message_view)(request, object_id)

    def _message_view(self, request, object_id):
        obj = self._scoped_object(request, object_id)
        form = forms.MessageForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            internal = data["internal"]
            try:
                with transaction.atomic():
                    token = data["form_token"]
                    submission = claim_form_token(user=request.user, token=token) if token else None
                    services.post_message(
                        engineering_request=obj,
                        user=request.user,
                        body=data["body"],
                        internal=internal,
                        files=[data["file"]] if data["file"] else (),
                    )
                    if submission is not None:
                        record_form_result(submission, url=self._change_url(obj), object_id=obj.pk)
            except AlreadySubmitted:
                self.message_user(
                    request, _("Votre envoi avait déjà été pris en compte."), messages.INFO
                )
                return HttpResponseRedirect(self._change_url(obj) + "#messages")
            except TransitionNotAllowed as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(self._change_url(obj))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error("file" if field == "files" else field, error)
            else:
                text = (
                    _("Note interne ajoutée.")
                    if internal
                    else _("Message envoyé à la collectivité.")
                )
                audit(request, obj=obj, message=text)
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(obj) + "#messages")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("Écrire au sujet de %(reference)s") % {"reference": obj.reference},
            "subtitle": None,
            "form": form,
            "action_url": self._url("message", obj.pk),
            "change_url": self._change_url(obj),
            "state_badge": state_badge(obj.state),
            "media": self.media,
            "is_message": True,
        }
        return TemplateResponse(
            request, "admin/engineering_requests/engineeringrequest/transition.html", context
        )

    def attachment_view(self, request, object_id, attachment_id):
        obj = self._scoped_object(request, object_id)
        attachment = selectors.attachments_for(obj, request.user).filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404(_("Aucune pièce jointe ne correspond à cette adresse."))
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404(_("Ce fichier n'est plus disponible.")) from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response

    # Bulk actions and exports ----------------------------------------------------------------

    def has_take_in_review_permission(self, request):
        return roles.is_delegate(request.user)

    def has_export_permission(self, request):
        return request_is_backoffice(request)

    @admin.action(
        description=gettext_lazy("Prendre en charge les demandes sélectionnées"),
        permissions=("take_in_review",),
    )
    def take_in_review(self, request, queryset):
        done, failures = [], []
        for engineering_request in queryset.select_related(None).order_by("submitted_at", "pk"):
            label = engineering_request.reference
            try:
                updated = services.start_review(
                    engineering_request=engineering_request, user=request.user
                )
            except AlreadyHandled:
                failures.append((label, _("déjà traitée par quelqu'un d'autre")))
            except TransitionNotAllowed:
                failures.append(
                    (
                        label,
                        _("statut « %(state)s » : rien à prendre en charge")
                        % {"state": engineering_request.get_state_display()},
                    )
                )
            except PermissionDenied:
                failures.append((label, _("hors de vos départements ou de votre rôle")))
            else:
                done.append(label)
                audit(
                    request,
                    obj=updated,
                    message=_("Prise en charge (action groupée) : %(source)s → %(target)s")
                    % {
                        "source": RequestState.SUBMITTED.label,
                        "target": RequestState.IN_REVIEW.label,
                    },
                )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d demande prise en charge : %(refs)s.",
                    "%(count)d demandes prises en charge : %(refs)s.",
                    len(done),
                )
                % {"count": len(done), "refs": ", ".join(done)},
                messages.SUCCESS,
            )
        for label, reason in failures:
            self.message_user(
                request,
                _("%(reference)s n'a pas été prise en charge : %(reason)s.")
                % {"reference": label, "reason": reason},
                messages.WARNING,
            )

    def _export(self, request, queryset, fmt: str, what: str):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        filename = f"demandes-ingenierie-{stamp}"
        audit(
            request,
            message=_("Export %(format)s des demandes (%(what)s)")
            % {"format": fmt.upper(), "what": what},
        )
        if fmt == "xlsx":
            return exports.xlsx_response(queryset, filename)
        return exports.csv_response(queryset, filename)

    @admin.action(description=gettext_lazy("Exporter la sélection (CSV)"), permissions=("export",))
    def export_csv(self, request, queryset):
        return self._export(request, queryset, "csv", _("sélection"))

    @admin.action(description=gettext_lazy("Exporter la sélection (XLSX)"), permissions=("export",))
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset, "xlsx", _("sélection"))

    def export_view(self, request, fmt):
        """The filtered list as shown (same filters, search and scope), without pagination."""
        if fmt not in ("csv", "xlsx"):
            raise Http404
        if not self.has_export_permission(request):
            raise PermissionDenied
        params = request.GET.copy()
        params.pop("p", None)
        request.GET = params
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            self.message_user(request, _("Ces filtres ne sont pas valides."), messages.ERROR)
            return HttpResponseRedirect(self._url("changelist"))
        queryset = changelist.get_queryset(request)
        query = params.urlencode()
        return self._export(
            request, queryset, fmt, _("liste filtrée : %(q)s") % {"q": query or "–"}
        )

    # Comité local report -----------------------------------------------------------------------

    def comite_report_view(self, request):
        from engineering_requests.admin.report import comite_report_view

        return comite_report_view(self, request)
