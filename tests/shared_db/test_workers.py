"""`archive worker` processes and `archive ingest --workers 0` on one package, on SQLite and on a real
PostgreSQL: every file extracted by exactly one worker, nothing lost, and a worker killed mid-way has
its files taken over when its lease ends; the result equals a plain single-process ingest."""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile
from archive_core.settings import Settings
from indexes.fold import fold
from indexes.query import build_query
from ingest.pipeline import IngestOptions, ingest_package
from specimens import make_specimens, render_pdf, render_scan
from tests.ingest.packaging import row_for, write_package

ARCHIVE = [sys.executable, "-m", "archive_portal.cli"]
SAVED = re.compile(r"^tệp #(\d+): (trích xuất|sao chép) ")
LOST = re.compile(r"^tệp #(\d+): tiến trình khác đã nhận lại")


@pytest.fixture(scope="module")
def specs():
    return make_specimens(10, seed=91, issuer="UBND xã Quang Hưng")


@pytest.fixture(scope="module")
def package(tmp_path_factory, specs) -> Path:
    root = tmp_path_factory.mktemp("workers") / "bag"
    (root / "files").mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specs[:9], start=1):
        render_pdf(spec, root / "files" / f"{index}.pdf", pages=2)
        rows.append(row_for(spec, f"W-{index}", f"files/{index}.pdf", do_mat="Mật" if index == 4 else ""))
    (root / "files" / "ban-sao.pdf").write_bytes((root / "files" / "2.pdf").read_bytes())  # same bytes, another row
    rows.append(row_for(specs[1], "W-SAO", "files/ban-sao.pdf"))
    (root / "files" / "hong.pdf").write_bytes(b"%PDF-1.4\n% broken")
    rows.append(row_for(specs[2], "W-HONG", "files/hong.pdf"))
    render_scan(specs[9], root / "files" / "scan.pdf", fmt="pdf", dpi=150)  # the one OCR page, last in line
    rows.append(row_for(specs[9], "W-SCAN", "files/scan.pdf"))
    return write_package(root, rows, unit_code="11956")


def _snapshot(home: Path, url: str | None = None) -> dict:
    overrides = {"database_url": url} if url else {}
    archive = Archive.open(Settings.load(home=home, **overrides))
    try:
        with archive.db.session() as session:
            documents = sorted(
                (d.ma_van_ban, d.number, d.subject, str(d.issued_date), d.doc_type, d.page_count, d.withheld,
                 d.text_ready, d.indexed_at is not None, tuple(sorted(d.flags)),
                 tuple((f.path_in_package, f.blob_sha256, f.status, f.page_count,
                        hashlib.sha256("\f".join(p.text for p in f.pages).encode()).hexdigest()) for f in d.files))
                for d in session.scalars(select(Document))
            )
            keys = {d.id: d.ma_van_ban for d in session.scalars(select(Document))}
        indexed = sorted(keys[i] for i in archive.engine.indexed_ids())
        return {"documents": documents, "indexed": indexed}
    finally:
        archive.close()


@pytest.fixture(scope="module")
def reference(package, tmp_path_factory) -> dict:
    """The same package ingested the plain way: one process, SQLite."""
    home = tmp_path_factory.mktemp("reference")
    archive = Archive.open(Settings.load(home=home, database_url=f"sqlite:///{home / 'archive.sqlite'}", workers=1))
    ingest_package(archive, package, IngestOptions(workers=1))
    archive.close()
    return _snapshot(home, f"sqlite:///{home / 'archive.sqlite'}")


