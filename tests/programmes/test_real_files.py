"""The importer and the pages on the real data: COG 2026 territories and the reference files
of shared/data/programmes (see its SOURCES.md for the expected counts)."""

import shutil
import time
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programmes.models import (
    Contract,
    FrameworkAgreement,
    Operator,
    PriorityDomain,
    Programme,
    ProgrammeMembership,
    ProgrammeTerritory,
)
from programmes.selectors import programmes_for_commune
from programmes.services import import_programme_members, load_catalogue
from territories.models import EPCI, Collectivity, Commune, Departement, Region

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Children first, plain DELETEs: the next modules expect empty tables.
TABLES = [
    ProgrammeMembership._meta.db_table,
    ProgrammeTerritory._meta.db_table,
    *(Contract._meta.get_field(name).remote_field.through._meta.db_table
      for name in ("departements", "epcis", "communes")),
    Contract._meta.db_table,
    FrameworkAgreement._meta.db_table,
    Operator._meta.db_table,
    Programme._meta.db_table,
    PriorityDomain._meta.db_table,
    *(model._meta.db_table for model in (Collectivity, Commune, EPCI, Departement, Region)),
]  # fmt: skip


@pytest.fixture(scope="module")
def real_data(django_db_setup, django_db_blocker):
    """COG 2026 and the catalogue, loaded once for the module, outside the tests' transactions."""
    with django_db_blocker.unblock():
        call_command("load_territories", stdout=StringIO())
        load_catalogue()
        yield
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608


def timed_import(code, path, **kwargs):
    started = time.perf_counter()
    report = import_programme_members(
        programme=Programme.objects.get(code=code), data=path.read_bytes(), **kwargs
    )
    return report, time.perf_counter() - started


def test_acv_gives_245_commune_memberships(real_data, programme_files):
    report, seconds = timed_import("acv", programme_files / "acv.csv")
    assert (report.created, report.communes, report.epcis, report.unknown) == (245, 245, 0, [])
    acv = Programme.objects.get(code="acv")
    assert ProgrammeMembership.objects.filter(programme=acv, commune__isnull=False).count() == 245
    assert seconds < 5, seconds


def test_pvd_gives_1645_memberships_then_a_second_import_changes_nothing(
    real_data, programme_files
):
    report, seconds = timed_import("pvd", programme_files / "pvd.csv")
    assert (report.created, report.communes, report.unknown) == (1645, 1645, [])
    assert seconds < 10, seconds
    bouillante = ProgrammeMembership.objects.get(programme__code="pvd", commune__code="97106")
    assert bouillante.signed_on == date(2021, 5, 28)
    assert bouillante.territory.external_id == "pvd-01-971-1"

    ids = set(ProgrammeMembership.objects.values_list("pk", flat=True))
    again, seconds = timed_import("pvd", programme_files / "pvd.csv")
    assert (again.created, again.updated, again.removed, again.unchanged) == (0, 0, 0, 1645)
    assert not again.changed
    assert set(ProgrammeMembership.objects.values_list("pk", flat=True)) == ids


