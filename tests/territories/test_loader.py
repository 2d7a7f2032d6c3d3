"""load_territories on small files: upsert, idempotence, vanished rows, atomicity, bad files."""

import gzip
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import CollectivityMembership
from territories.enums import CollectivityKind
from territories.models import EPCI, Collectivity, Commune, Departement, Region
from territories.services import TerritoriesDataError, load_territories
from tests.accounts.factories import UserFactory
from tests.territories.documents import small_document, small_tables, write_document

pytestmark = pytest.mark.django_db

MODELS = (Region, Departement, EPCI, Commune, Collectivity)


def snapshot() -> dict:
    """Every row of every territories table, to check that nothing moved."""
    return {model.__name__: sorted(model.objects.values_list()) for model in MODELS}


@pytest.fixture
def loaded(tmp_path):
    """The small document loaded once; returns its path."""
    path = write_document(tmp_path / "v1.json.gz", small_document())
    load_territories(path=path)
    return path


def test_first_load_creates_every_territory_and_its_collectivity(tmp_path):
    report = load_territories(path=write_document(tmp_path / "v1.json.gz", small_document()))

    counts = {kind: (r.created, r.updated, r.unchanged) for kind, r in report.kinds.items()}
    assert counts == {
        "regions": (2, 0, 0),
        "departements": (4, 0, 0),
        "epci": (2, 0, 0),
        "communes": (6, 0, 0),
        "collectivities": (14, 0, 0),
    }
    assert report.changed
    bouillante = Commune.objects.select_related("departement", "epci").get(code="97106")
    assert bouillante.departement.code == "971"
    assert bouillante.epci.siren == "249710047"
    assert Commune.objects.get(code="42218").epci is None


def test_collectivities_point_at_the_departement_handling_their_requests(tmp_path):
    load_territories(path=write_document(tmp_path / "v1.json.gz", small_document()))

    def departement_of(kind, code):
        return Collectivity.objects.get(kind=kind, code=code).departement.code

    assert departement_of(CollectivityKind.COMMUNE, "01001") == "01"
    # 800 inhabitants in the Ain, 2,000 in the Loire: the EPCI belongs to the Loire.
    assert departement_of(CollectivityKind.EPCI, "200000001") == "42"
    assert EPCI.objects.get(siren="200000001").departement.code == "42"
    assert departement_of(CollectivityKind.DEPARTEMENT, "69") == "69"
    # A région is handled in the département of its chef-lieu (Lyon for Auvergne-Rhône-Alpes).
    assert departement_of(CollectivityKind.REGION, "84") == "69"

    region = Collectivity.objects.get(kind=CollectivityKind.REGION, code="84")
    assert region.region.code == "84"
    assert region.population == 800 + 2000 + 173136 + 520774
    assert Collectivity.objects.get(kind=CollectivityKind.COMMUNE, code="42218").search_name == (
        "saint etienne"
    )


def test_second_run_changes_nothing_and_says_so(loaded, capsys):
    before = snapshot()

    report = load_territories(path=loaded)

    assert not report.changed
    assert all(r.created == r.updated == r.deleted == 0 for r in report.kinds.values())
    assert report.kinds["communes"].unchanged == 6
    assert snapshot() == before
    call_command("load_territories", file=loaded)
    assert "Aucun changement" in capsys.readouterr().out


def test_changed_values_are_updated_in_place(loaded, tmp_path):
    document = small_document()
    document["communes"][5] = ["97106", "Bouillante-sur-Mer", "971", 6200, "219710068", None]
    ids = dict(Commune.objects.values_list("code", "id"))

    report = load_territories(path=write_document(tmp_path / "v2.json.gz", document))

    assert (report.kinds["communes"].updated, report.kinds["communes"].unchanged) == (1, 5)
    # The commune, and the populations of its département and région.
    assert report.kinds["collectivities"].updated == 3
    bouillante = Commune.objects.get(code="97106")
    assert (bouillante.id, bouillante.name, bouillante.population) == (
        ids["97106"],
        "Bouillante-sur-Mer",
        6200,
    )
    assert bouillante.epci is None
    collectivity = bouillante.collectivity
    assert collectivity.search_name == "bouillante sur mer"
    assert collectivity.population == 6200


