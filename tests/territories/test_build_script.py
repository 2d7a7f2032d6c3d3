"""scripts/build_territories.py: the transformation, the hash check, reproducible output."""

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from territories.services import DEFAULT_PATH, read_data_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location(
        "build_territories", ROOT / "scripts" / "build_territories.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def package_data():
    """A tiny package in the shape of @etalab/decoupage-administratif's data files."""
    regions = [{"code": "84", "nom": "Auvergne-Rhône-Alpes", "zone": "metro", "chefLieu": "69123"}]
    departements = [
        {"code": "69", "nom": "Rhône", "region": "84", "zone": "metro"},
        {"code": "01", "nom": "Ain", "region": "84", "zone": "metro"},
    ]
    communes = [
        {"code": "69123", "nom": "Lyon", "departement": "69", "type": "commune-actuelle",
         "population": 519127, "siren": "216901231"},
        {"code": "69381", "nom": "Lyon 1er Arrondissement", "departement": "69",
         "type": "arrondissement-municipal", "population": 30000},
        {"code": "01001", "nom": "L'Abergement-Clémenciat", "departement": "01",
         "type": "commune-actuelle", "population": 860, "siren": "210100012"},
        {"code": "01015", "nom": "Arbignieu", "departement": "01", "type": "commune-deleguee"},
        {"code": "01002", "nom": "L'Abergement-de-Varey", "departement": "01",
         "type": "commune-actuelle"},
    ]  # fmt: skip
    epcis = [
        {"code": "200069193", "nom": "CC de la Dombes", "type": "CC",
         "populationMunicipale": 40000, "populationTotale": 41000,
         "membres": [{"code": "01001", "siren": "210100012"}]},
        {"code": "200046977", "nom": "Métropole de Lyon", "type": "MET69",
         "populationMunicipale": 1433613, "populationTotale": 1450000,
         "membres": [{"code": "69123", "siren": "216901231"}]},
    ]  # fmt: skip
    return regions, departements, communes, epcis


def test_transform_keeps_current_communes_with_their_epci_from_members(build):
    tables = build.transform(*package_data())

    assert tables["communes"] == [
        ["01001", "L'Abergement-Clémenciat", "01", 860, "210100012", "200069193"],
        ["01002", "L'Abergement-de-Varey", "01", None, "", None],
        ["69123", "Lyon", "69", 519127, "216901231", "200046977"],
    ]
    assert tables["departements"] == [["01", "Ain", "84", "metro"], ["69", "Rhône", "84", "metro"]]
    assert tables["epci"] == [
        ["200046977", "Métropole de Lyon", "MET69", 1433613],
        ["200069193", "CC de la Dombes", "CC", 40000],
    ]
    assert tables["regions"] == [["84", "Auvergne-Rhône-Alpes", "metro", "69123"]]


def test_transform_refuses_inconsistent_members(build):
    regions, departements, communes, epcis = package_data()
    epcis[0]["membres"].append({"code": "01015"})  # a commune déléguée
    with pytest.raises(build.BuildError, match="01015 is not a current commune"):
        build.transform(regions, departements, communes, epcis)

    regions, departements, communes, epcis = package_data()
    epcis[1]["membres"].append({"code": "01001"})
    with pytest.raises(build.BuildError, match="01001 is a member of 200069193 and 200046977"):
        build.transform(regions, departements, communes, epcis)


def test_tarball_with_another_hash_is_refused(build):
    with pytest.raises(build.BuildError, match=r"refusing x\.tgz: sha256 is"):
        build.verify_tarball(b"not the package", "x.tgz")


def test_output_is_reproducible(build):
    tables = build.transform(*package_data())
    first, second = build.render(tables), build.render(build.transform(*package_data()))

    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # gzip header: no timestamp
    document = json.loads(gzip.decompress(first))
    assert document["source"]["counts"] == {
        "regions": 1,
        "departements": 2,
        "epci": 2,
        "communes": 3,
    }


def test_committed_file_is_what_the_script_writes(build):
    raw = DEFAULT_PATH.read_bytes()
    document = read_data_file(DEFAULT_PATH)
    tables = {kind: document[kind] for kind in build.FIELDS}

    assert raw[4:8] == b"\0\0\0\0"
    # Compare the JSON text, not the gzip bytes, which depend on the zlib build.
    assert gzip.decompress(raw) == gzip.decompress(build.render(tables))
    assert document["fields"] == build.FIELDS
    assert document["source"] == {
        "package": "@etalab/decoupage-administratif",
        "version": "6.0.0",
        "sha256": "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a",
        "licence": "Licence Ouverte / Open Licence 2.0",
        "counts": {"communes": 34_969, "departements": 109, "epci": 1255, "regions": 26},
    }
    assert 400_000 < len(raw) < 800_000
