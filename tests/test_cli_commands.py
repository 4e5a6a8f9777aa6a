"""The ``archive`` commands an admin runs that the other CLI tests do not: db upgrade, units show,
accounts disable/enable/unlock, audit export, ingest then reindex, and the demo that ``make run`` loads.

Each command is configured through its environment (``ARCHIVE_HOME``, ``ARCHIVE_DATABASE_URL``,
``ARCHIVE_INDEX_ENGINE``, ``ARCHIVE_SEARCH_URL``...), as an admin configures it, on every backend of
tests/backends.py (SQLite with FTS5 or Tantivy, PostgreSQL with OpenSearch)."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from archive_core import UNITS_MAPPING_CSV
from archive_core.context import Archive
from archive_core.settings import Settings
from archive_portal.cli import main
from archive_portal.services import audit
from archive_portal.services.signin import sign_in
from indexes.query import build_query
from specimens import make_specimens, render_pdf
from tests.backends import BACKENDS, archive_environment, backend_overrides, close_archive
from tests.ingest.packaging import row_for, write_package

PASSWORD = "Tra-cuu-2025-abc"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture()
def home(request, tmp_path, monkeypatch, backend):
    """A new data home on ``backend``, named to the commands through the environment only."""
    home = tmp_path / "home"
    overrides = {"database_url": f"sqlite:///{home / 'archive.sqlite'}", **backend_overrides(request, backend)}
    settings = Settings.load(home=home, **overrides)
    for name, value in archive_environment(settings).items():
        monkeypatch.setenv(name, value)
    yield home
    if settings.index_engine == "opensearch":  # the index alias the commands made goes with the test
        close_archive(Archive.open(Settings.load(), migrate=False))


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def _sign_in(home, username: str, password: str) -> bool:
    archive = Archive.open(Settings.load(home=home))
    try:
        with archive.db.transaction() as session:
            return sign_in(session, archive.settings, username, password) is not None
    finally:
        archive.close()


def test_db_upgrade_builds_the_schema_and_a_second_run_changes_nothing(home):
    assert "Cơ sở dữ liệu đã cập nhật" in run("db", "upgrade")
    archive = Archive.open(Settings.load(home=home), migrate=False)
    with archive.db.engine.connect() as connection:
        first = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        tables = set(inspect(connection).get_table_names())
    archive.close()
    assert {"document", "account", "audit_event", "succession"} <= tables
    run("db", "upgrade")
    archive = Archive.open(Settings.load(home=home), migrate=False)
    with archive.db.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == first
    archive.close()


def test_units_show_lists_the_predecessors_named_by_the_resolution(home):
    run("units", "import", str(UNITS_MAPPING_CSV))
    out = run("units", "show", "11953")
    # Phố Hiến: "các phường An Tảo, Lê Lợi, Hiến Nam, Minh Khai, xã Trung Nghĩa và xã Liên Phương" (1666/NQ-UBTVQH15)
    for name in ("An Tảo", "Lê Lợi", "Hiến Nam", "Minh Khai", "Trung Nghĩa", "Liên Phương"):
        assert name in out
    assert "Lam Sơn" not in out  # went to Sơn Nam
    run("units", "show", "99999", code=1)


def test_disable_enable_and_unlock_change_who_can_sign_in(home):
    run("units", "import", str(UNITS_MAPPING_CSV))
    run("accounts", "create", "--new-unit", "11953", "--username", "phohien", "--password", PASSWORD)
    assert _sign_in(home, "phohien", PASSWORD)
    run("accounts", "disable", "phohien")
    assert not _sign_in(home, "phohien", PASSWORD)
    run("accounts", "enable", "phohien")
    assert _sign_in(home, "phohien", PASSWORD)
    for _ in range(Settings.load(home=home).login_max_failures):
        assert not _sign_in(home, "phohien", "sai-mat-khau")
    assert not _sign_in(home, "phohien", PASSWORD), "locked after repeated failures"
    run("accounts", "unlock", "phohien")
    assert _sign_in(home, "phohien", PASSWORD)
    run("accounts", "unlock", "khong-co-ai", code=1)


def test_audit_export_writes_the_filtered_trail_as_csv(home, tmp_path):
    run("units", "import", str(UNITS_MAPPING_CSV))
    run("accounts", "create", "--new-unit", "11953", "--username", "phohien", "--password", PASSWORD)
    run("accounts", "create", "--new-unit", "11983", "--username", "sonnam", "--password", PASSWORD)
    run("accounts", "disable", "sonnam")
    archive = Archive.open(Settings.load(home=home))
    with archive.db.transaction() as session:  # a portal action of another user
        audit.record(session, "search", username="phohien", new_unit_code="11953", details={"q": "kế hoạch"})
    archive.close()
    target = tmp_path / "nhat-ky.csv"
    run("audit", "export", "--action", "account_disable", "-o", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8").lstrip("\ufeff"))))
    assert len(rows) == 1 and "sonnam" in " ".join(rows[0].values()), "only the disable of sonnam"
    mine = list(csv.DictReader(io.StringIO(run("audit", "export", "--username", "phohien").lstrip("\ufeff"))))
    assert len(mine) == 1 and "kế hoạch" in " ".join(mine[0].values()), "phohien's search only"
    assert not any("sonnam" in " ".join(row.values()) for row in mine)
    everything = run("audit", "export")
    assert "phohien" in everything and "sonnam" in everything


def test_ingest_then_reindex_rebuilds_the_same_index_from_the_database(home, tmp_path):
    run("units", "import", str(UNITS_MAPPING_CSV))
    specs = make_specimens(4, seed=5, issuer="UBND phường Lam Sơn", year=2024)
    (tmp_path / "bag" / "files").mkdir(parents=True)
    rows = []
    for n, spec in enumerate(specs, start=1):
        render_pdf(spec, tmp_path / "bag" / "files" / f"vb{n}.pdf")
        rows.append(row_for(spec, f"VB-{n}", f"files/vb{n}.pdf", do_mat="Mật" if n == 4 else ""))
    package = write_package(tmp_path / "bag", rows, unit_code="11950")
    run("ingest", "--workers", "1", "--unit", "11950", str(package))

    def answers() -> list[tuple[int, list[int]]]:
        archive = Archive.open(Settings.load(), migrate=False)
        try:
            return [(r.total, [h.id for h in r.hits]) for r in (
                archive.engine.search(build_query(q, scope=None, per_page=50)) for q in ("", "ubnd", specs[0].subject))]
        finally:
            archive.close()

    before = answers()
    assert before[0][0] == 3  # the secret one is never indexed
    out = run("reindex")
    assert "3 văn bản" in out
    assert answers() == before


# The demo is what ``make run`` loads into a SQLite home of its own (ARCHIVE_HOME alone): not a backend matter.
@pytest.mark.slow
def test_the_demo_make_run_loads_is_searchable_and_its_accounts_sign_in(tmp_path):
    home = tmp_path / "demo-home"
    env = {**os.environ, "ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run([sys.executable, "-m", "specimens.demo", "--documents", "2"], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    assert "Đã nhập" in done.stdout and "phohien" in done.stdout
    archive = Archive.open(Settings.load(home=home))
    try:
        assert archive.engine.count(None) > 0
    finally:
        archive.close()
