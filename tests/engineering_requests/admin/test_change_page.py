"""A request's admin page, rendered without the admin's model form and formsets
(``change_page``, ``rendering``), shows what the stock change view shows: same values, same
markup, same escaping; only what served editing is gone (formset management forms, hidden
ids, form scripts)."""

import difflib
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile

from engineering_requests import services
from engineering_requests.admin.change_page import ChangePage
from engineering_requests.admin.requests import EngineeringRequestAdmin
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from programmes.enums import NationalInstrument
from tests import admin_markup
from tests.accounts.factories import UserFactory
from tests.engineering_requests.admin.conftest import change_url, transition_url
from tests.programmes.factories import (
    LocalProviderFactory,
    OperatorFactory,
    ProgrammeFactory,
)

pytestmark = pytest.mark.django_db

INLINE_PREFIXES = ("transition_logs-", "messages-", "attachments-")
EDITING_ONLY_SCRIPTS = (
    "django-admin-form-add-constants",
    "django-admin-prepopulated-fields-constants",
)
# Values that change on every rendering.
VOLATILE = ("csrfmiddlewaretoken", "form_token")


class _Tokens(HTMLParser):
    """The page as a list of tags (sorted attributes) and texts (unescaped, whitespace
    collapsed), without what only served editing in the stock page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens = []
        self._skip_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name", "").startswith(INLINE_PREFIXES):
            return
        if tag == "script" and attrs.get("id") in EDITING_ONLY_SCRIPTS:
            self._skip_script = True
            return
        attrs.pop("data-inline-formset", None)
        attrs.pop("data-inline-type", None)
        if attrs.get("name") in VOLATILE:
            attrs["value"] = "…"
        normalized = {
            name: " ".join((value or "").split()) for name, value in sorted(attrs.items())
        }
        self.tokens.append(("<", tag, tuple(normalized.items())))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script" and self._skip_script:
            self._skip_script = False
            return
        self.tokens.append(("/", tag))

    def handle_data(self, data):
        text = " ".join(unescape(data).split())
        if text:
            if self.tokens and self.tokens[-1][0] == "text":
                self.tokens[-1] = ("text", f"{self.tokens[-1][1]} {text}")
            else:
                self.tokens.append(("text", text))


def body_tokens(html: str) -> list[str]:
    body = html[html.index("<body") :]
    parser = _Tokens()
    parser.feed(body)
    return [repr(token) for token in parser.tokens]


def assert_same_page(fast: str, stock: str, label="") -> None:
    fast_tokens, stock_tokens = body_tokens(fast), body_tokens(stock)
    diff = "\n".join(difflib.unified_diff(stock_tokens, fast_tokens, "stock", "fast", lineterm=""))
    assert fast_tokens == stock_tokens, f"{label}\n{diff}"


@pytest.fixture
def stock_page(monkeypatch):
    """The page as the stock change view renders it, for comparison."""

    def render(client, request):
        with monkeypatch.context() as patch:
            patch.setattr(EngineeringRequestAdmin, "renders_read_only_page", lambda *a: False)
            return client.get(change_url(request))

    return render


def richest_requests(cast):
    """Requests showing every part of the page: optional relations, every fieldset, a
    thread with an internal note and attachments, text to escape."""
    cast.collectivity.departement.name = "Creuse <b>&</b> « Marche »"
    cast.collectivity.departement.save()
    in_review = cast.request_in(
        S.IN_REVIEW,
        title='Pont "neuf" <script>alert(1)</script>',
        description="Première ligne\nDeuxième & <em>dernière</em>",
    )
    EngineeringRequest.objects.filter(pk=in_review.pk).update(
        programme=ProgrammeFactory(name="Petites villes <de> demain")
    )
    LocalProviderFactory(departement=cast.collectivity.departement, name="ATD <23> & co")
    services.post_message(
        engineering_request=in_review,
        user=cast.delegate,
        body="Note <b>interne</b>\nsur deux lignes",
        internal=True,
    )
    services.post_message(
        engineering_request=in_review, user=cast.delegate, body="Bonjour « madame » & monsieur"
    )
    services.add_attachment(
        engineering_request=in_review,
        user=cast.official,
        file=SimpleUploadedFile("plan <v2>.pdf", b"%PDF-1.4 plan"),
    )
    services.add_attachment(
        engineering_request=in_review,
        user=cast.delegate,
        file=SimpleUploadedFile("note.txt", b"Note de la DDT"),
        internal=True,
    )
    escalated = cast.request_in(S.ESCALATED)
    decided = cast.escalate(cast.request_in(S.IN_REVIEW, title="Décidée"))
    decided = services.approve_national_support(
        engineering_request=decided,
        user=cast.national,
        instrument=NationalInstrument.FRAMEWORK_AGREEMENT,
        operator=OperatorFactory(name="Cerema & <partenaires>"),
        comment="Accord\nsous conditions",
    )
    local = cast.request_in(S.LOCAL_SUPPORT)
    completed = cast.request_in(S.COMPLETED)
    declined = cast.request_in(S.DECLINED)
    submitted = cast.request_in(S.SUBMITTED)  # "Prendre en charge": a form without fields
    return [in_review, escalated, decided, local, completed, declined, submitted]


def test_the_page_shows_what_the_stock_change_view_shows(admin_as, cast, stock_page):
    requests = richest_requests(cast)
    support = UserFactory(is_staff=True, is_superuser=True)
    compared = 0
    for user in (cast.delegate, cast.national, support):
        client = admin_as(user)
        for request in requests:
            fast = client.get(change_url(request))
            stock = stock_page(client, request)
            assert fast.status_code == stock.status_code == 200
            assert isinstance(fast.template_name, ChangePage)
            assert stock.templates[0].name.endswith("/change_form.html")
            assert_same_page(
                fast.content.decode(), stock.content.decode(), f"{user} {request.state}"
            )
            compared += 1
    assert compared == 21
    page = admin_as(cast.delegate).get(change_url(requests[0])).content.decode()
    # Escaped once, like the stock page: text typed by users never becomes markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Note &lt;b&gt;interne&lt;/b&gt;<br>sur deux lignes" in page
    assert "plan &lt;v2&gt;.pdf" in page and "Petites villes &lt;de&gt; demain" in page
    assert "ATD &lt;23&gt; &amp; co</option>" in page


def assert_as_the_template(response) -> str:
    """The page written out (``ChangePage``: its shell by ``anct_portal.admin_shell``) is
    what ``change_page.html`` renders from the same context, byte for byte but whitespace."""
    return admin_markup.assert_as_the_template(response, ChangePage)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_written_out_page_is_the_templates_page(admin_as, cast, language):
    requests = richest_requests(cast)
    support = UserFactory(is_staff=True, is_superuser=True, first_name="Zoé <b>")
    for user in (cast.delegate, cast.national, support):
        client = admin_as(user)
        for request in requests:
            query = "?_changelist_filters=statut%3Din_review%26q%3D%3Cb%3E"
            for url in (change_url(request), change_url(request) + query):
                page = assert_as_the_template(client.get(url, HTTP_ACCEPT_LANGUAGE=language))
                assert f'<html lang="{language}"' in page
    page = admin_as(support).get(change_url(requests[0]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Zoé &lt;b&gt;" in page.content.decode() and "Log out" in page.content.decode()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_written_out_page_with_messages(admin_as, cast, language):
    request = cast.request_in(S.SUBMITTED)
    client = admin_as(cast.delegate)
    response = client.post(
        transition_url(request, "start_review"),
        {"seen_state": S.SUBMITTED},
        follow=True,
        HTTP_ACCEPT_LANGUAGE=language,
    )
    page = assert_as_the_template(response)
    assert '<ul class="messagelist">' in page
    # Shown once: the next page has none.
    page = assert_as_the_template(client.get(change_url(request), HTTP_ACCEPT_LANGUAGE=language))
    assert "messagelist" not in page


def test_the_page_keeps_the_filters_of_the_list_it_was_opened_from(admin_as, cast, stock_page):
    request = cast.request_in(S.IN_REVIEW)
    client = admin_as(cast.delegate)
    query = "?_changelist_filters=statut%3Din_review%26q%3Dpont"
    url = change_url(request) + query
    page = client.get(url).content.decode()
    assert f'action="{query}"' in page
    assert (
        'href="/admin/engineering_requests/engineeringrequest/?statut=in_review&amp;q=pont"' in page
    )
    assert f'history/{query}" class="historylink"' in page
    # Identical to the stock page, filters included.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EngineeringRequestAdmin, "renders_read_only_page", lambda *a: False)
        stock = client.get(url).content.decode()
    assert_same_page(page, stock)


def test_popups_posts_and_to_field_keep_the_stock_view(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    client = admin_as(cast.delegate)
    popup = client.get(change_url(request) + "?_popup=1")
    assert popup.status_code == 200
    assert popup.templates[0].name.endswith("/change_form.html")
    assert not isinstance(popup.template_name, ChangePage)
    assert client.get(change_url(request) + "?_to_field=reference").status_code == 400
    assert client.post(change_url(request), {"title": "Autre"}).status_code == 403
    assert EngineeringRequest.objects.get(pk=request.pk).title == request.title


def test_the_page_loads_its_own_files_and_not_the_form_scripts(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    page = admin_as(cast.delegate).get(change_url(request)).content.decode()
    head = page[: page.index("</head>")]
    for static in ("admin/css/forms", "engineering_requests/admin.", "admin/css/base"):
        assert static in head, static
    for script in ("jquery", "inlines", "jsi18n", "RelatedObjectLookups"):
        assert script not in page, script


def test_inlines_keep_the_inline_permissions(admin_as, cast, monkeypatch):
    """An inline the user may not view is not shown (the stock rule)."""
    request = cast.request_in(S.IN_REVIEW)
    services.post_message(engineering_request=request, user=cast.delegate, body="Message 1")
    model_admin = admin.site._registry[EngineeringRequest]
    inline_class = model_admin.inlines[1]
    monkeypatch.setattr(inline_class, "has_view_permission", lambda *a, **k: False)
    page = admin_as(cast.delegate).get(change_url(request)).content.decode()
    assert 'id="transition_logs-group"' in page
    assert 'id="messages-group"' not in page and "Message 1" not in page


def test_lists_read_together_are_those_read_one_by_one(cast, django_assert_num_queries):
    """``fetch_together`` gives each queryset's instances, in its order, with the same
    values (dates, decimals, relations) as ``list(queryset)``, in one query."""
    from engineering_requests.admin.change_page import fetch_together
    from engineering_requests.models import TransitionLog

    decided = cast.approve(cast.request_in(S.ESCALATED))
    EngineeringRequest.objects.filter(pk=decided.pk).update(
        estimated_budget="1234.56", granted_amount="40000"
    )
    other = cast.request_in(S.LOCAL_SUPPORT)

    def querysets():
        return [
            TransitionLog.objects.select_related("actor").filter(engineering_request=decided),
            TransitionLog.objects.filter(engineering_request=other).order_by("-created_at"),
            EngineeringRequest.objects.select_related("operator", "decided_by").filter(
                pk__in=[decided.pk, other.pk]
            ),
            decided.domains.all(),
            EngineeringRequest.objects.none(),
            TransitionLog.objects.filter(pk=-1),
        ]

    expected = [list(queryset) for queryset in querysets()]
    with django_assert_num_queries(1):
        found = fetch_together(querysets())
    assert found == expected
    assert [len(rows) for rows in found] == [4, 3, 2, 1, 0, 0]
    for rows, reference in zip(found, expected, strict=True):
        for row, same in zip(rows, reference, strict=True):
            fields = [field.attname for field in type(row)._meta.concrete_fields]
            assert [getattr(row, f) for f in fields] == [getattr(same, f) for f in fields]
    request = next(row for row in found[2] if row.pk == decided.pk)
    with django_assert_num_queries(0):
        assert request.operator == decided.operator and request.decided_by == cast.national
        assert found[0][0].actor == cast.official
        assert request.estimated_budget == Decimal("1234.56")


def test_the_page_reads_what_get_object_and_the_inlines_read(cast, rf):
    """``load``'s one query (compiled once per shape) gives the request of ``get_object``, in
    the same scope, and each inline's rows, for every role and size of scope."""
    from accounts import roles
    from engineering_requests.admin import change_page
    from tests.accounts.factories import DelegateFactory, NationalStaffFactory
    from tests.territories.factories import DepartementFactory

    requests = richest_requests(cast)
    elsewhere = cast.request_in(S.IN_REVIEW)
    EngineeringRequest.objects.filter(pk=elsewhere.pk).update(departement=DepartementFactory())
    draft = cast.request_in(S.DRAFT)
    model_admin = admin.site._registry[EngineeringRequest]
    two_departements = DelegateFactory(
        departements=[cast.collectivity.departement, DepartementFactory()]
    )
    users = (
        cast.delegate,
        two_departements,
        NationalStaffFactory(),
        UserFactory(is_staff=True, is_superuser=True),
        UserFactory(is_staff=True),  # no role: nothing
    )
    for user in users:
        for shown in (*requests, elsewhere, draft):
            roles.clear_role_cache(user)
            request = rf.get("/")
            request.user = user
            expected = model_admin.get_object(request, str(shown.pk))
            request = rf.get("/")
            request.user = user
            page = change_page.load(model_admin, request, str(shown.pk))
            assert (page and page.obj) == expected, (user, shown.state)
            if expected is None:
                continue
            fields = [field.attname for field in EngineeringRequest._meta.concrete_fields]
            assert [getattr(page.obj, f) for f in fields] == [getattr(expected, f) for f in fields]
            assert list(page.obj.domains.all()) == list(expected.domains.all())
            for name in model_admin.page_optional:
                assert getattr(page.obj, name) == getattr(expected, name)
            inlines = model_admin.get_inline_instances(request, expected)
            assert set(page.inline_rows) == {type(inline) for inline in inlines}
            for inline in inlines:
                rows = inline.get_queryset(request).filter(engineering_request=expected)
                assert page.inline_rows[type(inline)] == list(rows.order_by("pk")), inline
            assert len(page.choices) == 2  # local providers, operators
            for (form_class, name), (compiler, text) in page.choices.items():
                form = form_class(engineering_request=expected)
                found = change_page._instances(
                    "default", compiler, change_page._json_rows(compiler, text)
                )
                assert found == list(form.fields[name].queryset), (form_class, name)
    assert change_page.load(model_admin, request, "abc") is None


