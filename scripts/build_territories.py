"""Build ``territories/data/cog2026.json.gz`` from the official COG 2026 package.

Usage: ``make territories-data`` (or ``python scripts/build_territories.py [--output PATH]``).
Needs npm. It packs ``@etalab/decoupage-administratif@6.0.0``, refuses any tarball whose sha256
differs from the pinned one, and writes a compact, deterministic file (same input, same bytes)
holding only what the portal needs. Standard library only: it runs before Django is set up.
"""

import argparse
import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
SHA256 = "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a"
LICENCE = "Licence Ouverte / Open Licence 2.0"
FORMAT = 1

# Column order of each kind's rows in the output; the loader checks it.
FIELDS = {
    "regions": ["code", "name", "zone", "chef_lieu"],
    "departements": ["code", "name", "region", "zone"],
    "epci": ["siren", "name", "kind", "population"],
    "communes": ["code", "name", "departement", "population", "siren", "epci"],
}
EPCI_KINDS = {"CC", "CA", "CU", "METRO", "MET69"}
ZONES = {"metro", "drom", "com"}

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "territories" / "data" / "cog2026.json.gz"


class BuildError(Exception):
    pass


def fetch_package(workdir: Path) -> tuple[bytes, dict[str, list]]:
    """``npm pack`` the pinned version into workdir; return the tarball and its data files."""
    result = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"npm pack failed ({result.returncode}): {result.stderr.strip()}")
    tarballs = list(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise BuildError(f"expected one tarball from npm pack, found {tarballs}")
    tarball = tarballs[0].read_bytes()
    verify_tarball(tarball, tarballs[0].name)
    data = {}
    # Read the members in memory: nothing from the archive is written to disk.
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for name in ("regions", "departements", "communes", "epci"):
            member = archive.extractfile(f"package/data/{name}.json")
            if member is None:
                raise BuildError(f"package/data/{name}.json is missing from the tarball")
            data[name] = json.load(member)
    return tarball, data


def verify_tarball(tarball: bytes, name: str) -> None:
    digest = hashlib.sha256(tarball).hexdigest()
    if digest != SHA256:
        raise BuildError(
            f"refusing {name}: sha256 is {digest}, expected {SHA256}. "
            "The published package changed; check it before updating the pinned hash."
        )


def transform(regions: list, departements: list, communes: list, epcis: list) -> dict:
    """Keep what the portal needs, sorted by code. Raises BuildError on inconsistent input."""
    out_regions = sorted([r["code"], r["nom"], r["zone"], r["chefLieu"]] for r in regions)
    out_departements = sorted([d["code"], d["nom"], d["region"], d["zone"]] for d in departements)
    current = {c["code"]: c for c in communes if c.get("type") == "commune-actuelle"}

    # A commune's EPCI comes from the EPCI's member list, not from the commune record.
    epci_of: dict[str, str] = {}
    out_epci = []
    for epci in epcis:
        if epci["type"] not in EPCI_KINDS:
            raise BuildError(f"EPCI {epci['code']}: unknown type {epci['type']!r}")
        for member in epci["membres"]:
            code = member["code"]
            if code not in current:
                raise BuildError(f"EPCI {epci['code']}: member {code} is not a current commune")
            if code in epci_of:
                raise BuildError(
                    f"commune {code} is a member of {epci_of[code]} and {epci['code']}"
                )
            epci_of[code] = epci["code"]
        out_epci.append([epci["code"], epci["nom"], epci["type"], epci["populationMunicipale"]])
    out_epci.sort()

    out_communes = sorted(
        [
            c["code"],
            c["nom"],
            c["departement"],
            c.get("population"),
            c.get("siren") or "",
            epci_of.get(c["code"]),
        ]
        for c in current.values()
    )

    _check_references(out_regions, out_departements, out_communes)
    return {
        "regions": out_regions,
        "departements": out_departements,
        "epci": out_epci,
        "communes": out_communes,
    }


def _check_references(regions: list, departements: list, communes: list) -> None:
    region_codes = {r[0] for r in regions}
    departement_codes = {d[0] for d in departements}
    commune_codes = {c[0] for c in communes}
    for code, _name, zone, chef_lieu in regions:
        if zone not in ZONES or chef_lieu not in commune_codes:
            raise BuildError(f"région {code}: bad zone {zone!r} or chef-lieu {chef_lieu!r}")
    for code, _name, region, zone in departements:
        if zone not in ZONES or region not in region_codes:
            raise BuildError(f"département {code}: bad zone {zone!r} or région {region!r}")
    for code, _name, departement, *_rest in communes:
        if departement not in departement_codes:
            raise BuildError(f"commune {code}: unknown département {departement!r}")
    for kind, rows in (("région", regions), ("département", departements), ("commune", communes)):
        duplicates = [code for code, n in Counter(r[0] for r in rows).items() if n > 1]
        if duplicates:
            raise BuildError(f"duplicate {kind} codes: {duplicates[:5]}")


def render(tables: dict) -> bytes:
    """The gzipped JSON document: compact, key-sorted, gzip mtime 0, so byte-reproducible."""
    document = {
        "format": FORMAT,
        "source": {
            "package": PACKAGE,
            "version": VERSION,
            "sha256": SHA256,
            "licence": LICENCE,
            "counts": {kind: len(rows) for kind, rows in tables.items()},
        },
        "fields": FIELDS,
        **tables,
    }
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="cog2026-") as tmp:
            _tarball, data = fetch_package(Path(tmp))
        tables = transform(data["regions"], data["departements"], data["communes"], data["epci"])
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    payload = render(tables)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(payload)
    counts = ", ".join(f"{len(rows)} {kind}" for kind, rows in tables.items())
    print(f"wrote {args.output} ({len(payload):,} bytes): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
