"""Loading the COG reference data file into the territories tables.

``load_territories(path=...)`` reads ``territories/data/cog2026.json.gz`` (built by
``scripts/build_territories.py``), validates all of it before writing anything, then upserts
régions, départements, EPCI, communes and their ``Collectivity`` rows in one transaction: a bad
file leaves the database exactly as it was. Existing rows are compared in memory and only the
rows that differ are written, so a second run changes nothing.
"""

import gzip
import json
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from territories.enums import CollectivityKind, EPCIKind, Zone
from territories.models import EPCI, Collectivity, Commune, Departement, Region
from territories.text import normalize

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "cog2026.json.gz"
FORMAT = 1
# The file is ~2.5 MB once decompressed; anything far bigger is not ours.
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

FIELDS = {
    "regions": ["code", "name", "zone", "chef_lieu"],
    "departements": ["code", "name", "region", "zone"],
    "epci": ["siren", "name", "kind", "population"],
    "communes": ["code", "name", "departement", "population", "siren", "epci"],
}
# The order of the report, parents first.
KINDS = ("regions", "departements", "epci", "communes", "collectivities")
BATCH_SIZE = 2000


class TerritoriesDataError(Exception):
    """The data file is unreadable or inconsistent; nothing was written."""


@dataclass
class KindReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    # Rows gone from the COG but still referenced (PROTECT): kept, listed for a human to look at.
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted


@dataclass
class LoadReport:
    source: dict
    kinds: dict[str, KindReport]
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(report.changed for report in self.kinds.values())


# Reading and validating ------------------------------------------------------------------------