def test_a_query_compiled_once_takes_other_ids(cast):
    """``compiled``: the SQL compiled with stand-ins, its slots filled with other ids, is the
    SQL Django compiles for those ids."""
    from engineering_requests import selectors
    from engineering_requests.admin.change_page import compiled

    def build(object_id, *departement_ids):
        return selectors.backoffice_requests(departement_ids).filter(pk=object_id)

    for ids in ((7, 3), (8, 3, 5), (9, 4, 5, 6)):
        _compiler, sql, slots = compiled("default", ("test", len(ids)), build, len(ids))
        params = [ids[item] if is_value else item for is_value, item in slots]
        assert (sql, tuple(params)) == build(*ids).query.sql_with_params()


def test_urls_reversed_once_are_those_reverse_gives():
    from django.urls import reverse

    from engineering_requests.admin.change_page import cached_reverse

    prefix = "admin:engineering_requests_engineeringrequest"
    cases = [
        ("admin:index", []),
        (f"{prefix}_changelist", []),
        (f"{prefix}_change", [12]),
        (f"{prefix}_change", ["12_3"]),
        (f"{prefix}_change", ["a b/é"]),  # quoted: reversed each time
        (f"{prefix}_transition", [12, "start_review"]),
        (f"{prefix}_attachment", [12, 5]),  # an int converter
        ("admin:app_list", ["engineering_requests"]),  # a regular expression
    ]
    for _round in range(2):
        for name, args in cases:
            assert cached_reverse(name, args=args) == reverse(name, args=args), (name, args)


def test_an_admin_with_its_own_queryset_reads_the_request_through_get_object(
    admin_as, cast, monkeypatch, stock_page
):
    """``load`` compiles the stock scope; a changed ``get_queryset`` is honoured instead."""
    from engineering_requests import selectors

    request = richest_requests(cast)[0]
    client = admin_as(cast.delegate)
    monkeypatch.setattr(
        EngineeringRequestAdmin,
        "get_queryset",
        lambda self, r: selectors.backoffice_visible_to(r.user),
    )
    fast = client.get(change_url(request))
    assert isinstance(fast.template_name, ChangePage)
    assert_same_page(fast.content.decode(), stock_page(client, request).content.decode())
    monkeypatch.setattr(
        EngineeringRequestAdmin, "get_queryset", lambda self, r: EngineeringRequest.objects.none()
    )
    assert client.get(change_url(request)).status_code == 404
