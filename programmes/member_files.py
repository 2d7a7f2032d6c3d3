"""Reading programme member files (CSV), without touching the database.

Format (the ANCT cartography export, see README "Programmes"): one row per (territoire,
member), columns ``territoire_id``, ``territoire_nom``, ``code_membre`` (required) and
``nom_membre``, ``date_signature``, ``source_layer`` (optional); other columns are ignored.
UTF-8 with or without BOM; comma, semicolon or tab separated.

``code_membre`` is a 5-character INSEE commune code (``80001``, ``2A004``) or a 9-digit SIREN
(EPCI or commune). A row may name several territories at once (``cite-002 ; cite-127``, with
names separated the same way): the member then belongs to each of them.

Every problem that makes the file unusable raises ``MemberFileError`` with all the offending
lines, so that the person importing can fix the file in one go.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

REQUIRED_COLUMNS = ("territoire_id", "territoire_nom", "code_membre")
OPTIONAL_COLUMNS = ("nom_membre", "date_signature", "source_layer")
COMMUNE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
SIREN = re.compile(r"^\d{9}$")
_DELIMITERS = (",", ";", "\t")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
# How many offending lines an error message lists before "… and N more".
MAX_LISTED = 20


class MemberFileError(Exception):
    """The file cannot be imported; ``details`` lists the offending lines."""

    def __init__(self, message: str, details: list[str] | tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {line}" for line in listed(self.details))])


def listed(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    more = len(lines) - MAX_LISTED
    return [*lines[:MAX_LISTED], ngettext("… et %d autre", "… et %d autres", more) % more]


@dataclass(frozen=True)
class MemberRow:
    line: int
    territory_ids: tuple[str, ...]
    territory_names: tuple[str, ...]
    code: str
    member_name: str
    signed_on: date | None


def normalize_code(raw: str) -> str:
    code = re.sub(r"\s+", "", raw or "").upper()
    if re.fullmatch(r"\d{4}", code):
        # A spreadsheet dropped the leading zero of a département 01-09 commune code.
        code = f"0{code}"
    return code


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MemberFileError(
            _(
                "Le fichier n'est pas encodé en UTF-8 (caractère illisible ligne %(line)d). "
                "Enregistrez-le au format « CSV UTF-8 » puis recommencez."
            )
            % {"line": line}
        ) from exc


def _header(text: str) -> tuple[str, list[str]]:
    first_line = text.lstrip("\r\n").splitlines()[0]
    found: list[str] = []
    for delimiter in _DELIMITERS:
        columns = [c.strip().lower() for c in next(csv.reader([first_line], delimiter=delimiter))]
        if all(column in columns for column in REQUIRED_COLUMNS):
            duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
            if duplicated:
                raise MemberFileError(
                    _("Colonnes en double dans l'en-tête : %(columns)s.")
                    % {"columns": ", ".join(duplicated)}
                )
            return delimiter, columns
        if len(columns) > len(found):
            found = columns
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    raise MemberFileError(
        _(
            "Colonnes manquantes : %(missing)s. La première ligne doit nommer les colonnes "
            "%(expected)s ; elle contient : %(found)s."
        )
        % {
            "missing": ", ".join(missing),
            "expected": ", ".join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)),
            "found": ", ".join(c for c in found if c) or _("(rien)"),
        }
    )


def _parse_date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";") if part.strip())


def read_member_file(data: bytes) -> list[MemberRow]:
    """Parse and check a member file; raise ``MemberFileError`` if it cannot be imported."""
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise MemberFileError(_("Le fichier est vide."))
    text = _decode(data)
    delimiter, columns = _header(text)
    index = {name: position for position, name in enumerate(columns)}
    reader = csv.reader(io.StringIO(text.lstrip("\r\n"), newline=""), delimiter=delimiter)
    next(reader)  # the header

    rows: list[MemberRow] = []
    errors: list[str] = []
    first_line_of: dict[tuple[str, str], int] = {}
    duplicates: list[str] = []
    for record in reader:
        line = reader.line_num
        if not any(value.strip() for value in record):
            continue
        extra = record[len(columns) :]
        if len(record) < len(columns) or any(v.strip() for v in extra):
            # Usually an unquoted separator inside a name: the columns would be shifted.
            errors.append(
                _("ligne %(line)d : %(found)d valeurs au lieu de %(expected)d")
                % {"line": line, "found": len(record), "expected": len(columns)}
            )
            continue

        def value(column: str, record=record) -> str:
            position = index.get(column)
            return record[position].strip() if position is not None else ""

        territory_ids = _split(value("territoire_id"))
        code = normalize_code(value("code_membre"))
        if not territory_ids:
            errors.append(_("ligne %(line)d : territoire_id est vide") % {"line": line})
        if not code:
            errors.append(_("ligne %(line)d : code_membre est vide") % {"line": line})
        try:
            signed_on = _parse_date(value("date_signature"))
        except ValueError:
            errors.append(
                _("ligne %(line)d : date_signature illisible « %(value)s » (attendu AAAA-MM-JJ)")
                % {"line": line, "value": value("date_signature")}
            )
            signed_on = None
        if not territory_ids or not code:
            continue

        names = _split(value("territoire_nom"))
        if len(names) != len(territory_ids):
            # Names that do not split like the ids: every territory gets the whole name.
            names = (value("territoire_nom") or territory_ids[0],) * len(territory_ids)
        for territory_id in territory_ids:
            first = first_line_of.setdefault((territory_id, code), line)
            if first != line:
                duplicates.append(
                    _(
                        "lignes %(first)d et %(line)d : territoire « %(territory)s », "
                        "membre %(code)s"
                    )
                    % {"first": first, "line": line, "territory": territory_id, "code": code}
                )
        rows.append(
            MemberRow(
                line=line,
                territory_ids=territory_ids,
                territory_names=names,
                code=code,
                member_name=value("nom_membre"),
                signed_on=signed_on,
            )
        )

    if errors:
        raise MemberFileError(
            ngettext(
                "%d ligne est mal formée ; rien n'a été importé.",
                "%d lignes sont mal formées ; rien n'a été importé.",
                len(errors),
            )
            % len(errors),
            errors,
        )
    if duplicates:
        raise MemberFileError(
            ngettext(
                "%d ligne en double (même territoire et même membre) ; rien n'a été importé.",
                "%d lignes en double (même territoire et même membre) ; rien n'a été importé.",
                len(duplicates),
            )
            % len(duplicates),
            duplicates,
        )
    if not rows:
        raise MemberFileError(_("Le fichier ne contient aucune ligne de données."))
    return rows
