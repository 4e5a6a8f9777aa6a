"""Finish a document once its last file is read: empty fields from its text, then ready for indexing.

Manifest values always win; a field read from the text is noted as such in
``field_sources``.  This runs inside the transaction that saves the document's
last file (``claims``), so exactly once per document, in whichever process
saved it.  ``first_original`` is the stored original of the document's first
file (None when the store is not at hand or the first file has no original):
the place where the metadata reader may look at the first page's layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive_core.db.models import Document
from archive_core.store import BlobStore
from indexes.fold import normalize_number

from .metadata import read_document_metadata

TEXT_FIELDS = ("number", "issued_date", "doc_type", "subject", "issuer", "signer", "signer_title")


def has_text_fields(document: Document) -> bool:
    """Every field the text could fill is given already (by the manifest): the metadata reader is not needed."""
    return all(getattr(document, name) for name in TEXT_FIELDS)


def first_original(document: Document, store: BlobStore | None) -> Path | None:
    """Where the original of the document's first file is kept, if it has one."""
    first = document.files[0] if document.files else None
    if store is None or first is None or not first.blob_sha256:
        return None
    return store.path(first.blob_sha256)


def finalize_document(
    document: Document,
    first_original: Path | None = None,
    first_page_layout: Any = None,
    first_file_metadata: dict | None = None,
) -> None:
    """Fill empty fields from the text (manifest values always win) and mark the document ready.

    ``first_file_metadata``: what the reader found in the first file's pages, read already where they
    were extracted (the same call as below, on the same pages)."""
    if document.withheld:
        document.text_ready = True
        return
    first_text = next((p.text for f in document.files for p in f.pages[:2] if p.text.strip()), "")
    if first_text and not has_text_fields(document):  # what the text gives fills empty fields only
        first_pages = document.files[0].pages if document.files else []
        found = first_file_metadata
        if found is None:
            found = read_document_metadata(
                [p.text for p in first_pages],
                first_original,
                first_page_from_text_layer=bool(first_pages) and first_pages[0].method == "text",
                first_page_layout=first_page_layout,
            )
        sources = dict(document.field_sources or {})
        for name in TEXT_FIELDS:
            value = found.get(name)
            if value and not getattr(document, name):
                setattr(document, name, value)
                sources[name] = "text"
        if sources.get("issued_date") == "text" and found.get("issued_date_raw"):
            document.issued_date_raw = str(found["issued_date_raw"])
        if sources.get("number") == "text":
            document.number_norm = normalize_number(document.number)
        document.field_sources = sources
    if document.page_count is None:
        pages = sum(f.page_count for f in document.files)
        document.page_count = pages or None
    document.text_ready = True