def test_a_file_with_one_code_removed_removes_exactly_that_membership(
    real_data, programme_files, tmp_path
):
    timed_import("pvd", programme_files / "pvd.csv")
    before = set(
        ProgrammeMembership.objects.filter(programme__code="pvd").values_list("pk", "commune__code")
    )
    lines = (programme_files / "pvd.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    removed_line = next(line for line in lines if ",97106," in line)
    shorter = tmp_path / "pvd.csv"
    shorter.write_text("".join(line for line in lines if line != removed_line), encoding="utf-8")

    report, _seconds = timed_import("pvd", shorter)
    assert (report.removed, report.created, report.unchanged) == (1, 0, 1644)
    after = set(
        ProgrammeMembership.objects.filter(programme__code="pvd").values_list("pk", "commune__code")
    )
    assert before - after == {pk_code for pk_code in before if pk_code[1] == "97106"}
    assert after < before


def test_territoires_d_industrie_links_mostly_epci(real_data, programme_files):
    report, _seconds = timed_import("ti", programme_files / "ti.csv")
    assert (report.epcis, report.communes) == (626, 12)
    assert [code for _line, code, _name in report.unknown] == [
        "200057990",
        "200058097",
        "200058014",
    ]  # établissements publics territoriaux of the Métropole du Grand Paris: not EPCI in COG
    maubeuge = Commune.objects.get(code="59392")
    assert "ti" in {p.code for p in programmes_for_commune(maubeuge)}  # through its EPCI


def test_france_services_reports_its_outdated_codes_as_unknown(real_data, programme_files):
    report, _seconds = timed_import("france_services", programme_files / "france_services.csv")
    assert len(report.unknown) == 21
    assert report.created == report.communes > 2_519  # sites sharing a row count once each
    assert report.epcis == 0


def test_cites_educatives_rows_with_several_cites(real_data, programme_files):
    report, _seconds = timed_import("cites_educatives", programme_files / "cites_educatives.csv")
    assert report.unknown == []
    assert report.territories_created == 208
    amiens = set(
        ProgrammeMembership.objects.filter(commune__code="80021").values_list(
            "territory__external_id", flat=True
        )
    )
    assert amiens == {"cite-002", "cite-127"}


def test_the_commune_page_of_a_pvd_commune_lists_pvd(real_data, programme_files, client):
    timed_import("pvd", programme_files / "pvd.csv")
    timed_import("acv", programme_files / "acv.csv")
    html = client.get(reverse("programmes:commune", kwargs={"code": "97106"})).content.decode()
    assert ">Bouillante</h1>" in html
    assert 'href="/programmes/pvd/">Petites villes de demain</a>' in html
    assert "971 – Guadeloupe" in html and "CA Grand Sud Caraïbe" in html
    assert "Signé le 28 mai 2021." in html
    # "Is my commune in PVD?" answered in one search.
    response = client.get(reverse("programmes:territory_search"), {"q": "Bouillante"})
    assert response.url == "/territoires/communes/97106/"


def test_list_and_detail_pages_run_the_same_queries_with_1645_members(
    real_data, programme_files, client, django_assert_max_num_queries
):
    def queries(url, **params):
        with CaptureQueriesContext(connection) as context:
            response = client.get(url, params)
        assert response.status_code == 200
        return len(context), response.content.decode()

    list_url = reverse("programmes:programme_list")
    acv_url = reverse("programmes:programme_detail", kwargs={"code": "acv"})
    pvd_url = reverse("programmes:programme_detail", kwargs={"code": "pvd"})
    timed_import("acv", programme_files / "acv.csv")
    few_list, _html = queries(list_url)
    few_detail, _html = queries(acv_url, page=2)

    timed_import("pvd", programme_files / "pvd.csv")
    timed_import("ti", programme_files / "ti.csv")
    with django_assert_max_num_queries(few_detail):
        many_detail, html = queries(pvd_url, page=3)
    assert "(page 3 sur 33)" in html
    assert many_detail == few_detail == 4
    with django_assert_max_num_queries(few_list):
        many_list, html = queries(list_url)
    assert "1645 communes" in html
    assert many_list == few_list == 5
    with django_assert_max_num_queries(5):
        queries(reverse("programmes:epci", kwargs={"siren": "200043396"}))


def test_contracts_are_linked_to_their_real_territories(real_data):
    pact = Contract.objects.get(code="pacte-sambre-avesnois-thierache")
    assert pact.epcis.count() == 8
    assert Commune.objects.filter(epci__in=pact.epcis.all()).count() == 310
    assert set(pact.epcis.values_list("departement__code", flat=True)) == {"02", "59"}
    assert Contract.objects.get(code="renouveau-bassin-minier").epcis.count() == 7


def test_command_on_a_real_file(real_data, programme_files, tmp_path):
    path = tmp_path / "ti.csv"
    shutil.copy(programme_files / "ti.csv", path)
    out = StringIO()
    call_command("import_programme_members", "ti", str(path), "--dry-run", stdout=out)
    output = out.getvalue()
    assert "communes 12, EPCI 626" in output
    assert "ligne 18 : 200057990 (EPT Boucle Nord de Seine)" in output
    assert not ProgrammeMembership.objects.exists()
