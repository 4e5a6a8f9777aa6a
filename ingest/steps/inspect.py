"""Look once at each stored original, before it becomes part of a document.

The one place a check that depends only on a file's bytes runs at ingest
(today: none; the PDF signature check of ``ingest.signatures`` belongs here).
It is called by ``store_originals`` once per payload file and once per decoded
edXML attachment that was stored, never for refused files or the package's
manifests.  Its result is a fact about the bytes, so it is kept per SHA-256
(the ``Blob``) and is the same for every ``DocumentFile`` that holds them.
"""

from __future__ import annotations

from .run import FileInfo, IngestRun


def inspect_original(run: IngestRun, stored: FileInfo) -> None:
    """``stored`` is in the store at ``run.store.path(stored.sha256)``, sniffed as ``stored.media_type``."""
    return None
