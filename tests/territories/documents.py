"""Small COG data files in the format of ``territories/data/cog2026.json.gz``, for loader tests."""

import copy
import gzip
import json

from territories.services import FIELDS, FORMAT

_TABLES = {
    "regions": [
        ["01", "Guadeloupe", "drom", "97105"],
        ["84", "Auvergne-Rhône-Alpes", "metro", "69123"],
    ],
    "departements": [
        ["01", "Ain", "84", "metro"],
        ["42", "Loire", "84", "metro"],
        ["69", "Rhône", "84", "metro"],
        ["971", "Guadeloupe", "01", "drom"],
    ],
    "epci": [
        ["200000001", "CC Entre Ain et Loire", "CC", 2800],
        ["249710047", "CA Grand Sud Caraïbe", "CA", 16127],
    ],
    "communes": [
        ["01001", "L'Abergement-Clémenciat", "01", 800, "210100012", "200000001"],
        ["42001", "Saint-Étienne-le-Petit", "42", 2000, "214200012", "200000001"],
        ["42218", "Saint-Étienne", "42", 173136, "214202186", None],
        ["69123", "Lyon", "69", 520774, "216901231", None],
        ["97105", "Basse-Terre", "971", 10000, "219710050", "249710047"],
        ["97106", "Bouillante", "971", 6127, "219710068", "249710047"],
    ],
}


def small_tables() -> dict:
    return copy.deepcopy(_TABLES)


def small_document(**changes) -> dict:
    """A consistent document; ``changes`` replace whole tables (counts follow)."""
    tables = copy.deepcopy(_TABLES) | copy.deepcopy(changes)
    return {
        "format": FORMAT,
        "source": {
            "package": "@etalab/decoupage-administratif",
            "version": "6.0.0",
            "sha256": "0" * 64,
            "licence": "Licence Ouverte / Open Licence 2.0",
            "counts": {kind: len(rows) for kind, rows in tables.items()},
        },
        "fields": copy.deepcopy(FIELDS),
        **tables,
    }


def write_document(path, document) -> str:
    path.write_bytes(gzip.compress(json.dumps(document, ensure_ascii=False).encode(), mtime=0))
    return str(path)
