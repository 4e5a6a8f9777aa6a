"""A real data home for the operations tests: two bags of rendered PDFs ingested through the pipeline.

Every test that reaches a home runs on each backend of tests/backends.py (``sqlite-tantivy``, ``sqlite-fts``
and ``postgresql-opensearch``: backup with pg_dump and restore with pg_restore, backup under load, verify, export,
the commands configured through their environment), except those in ONE_BACKEND (run on ``SINGLE``,
``sqlite-tantivy``, the default home), each with its reason.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from archive_core.context import Archive
from archive_core.settings import Settings
from archive_portal.services.units import import_mapping
from ingest.pipeline import IngestOptions, ingest_package
from specimens import make_specimens, render_pdf
from tests.backends import archive_environment, backend_overrides, close_archive, parametrize_backend

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


ONE_BACKEND = {
    # the layout of an E-ARK package (METS, PREMIS, fixity) is written from files and fields the round-trip
    # test already compares on every backend; nothing in it depends on the database or the engine
    "test_eark_package_validates_and_carries_fixity_ingest_and_signature_events",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_backend(metafunc, metafunc.function.__name__ not in ONE_BACKEND)


@pytest.fixture(scope="session")
def backend(request) -> str:
    return request.param


def open_home(home: Path, **overrides) -> Archive:
    return Archive.open(Settings.load(home=home, workers=1, **overrides))


def populated_home(tmp_path: Path, **overrides) -> Archive:
    archive = open_home(tmp_path / "home", **overrides)
    with archive.db.transaction() as session:
        import_mapping(session, UNITS_CSV)
    for unit, seed, prefix in (("11950", 3, "LS"), ("11956", 4, "AT")):
        bag = make_bag(tmp_path / f"bag-{prefix}", unit, 4, seed=seed, prefix=prefix, secret=4 if unit == "11950" else None)
        ingest_package(archive, bag, IngestOptions(workers=1))
    return archive


@pytest.fixture()
def backend_settings(request, backend):
    """``settings(home_dir)``: Settings of a new home on this test's backend (a fresh database and index alias)."""
    def settings(home: Path) -> Settings:
        overrides = {"database_url": f"sqlite:///{home / 'archive.sqlite'}"}  # never one ARCHIVE_DATABASE_URL names
        return Settings.load(home=home, workers=1, **{**overrides, **backend_overrides(request, backend)})

    return settings


@pytest.fixture()
def backend_env(backend_settings):
    """``env(home_dir)``: the ``ARCHIVE_*`` environment of a new home on this test's backend (for the commands)."""
    return lambda home: archive_environment(backend_settings(home))


@pytest.fixture()
def home(request, tmp_path, backend) -> Archive:
    archive = populated_home(tmp_path, **backend_overrides(request, backend))
    yield archive
    close_archive(archive)
