"""Writes of the programmes app: the catalogue loader and the member importer."""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from programmes import catalogue
from programmes.enums import CatalogueSource
from programmes.member_files import (
    COMMUNE_CODE,
    SIREN,
    MemberFileError,
    MemberRow,
    read_member_file,
)
from programmes.models import (
    Contract,
    FrameworkAgreement,
    Operator,
    PriorityDomain,
    Programme,
    ProgrammeMembership,
    ProgrammeTerritory,
)
from territories.models import EPCI, Commune, Departement

# Keeps every IN (...) list under SQLite's bound-parameter limit.
CHUNK_SIZE = 500


def _chunks(values: Sequence, size: int = CHUNK_SIZE) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- The national catalogue ----------------------------------------------------------------


@dataclass
class CatalogueReport:
    created: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    updated: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Catalogue codes that someone created in the admin first: left as they are.
    kept: list[str] = field(default_factory=list)
    # Contract territories whose code is not loaded (yet): skipped.
    missing_territories: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


def _differs(obj: models.Model, name: str, value) -> bool:
    model_field = obj._meta.get_field(name)
    if model_field.is_relation:
        return getattr(obj, model_field.attname) != (value.pk if value is not None else None)
    return getattr(obj, name) != value


def _sync(model, *, code: str, owned: dict, editorial: dict, label: str, report) -> tuple:
    """Create the row, or update the fields the loader owns; return (row, created)."""
    # The owned fields are declared once, on the model; the catalogue must give exactly those.
    assert set(owned) == set(model.LOADER_OWNED_FIELDS), (model, sorted(owned))
    obj = model.objects.filter(code=code).first()
    if obj is None:
        obj = model.objects.create(
            code=code, source=CatalogueSource.CATALOGUE, **owned, **editorial
        )
        report.created[label].append(code)
        return obj, True
    if obj.source != CatalogueSource.CATALOGUE:
        report.kept.append(f"{label} : {code}")
        return obj, False
    changed = [name for name, value in owned.items() if _differs(obj, name, value)]
    for name in changed:
        setattr(obj, name, owned[name])
    if changed:
        obj.save(update_fields=changed)
        report.updated[label].append(f"{code} ({', '.join(changed)})")
    else:
        report.unchanged[label] += 1
    return obj, False


def _link_contract_territories(contract, entry, *, created: bool, report) -> None:
    """Add the catalogue's territories to a contract; never remove those added in the admin."""
    added = []
    for relation, model, key, codes, label in (
        ("departements", Departement, "code", entry.departements, _("départements")),
        ("epcis", EPCI, "siren", entry.epcis, _("EPCI")),
        ("communes", Commune, "code", entry.communes, _("communes")),
    ):
        if not codes:
            continue
        found = dict(model.objects.filter(**{f"{key}__in": codes}).values_list(key, "pk"))
        missing = [code for code in codes if code not in found]
        if missing:
            report.missing_territories.append(f"{contract.code} : {label} {', '.join(missing)}")
        manager = getattr(contract, relation)
        present = set(manager.values_list("pk", flat=True))
        new = [pk for pk in found.values() if pk not in present]
        if new:
            manager.add(*new)
            added.append(f"+{len(new)} {label}")
    if added and not created:
        report.updated[_("Contrats et pactes")].append(f"{contract.code} ({', '.join(added)})")


@transaction.atomic
def load_catalogue() -> CatalogueReport:
    """Seed or refresh the national catalogue (``catalogue.py``); safe to run again."""
    report = CatalogueReport()

    domains: dict[str, PriorityDomain] = {}
    for position, (theme_code, theme_name, items) in enumerate(catalogue.DOMAINS, start=1):
        theme, _created = _sync(
            PriorityDomain,
            code=theme_code,
            owned={"name": theme_name, "parent": None, "position": position},
            editorial={},
            label=_("Domaines prioritaires"),
            report=report,
        )
        domains[theme_code] = theme
        for item_position, (item_code, item_name) in enumerate(items, start=1):
            domains[item_code], _created = _sync(
                PriorityDomain,
                code=item_code,
                owned={"name": item_name, "parent": theme, "position": item_position},
                editorial={},
                label=_("Domaines prioritaires"),
                report=report,
            )

    for position, entry in enumerate(catalogue.PROGRAMMES, start=1):
        _sync(
            Programme,
            code=entry.code,
            owned={
                "name": entry.name,
                "domain": domains[entry.domain],
                "status": entry.status,
                "start_date": entry.start_date,
                "end_date": entry.end_date,
            },
            editorial={
                "short_description": entry.short_description,
                "description": entry.description,
                "url": entry.url,
                "position": position,
            },
            label=_("Programmes"),
            report=report,
        )

    for entry in catalogue.CONTRACTS:
        contract, created = _sync(
            Contract,
            code=entry.code,
            owned={
                "name": entry.name,
                "kind": entry.kind,
                "status": entry.status,
                "start_date": entry.start_date,
                "end_date": entry.end_date,
            },
            editorial={"description": entry.description, "url": entry.url},
            label=_("Contrats et pactes"),
            report=report,
        )
        if contract.source == CatalogueSource.CATALOGUE:
            _link_contract_territories(contract, entry, created=created, report=report)

    for entry in catalogue.OPERATORS:
        operator, _created = _sync(
            Operator,
            code=entry.code,
            owned={"name": entry.name},
            editorial={"description": entry.description, "url": entry.url},
            label=_("Opérateurs"),
            report=report,
        )
        _sync(
            FrameworkAgreement,
            code=entry.agreement_code,
            owned={"operator": operator, "name": entry.agreement_name},
            editorial={"description": entry.agreement_description},
            label=_("Conventions-cadres"),
            report=report,
        )
    return report