def read_data_file(path: Path | str = DEFAULT_PATH) -> dict:
    """The parsed and validated document. Raises TerritoriesDataError with a clear message."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as stream:
            raw = stream.read(MAX_DECOMPRESSED_BYTES + 1)
    except FileNotFoundError as error:
        raise TerritoriesDataError(_("Fichier introuvable : %(path)s") % {"path": path}) from error
    except (OSError, EOFError, zlib.error) as error:
        # gzip raises BadGzipFile (an OSError) on garbage, EOFError on a truncated file.
        raise TerritoriesDataError(
            _("%(path)s n'est pas un fichier gzip lisible (tronqué ou corrompu ?) : %(error)s")
            % {"path": path, "error": error}
        ) from error
    if len(raw) > MAX_DECOMPRESSED_BYTES:
        raise TerritoriesDataError(_("%(path)s est anormalement volumineux.") % {"path": path})
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TerritoriesDataError(
            _("%(path)s ne contient pas un JSON valide : %(error)s")
            % {"path": path, "error": error}
        ) from error
    _validate(document)
    return document


def _fail(message: str, **params) -> None:
    raise TerritoriesDataError(_("Fichier de territoires invalide : ") + (message % params))


def _validate(document) -> None:
    if not isinstance(document, dict):
        _fail(_("le document n'est pas un objet JSON."))
    missing = [key for key in ("format", "source", "fields", *FIELDS) if key not in document]
    if missing:
        _fail(_("clés manquantes : %(keys)s."), keys=", ".join(missing))
    if document["format"] != FORMAT:
        _fail(
            _("format %(found)r, attendu %(expected)r."), found=document["format"], expected=FORMAT
        )
    source = document["source"]
    counts = source.get("counts") if isinstance(source, dict) else None
    if not isinstance(counts, dict):
        _fail(_("le bloc « source » n'a pas de décompte « counts »."))
    if document["fields"] != FIELDS:
        _fail(_("colonnes inattendues : %(fields)s."), fields=document["fields"])
    for kind, columns in FIELDS.items():
        rows = document[kind]
        if not isinstance(rows, list):
            _fail(_("« %(kind)s » n'est pas une liste."), kind=kind)
        if counts.get(kind) != len(rows):
            _fail(
                _("%(found)s lignes « %(kind)s », le bloc source en annonce %(expected)s."),
                kind=kind,
                found=len(rows),
                expected=counts.get(kind),
            )
        for row in rows:
            if not isinstance(row, list) or len(row) != len(columns):
                _fail(_("ligne « %(kind)s » mal formée : %(row)r."), kind=kind, row=row)
    _validate_values(document)


def _validate_values(document) -> None:
    """Types, lengths, choices and references, so that the writes cannot fail half-way."""
    lengths = {
        "regions": {"code": Region, "name": Region},
        "departements": {"code": Departement, "name": Departement},
        "epci": {"siren": EPCI, "name": EPCI},
        "communes": {"code": Commune, "name": Commune, "siren": Commune},
    }
    for kind, checked in lengths.items():
        columns = FIELDS[kind]
        for column, model in checked.items():
            index = columns.index(column)
            max_length = model._meta.get_field(column).max_length
            blank_ok = kind == "communes" and column == "siren"  # COM communes have none
            for row in document[kind]:
                value = row[index]
                if not isinstance(value, str) or len(value) > max_length or not (value or blank_ok):
                    _fail(
                        _("%(kind)s : valeur « %(column)s » invalide : %(row)r."),
                        kind=kind,
                        column=column,
                        row=row,
                    )
        keys = [row[0] for row in document[kind]]
        duplicates = [key for key, n in Counter(keys).items() if n > 1]
        if duplicates:
            _fail(_("%(kind)s : codes en double : %(codes)s."), kind=kind, codes=duplicates[:5])
    for kind, index in (("epci", 3), ("communes", 3)):
        for row in document[kind]:
            population = row[index]
            if population is not None and (
                not isinstance(population, int) or isinstance(population, bool) or population < 0
            ):
                _fail(_("%(kind)s : population invalide : %(row)r."), kind=kind, row=row)

    zones = set(Zone.values)
    regions = {row[0] for row in document["regions"]}
    departements = {row[0] for row in document["departements"]}
    epcis = {row[0] for row in document["epci"]}
    communes = {row[0] for row in document["communes"]}
    for row in document["regions"]:
        if row[2] not in zones or row[3] not in communes:
            _fail(_("région mal formée (zone ou chef-lieu inconnu) : %(row)r."), row=row)
    for row in document["departements"]:
        if row[2] not in regions or row[3] not in zones:
            _fail(_("département mal formé (région ou zone inconnue) : %(row)r."), row=row)
    for row in document["epci"]:
        if row[2] not in EPCIKind.values:
            _fail(_("EPCI de nature inconnue : %(row)r."), row=row)
    for row in document["communes"]:
        if row[2] not in departements or (row[5] is not None and row[5] not in epcis):
            _fail(_("commune mal rattachée (département ou EPCI inconnu) : %(row)r."), row=row)
    without_members = epcis - {row[5] for row in document["communes"]}
    if without_members:
        _fail(_("EPCI sans commune membre : %(sirens)s."), sirens=sorted(without_members)[:5])
    without_departements = regions - {row[2] for row in document["departements"]}
    if without_departements:
        _fail(_("régions sans département : %(codes)s."), codes=sorted(without_departements))


# Loading ---------------------------------------------------------------------------------------


def load_territories(*, path: Path | str = DEFAULT_PATH) -> LoadReport:
    """Upsert every territory of the file in one transaction and report what changed."""
    started = time.monotonic()
    document = read_data_file(path)
    report = LoadReport(source=document["source"], kinds={kind: KindReport() for kind in KINDS})
    regions = {row[0]: row for row in document["regions"]}
    departements = {row[0]: row for row in document["departements"]}
    epcis = {row[0]: row for row in document["epci"]}
    communes = {row[0]: row for row in document["communes"]}
    epci_departement = _main_departement_of_epcis(communes.values())
    region_departement = _departement_of_regions(regions, departements, communes)

    with transaction.atomic():
        region_ids = _sync(
            Region,
            {(code,): {"name": r[1], "zone": r[2]} for code, r in regions.items()},
            report.kinds["regions"],
        )
        departement_ids = _sync(
            Departement,
            {
                (code,): {"name": d[1], "region_id": region_ids[(d[2],)], "zone": d[3]}
                for code, d in departements.items()
            },
            report.kinds["departements"],
        )
        epci_ids = _sync(
            EPCI,
            {
                (siren,): {
                    "name": e[1],
                    "kind": e[2],
                    "population": e[3],
                    "departement_id": departement_ids[(epci_departement[siren],)],
                }
                for siren, e in epcis.items()
            },
            report.kinds["epci"],
        )
        commune_ids = _sync(
            Commune,
            {
                (code,): {
                    "name": c[1],
                    "departement_id": departement_ids[(c[2],)],
                    "population": c[3],
                    "siren": c[4],
                    "epci_id": epci_ids[(c[5],)] if c[5] else None,
                }
                for code, c in communes.items()
            },
            report.kinds["communes"],
        )

        departement_population = Counter()
        for c in communes.values():
            departement_population[c[2]] += c[3] or 0
        region_population = Counter()
        for d in departements.values():
            region_population[d[2]] += departement_population[d[0]]

        def collectivity(kind, code, name, population, departement, **link):
            values = {
                "name": name,
                "search_name": normalize(name),
                "population": population,
                "departement_id": departement_ids[(departement,)],
                "commune_id": None,
                "epci_id": None,
                "region_id": None,
                **link,
            }
            return (kind.value, code), values  # plain strings, as read back from the database

        rows = [
            *(
                collectivity(
                    CollectivityKind.COMMUNE,
                    code,
                    c[1],
                    c[3],
                    c[2],
                    commune_id=commune_ids[(code,)],
                )
                for code, c in communes.items()
            ),
            *(
                collectivity(
                    CollectivityKind.EPCI,
                    siren,
                    e[1],
                    e[3],
                    epci_departement[siren],
                    epci_id=epci_ids[(siren,)],
                )
                for siren, e in epcis.items()
            ),
            *(
                collectivity(
                    CollectivityKind.DEPARTEMENT, code, d[1], departement_population[code], code
                )
                for code, d in departements.items()
            ),
            *(
                collectivity(
                    CollectivityKind.REGION,
                    code,
                    r[1],
                    region_population[code],
                    region_departement[code],
                    region_id=region_ids[(code,)],
                )
                for code, r in regions.items()
            ),
        ]
        collectivities = dict(rows)
        _sync(Collectivity, collectivities, report.kinds["collectivities"])

        # Children first, so that a parent that vanished is only kept when a kept child needs it.
        _remove_vanished(Collectivity, set(collectivities), report.kinds["collectivities"])
        _remove_vanished(Commune, {(c,) for c in communes}, report.kinds["communes"])
        _remove_vanished(EPCI, {(s,) for s in epcis}, report.kinds["epci"])
        _remove_vanished(Departement, {(d,) for d in departements}, report.kinds["departements"])
        _remove_vanished(Region, {(r,) for r in regions}, report.kinds["regions"])

    report.seconds = time.monotonic() - started
    return report


def _main_departement_of_epcis(communes) -> dict[str, str]:
    """For each EPCI, the département where most of its members' population lives."""
    population = defaultdict(Counter)
    for _code, _name, departement, commune_population, _siren, epci in communes:
        if epci:
            population[epci][departement] += commune_population or 0
    # Ties (none in COG 2026) go to the smallest code, so the result never depends on order.
    return {
        epci: min(per_departement.items(), key=lambda item: (-item[1], item[0]))[0]
        for epci, per_departement in population.items()
    }


