"""Which payload files no metadata reading will be asked of, known before they are registered (``ahead``).

A file's extraction reads its first page's layout and the metadata reader only
for a document that lacks a field its text could give (``finalize``).  Files
started ahead are not registered yet: this tells from the manifest rows which
files only rows that give every such field name.  A best guess: a file it
misses is read in full as before, and a document that lacks a field after all
has its metadata read when it is finalised.
"""

from __future__ import annotations

import posixpath

from ..attachments import PayloadPaths
from ..finalize import has_text_fields
from .documents import document_from_row
from .run import IngestRun

# The manifest columns of the fields the text could fill (``finalize.TEXT_FIELDS``): a row without one of
# them lacks a field, without building its document.
_COLUMNS = (
    "so_ky_hieu",
    "ngay_ban_hanh",
    "loai_van_ban",
    "trich_yeu",
    "co_quan_ban_hanh",
    "nguoi_ky",
    "chuc_vu_nguoi_ky",
)


def files_without_metadata(run: IngestRun) -> frozenset[str]:
    """Payload paths that only rows giving every text field name (as ``register`` will read the rows)."""
    manifest = run.contents.manifest
    if manifest is None:
        return frozenset()
    paths = PayloadPaths(run.contents.files)
    complete: set[str] = set()
    lacking: set[str] = set()
    for row in manifest.rows:
        full = all(row.values.get(column, "").strip() for column in _COLUMNS) and has_text_fields(
            document_from_row(row, package_id=0, unit_code="")
        )
        for attachment in row.attachments:
            rel = attachment.replace("\\", "/").strip()
            if rel.startswith("data/") and rel not in paths.exact:
                rel = rel[5:]
            found = paths.resolve(posixpath.normpath(rel)) if rel else None
            if found is not None:
                (complete if full else lacking).add(found)
    return frozenset(complete - lacking)
