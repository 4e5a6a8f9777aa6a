"""Claims on extraction work, on SQLite and on a real PostgreSQL: many claimers split the files and never
share one, a worker that lost its lease cannot overwrite, dead workers' files are taken over, and each
document is finished exactly once."""
from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from archive_core.clock import utcnow
from archive_core.db.models import Blob, Document, DocumentFile, Package, Page
from archive_core.db.session import Database
from ingest import claims
from ingest.extract import ExtractLimits, extract
from specimens import make_specimens, render_pdf
from archive_core.store import sha256_file


@pytest.fixture(scope="module")
def extraction(tmp_path_factory):
    """One real extraction of a rendered PDF, saved for every claimed file."""
    path = render_pdf(make_specimens(1, seed=5, issuer="UBND xã Tân Hưng")[0],
                      tmp_path_factory.mktemp("pdf") / "vb.pdf", pages=2)
    return extract(path, ExtractLimits()), sha256_file(path)[0]


def make_world(url: str, sha: str, documents: int, files_each: int, *, withheld: int = 0) -> Database:
    database = Database(url)
    database.upgrade()
    with database.transaction() as session:
        package = Package(fingerprint="f" * 64, source_path="/goi", form="bag", unit_code="11950")
        session.add_all([package, Blob(sha256=sha, size=1, media_type="application/pdf")])
        session.flush()
        for index in range(documents):
            document = Document(package_id=package.id, unit_code="11950", ma_van_ban=f"VB-{index}",
                                withheld=index < withheld, flags=[], extra={}, field_sources={})
            for position in range(files_each):
                document.files.append(DocumentFile(position=position, path_in_package=f"{index}/{position}.pdf",
                                                   filename=f"{position}.pdf", blob_sha256=sha, status="pending"))
            session.add(document)
    return database


def _claimer(url: str, result, queue) -> None:
    database = Database(url)
    worker = claims.new_worker_id()
    claimed, finalized = [], 0
    while batch := claims.claim_files(database, worker, 3):
        for claim in batch:
            saved = claims.save_extraction(database, worker, claim, result)
            assert saved.saved
            claimed.append(claim.file_id)
            finalized += int(saved.finalized)
    database.dispose()
    queue.put((worker, claimed, finalized))