def _departement_of_regions(regions, departements, communes) -> dict[str, str]:
    """The département of each région's chef-lieu, when it lies in the région.

    COG quirk: the TAAF (984) have Saint-Pierre (97502, Saint-Pierre-et-Miquelon) as chef-lieu;
    such a région falls back to its first own département.
    """
    own = defaultdict(list)
    for code, _name, region, _zone in departements.values():
        own[region].append(code)
    result = {}
    for code, (_code, _name, _zone, chef_lieu) in regions.items():
        departement = communes[chef_lieu][2]
        result[code] = departement if departement in own[code] else min(own[code])
    return result


def _key_fields(model) -> tuple[str, ...]:
    if model is Collectivity:
        return ("kind", "code")
    if model is EPCI:
        return ("siren",)
    return ("code",)


def _sync(model, rows: dict[tuple, dict], report: KindReport) -> dict[tuple, int]:
    """Create missing rows and update differing ones; return {key: id} for all rows."""
    keys = _key_fields(model)
    columns = list(next(iter(rows.values())))
    existing = {}
    for values in model.objects.values("id", *keys, *columns).iterator(chunk_size=5000):
        existing[tuple(values[k] for k in keys)] = values
    to_create, to_update = [], []
    for key, values in rows.items():
        current = existing.get(key)
        if current is None:
            to_create.append(model(**dict(zip(keys, key, strict=True)), **values))
        elif any(current[column] != value for column, value in values.items()):
            to_update.append((current["id"], values))
        else:
            report.unchanged += 1
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    _update_rows(model, columns, to_update)
    report.created += len(to_create)
    report.updated += len(to_update)
    return {
        tuple(values[:-1]): values[-1]
        for values in model.objects.values_list(*keys, "id").iterator()
    }


def _update_rows(model, columns: list[str], rows: list[tuple[int, dict]]) -> None:
    """One parameterised UPDATE per row, sent with executemany.

    QuerySet.bulk_update builds a CASE expression per column and batch, which takes over a minute
    for the ~35,000 communes a yearly population refresh touches; executemany takes seconds.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(column) for column in columns]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    params = [
        [
            f.get_db_prep_save(values[column], connection)
            for f, column in zip(fields, columns, strict=True)
        ]
        + [pk]
        for pk, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


class _StillReferenced(Exception):
    pass


def _remove_vanished(model, kept_keys: set[tuple], report: KindReport) -> None:
    """Delete rows no longer in the COG unless something refers to them (then keep, report)."""
    keys = _key_fields(model)
    vanished_ids = [
        values[0]
        for values in model.objects.values_list("id", *keys).iterator()
        if tuple(values[1:]) not in kept_keys
    ]
    for obj in model.objects.filter(id__in=vanished_ids).order_by("id"):
        try:
            # A savepoint per row: deleting may cascade (e.g. many-to-many rows of a contract);
            # anything beyond the row itself counts as a reference and is rolled back.
            with transaction.atomic():
                _total, per_model = obj.delete()
                if set(per_model) != {model._meta.label}:
                    raise _StillReferenced
        except (ProtectedError, RestrictedError, _StillReferenced):
            report.kept.append(" ".join(str(getattr(obj, k)) for k in keys))
        else:
            report.deleted += 1
