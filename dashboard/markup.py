"""The long repeated blocks of the dashboards, written in Python: the département table's rows
(one per département: 101 for all of France) and the map's shapes (96). Through the template
language they cost ~15 ms a page (450 ``floatformat`` calls, a variable lookup per cell); here
~2 ms, for the same markup, byte for byte, as the template loops they replace (checked by
tests/dashboard/test_markup.py). Every text from the database goes through ``escape``."""

import functools
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from dashboard.map import geometry

TENTH = Decimal("0.1")


class Numbers:
    """``{{ value }}`` and ``{{ value|floatformat:1 }}`` of the active language, for the ints
    and finite floats of these pages. Django's generic path (~20 µs a number) is kept when the
    project groups thousands (``USE_THOUSAND_SEPARATOR``), which this shortcut does not do."""

    def __init__(self):
        self.generic = settings.USE_THOUSAND_SEPARATOR
        self.separator = escape(get_format("DECIMAL_SEPARATOR"))

    def integer(self, value) -> str:
        return str(floatformat(value, 0)) if self.generic else str(int(value))

    def one_decimal(self, value) -> str:
        if self.generic:
            return str(floatformat(value, 1))
        # floatformat: the written form of the number rounded half up, "-0.0" shown as 0.0.
        rounded = Decimal(str(value)).quantize(TENTH, ROUND_HALF_UP)
        return str(rounded if rounded else abs(rounded)).replace(".", self.separator)

    def days(self, value) -> str:
        return "—" if value is None else f"{self.one_decimal(value)} j"


def departement_rows(rows: list[dict], target: int) -> SafeString:
    """The ``<tr>`` of ``templates/dashboard/_departement_table.html``, one per row of
    ``selectors.departement_rows``."""
    numbers = Numbers()
    parts = []
    for row in rows:
        code, rate = escape(row["code"]), row["rate"]
        if rate is None:
            band, rate_text = "none", "—"
        else:
            band = "target" if rate >= target else "below"
            rate_text = f"{numbers.one_decimal(rate)} %"
        parts.append(
            f'\n        <tr data-departement="{code}">'
            f"\n          <td>{code}</td>"
            f'\n          <th scope="row">{escape(row["name"])}</th>'
            f'\n          <td class="dashboard-rate band-text-{band}">{rate_text}</td>'
            f"\n          <td>{numbers.integer(row['local'])}</td>"
            f"\n          <td>{numbers.integer(row['national'])}</td>"
            f"\n          <td>{numbers.integer(row['submitted'])}</td>"
            f"\n          <td>{numbers.integer(row['open'])}</td>"
            f"\n          <td>{numbers.days(row['review_median'])}</td>"
            f"\n          <td>{numbers.days(row['decision_median'])}</td>"
            "\n        </tr>\n      "
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or a number


@functools.cache
def _escaped_paths() -> dict[str, str]:
    """The shipped geometry, escaped once per process (~150 KB)."""
    return {code: escape(path) for code, path in geometry()["paths"].items()}


def map_shapes(shapes: list[dict]) -> SafeString:
    """The ``<path>`` of ``templates/dashboard/_map.html``, one per shape of
    ``map.choropleth``."""
    numbers = Numbers()
    paths = _escaped_paths()
    no_decision = escape(gettext("aucune décision"))
    parts = []
    for shape in shapes:
        code, name, rate = escape(shape["code"]), shape["name"], shape["rate"]
        path = paths.get(shape["code"]) or escape(shape["path"])
        label = f"{code} – {escape(name)}" if name else code
        if rate is None:
            figure = no_decision
        else:
            local, decided = numbers.integer(shape["local"]), numbers.integer(shape["decided"])
            figure = f"{numbers.one_decimal(rate)} % ({local}/{decided})"
        parts.append(
            f'\n        <path d="{path}" class="band-{escape(shape["band"])}" data-code="{code}">'
            f"<title>{label} : {figure}</title></path>\n      "
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped or a number
