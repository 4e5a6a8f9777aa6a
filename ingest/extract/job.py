"""What a pool process runs for one file, in a module light to import.

Pool processes are forked from a server that has imported this module (and
so the extractors) once: starting a process costs a fork, not an interpreter
start and the imports of the database, the signature checker and the CLI.
"""

from __future__ import annotations

import signal
from pathlib import Path

from ..metadata.layout import pdf_first_page_layout
from ..ocr import OcrUnavailable
from . import Extraction, ExtractionRefused, ExtractLimits, extract


def extract_job(path: str, limits: ExtractLimits) -> Extraction | str:
    """Runs in a worker process; a refusal or crash comes back as its reason."""
    try:
        result = extract(Path(path), limits)
        if result.media_type == "application/pdf" and result.pages and result.pages[0].method == "text":
            result.first_page_layout = pdf_first_page_layout(Path(path))  # for the metadata, here in the pool
        return result
    except ExtractionRefused as refused:
        return refused.reason
    except OcrUnavailable:
        raise  # the machine, not the file, is at fault: stop the run with the reason
    except Exception as error:  # one bad file must never stop the rest
        return f"Lỗi khi đọc tệp: {type(error).__name__}: {error}"


def ignore_interrupts() -> None:
    """Pool processes leave SIGINT/SIGTERM to the parent, which finishes or releases their files."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
