"""What a pool process runs for one file, in a module light to import.

Pool processes are forked from a server that has imported this module (and
so the extractors) once: starting a process costs a fork, not an interpreter
start and the imports of the database, the signature checker and the CLI.
"""

from __future__ import annotations

import signal
from pathlib import Path

from ..ocr import OcrUnavailable
from . import Extraction, ExtractionRefused, ExtractLimits, extract


def extract_job(path: str, limits: ExtractLimits) -> Extraction | str:
    """Runs in a worker process; a refusal or crash comes back as its reason."""
    try:
        return extract(Path(path), limits)  # a PDF's first-page layout comes with it, read in the same pass
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
