"""A real data home for the operations tests: two bags of rendered PDFs ingested through the pipeline."""
from __future__ import annotations

from pathlib import Path

import pytest

from archive_core.context import Archive
from archive_portal.services.units import import_mapping
from archive_core.settings import Settings
from ingest.pipeline import IngestOptions, ingest_package
from specimens import make_specimens, render_pdf

from ..ingest.packaging import row_for, write_package

UNITS_CSV = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
# old 11950 Lam Sơn → new 11983 Sơn Nam; old 11956 An Tảo → new 11953 Phố Hiến
UNITS = {"11950": "UBND phường Lam Sơn", "11956": "UBND phường An Tảo"}


def make_bag(root: Path, unit: str, count: int, *, seed: int, prefix: str, secret: int | None = None,
             pages: int = 1) -> Path:
    specs = make_specimens(count, seed=seed, issuer=UNITS[unit], year=2024)
    (root / "files").mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specs, start=1):
        render_pdf(spec, root / "files" / f"{prefix}-{index}.pdf", pages=pages)
        rows.append(row_for(spec, f"{prefix}-{index}", f"files/{prefix}-{index}.pdf",
                            do_mat="Mật" if index == secret else ""))
    return write_package(root, rows, unit_code=unit)


def open_home(home: Path) -> Archive:
    return Archive.open(Settings.load(home=home, workers=1))


def populated_home(tmp_path: Path) -> Archive:
    archive = open_home(tmp_path / "home")
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    for unit, seed, prefix in (("11950", 3, "LS"), ("11956", 4, "AT")):
        bag = make_bag(tmp_path / f"bag-{prefix}", unit, 4, seed=seed, prefix=prefix, secret=4 if unit == "11950" else None)
        ingest_package(archive, bag, IngestOptions(workers=1))
    return archive


@pytest.fixture()
def home(tmp_path) -> Archive:
    archive = populated_home(tmp_path)
    yield archive
    archive.close()
