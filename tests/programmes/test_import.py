"""import_programme_members against factory territories: diffing, reports and bad input."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from programmes.member_files import MemberFileError
from programmes.models import ProgrammeMembership, ProgrammeTerritory
from programmes.services import import_programme_members
from tests.programmes.factories import ProgrammeFactory
from tests.territories.factories import CommuneFactory, EPCIFactory

pytestmark = pytest.mark.django_db

HEADER = "territoire_id,territoire_nom,code_membre,nom_membre,date_signature,source_layer\n"
ROWS = [
    "pvd-1,Abbeville,80001,Abbeville,2021-05-28,pvd",
    "pvd-2,Agde,34003,Agde,2021-06-01,pvd",
    "pvd-3,Ajaccio,2A004,Ajaccio,,pvd",
    "ti-1,Sambre,200043396,CA Maubeuge Val de Sambre,,ti",
    "ti-1,Sambre,213103924,Commune de Jeumont,,ti",
]


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


@pytest.fixture
def territories():
    epci = EPCIFactory(siren="200043396", name="CA Maubeuge Val de Sambre")
    return {
        "abbeville": CommuneFactory(code="80001", name="Abbeville"),
        "agde": CommuneFactory(code="34003", name="Agde"),
        "ajaccio": CommuneFactory(code="2A004", name="Ajaccio"),
        "jeumont": CommuneFactory(code="59324", name="Jeumont", siren="213103924", epci=epci),
        "epci": epci,
    }


@pytest.fixture
def programme():
    return ProgrammeFactory(code="pvd", name="Petites villes de demain")


def snapshot(programme):
    return sorted(
        ProgrammeMembership.objects.filter(programme=programme).values_list(
            "territory__external_id", "commune__code", "epci__siren", "signed_on"
        ),
        key=str,
    )


def test_first_import_creates_memberships_of_communes_epci_and_commune_siren(
    territories, programme
):
    report = import_programme_members(programme=programme, data=csv_bytes(*ROWS))
    assert (report.rows, report.created, report.unchanged, report.removed) == (5, 5, 0, 0)
    assert (report.communes, report.epcis, report.unknown) == (4, 1, [])
    assert snapshot(programme) == sorted(
        [
            ("pvd-1", "80001", None, date(2021, 5, 28)),
            ("pvd-2", "34003", None, date(2021, 6, 1)),
            ("pvd-3", "2A004", None, None),
            ("ti-1", None, "200043396", None),
            ("ti-1", "59324", None, None),
        ],
        key=str,
    )
    assert ProgrammeTerritory.objects.get(programme=programme, external_id="pvd-1").signed_on == (
        date(2021, 5, 28)
    )
    programme.refresh_from_db()
    assert programme.members_imported_at is not None


def test_second_import_of_the_same_file_changes_nothing(territories, programme):
    import_programme_members(programme=programme, data=csv_bytes(*ROWS))
    before = snapshot(programme)
    ids = set(ProgrammeMembership.objects.values_list("pk", flat=True))
    report = import_programme_members(programme=programme, data=csv_bytes(*ROWS))
    assert (report.created, report.updated, report.removed, report.unchanged) == (0, 0, 0, 5)
    assert not report.changed
    assert snapshot(programme) == before
    assert set(ProgrammeMembership.objects.values_list("pk", flat=True)) == ids


def test_a_row_removed_from_the_file_removes_exactly_that_membership(territories, programme):
    import_programme_members(programme=programme, data=csv_bytes(*ROWS))
    before = snapshot(programme)
    report = import_programme_members(programme=programme, data=csv_bytes(*ROWS[1:]))
    assert (report.removed, report.unchanged, report.created) == (1, 4, 0)
    assert report.territories_removed == 1
    assert snapshot(programme) == [row for row in before if row[0] != "pvd-1"]
    assert not ProgrammeTerritory.objects.filter(external_id="pvd-1").exists()


def test_a_changed_date_or_name_is_updated_in_place(territories, programme):
    import_programme_members(programme=programme, data=csv_bytes(*ROWS))
    membership = ProgrammeMembership.objects.get(commune=territories["agde"])
    changed = [ROWS[0], "pvd-2,Agde (centre),34003,Agde,2022-01-15,pvd", *ROWS[2:]]
    report = import_programme_members(programme=programme, data=csv_bytes(*changed))
    assert (report.updated, report.territories_updated, report.created) == (1, 1, 0)
    membership.refresh_from_db()
    assert membership.signed_on == date(2022, 1, 15)
    assert membership.territory.name == "Agde (centre)"


def test_unknown_codes_are_listed_and_skipped(territories, programme):
    rows = [*ROWS, "pvd-9,Nulle part,99999,Nulle part,,pvd", "ti-2,X,123456789,CC Disparue,,ti"]
    report = import_programme_members(programme=programme, data=csv_bytes(*rows))
    assert report.created == 5
    assert report.unknown == [(7, "99999", "Nulle part"), (8, "123456789", "CC Disparue")]


def test_one_row_for_several_territories_makes_one_membership_per_territory(territories, programme):
    data = csv_bytes("cite-002 ; cite-127,Amiens Nord ; Amiens Étouvie,80001,Abbeville,,c")
    report = import_programme_members(programme=programme, data=data)
    assert report.created == 2 and report.territories_created == 2
    assert set(ProgrammeTerritory.objects.values_list("external_id", "name")) == {
        ("cite-002", "Amiens Nord"),
        ("cite-127", "Amiens Étouvie"),
    }


def test_the_same_member_twice_in_a_territory_through_two_codes_is_a_duplicate(
    territories, programme
):
    data = csv_bytes("ti-1,Sambre,59324,Jeumont,,ti", "ti-1,Sambre,213103924,Jeumont,,ti")
    with pytest.raises(MemberFileError, match="1 ligne en double"):
        import_programme_members(programme=programme, data=data)


def test_dry_run_reports_without_writing(territories, programme):
    report = import_programme_members(programme=programme, data=csv_bytes(*ROWS), dry_run=True)
    assert report.created == 5 and report.dry_run
    assert not ProgrammeMembership.objects.exists()
    assert not ProgrammeTerritory.objects.exists()
    programme.refresh_from_db()
    assert programme.members_imported_at is None


def test_imports_of_two_programmes_do_not_touch_each_other(territories, programme):
    other = ProgrammeFactory(code="acv")
    import_programme_members(programme=other, data=csv_bytes(ROWS[0]))
    import_programme_members(programme=programme, data=csv_bytes(*ROWS[1:3]))
    import_programme_members(programme=programme, data=csv_bytes(ROWS[1]))
    assert ProgrammeMembership.objects.filter(programme=other).count() == 1


BAD_FILES = {
    "unknown-codes-only": (
        csv_bytes("x-1,X,99999,X,,x", "x-2,Y,12345,Y,,x"),
        "Aucune ligne valide",
    ),
    "duplicate-rows": (csv_bytes(ROWS[0], ROWS[1], ROWS[0]), "1 ligne en double"),
    "wrong-columns": (b"code,nom\n80001,Abbeville\n", "Colonnes manquantes"),
    "latin-1": (
        csv_bytes(ROWS[0], "pvd-2,Agde é,34003,Agde,,pvd").decode().encode("latin-1"),
        "UTF-8",
    ),
    "empty": (b"", "Le fichier est vide"),
    "header-only": (HEADER.encode(), "aucune ligne de données"),
    "bad-date": (csv_bytes(ROWS[0], "pvd-2,Agde,34003,Agde,31/02/2021,pvd"), "illisible"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_changes_nothing_and_says_why(territories, programme, name):
    import_programme_members(programme=programme, data=csv_bytes(*ROWS))
    before = snapshot(programme)
    data, message = BAD_FILES[name]
    with pytest.raises(MemberFileError, match=message):
        import_programme_members(programme=programme, data=data)
    assert snapshot(programme) == before


# --- The command ---------------------------------------------------------------------------


def run(*args):
    out = StringIO()
    call_command("import_programme_members", *args, stdout=out)
    return out.getvalue()


def test_command_reports_created_unchanged_removed_and_unknown(territories, programme, tmp_path):
    path = tmp_path / "pvd.csv"
    path.write_bytes(csv_bytes(*ROWS, "pvd-9,Nulle part,99999,Nulle part,,pvd"))
    output = run("pvd", str(path))
    assert "membres — créés : 5, inchangés : 0, mis à jour : 0, retirés : 0" in output
    assert "(dans le fichier : communes 4, EPCI 1)" in output
    assert "codes inconnus, lignes ignorées : 1" in output
    assert "ligne 7 : 99999 (Nulle part)" in output
    assert "Import terminé." in output

    path.write_bytes(csv_bytes(*ROWS, "pvd-9,Nulle part,99999,Nulle part,,pvd"))
    assert "rien n'a changé" in run("pvd", str(path))

    path.write_bytes(csv_bytes(*ROWS[1:]))
    output = run("pvd", str(path), "--dry-run")
    assert "créés : 0, inchangés : 4, mis à jour : 0, retirés : 1" in output
    assert "rien n'a été enregistré" in output
    assert ProgrammeMembership.objects.filter(programme=programme).count() == 5


def test_command_errors_are_clear(territories, programme, tmp_path):
    with pytest.raises(
        CommandError, match=r"Programme inconnu « nope »\. Programmes existants : pvd"
    ):
        run("nope", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="Impossible de lire"):
        run("pvd", str(tmp_path / "missing.csv"))
    path = tmp_path / "latin1.csv"
    path.write_bytes("territoire_id,territoire_nom,code_membre\nt,Alès,30007\n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"latin1\.csv : Le fichier n'est pas encodé en UTF-8"):
        run("pvd", str(path))
