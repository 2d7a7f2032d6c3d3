import os
from pathlib import Path

import pytest

from tests.conftest import IN_CI


def _shared_data_dir() -> Path | None:
    """The reference member files: $PROGRAMME_DATA_DIR, else ``shared/data/programmes`` next to
    the checkout or one of its parents (``../shared`` of the main checkout, and of worktrees)."""
    if os.environ.get("PROGRAMME_DATA_DIR"):
        return Path(os.environ["PROGRAMME_DATA_DIR"])
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "programmes"
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def programme_files() -> Path:
    directory = _shared_data_dir()
    if directory is None or not (directory / "acv.csv").exists():
        reason = "the reference files shared/data/programmes/*.csv are not there"
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return directory
