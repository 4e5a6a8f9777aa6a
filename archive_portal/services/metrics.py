"""Prometheus metrics: what the portal's processes count, and what the database says at scrape time.

* Counted in the web processes: sign-ins by outcome, search latency (page and
  API).  Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR``
  (``gunicorn.conf.py`` does it) so every worker's counts are summed at scrape.
* Read from the database at scrape time (so ingest workers, the CLI and the
  portal agree without sharing memory): documents, ingest outcomes, pages by
  extraction method (OCR pages among them), packages, stored originals.  These
  are monotonic, so ``rate()`` gives ingest rates.  Cached a few seconds.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, select

from archive_core.context import Archive
from archive_core.db.models import Blob, Document, IngestItem, Package, Page

LIVE = CollectorRegistry(auto_describe=True)

LOGINS = Counter(
    "archive_logins",
    "Sign-in attempts on the portal, by outcome (success, failure, throttled)",
    ["outcome"],
    registry=LIVE,
)
SEARCH_SECONDS = Histogram(
    "archive_search_seconds",
    "Time to answer a search (portal page or API), end to end in the portal",
    ["route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=LIVE,
)

CACHE_SECONDS = 10.0


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class DatabaseCollector:
    """Ingest and archive figures read from the database when Prometheus scrapes."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list:
        return []  # the figures are read at collect time only

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > CACHE_SECONDS:
                self._cached = (now, self._read())
            metrics = self._cached[1]
        yield from metrics

    def _read(self) -> list[Metric]:
        with self.archive.db.session() as session:
            docs = GaugeMetricFamily("archive_documents", "Documents in the archive", labels=["state"])
            rows = dict(session.execute(select(Document.withheld, func.count()).group_by(Document.withheld)).all())
            docs.add_metric(["visible"], rows.get(False, 0))
            docs.add_metric(["withheld"], rows.get(True, 0))

            items = CounterMetricFamily(
                "archive_ingest_items", "Rows and files handled by ingest, by outcome", labels=["kind", "outcome"]
            )
            for kind, outcome, count in session.execute(
                select(IngestItem.kind, IngestItem.outcome, func.count()).group_by(IngestItem.kind, IngestItem.outcome)
            ):
                items.add_metric([kind, outcome], count)

            pages = CounterMetricFamily(
                "archive_pages", "Pages extracted, by method (text layer, ocr, none)", labels=["method"]
            )
            by_method = dict(session.execute(select(Page.method, func.count()).group_by(Page.method)).all())
            for method in sorted(set(by_method) | {"text", "ocr"}):
                pages.add_metric([method], by_method.get(method, 0))
            ocr = CounterMetricFamily("archive_ocr_pages", "Pages read by Tesseract OCR")
            ocr.add_metric([], by_method.get("ocr", 0))

            packages = GaugeMetricFamily("archive_packages", "Export packages, by status", labels=["status"])
            for status, count in session.execute(select(Package.status, func.count()).group_by(Package.status)):
                packages.add_metric([status], count)
            last = session.scalar(select(func.max(Package.finished_at)))
            last_ingest = GaugeMetricFamily(
                "archive_last_ingest_finished_timestamp_seconds",
                "When the last package finished ingesting (Unix time, UTC)",
            )
            last_ingest.add_metric([], _unix(last) if last else 0)

            blobs = session.execute(select(func.count(), func.coalesce(func.sum(Blob.size), 0))).one()
            originals = GaugeMetricFamily("archive_originals", "Original files in the store")
            originals.add_metric([], blobs[0])
            original_bytes = GaugeMetricFamily("archive_originals_bytes", "Bytes of the original files in the store")
            original_bytes.add_metric([], blobs[1])
        return [docs, items, pages, ocr, packages, last_ingest, originals, original_bytes]


def _unix(value) -> float:

    return value.replace(tzinfo=UTC).timestamp()


class _Live:
    """The in-process metrics, as one collector of a per-scrape registry."""

    def collect(self) -> Iterator[Metric]:
        yield from LIVE.collect()


def exposition(database: DatabaseCollector) -> bytes:
    """The text exposition format: process metrics (summed over workers in multiprocess mode) and the database's."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Live())
    registry.register(database)
    return generate_latest(registry)