def test_concurrent_claimers_split_the_files_and_finish_each_document_once(database_url, extraction):
    result, sha = extraction
    database = make_world(database_url, sha, documents=20, files_each=3, withheld=2)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_claimer, args=(database_url, result, queue)) for _ in range(4)]
    for process in processes:
        process.start()
    outcomes = [queue.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    claimed = [file_id for _, ids, _ in outcomes for file_id in ids]
    with database.session() as session:
        files = session.scalars(select(DocumentFile).join(Document).where(Document.withheld.is_(False))).all()
        assert sorted(claimed) == sorted(f.id for f in files), "every file claimed, none by two workers"
        assert all(f.status == "extracted" and f.page_count == len(result.pages) for f in files)
        by_worker = {worker: set(ids) for worker, ids, _ in outcomes}
        assert all(f.id in by_worker[f.claimed_by] for f in files), "claimed_by records who extracted the file"
        documents = session.scalars(select(Document)).all()
        assert sum(n for _, _, n in outcomes) == 18, "each document finished exactly once, by its last file"
        assert all(d.text_ready for d in documents if not d.withheld)
        assert not any(d.text_ready for d in documents if d.withheld)
        secret_files = session.scalars(select(DocumentFile).join(Document).where(Document.withheld.is_(True))).all()
        assert all(f.status == "pending" and f.claimed_by == "" for f in secret_files), "withheld: never extracted"
        assert session.scalar(select(Document.number).where(Document.ma_van_ban == "VB-5")), "metadata read from text"
    database.dispose()


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_new_owner(database_url, extraction):
    result, sha = extraction
    database = make_world(database_url, sha, documents=1, files_each=2)
    slow, fast = claims.new_worker_id("may-cham"), claims.new_worker_id("may-nhanh")
    first = claims.claim_files(database, slow, 10, lease_seconds=3600)
    assert len(first) == 2
    assert claims.claim_files(database, fast, 10) == [], "a held lease is not claimable"
    expire_leases(database, slow)
    second = claims.claim_files(database, fast, 10)
    assert [c.file_id for c in second] == [c.file_id for c in first], "expired: taken over"
    assert claims.renew(database, slow) == 0, "the old owner holds nothing any more"
    assert not claims.save_extraction(database, slow, first[0], "lỗi giả của tiến trình cũ").saved
    assert claims.copy_known_extraction(database, slow, first[1]) is None  # nothing extracted yet to copy
    saved = [claims.save_extraction(database, fast, claim, result) for claim in second]
    assert [s.saved for s in saved] == [True, True] and [s.finalized for s in saved] == [False, True]
    assert not claims.save_extraction(database, slow, first[1], "quá muộn").saved
    with database.session() as session:
        files = session.scalars(select(DocumentFile).order_by(DocumentFile.id)).all()
        assert [(f.status, f.claimed_by) for f in files] == [("extracted", fast)] * 2
        assert session.scalar(select(Page.text).where(Page.file_id == files[0].id, Page.number == 1)) == result.pages[0].text
    database.dispose()


CLAIM_AND_DIE = """
import os, sys
from archive_core.db.session import Database
from ingest import claims
database = Database(sys.argv[1])
got = claims.claim_files(database, claims.new_worker_id(sys.argv[2]), 100, lease_seconds=float(sys.argv[3]))
print(len(got), flush=True)
os._exit(0)  # dies holding its claims: no release, no renewal
"""


def _claim_and_die(url: str, name: str, lease: float) -> int:
    done = subprocess.run([sys.executable, "-c", CLAIM_AND_DIE, url, name, str(lease)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_files_of_a_dead_worker_are_taken_over(database_url, extraction):
    _, sha = extraction
    database = make_world(database_url, sha, documents=3, files_each=1)
    survivor = claims.new_worker_id()
    # a process of this machine that died: its pid is gone, its files are free at once
    assert _claim_and_die(database_url, "", 3600) == 3
    assert len(claims.claim_files(database, survivor, 10)) == 3
    assert claims.release(database, survivor) == 3
    # a worker of another machine that stopped answering: its files wait for the end of its lease
    assert _claim_and_die(database_url, "may-khac", 3600) == 3
    assert claims.claim_files(database, survivor, 10) == []
    expire_leases(database, "may-khac:")
    assert len(claims.claim_files(database, survivor, 10)) == 3
    database.dispose()


def test_the_heartbeat_keeps_a_long_extraction_claimed(database_url, extraction):
    _, sha = extraction
    database = make_world(database_url, sha, documents=1, files_each=1)
    owner, other = claims.new_worker_id("may-a"), claims.new_worker_id("may-b")
    assert len(claims.claim_files(database, owner, 1, lease_seconds=6)) == 1
    first_end = lease_end(database, owner)
    with claims.Heartbeat(database, owner, lease_seconds=6):
        # past the first lease's end: only renewals can still hold the file
        wait_until(lambda: utcnow() > first_end and lease_end(database, owner) > first_end)
        assert claims.claim_files(database, other, 1) == []
    assert lease_end(database, owner) > utcnow(), "the heartbeat stopped; the last renewal still runs"
    expire_leases(database, owner)
    assert len(claims.claim_files(database, other, 1)) == 1
    database.dispose()


def lease_end(database: Database, worker: str) -> datetime:
    with database.session() as session:
        return session.scalar(select(func.max(DocumentFile.lease_until)).where(DocumentFile.claimed_by == worker))


def expire_leases(database: Database, worker_prefix: str) -> None:
    """End leases by writing the time, as a lease that ran out would, instead of sleeping."""
    with database.transaction() as session:
        session.execute(update(DocumentFile).where(DocumentFile.claimed_by.startswith(worker_prefix))
                        .values(lease_until=utcnow() - timedelta(seconds=1)))


def wait_until(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)