# --- Programme members -----------------------------------------------------------------------

COMMUNE, EPCI_KIND = "commune", "epci"


@dataclass
class MemberImportReport:
    programme: Programme
    rows: int
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    communes: int = 0
    epcis: int = 0
    territories_created: int = 0
    territories_updated: int = 0
    territories_removed: int = 0
    # (line, code, member name) of the rows whose code matches no commune or EPCI.
    unknown: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.created
            or self.updated
            or self.removed
            or self.territories_created
            or self.territories_updated
            or self.territories_removed
        )


def _lookup(queryset, key: str, values: Iterable[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(values)):
        found.update(queryset.filter(**{f"{key}__in": chunk}).values_list(key, "pk"))
    return found


def _resolve(rows: list[MemberRow]) -> tuple[list[tuple[MemberRow, str, int]], list[MemberRow]]:
    """Match each row's code: INSEE commune code, then EPCI SIREN, then commune SIREN."""
    commune_codes = {row.code for row in rows if COMMUNE_CODE.match(row.code)}
    sirens = {row.code for row in rows if SIREN.match(row.code)}
    communes = _lookup(Commune.objects.all(), "code", commune_codes)
    epcis = _lookup(EPCI.objects.all(), "siren", sirens)
    communes_by_siren = _lookup(Commune.objects.exclude(siren=""), "siren", sirens - set(epcis))
    resolved, unknown = [], []
    for row in rows:
        if row.code in communes:
            resolved.append((row, COMMUNE, communes[row.code]))
        elif row.code in epcis:
            resolved.append((row, EPCI_KIND, epcis[row.code]))
        elif row.code in communes_by_siren:
            resolved.append((row, COMMUNE, communes_by_siren[row.code]))
        else:
            unknown.append(row)
    return resolved, unknown


def unknown_code_lines(unknown: Iterable[tuple[int, str, str]]) -> list[str]:
    """Human-readable lines for unknown codes: "ligne 12 : 97613 (Mamoudzou)"."""
    return [
        _("ligne %(line)d : %(code)s") % {"line": line, "code": code}
        + (f" ({name})" if name else "")
        for line, code, name in unknown
    ]


@transaction.atomic
def import_programme_members(
    *, programme: Programme, data: bytes, dry_run: bool = False
) -> MemberImportReport:
    """Replace the programme's member list by the file's, in one transaction.

    Unknown codes are reported and skipped; a file that cannot be read, or that has no row
    matching a known commune or EPCI, raises ``MemberFileError`` and changes nothing. With
    ``dry_run`` everything is computed, then rolled back.
    """
    rows = read_member_file(data)
    # Serialises two imports of the same programme (PostgreSQL; SQLite locks the database).
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    resolved, unknown = _resolve(rows)
    if not resolved:
        raise MemberFileError(
            ngettext(
                "Aucune ligne valide : le code de la seule ligne ne correspond à aucune commune "
                "ni à aucun EPCI connu. Les territoires sont-ils chargés (load_territories) ?",
                "Aucune ligne valide : aucun des %d codes ne correspond à une commune ou à un "
                "EPCI connu. Les territoires sont-ils chargés (load_territories) ?",
                len(rows),
            )
            % len(rows),
            unknown_code_lines((row.line, row.code, row.member_name) for row in unknown),
        )

    wanted: dict[tuple[str, str, int], date | None] = {}
    line_of: dict[tuple[str, str, int], int] = {}
    names: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    clashes: list[str] = []
    for row, kind, pk in resolved:
        for territory_id, territory_name in zip(
            row.territory_ids, row.territory_names, strict=True
        ):
            key = (territory_id, kind, pk)
            if key in wanted:
                # Two codes of the same member (INSEE code and SIREN) in one territory.
                clashes.append(
                    _("lignes %(first)d et %(line)d : même membre dans le territoire « %(t)s »")
                    % {"first": line_of[key], "line": row.line, "t": territory_id}
                )
                continue
            wanted[key], line_of[key] = row.signed_on, row.line
            names.setdefault(territory_id, territory_name[:250])
            earliest = dates.get(territory_id)
            if row.signed_on and (earliest is None or row.signed_on < earliest):
                dates[territory_id] = row.signed_on
            else:
                dates.setdefault(territory_id, None)
    if clashes:
        raise MemberFileError(
            ngettext(
                "%d ligne en double (même territoire et même membre) ; rien n'a été importé.",
                "%d lignes en double (même territoire et même membre) ; rien n'a été importé.",
                len(clashes),
            )
            % len(clashes),
            clashes,
        )

    report = MemberImportReport(
        programme=programme,
        rows=len(rows),
        dry_run=dry_run,
        communes=sum(1 for _t, kind, _pk in wanted if kind == COMMUNE),
        epcis=sum(1 for _t, kind, _pk in wanted if kind == EPCI_KIND),
        unknown=[(row.line, row.code, row.member_name) for row in unknown],
    )

    # Territories: create the new ones, refresh names and dates, remove the empty ones last.
    territories = {t.external_id: t for t in ProgrammeTerritory.objects.filter(programme=programme)}
    new_territories = [
        ProgrammeTerritory(
            programme=programme, external_id=tid, name=names[tid], signed_on=dates[tid]
        )
        for tid in names
        if tid not in territories
    ]
    ProgrammeTerritory.objects.bulk_create(new_territories, batch_size=CHUNK_SIZE)
    changed_territories = []
    for tid, territory in territories.items():
        if tid in names and (territory.name, territory.signed_on) != (names[tid], dates[tid]):
            territory.name, territory.signed_on = names[tid], dates[tid]
            changed_territories.append(territory)
    ProgrammeTerritory.objects.bulk_update(
        changed_territories, ["name", "signed_on"], batch_size=CHUNK_SIZE
    )
    report.territories_created = len(new_territories)
    report.territories_updated = len(changed_territories)
    territory_pk = dict(
        ProgrammeTerritory.objects.filter(programme=programme).values_list("external_id", "pk")
    )

    # Memberships: diff the file against the database.
    existing: dict[tuple[str, str, int], tuple[int, date | None]] = {}
    for pk, tid, commune_id, epci_id, signed_on in ProgrammeMembership.objects.filter(
        programme=programme
    ).values_list("pk", "territory__external_id", "commune_id", "epci_id", "signed_on"):
        key = (tid, COMMUNE, commune_id) if commune_id else (tid, EPCI_KIND, epci_id)
        existing[key] = (pk, signed_on)
    to_remove = [pk for key, (pk, _s) in existing.items() if key not in wanted]
    to_update = [
        ProgrammeMembership(pk=pk, signed_on=wanted[key])
        for key, (pk, signed_on) in existing.items()
        if key in wanted and wanted[key] != signed_on
    ]
    to_create = [
        ProgrammeMembership(
            programme=programme,
            territory_id=territory_pk[tid],
            commune_id=target if kind == COMMUNE else None,
            epci_id=target if kind == EPCI_KIND else None,
            signed_on=signed_on,
        )
        for (tid, kind, target), signed_on in wanted.items()
        if (tid, kind, target) not in existing
    ]
    for chunk in _chunks(to_remove):
        ProgrammeMembership.objects.filter(pk__in=chunk).delete()
    ProgrammeMembership.objects.bulk_update(to_update, ["signed_on"], batch_size=CHUNK_SIZE)
    ProgrammeMembership.objects.bulk_create(to_create, batch_size=CHUNK_SIZE)
    report.created, report.updated, report.removed = len(to_create), len(to_update), len(to_remove)
    report.unchanged = len(existing) - len(to_remove) - len(to_update)

    empty = [t.pk for tid, t in territories.items() if tid not in names]
    for chunk in _chunks(empty):
        ProgrammeTerritory.objects.filter(pk__in=chunk).delete()
    report.territories_removed = len(empty)

    if dry_run:
        transaction.set_rollback(True)
    else:
        programme.members_imported_at = timezone.now()
        programme.save(update_fields=["members_imported_at"])
    return report


@transaction.atomic
def add_programme_member(
    *,
    programme: Programme,
    territory_id: str,
    territory_name: str,
    commune: Commune | None = None,
    epci: EPCI | None = None,
    signed_on: date | None = None,
) -> ProgrammeMembership:
    """Add one member by hand (demo data, tests); the next import of the programme replaces it."""
    if (commune is None) == (epci is None):
        raise ValueError("Give exactly one of commune and epci.")
    territory, _created = ProgrammeTerritory.objects.get_or_create(
        programme=programme,
        external_id=territory_id,
        defaults={"name": territory_name, "signed_on": signed_on},
    )
    membership, _created = ProgrammeMembership.objects.get_or_create(
        programme=programme,
        territory=territory,
        commune=commune,
        epci=epci,
        defaults={"signed_on": signed_on},
    )
    return membership
