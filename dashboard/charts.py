"""What the templates and the chart script need, shaped from the indicators (no query)."""

import textwrap

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from dashboard.selectors import DEPARTEMENT_SORTS


def sort_links(query, sort: str, descending: bool) -> dict:
    """For each sortable column of the département table: the link that sorts by it (the
    current column toggles its direction) and its state, keeping the other parameters."""
    links = {}
    for column in DEPARTEMENT_SORTS:
        params = query.copy()
        active = column == sort
        # Figures sort largest first on the first click, names and codes A→Z.
        first_desc = column not in ("code", "nom")
        next_desc = (not descending) if active else first_desc
        params["tri"] = column
        params["ordre"] = "desc" if next_desc else "asc"
        links[column] = {
            "url": "?" + params.urlencode(),
            "active": active,
            "aria_sort": ("descending" if descending else "ascending") if active else None,
        }
    return links


def _lines(label) -> list[str]:
    """Long axis labels on several lines (Chart.js draws a list as lines), never cut."""
    return textwrap.wrap(str(label), 30) or [""]


def chart_data(data) -> dict:
    """Plain JSON for ``json_script``: labels and series of every chart."""
    headline, decisions = data.headline, data.decisions
    return {
        "trend": {
            "labels": [date_format(m["month"], "M Y") for m in data.trend],
            "submitted": [m["submitted"] for m in data.trend],
            "local": [m["local"] for m in data.trend],
            "national": [m["national"] for m in data.trend],
            "rate": [m["rate"] for m in data.trend],
            "target": headline["target"],
            "labels_series": {
                "submitted": _("Demandes déposées"),
                "local": _("Réponses locales"),
                "national": _("Appuis nationaux"),
                "rate": _("Taux de résolution locale (%)"),
                "target": _("Objectif (%)"),
            },
        },
        "states": {
            "labels": [_lines(s["label"]) for s in headline["by_state"]],
            "values": [s["count"] for s in headline["by_state"]],
            "series": _("Demandes"),
        },
        "grounds": {
            "labels": [_lines(g["label"]) for g in headline["grounds"]],
            "values": [g["count"] for g in headline["grounds"]],
            "series": _("Demandes transmises"),
        },
        "instruments": {
            "labels": [_lines(i["label"]) for i in decisions["by_instrument"]],
            "values": [i["count"] for i in decisions["by_instrument"]],
            "series": _("Appuis accordés"),
        },
        "backlog": {
            "labels": [str(b) for b in headline["backlog"]["bands"]],
            "datasets": [
                {"label": str(r["label"]), "values": r["counts"]}
                for r in headline["backlog"]["rows"]
            ],
        },
    }
