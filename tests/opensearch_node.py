"""The real OpenSearch node of a test run (``scripts/opensearch-node``), shared by the test folders.

``ARCHIVE_TEST_ENGINES`` (default ``sqlite,opensearch``) lists the engines the
index suite runs on; with ``opensearch`` in it the node MUST start, or the run
fails (nothing is skipped silently).  ``ARCHIVE_TEST_OPENSEARCH_URL`` reuses a
node that is already running instead of starting one.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "opensearch-node"


def engines_under_test() -> list[str]:
    names = [n.strip() for n in os.environ.get("ARCHIVE_TEST_ENGINES", "sqlite,tantivy,opensearch").split(",") if n.strip()]
    unknown = set(names) - {"sqlite", "tantivy", "opensearch"}
    if unknown:
        raise RuntimeError(f"ARCHIVE_TEST_ENGINES: unknown engines {sorted(unknown)}")
    return names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A started node; ``stop()`` ends it (only if this run started it)."""

    def __init__(self, run_dir: Path | None) -> None:
        self.run_dir = run_dir
        self.url = os.environ.get("ARCHIVE_TEST_OPENSEARCH_URL", "")
        if not self.url:
            assert run_dir is not None
            done = subprocess.run(
                [sys.executable, str(SCRIPT), "start", "--dir", str(run_dir), "--port", str(_free_port()),
                 "--transport-port", str(_free_port()), "--parent-pid", str(os.getpid())],
                capture_output=True, text=True,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the OpenSearch test node did not start:\n{done.stdout}\n{done.stderr}")
            self.url = done.stdout.strip().splitlines()[-1]
            self.started = True
        else:
            self.started = False

    def stop(self) -> None:
        if self.started and self.run_dir is not None:
            subprocess.run([sys.executable, str(SCRIPT), "stop", "--dir", str(self.run_dir)], check=False)


def unique_alias(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
