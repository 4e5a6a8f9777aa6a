"""What a pool process runs for one file, in a module light to import.

Pool processes are forked from a server that has imported this module (and
so the extractors) once: starting a process costs a fork, not an interpreter
start and the imports of the database, the signature checker and the CLI.
"""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

from ..ocr import OcrUnavailable
from . import Extraction, ExtractionRefused, ExtractLimits, extract


def extract_job(path: str, limits: ExtractLimits, metadata: bool = True) -> Extraction | str:
    """Runs in a worker process; a refusal or crash comes back as its reason.

    ``metadata=False``: its document has every field the text could give (``finalize.has_text_fields``),
    so neither the first page's layout nor the metadata reader is needed."""
    try:
        if not metadata:
            return extract(Path(path), replace(limits, first_page_layout=False))
        result = extract(Path(path), limits)  # a PDF's first-page layout comes with it, read in the same pass
        result.first_file_metadata = first_file_metadata(Path(path), result)
        return result
    except ExtractionRefused as refused:
        return refused.reason
    except OcrUnavailable:
        raise  # the machine, not the file, is at fault: stop the run with the reason
    except Exception as error:  # one bad file must never stop the rest
        return f"Lỗi khi đọc tệp: {type(error).__name__}: {error}"


def first_file_metadata(path: Path, result: Extraction) -> dict | None:
    """What the metadata reader finds in this file as its document's first file, read here in the pool
    (in parallel, outside the database's write lock) exactly as ``finalize`` would read it; None if the
    file has no text on its first two pages (finalize then reads nothing either)."""
    from ..metadata import read_document_metadata

    pages = result.pages
    if not any(p.text.strip() for p in pages[:2]):
        return None
    return read_document_metadata(
        [p.text for p in pages],
        path,
        first_page_from_text_layer=pages[0].method == "text",
        first_page_layout=result.first_page_layout,
    )


def ignore_interrupts() -> None:
    """Pool processes leave SIGINT/SIGTERM to the parent, which finishes or releases their files."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
