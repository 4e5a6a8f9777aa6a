"""Rebuild the search index from the database while searches keep working (``archive reindex``).

The documents come from the database and their pages' stored text
(``ingest.pipeline.index_document`` decides what is searchable); nothing is
OCR'd again and withheld documents are never sent.  They go into a NEW index
(a new OpenSearch/Elasticsearch index, a new SQLite file) that nobody reads;
when it is complete, the engine switches every reader and writer to it in one
atomic step (``RebuildableEngine.switch_to``: an alias update, a symlink
rename).  Ingest may go on meanwhile: what it indexed into the old index after
the rebuild began is indexed again into the new one after the switch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive_core.clock import utcnow
from archive_core.context import Archive
from archive_core.db.models import Document, DocumentFile
from archive_core.engines import open_engine
from indexes.base import RebuildableEngine
from ingest.indexing import index_document

log = logging.getLogger(__name__)

BATCH = 200
ENGINES = ("sqlite", "tantivy", "opensearch", "elasticsearch")


@dataclass
class ReindexReport:
    engine: str
    documents: int
    caught_up: int
    removed: int
    seconds: float


def _indexable():
    """The documents the ingest pipeline would index: text ready, not withheld."""
    return select(Document.id).where(Document.text_ready.is_(True), Document.withheld.is_(False))


def _index_ids(archive: Archive, engine, ids: list[int], batch: int) -> int:

    done = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with archive.db.session() as session:
            documents = session.scalars(
                select(Document)
                .where(Document.id.in_(chunk), Document.withheld.is_(False))
                .options(selectinload(Document.files).selectinload(DocumentFile.pages))
                .order_by(Document.unit_code, Document.id)
            ).all()
            done += engine.index([index_document(session, d) for d in documents])
    return done


def reindex(
    archive: Archive,
    engine_name: str | None = None,
    *,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> ReindexReport:
    """Rebuild the index of ``engine_name`` (default: the configured engine) and switch to it."""
    name = engine_name or archive.settings.index_engine
    if name not in ENGINES:
        raise ValueError(f"unknown index engine: {name!r}")
    if name == archive.settings.index_engine:
        engine: RebuildableEngine = archive.engine  # type: ignore[assignment]
        own = False
    else:
        engine = open_engine(replace(archive.settings, index_engine=name))  # type: ignore[assignment]
        own = True
    started_clock = time.perf_counter()
    # indexed_at is written by the pipeline after its engine call; a minute of slack covers clocks
    # and the gap between the call and the commit.
    started = utcnow() - timedelta(minutes=1)
    try:
        with archive.db.session() as session:
            # Each old unit's documents together, as its package's ingest wrote them: a lookup account's
            # scope then sits in a few blocks of each posting list (scoped searches ~1.8x less CPU than
            # with units interleaved; docs/scale.md).
            ids = list(session.scalars(_indexable().order_by(Document.unit_code, Document.id)))
        generation = engine.new_generation()
        try:
            done = 0
            for start in range(0, len(ids), batch * 10):
                done += _index_ids(archive, generation, ids[start : start + batch * 10], batch)
                if progress:
                    progress(done, len(ids))
        except BaseException:
            generation.discard()
            raise
        engine.switch_to(generation)
        caught_up, removed = _catch_up(archive, engine, set(ids), started, batch)
        _mark_indexed(archive, ids)
    finally:
        if own:
            engine.close()
    return ReindexReport(
        engine=name,
        documents=done,
        caught_up=caught_up,
        removed=removed,
        seconds=round(time.perf_counter() - started_clock, 2),
    )


def _catch_up(archive: Archive, engine, rebuilt: set[int], started: datetime, batch: int) -> tuple[int, int]:
    """What changed while the new index was filled: newly indexed documents in, withheld ones out."""
    with archive.db.session() as session:
        wanted = set(session.scalars(_indexable()))
        recent = set(session.scalars(_indexable().where(Document.indexed_at >= started)))
    again = sorted(recent | (wanted - rebuilt))
    caught_up = _index_ids(archive, engine, again, batch) if again else 0
    extra = sorted(engine.indexed_ids() - wanted)
    if extra:
        engine.delete(extra)
    return caught_up, len(extra)


def _mark_indexed(archive: Archive, ids: list[int]) -> None:
    """Documents that were ready but not yet marked (an interrupted ingest) are indexed now."""
    now = utcnow()
    with archive.db.transaction() as session:
        for start in range(0, len(ids), 500):
            for document in session.scalars(
                select(Document).where(Document.id.in_(ids[start : start + 500]), Document.indexed_at.is_(None))
            ):
                document.indexed_at = now
