"""A data home of N documents for the load test, built in minutes without the OCR pipeline.

The documents are those of ``bench.corpus`` (the real Hưng Yên units, administrative text,
1-6 KB each), inserted into the database in bulk (SQLAlchemy Core executemany in batches:
one package per old unit, one document, one file and one page of text each), so that the
portal reads them exactly as it reads ingested ones.  Every file points at one of a few real
PDF originals in the store (shared by many documents), so that downloads and stamped copies
work.  The index is built through the engine's own ``SearchEngine.index`` in batches, or,
when ``bench.scale_bench`` already built the same corpus (same engine, size and seed) under
``BENCH_DATA``, copied from there (an hour of indexing saved; the documents are the same).

The accounts (lookup accounts of several new units, and archivists) are written with their
passwords to ``load-accounts.json`` in the home: a benchmark home, never a real one.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from archive_core import UNITS_MAPPING_CSV
from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Account, Blob, Document, DocumentFile, Package, Page
from archive_core.settings import Settings
from archive_core.store import BlobStore
from archive_portal.services.accounts import create_account
from archive_portal.services.units import import_mapping
from indexes.base import IndexDocument
from indexes.fold import normalize_number
from indexes.tantivy_engine import TantivyEngine
from specimens import make_specimens, render_pdf

from ..corpus import Corpus, build_name

READY = "load-home.json"
DATABASE_DONE = "load-database.json"  # the database phase finished: a rerun builds or copies the index only
ACCOUNTS = "load-accounts.json"
PDF_ORIGINALS = 6


@dataclass(frozen=True)
class HomeSpec:
    root: Path  # BENCH_DATA
    docs: int
    seed: int = 11
    engine: str = "tantivy"
    batch: int = 5000
    lookup_units: int = 12  # new units with lookup accounts
    lookups_per_unit: int = 6
    archivists: int = 8

    @property
    def home(self) -> Path:
        return self.root / f"load-{build_name(self.engine, self.docs, self.seed)}"

    def settings(self) -> Settings:
        return Settings.load(home=self.home, database_url=f"sqlite:///{self.home / 'archive.sqlite'}")


def _batches(items: Iterator[IndexDocument], size: int) -> Iterator[list[IndexDocument]]:
    while batch := list(islice(items, size)):
        yield batch


def ensure_home(spec: HomeSpec, log=print) -> dict:
    """The home's description (documents, accounts, build figures): reused when complete, else built.

    A home whose database phase finished (``load-database.json``; half an hour at a million
    documents on a busy machine) keeps it: a rerun builds (or copies from a scale-bench build of
    the same corpus, when one has appeared meanwhile) the index and the accounts only."""
    ready = spec.home / READY
    if ready.is_file():
        info = json.loads(ready.read_text(encoding="utf-8"))
        if info.get("documents") == spec.docs and info.get("engine") == spec.engine:
            log(f"data home reused: {spec.home} ({spec.docs} documents, {spec.engine})")
            return info
    database_done = spec.home / DATABASE_DONE
    resumed: dict | None = None
    if database_done.is_file():
        resumed = json.loads(database_done.read_text(encoding="utf-8"))
        if resumed.get("documents") != spec.docs:
            resumed = None
    if resumed is None and spec.home.exists():
        log(f"incomplete data home removed: {spec.home}")
        shutil.rmtree(spec.home)
    spec.home.mkdir(parents=True, exist_ok=True)
    os.environ["ARCHIVE_INDEX_ENGINE"] = spec.engine
    settings = spec.settings()
    archive = Archive.open(settings)
    try:
        corpus = Corpus(seed=spec.seed)
        t0 = time.perf_counter()
        if resumed is None:
            with archive.db.transaction() as session:
                import_mapping(session, UNITS_MAPPING_CSV, loaded_by="load-bench")
            blobs = _store_originals(archive, spec)
            packages = _insert_packages(archive, corpus)
            db_seconds = _insert_documents(archive, corpus, spec, packages, blobs, log)
            database_done.write_text(json.dumps({"documents": spec.docs, "database_seconds": round(db_seconds, 1),
                                                 "load_average": os.getloadavg()[0]}), encoding="utf-8")
        else:
            db_seconds = resumed["database_seconds"]
            log(f"database phase reused ({spec.docs} documents, built in {db_seconds:.0f} s); the index follows")
        index_info = _build_index(archive, corpus, spec, log)
        accounts = _create_accounts(archive, corpus, spec)
    finally:
        archive.close()
    info = {
        "documents": spec.docs, "engine": spec.engine, "seed": spec.seed, "home": str(spec.home),
        "database_seconds": round(db_seconds, 1), **index_info,
        "database_bytes": (spec.home / "archive.sqlite").stat().st_size,
        "build_seconds": round(time.perf_counter() - t0, 1), "load_average": os.getloadavg()[0],
    }
    (spec.home / ACCOUNTS).write_text(json.dumps(accounts, ensure_ascii=False, indent=1), encoding="utf-8")
    ready.write_text(json.dumps(info, indent=1), encoding="utf-8")
    log(f"data home built: {json.dumps(info)}")
    return info


def _store_originals(archive: Archive, spec: HomeSpec) -> list[tuple[str, int]]:
    """A few real born-digital PDFs in the store and as blobs: (sha256, size)."""
    store = BlobStore(archive.settings.store_dir)
    out: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, item in enumerate(make_specimens(PDF_ORIGINALS, seed=spec.seed)):
            pdf = render_pdf(item, Path(tmp) / f"{i}.pdf")
            stored = store.put(pdf)
            out.append((stored.sha256, stored.size))
    with archive.db.transaction() as session:
        for sha, size in out:
            if session.get(Blob, sha) is None:
                session.add(Blob(sha256=sha, size=size, media_type="application/pdf"))
    return out


def _insert_packages(archive: Archive, corpus: Corpus) -> dict[str, int]:
    """One package per old unit (its export); old unit code -> package id."""
    now = utcnow()
    rows = [{"id": i, "fingerprint": f"{i:064x}", "source_path": f"/load-bench/{u.code}", "form": "bag",
             "unit_code": u.code, "source_organization": u.name, "unit_level": "xa", "parent_unit_code": "",
             "bag_info": {}, "verified": True, "status": "done", "warnings": [], "started_at": now,
             "finished_at": now, "counts": {}, "manifest_name": "", "manifest_sha256": "", "bag_manifest_sha256": ""}
            for i, u in enumerate(corpus.units, start=1)]
    with archive.db.engine.begin() as conn:
        conn.execute(insert(Package.__table__), rows)
    return {u.code: i for i, u in enumerate(corpus.units, start=1)}


def _insert_documents(archive: Archive, corpus: Corpus, spec: HomeSpec, packages: dict[str, int],
                      blobs: list[tuple[str, int]], log) -> float:
    """Document, file and page rows in batches of ``spec.batch`` (Core executemany, one transaction each)."""
    engine = create_engine(archive.settings.database_url)
    doc_t, file_t, page_t = Document.__table__, DocumentFile.__table__, Page.__table__
    t0 = time.perf_counter()
    done = 0
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.commit()
        for batch in _batches(corpus.documents(spec.docs), spec.batch):
            now = utcnow()
            docs, files, pages = [], [], []
            for d in batch:
                sha, _size = blobs[d.id % len(blobs)]
                docs.append({
                    "id": d.id, "package_id": packages[d.unit_code], "unit_code": d.unit_code,
                    "ma_van_ban": d.ma_van_ban, "origin": "manifest", "direction": d.direction, "number": d.number,
                    "number_norm": normalize_number(d.number), "issued_date": d.issued_date, "issued_date_raw": "",
                    "doc_type": d.doc_type, "subject": d.subject, "issuer": d.issuer, "signer": d.signer,
                    "signer_title": "", "recipients": "", "confidentiality": "", "urgency": "", "dossier": "",
                    "dossier_order": None, "page_count": 1, "remarks": "", "extra": {}, "field_sources": {},
                    "flags": [], "withheld": False, "withheld_reason": "", "restricted": False,
                    "restricted_own": False, "text_ready": True, "indexed_at": now, "created_at": now,
                })
                files.append({
                    "id": d.id, "document_id": d.id, "position": 0, "path_in_package": f"data/{d.ma_van_ban}.pdf",
                    "filename": f"{d.ma_van_ban}.pdf", "blob_sha256": sha, "media_type": "application/pdf",
                    "status": "extracted", "reason": "", "page_count": 1, "claimed_by": "", "lease_until": None,
                })
                pages.append({"id": d.id, "file_id": d.id, "number": 1, "text": d.body, "method": "text",
                              "ocr_confidence": None, "word_boxes": None})
            with conn.begin():
                conn.execute(insert(doc_t), docs)
                conn.execute(insert(file_t), files)
                conn.execute(insert(page_t), pages)
            done += len(batch)
            if done % 100_000 < spec.batch:
                log(f"  database: {done} documents, {done / (time.perf_counter() - t0):.0f}/s")
    engine.dispose()
    return time.perf_counter() - t0


def _build_index(archive: Archive, corpus: Corpus, spec: HomeSpec, log) -> dict:
    """The engine's own index of the same documents: copied from a scale-bench build of this corpus, or built."""
    index_dir = archive.settings.index_dir
    built = spec.root / corpus.build_name(spec.engine, spec.docs)
    source = built / spec.engine if spec.engine == "tantivy" else built / "fts.sqlite"
    t0 = time.perf_counter()
    if (built / "build.json").is_file() and source.exists():
        archive.engine.close()
        del archive.__dict__["engine"]
        if spec.engine == "tantivy":
            link = index_dir / "tantivy"
            for old in index_dir.glob("tantivy*"):
                shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
            target = index_dir / Path(os.path.realpath(source)).name
            shutil.copytree(os.path.realpath(source), target)
            os.symlink(target.name, link)
        else:
            _copy_sqlite(source, index_dir / "fts.sqlite")
        log(f"  index copied from {built} ({time.perf_counter() - t0:.0f} s)")
        return {"index": f"copied from {built}", "index_seconds": round(time.perf_counter() - t0, 1)}
    engine = archive.engine
    if spec.engine == "tantivy":  # a bulk load: one writer held, commits every 100,000 documents
        engine.close()
        engine = TantivyEngine(index_dir / "tantivy", keep_writer=True)
    done = 0
    for batch in _batches(corpus.documents(spec.docs), spec.batch):
        done += engine.index(batch)
        if done % 100_000 < spec.batch:
            log(f"  index: {done} documents, {done / (time.perf_counter() - t0):.0f}/s")
    finish = getattr(engine, "optimize", None)
    if finish:
        finish()
    engine.close()
    seconds = time.perf_counter() - t0
    return {"index": "built", "index_seconds": round(seconds, 1), "index_docs_per_second": round(done / seconds)}


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite index (the backup API, safe while another process reads it)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _create_accounts(archive: Archive, corpus: Corpus, spec: HomeSpec) -> list[dict]:
    """Lookup accounts of the new units with the most old units, and archivists; with their scopes."""
    by_new: dict[str, list[str]] = {}
    for unit in corpus.units:
        by_new.setdefault(unit.new_code, []).append(unit.code)
    new_units = sorted(by_new, key=lambda c: (-len(by_new[c]), c))[:spec.lookup_units]
    plan = [(f"tracuu{n:02d}{i}", "lookup", code, by_new[code])
            for n, code in enumerate(new_units) for i in range(spec.lookups_per_unit)]
    plan += [(f"luutru{i:02d}", "archivist", None, []) for i in range(spec.archivists)]
    out = []
    with archive.db.transaction() as session:
        for username, role, new_code, old_codes in plan:
            if session.scalar(select(Account.id).where(Account.username == username)) is not None:
                continue
            password = secrets.token_urlsafe(12) + "aA1!"
            account, _ = create_account(session, username=username, role=role, new_unit_code=new_code,
                                        password=password)
            account.must_change_password = False
            out.append({"username": username, "password": password, "role": role, "new_unit": new_code,
                        "old_units": sorted(old_codes)})
    return out