class Proc:
    """A running `archive` command whose output lines are collected as they come."""

    def __init__(self, args: list[str], env: dict):
        self.process = subprocess.Popen([*ARCHIVE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, timeout: float = 600) -> int:
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    def signal(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def saved_files(self) -> list[int]:
        return [int(m.group(1)) for line in self.lines if (m := SAVED.match(line))]

    def worker_id(self) -> str:
        for line in self.lines:
            if line.startswith("worker ") and "bắt đầu" in line:
                return line.split()[1].rstrip(":")
        return ""


def _env(home: Path, url: str, **extra: str) -> dict:
    return {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_DATABASE_URL": url, "OMP_THREAD_LIMIT": "1",
            "PYTHONUNBUFFERED": "1", **extra}


def _home_and_url(tmp_path: Path, database_url: str) -> tuple[Path, str]:
    home = tmp_path / "home"
    if database_url.startswith("sqlite"):  # the workers share the home's own SQLite file
        database_url = f"sqlite:///{home / 'archive.sqlite'}"
    home.mkdir()
    Archive.open(Settings.load(home=home, database_url=database_url)).close()  # migrated once, before the crowd
    return home, database_url


def _extractable_files(home: Path, url: str) -> set[int]:
    archive = Archive.open(Settings.load(home=home, database_url=url))
    with archive.db.session() as session:
        ids = set(session.scalars(select(DocumentFile.id).join(Document).where(
            Document.withheld.is_(False), DocumentFile.blob_sha256.is_not(None), DocumentFile.reason.not_like("Thông điệp%"))))
    archive.close()
    return ids


def _wait_until(condition, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_two_workers_and_a_waiting_ingest_extract_every_file_exactly_once(database_url, package, reference, tmp_path):
    home, url = _home_and_url(tmp_path, database_url)
    env = _env(home, url)
    ingest = Proc(["ingest", "--quiet", "--workers", "0", str(package)], env)
    workers = [Proc(["worker", "--workers", "1", "--lease", "30"], env) for _ in range(2)]
    assert ingest.wait() == 0, "\n".join(ingest.lines)
    for worker in workers:
        _wait_until(lambda: worker.worker_id())  # noqa: B023 - waited on at once
        worker.signal(signal.SIGTERM)  # a worker stops cleanly on SIGTERM
    for worker in workers:
        assert worker.wait(120) == 0, "\n".join(worker.lines)
    done = [file_id for worker in workers for file_id in worker.saved_files()]
    assert len(done) == len(set(done)), f"a file extracted twice: {sorted(done)}"
    assert set(done) == _extractable_files(home, url), "every file extracted, none lost"
    assert not any(LOST.match(line) for worker in workers for line in worker.lines)
    assert all(worker.worker_id() for worker in workers)
    state = _snapshot(home, url)
    assert state["documents"] == reference["documents"]
    assert state["indexed"] == reference["indexed"] and "W-4" not in state["indexed"]
    archive = Archive.open(Settings.load(home=home, database_url=url))
    words = " ".join(fold(_subject(reference, "W-6")).split()[1:4])
    hits = archive.engine.search(build_query(words, scope=frozenset({"11956"}), per_page=50)).hits
    with archive.db.session() as session:
        assert session.scalar(select(Document.id).where(Document.ma_van_ban == "W-6")) in [h.id for h in hits]
    archive.close()


def _subject(reference: dict, key: str) -> str:
    return next(d[2] for d in reference["documents"] if d[0] == key)


def _claims(home: Path, url: str) -> dict[int, tuple[str, str]]:
    """file id -> (claimed_by, status): the database is the record of who did what, not stdout."""
    archive = Archive.open(Settings.load(home=home, database_url=url), migrate=False)
    try:
        with archive.db.session() as session:
            return {i: (by, status) for i, by, status in
                    session.execute(select(DocumentFile.id, DocumentFile.claimed_by, DocumentFile.status))}
    finally:
        archive.close()


def _expire_leases(home: Path, url: str, worker_prefix: str) -> int:
    """End the leases of a worker's claims by writing the time, as a lease that ran out would."""
    archive = Archive.open(Settings.load(home=home, database_url=url), migrate=False)
    try:
        with archive.db.transaction() as session:
            return session.execute(update(DocumentFile).where(DocumentFile.claimed_by.startswith(worker_prefix))
                                   .values(lease_until=utcnow() - timedelta(seconds=1))).rowcount
    finally:
        archive.close()


def test_a_killed_worker_loses_its_files_to_another_after_its_lease(database_url, package, reference, tmp_path):
    home, url = _home_and_url(tmp_path, database_url)
    ingest = Proc(["ingest", "--quiet", "--workers", "0", str(package)], _env(home, url))
    # the doomed worker says it runs on another machine: only the end of its lease frees its files
    doomed = Proc(["worker", "--workers", "1", "--lease", "600"], _env(home, url, ARCHIVE_WORKER_NAME="may-khac"))

    def doomed_saved_one_and_holds_more() -> bool:
        mine = [status for by, status in _claims(home, url).values() if by.startswith("may-khac:")]
        return "pending" in mine and any(status != "pending" for status in mine)

    _wait_until(doomed_saved_one_and_holds_more)
    doomed.signal(signal.SIGKILL)
    doomed.wait()
    at_kill = _claims(home, url)
    held = {i for i, (by, status) in at_kill.items() if by.startswith("may-khac:") and status == "pending"}
    saved_by_doomed = {i for i, (by, status) in at_kill.items() if by.startswith("may-khac:") and status != "pending"}
    assert held and saved_by_doomed, "the kill landed mid-run: files saved and files still held"
    assert set(doomed.saved_files()) <= saved_by_doomed, "nothing reported saved that the database lacks"
    assert _expire_leases(home, url, "may-khac:") >= len(held)
    rescuer = Proc(["worker", "--workers", "1", "--lease", "600", "--idle-exit", "600"], _env(home, url))
    assert ingest.wait() == 0, "\n".join(ingest.lines)
    _wait_until(lambda: rescuer.worker_id())  # its SIGTERM handler is in place once it says it started
    rescuer.signal(signal.SIGTERM)
    assert rescuer.wait(120) == 0, "\n".join(rescuer.lines)
    after = _claims(home, url)
    rescuer_id = rescuer.worker_id()
    assert rescuer_id and all(after[i] == (rescuer_id, after[i][1]) and after[i][1] != "pending" for i in held), \
        "the dead worker's files were taken over and finished by the rescuer"
    assert not set(rescuer.saved_files()) & set(doomed.saved_files()), "no file extracted twice"
    extractable = _extractable_files(home, url)
    assert all(after[i][1] != "pending" for i in extractable), "every file extracted, none lost"
    assert {i for i in extractable if after[i][0].startswith("may-khac:")} == saved_by_doomed & extractable
    state = _snapshot(home, url)
    assert state["documents"] == reference["documents"]
    assert state["indexed"] == reference["indexed"]


def test_two_ingests_of_the_same_package_at_once_share_it(database_url, package, reference, tmp_path):
    home, url = _home_and_url(tmp_path, database_url)
    runs = [Proc(["ingest", "--quiet", "--workers", "1", "--json", str(package)], _env(home, url)) for _ in range(2)]
    for run in runs:
        assert run.wait() == 0, "\n".join(run.lines)
    state = _snapshot(home, url)
    assert state["documents"] == reference["documents"], "one document per row, each file read once"
    assert state["indexed"] == reference["indexed"]
    archive = Archive.open(Settings.load(home=home, database_url=url))
    with archive.db.session() as session:
        from archive_core.db.models import Blob, Package

        assert session.scalar(select(func.count(Package.id))) == 1
        assert session.scalar(select(func.count()).select_from(Blob)) == len(
            {p.name for p in archive.settings.store_dir.rglob("*") if p.is_file() and ".incoming" not in p.parts})
    archive.close()


@pytest.fixture(scope="module")
def scans_package(tmp_path_factory, specs) -> Path:
    """Three one-page scans: each takes the worker seconds of OCR, so a signal lands mid-extraction."""
    root = tmp_path_factory.mktemp("scans") / "bag"
    (root / "files").mkdir(parents=True)
    rows = []
    for index, spec in enumerate(specs[:3], start=1):
        render_scan(spec, root / "files" / f"scan-{index}.pdf", fmt="pdf", dpi=200)
        rows.append(row_for(spec, f"S-{index}", f"files/scan-{index}.pdf"))
    return write_package(root, rows, unit_code="11956")


def test_sigterm_mid_extraction_finishes_the_file_being_read_and_releases_the_rest(database_url, scans_package,
                                                                                   tmp_path):
    home, url = _home_and_url(tmp_path, database_url)
    ingest = Proc(["ingest", "--quiet", "--workers", "0", str(scans_package)], _env(home, url))
    worker = Proc(["worker", "--workers", "1", "--lease", "600"], _env(home, url, ARCHIVE_WORKER_NAME="dung-lai"))

    def reading() -> bool:
        return any(by.startswith("dung-lai:") and status == "pending" for by, status in _claims(home, url).values())

    _wait_until(reading)
    held = {i for i, (by, status) in _claims(home, url).items() if by.startswith("dung-lai:") and status == "pending"}
    worker.signal(signal.SIGTERM)  # what `systemctl stop` sends
    assert worker.wait(300) == 0, "\n".join(worker.lines)
    after = _claims(home, url)
    finished = {i for i in held if after[i][0].startswith("dung-lai:") and after[i][1] != "pending"}
    released = {i for i in held if after[i] == ("", "pending")}
    assert finished, "the file being read when the signal came was finished and saved"
    assert finished | released == held, "every other claim handed back, none left to a lease"
    assert not any(by.startswith("dung-lai:") and status == "pending" for by, status in after.values())
    rescuer = Proc(["worker", "--workers", "1", "--lease", "600", "--idle-exit", "600"], _env(home, url))
    assert ingest.wait() == 0, "\n".join(ingest.lines)
    _wait_until(lambda: rescuer.worker_id())  # its SIGTERM handler is in place once it says it started
    rescuer.signal(signal.SIGTERM)
    assert rescuer.wait(300) == 0
    assert all(status != "pending" for _, status in _claims(home, url).values())
