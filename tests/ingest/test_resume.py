"""SIGKILL at any moment, then the same command again: exactly the state of an uninterrupted run."""
from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from archive_core.context import Archive
from archive_core.db.models import Blob, Document
from archive_core.settings import Settings
from specimens import make_specimens, render_pdf, render_scan

from .packaging import row_for, write_package

ARCHIVE = [sys.executable, "-m", "archive_portal.cli"]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("resume") / "bag"
    (root / "files").mkdir(parents=True)
    specs = make_specimens(9, seed=77, issuer="UBND phường An Tảo")
    rows = []
    for index, spec in enumerate(specs, start=1):
        name = f"files/{index}.pdf"
        if index == 9:
            render_scan(spec, root / name, fmt="pdf", dpi=150)  # one page to OCR keeps the run long enough
        else:
            render_pdf(spec, root / name, pages=2)
        rows.append(row_for(spec, f"R-{index}", name, do_mat="Mật" if index == 4 else ""))
    (root / "files" / "le.pdf").write_bytes((root / "files" / "1.pdf").read_bytes())  # a duplicate, unreferenced
    (root / "files" / "hong.pdf").write_bytes(b"%PDF-1.4\n% broken")
    rows.append(row_for(specs[0], "R-HONG", "files/hong.pdf"))
    return write_package(root, rows, unit_code="11956")


def _progress(home: Path) -> dict:
    """Where a run stands, read from its database (nothing while the first migration runs)."""
    database = home / "archive.sqlite"
    if not database.exists():
        return {}
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables or not connection.execute("SELECT 1 FROM alembic_version").fetchone():
            return {}
        one = lambda sql: connection.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "blobs": one("SELECT count(*) FROM blob"),
            "documents": one("SELECT count(*) FROM document"),
            "extracted": one("SELECT count(*) FROM document_file WHERE status != 'pending'"),
            "pending": one("SELECT count(*) FROM document_file WHERE status = 'pending'"),
            # files still to read (a withheld document's files are never read: they stay pending)
            "to_read": one("SELECT count(*) FROM document_file f JOIN document d ON d.id = f.document_id "
                           "WHERE f.status = 'pending' AND NOT d.withheld"),
            "indexed": one("SELECT count(*) FROM document WHERE indexed_at IS NOT NULL"),
            "done": one("SELECT count(*) FROM package WHERE status = 'done'"),
        }
    except sqlite3.OperationalError:  # a table the running migration has not made yet
        return {}
    finally:
        connection.close()


# Kill points: conditions on the database, each a moment of a run that lasts (the scan's OCR keeps
# extraction going for seconds); "migrated" kills while the originals are stored and the rows
# registered; "indexing" once every file is read and the run finishes and indexes its documents
# (batched: one engine call and one commit for this package, so "some indexed, not done" alone is
# a moment too short to land a kill in reliably).
STAGES = {
    "migrated": lambda s: s != {},
    "extracting": lambda s: s.get("extracted", 0) > 0 and s.get("pending", 0) > 0,
    "indexing": lambda s: (s.get("indexed", 0) > 0 or (s.get("extracted", 0) > 0 and s.get("to_read", 1) == 0))
    and not s.get("done"),
}


def _run(home: Path, package: Path, kill_at: str | None = None) -> bool:
    """Run ``archive ingest``; with ``kill_at``, SIGKILL it once the database shows that stage.
    True when the kill landed: the process died of it before the package was done."""
    env = {**os.environ, "ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    process = subprocess.Popen([*ARCHIVE, "ingest", "--quiet", "--workers", "2", str(package)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    if kill_at is None:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()
        return False
    condition = STAGES[kill_at]
    deadline = time.monotonic() + 600
    while process.poll() is None and not condition(_progress(home)):
        assert time.monotonic() < deadline, f"never reached {kill_at!r}"
        time.sleep(0.005)
    if process.poll() is not None:
        return False
    os.killpg(process.pid, signal.SIGKILL)  # the worker processes die with it
    process.wait()
    return process.returncode == -signal.SIGKILL and not _progress(home).get("done")


def _snapshot(home: Path) -> dict:
    archive = Archive.open(Settings.load(home=home))
    try:
        with archive.db.session() as session:
            documents = sorted(
                (d.ma_van_ban, d.number, d.subject, str(d.issued_date), d.withheld, d.indexed_at is not None,
                 tuple((f.path_in_package, f.blob_sha256, f.status,
                        hashlib.sha256("\f".join(p.text for p in f.pages).encode()).hexdigest()) for f in d.files))
                for d in session.scalars(select(Document))
            )
            blobs = sorted(session.scalars(select(Blob.sha256)))
            by_id = {d.id: d.ma_van_ban for d in session.scalars(select(Document))}
        stored = sorted(p.name for p in archive.settings.store_dir.rglob("*") if p.is_file())
        indexed = sorted(by_id[i] for i in archive.engine.indexed_ids())
        hashes_ok = all(hashlib.sha256(p.read_bytes()).hexdigest() == p.name
                        for p in archive.settings.store_dir.rglob("*") if p.is_file())
        keys = [d[0] for d in documents]
        return {"documents": documents, "blobs": blobs, "stored": stored, "indexed": indexed,
                "hashes_ok": hashes_ok, "no_duplicates": len(keys) == len(set(keys))}
    finally:
        archive.close()


@pytest.fixture(scope="module")
def reference(package, tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("reference")
    _run(home, package)
    return _snapshot(home)


def test_reference_run_is_sane(reference):
    assert len(reference["documents"]) == 10  # 9 rows with files + the broken-file row; the duplicate adds none
    assert reference["stored"] == reference["blobs"] and reference["hashes_ok"]
    assert "R-4" not in reference["indexed"] and len(reference["indexed"]) == 9


@pytest.mark.parametrize("kill_points", [("migrated",), ("extracting",), ("indexing",),
                                         ("migrated", "extracting", "indexing")])
def test_killed_runs_resume_to_the_reference_state(package, reference, tmp_path, kill_points):
    home = tmp_path / "home"
    for stage in kill_points:
        assert _run(home, package, kill_at=stage), f"the kill landed while {stage}"
    _run(home, package)
    state = _snapshot(home)
    assert state["no_duplicates"] and state["hashes_ok"]
    assert state["documents"] == reference["documents"]
    assert state["blobs"] == reference["blobs"]
    assert state["stored"] == state["blobs"], "no orphaned file in the store, no blob without its file"
    assert state["indexed"] == reference["indexed"]
    assert not list((home / "store" / ".incoming").glob("*"))
