"""One lock for every use of pdfium in the portal process: the library is not thread-safe."""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.Lock()
