"""The back office and the dashboards in a real Chromium under the Content-Security-Policy:
no violation reported (``page`` fixture), and the scripted parts still work — the filter
select, the admin actions, a workflow form, the autocomplete widget, the charts."""

import pytest

from engineering_requests.enums import RequestState
from engineering_requests.models import EngineeringRequest
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.browser.conftest import SCREENSHOTS
from tests.engineering_requests.factories import Cast
from tests.territories.factories import DepartementFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def cast(transactional_db):
    cast = Cast.create()
    cast.request_in(RequestState.SUBMITTED, title="Pont de la Creuse")
    cast.request_in(RequestState.IN_REVIEW, title="École numérique")
    return cast


def admin_sign_in(page, base, email):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"csp-{name}.png"), full_page=True, caret="initial")


def test_the_back_office_works_under_the_policy(live_server, page, cast):
    base = live_server.url
    admin_sign_in(page, base, cast.delegate.email)
    assert page.url == f"{base}/admin/"
    changelist = f"{base}/admin/engineering_requests/engineeringrequest/"
    page.goto(changelist)
    shot(page, "changelist")
    page.goto(changelist + "?statut=in_review")
    assert page.locator("#result_list tbody tr").count() == 1
    # An admin action through the action form: take the submitted request in review.
    page.goto(changelist + "?statut=submitted")
    page.check("#result_list tbody input.action-select")
    page.select_option("select[name=action]", "take_in_review")
    page.click("button[name=index]")
    page.wait_for_load_state("load")
    assert "prise en charge" in page.locator("ul.messagelist").inner_text()
    # The change view and a workflow form (request information) posted for real.
    request = EngineeringRequest.objects.get(title="École numérique")
    page.goto(f"{changelist}{request.pk}/change/")
    shot(page, "change-view")
    page.click("#action-request_info summary")
    page.fill("#action-request_info textarea[name=message]", "Quel est le budget ?")
    page.click("#action-request_info input[type=submit]")
    page.wait_for_load_state("load")
    assert "Complément demandé" in page.content()
    # The comité report and its print link (a static script, no onclick attribute).
    page.goto(f"{base}/admin/engineering_requests/engineeringrequest/comite-local/")
    shot(page, "comite-report")
    # The delegate's dashboard: Chart.js draws from a json_script block.
    page.goto(f"{base}/tableau-de-bord/")
    page.wait_for_selector("canvas")
    shot(page, "dashboard-delegate")


def test_national_dashboard_public_statistics_and_autocomplete(live_server, page, cast):
    base = live_server.url
    DepartementFactory(code="23", name="Creuse")
    superuser = UserFactory(is_staff=True, is_superuser=True, email="admin@anct.gouv.fr")
    admin_sign_in(page, base, cast.national.email)
    page.goto(f"{base}/tableau-de-bord/")
    page.wait_for_selector("canvas")
    shot(page, "dashboard-national")
    page.goto(f"{base}/statistiques/")
    shot(page, "public-statistics")
    # The département filter is a select that navigates (a static script, no onchange).
    departement = cast.collectivity.departement
    page.goto(f"{base}/admin/engineering_requests/engineeringrequest/")
    page.select_option("#filter-departement", label=f"{departement.code} – {departement.name}")
    page.wait_for_url(f"**departement={departement.pk}**")
    assert page.locator("#result_list tbody tr").count() == 2
    shot(page, "changelist-national")
    # The autocomplete widget (select2, from the admin's static files), as a superuser.
    page.context.clear_cookies()
    admin_sign_in(page, base, superuser.email)
    page.goto(f"{base}/admin/accounts/user/{cast.nobody.pk}/change/")
    page.click("#delegate_assignments-group .add-row a")
    page.click("#delegate_assignments-group .select2-selection >> nth=0")
    page.fill(".select2-search__field", "Creu")
    page.wait_for_selector(".select2-results__option:has-text('Creuse')")
    shot(page, "autocomplete")
