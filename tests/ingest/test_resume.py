"""SIGKILL at any moment, then the same command again: exactly the state of an uninterrupted run."""
from __future__ import annotations

import hashlib
import os
import signal
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


def _run(home: Path, package: Path, kill_after: float | None = None) -> int | None:
    env = {**os.environ, "ARCHIVE_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    process = subprocess.Popen([*ARCHIVE, "ingest", "--quiet", "--workers", "2", str(package)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    if kill_after is None:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()
        return 0
    time.sleep(kill_after)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)  # the worker processes die with it
    process.wait()
    return process.returncode


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


@pytest.mark.parametrize("kill_points", [(0.4,), (1.2,), (2.5,), (4.0,), (0.8, 2.0, 3.5)])
def test_killed_runs_resume_to_the_reference_state(package, reference, tmp_path, kill_points):
    home = tmp_path / "home"
    for delay in kill_points:
        _run(home, package, kill_after=delay)
    _run(home, package)
    state = _snapshot(home)
    assert state["no_duplicates"] and state["hashes_ok"]
    assert state["documents"] == reference["documents"]
    assert state["blobs"] == reference["blobs"]
    assert state["stored"] == state["blobs"], "no orphaned file in the store, no blob without its file"
    assert state["indexed"] == reference["indexed"]
    assert not list((home / "store" / ".incoming").glob("*"))