def test_vanished_commune_is_deleted_unless_referenced(loaded, tmp_path):
    official = UserFactory()
    CollectivityMembership.objects.create(
        user=official, collectivity=Collectivity.objects.get(code="01001")
    )
    tables = small_tables()
    # Both members of an EPCI leave the COG (with the EPCI); only 01001 has an official.
    document = small_document(
        communes=[c for c in tables["communes"] if c[0] not in {"01001", "42001"}],
        epci=[e for e in tables["epci"] if e[0] != "200000001"],
    )

    report = load_territories(path=write_document(tmp_path / "v2.json.gz", document))

    assert not Commune.objects.filter(code="42001").exists()
    assert Commune.objects.filter(code="01001").exists()
    assert report.kinds["communes"].deleted == 1
    assert report.kinds["communes"].kept == ["01001"]
    assert report.kinds["collectivities"].kept == ["commune 01001"]
    # The EPCI is referenced by the kept commune only through SET_NULL: it goes.
    assert report.kinds["epci"].deleted == 1
    assert Commune.objects.get(code="01001").epci is None


def test_command_reports_counts_and_kept_rows(loaded, tmp_path, capsys):
    official = UserFactory()
    CollectivityMembership.objects.create(
        user=official, collectivity=Collectivity.objects.get(code="69123")
    )
    tables = small_tables()
    tables["regions"][1][3] = "42218"  # Lyon is gone: Saint-Étienne becomes chef-lieu
    document = small_document(
        communes=[c for c in tables["communes"] if c[0] != "69123"], regions=tables["regions"]
    )

    call_command("load_territories", file=write_document(tmp_path / "v2.json.gz", document))

    out = capsys.readouterr().out
    assert "communes" in out
    assert "conservés : 69123" in out
    assert "Territoires à jour." in out


# Bad files: a clear error, and the database exactly as it was ---------------------------------


def _truncated(path, tmp_path):
    raw = Path(path).read_bytes()
    target = tmp_path / "truncated.json.gz"
    target.write_bytes(raw[: len(raw) // 2])
    return str(target)


def _bad_json(path, tmp_path):
    target = tmp_path / "bad.json.gz"
    target.write_bytes(gzip.compress(b'{"format": 1, "regions": [', mtime=0))
    return str(target)


def _wrong_counts(path, tmp_path):
    document = small_document()
    document["communes"].pop()  # the source block still announces 6
    return write_document(tmp_path / "counts.json.gz", document)


def _missing_key(path, tmp_path):
    document = small_document()
    del document["epci"]
    return write_document(tmp_path / "keys.json.gz", document)


def _unknown_departement(path, tmp_path):
    document = small_document()
    document["communes"][0][2] = "99"
    return write_document(tmp_path / "ref.json.gz", document)


def _not_gzip(path, tmp_path):
    target = tmp_path / "plain.json"
    target.write_text(json.dumps(small_document()))
    return str(target)


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (_truncated, "n'est pas un fichier gzip lisible"),
        (_not_gzip, "n'est pas un fichier gzip lisible"),
        (_bad_json, "ne contient pas un JSON valide"),
        (_wrong_counts, "5 lignes « communes », le bloc source en annonce 6"),
        (_missing_key, "clés manquantes : epci"),
        (_unknown_departement, "département ou EPCI inconnu"),
    ],
)
def test_bad_file_is_refused_and_changes_nothing(loaded, tmp_path, make_file, message):
    before = snapshot()
    path = make_file(loaded, tmp_path)

    with pytest.raises(CommandError) as error:
        call_command("load_territories", file=path)

    assert message in str(error.value)
    assert "Aucune modification" in str(error.value)
    assert snapshot() == before


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TerritoriesDataError, match="Fichier introuvable"):
        load_territories(path=tmp_path / "nope.json.gz")


def test_database_error_half_way_rolls_everything_back(loaded, tmp_path):
    # Make the collectivité of Lyon collide with a stray row holding Lyon's commune: the
    # régions, départements, EPCI and communes are written before the collision is hit.
    Collectivity.objects.filter(code="69123").update(code="STRAY")
    document = small_document()
    document["regions"][1][1] = "Région Auvergne-Rhône-Alpes"
    before = snapshot()

    with pytest.raises(CommandError, match="base de données"):
        call_command("load_territories", file=write_document(tmp_path / "v2.json.gz", document))

    assert snapshot() == before
    assert Region.objects.get(code="84").name == "Auvergne-Rhône-Alpes"
