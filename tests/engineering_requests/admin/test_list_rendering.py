"""The change lists' shell and filters, rendered without the admin's per-choice templates and
without the navigation sidebar, show what the admin's own templates show."""

import re
from pathlib import Path

import django.contrib.admin
import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.template import Context, Template
from django.test import RequestFactory

from engineering_requests.admin.filters import catalogue_choices
from engineering_requests.templatetags.backoffice_list import (
    backoffice_filters,
    backoffice_list_filter,
)
from programmes.models import PriorityDomain, Programme
from tests.accounts.factories import DelegateFactory
from tests.admin_markup import normalized
from tests.engineering_requests.admin.conftest import changelist_url
from tests.engineering_requests.admin.test_changelist import bulk_requests
from tests.engineering_requests.factories import EngineeringRequestFactory
from tests.programmes.factories import PriorityDomainFactory, ProgrammeFactory
from tests.territories.factories import DepartementFactory

pytestmark = pytest.mark.django_db

QUEUE_URL = "/admin/engineering_requests/escalatedrequest/"


def stock_filters_block() -> Template:
    """The ``filters`` block of the admin's own ``change_list.html``, as a template."""
    source = (
        Path(django.contrib.admin.__file__).parent / "templates/admin/change_list.html"
    ).read_text()
    block = re.search(r"{% block filters %}(.*?){% endblock %}", source, re.S).group(1)
    return Template("{% load i18n admin_list %}" + block)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("delegate", changelist_url()),
        ("delegate", changelist_url("?statut=in_review&q=pont&o=2")),
        ("delegate", changelist_url("?domaine={domain}&programme={programme}&o=4")),
        ("delegate", changelist_url("?a_traiter=moi&anciennete=30-90&motif=fragility")),
        ("national", changelist_url("?departement={departement}&forme=programme")),
        ("national", changelist_url("?statut=nimporte&q=%3Cb%3E%20%26")),
        ("national", QUEUE_URL),
        ("national", QUEUE_URL + "?motif=rare_expertise&q=pont"),
    ],
)
def test_filters_show_what_the_admin_templates_show(admin_as, cast, role, url):
    PriorityDomainFactory(name="Mobilité <douce> & rurale")
    ProgrammeFactory(name="Programme « test » & co")
    bulk_requests(60, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequestFactory(escalated=True, collectivity=cast.collectivity)
    url = url.format(
        domain=PriorityDomain.objects.first().pk,
        programme=Programme.objects.first().pk,
        departement=cast.collectivity.departement_id,
    )
    cl = admin_as(getattr(cast, role)).get(url).context_data["cl"]
    assert cl.filter_specs
    for spec in cl.filter_specs:
        assert [{**c, "display": str(c["display"])} for c in spec.choices(cl)] == [
            {**c, "display": str(c["display"])} for c in admin.SimpleListFilter.choices(spec, cl)
        ]
        stock = admin_list.admin_list_filter(cl, spec)
        assert normalized(backoffice_list_filter(cl, spec)) == normalized(stock)
    stock_block = stock_filters_block().render(Context({"cl": cl}))
    assert normalized(backoffice_filters(cl)) == normalized(stock_block)


def test_an_active_filter_is_selected_and_offers_to_clear_all(admin_as, cast):
    bulk_requests(5, collectivities=[cast.collectivity], official=cast.official)
    page = admin_as(cast.delegate).get(changelist_url("?statut=in_review&q=pont")).content
    page = normalized(page.decode())
    assert '<li class="selected"><a href="?q=pont&amp;statut=in_review">En instruction</a>' in page
    assert '<a href="?q=pont">&#10006; Effacer tous les filtres</a>' in page
    assert "<summary> Par statut </summary>" in page


def test_domain_and_programme_choices_in_their_lists_order(rf, cast):
    theme = PriorityDomainFactory(name="Thème", position=1)
    second = PriorityDomainFactory(name="B second", parent=theme, position=2)
    first = PriorityDomainFactory(name="Z first", parent=theme, position=1)
    late = ProgrammeFactory(name="A late", position=9)
    early = ProgrammeFactory(name="Z early", position=1)
    request = rf.get("/")
    choices = catalogue_choices(request)
    expected_domains = PriorityDomain.objects.order_by(
        "parent__position", "parent_id", "position", "name"
    ).values_list("pk", "name")
    assert choices["domains"] == list(expected_domains)
    assert choices["domains"].index((first.pk, first.name)) < choices["domains"].index(
        (second.pk, second.name)
    )
    assert choices["programmes"] == list(Programme.objects.values_list("pk", "name"))
    assert choices["programmes"].index((early.pk, early.name)) < choices["programmes"].index(
        (late.pk, late.name)
    )
    # Read once per request, both lists in one query.
    assert catalogue_choices(request) is choices


def test_the_lists_have_no_navigation_sidebar_and_the_index_lists_the_models(admin_as, cast):
    client = admin_as(cast.delegate)
    for url in (changelist_url(), QUEUE_URL):
        page = admin_as(cast.national).get(url).content.decode()
        assert 'id="nav-sidebar"' not in page and "nav_sidebar" not in page
    index = client.get("/admin/").content.decode()
    assert changelist_url() in index
    assert client.get("/admin/engineering_requests/").status_code == 200


def test_the_site_context_is_the_stock_one_with_a_lazy_app_list(cast):
    request = RequestFactory().get("/admin/")
    request.user = cast.delegate
    site = admin.site
    ours = site.each_context(request)
    stock = admin.AdminSite.each_context(site, request)
    assert set(ours) == set(stock)
    for key in stock:
        if key not in ("available_apps", "log_entries"):
            assert ours[key] == stock[key], key
    assert list(ours["available_apps"]) == stock["available_apps"]
    assert list(ours["log_entries"]) == list(stock["log_entries"])


def test_a_delegate_of_two_departements_chooses_between_them(admin_as, cast):
    delegate = DelegateFactory(departements=[cast.collectivity.departement, DepartementFactory()])
    EngineeringRequestFactory(submitted=True, collectivity=cast.collectivity)
    page = normalized(admin_as(delegate).get(changelist_url()).content.decode())
    assert '<select id="filter-departement" class="backoffice-filter-select"' in page
    assert '<label class="visually-hidden" for="filter-departement">Département</label>' in page


def test_columns_read_from_the_page_query_match_the_objects(admin_as, cast):
    """The values a page reads as annotations are those of the related objects (the columns
    also work on a request loaded without them)."""
    from django.contrib.admin.sites import site

    from engineering_requests.models import EngineeringRequest, EscalatedRequest

    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequestFactory(escalated=True, collectivity=cast.collectivity)
    EngineeringRequest.objects.filter(pk=EngineeringRequest.objects.first().pk).update(
        programme=None
    )
    for model, url, user in (
        (EngineeringRequest, changelist_url(), cast.delegate),
        (EscalatedRequest, QUEUE_URL, cast.national),
    ):
        model_admin = site._registry[model]
        cl = admin_as(user).get(url).context_data["cl"]
        assert cl.result_list
        for row in cl.result_list:
            plain = model.objects.get(pk=row.pk)
            assert "list_collectivity_name" in row.__dict__
            assert "list_collectivity_name" not in plain.__dict__
            for column in cl.list_display:
                if column != "action_checkbox":
                    method = getattr(model_admin, column, None)
                    if callable(method):
                        assert str(method(row)) == str(method(plain)), column


@pytest.mark.parametrize("query", ["", "?o=4.-1&statut=in_review", "?o=-3", "?q=pont&o=5"])
def test_rows_and_headers_show_what_the_admin_template_shows(admin_as, cast, query):
    from django.template.loader import get_template

    from engineering_requests.templatetags.backoffice_list import backoffice_result_list

    bulk_requests(30, collectivities=[cast.collectivity], official=cast.official)
    for user, url in ((cast.delegate, changelist_url(query)), (cast.national, QUEUE_URL + query)):
        if user is cast.national and "o=" in query:
            continue  # the queue has a fixed order
        cl = admin_as(user).get(url).context_data["cl"]
        assert cl.result_list
        ours = get_template("admin/engineering_requests/change_list_results.html").render(
            backoffice_result_list(cl)
        )
        stock = get_template("admin/change_list_results.html").render(admin_list.result_list(cl))
        assert normalized(ours) == normalized(stock)


def test_action_fields_show_what_the_admin_template_shows(admin_as, cast):
    from engineering_requests.templatetags.backoffice_list import backoffice_action_fields

    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    stock = Template(
        "{% for field in action_form %}{% if field.label %}<label>{{ field.label }} {{ field }}"
        "</label>{% else %}{{ field }}{% endif %}{% endfor %}"
    )
    shown = {}
    for role in ("delegate", "national", "delegate"):  # different actions, read from the cache
        form = admin_as(getattr(cast, role)).get(changelist_url()).context_data["action_form"]
        ours = backoffice_action_fields(form)
        assert normalized(ours) == normalized(stock.render(Context({"action_form": form})))
        shown[role] = ours
    assert "take_in_review" in shown["delegate"] and "take_in_review" not in shown["national"]


def test_media_is_the_admin_media_rendered_once(admin_as, cast):
    from django.contrib.admin.sites import site

    from engineering_requests.admin.changelist import RenderedMedia
    from engineering_requests.models import EngineeringRequest, EscalatedRequest

    response = admin_as(cast.delegate).get(changelist_url())
    media = response.context_data["media"]
    assert isinstance(media, RenderedMedia)
    stock = site._registry[EngineeringRequest].media + response.context_data["action_form"].media
    assert media.css == stock["css"].render() and media.js == stock["js"].render()
    assert str(media) == stock.render()
    page = response.content.decode()
    assert stock["js"].render() in page and "engineering_requests/admin" in page
    # The queue (another model admin, no action form) has its own.
    queue = admin_as(cast.national).get(QUEUE_URL).context_data["media"]
    assert queue is not media
    assert str(queue) == site._registry[EscalatedRequest].media.render()


@pytest.mark.parametrize("length", [0, 1, 5, 12, 80])
def test_excerpts_are_the_truncators(length):
    from django.utils.text import Truncator

    from engineering_requests.admin.display import excerpt

    for text in (
        "",
        "   ",
        "Pont",
        "Pont  de\n la   Loire",
        "e\u0301cole e\u0301le\u0301mentaire",  # combining accents, composed by NFC
        "x" * 11 + "\u0301" * 3,
        "Réhabilitation du pont suspendu de la commune, ouvrage d'art ancien " * 3,
        None,
    ):
        expected = Truncator(" ".join((text or "").split())).chars(length)
        assert excerpt(text, length) == expected, (text, length)
