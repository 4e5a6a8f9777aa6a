"""What the steps of one ingest share: the package, its record, the store, and this run's findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from archive_core.context import Archive
from archive_core.store import BlobStore

from ..ahead import ExtractAhead
from ..attachments import PayloadPaths
from ..packages import PackageContents

Progress = Callable[[str, int, int, int], None]  # (stage, done, total, pages)


@dataclass
class FileInfo:
    """A stored payload file (or decoded attachment), or the reason it was refused."""

    sha256: str = ""
    size: int = 0
    media_type: str = ""
    refused: str = ""


@dataclass
class EdxmlInfo:
    fields: dict[str, str]
    content: str
    attachments: list[tuple[str, str]]  # (key in RunState.derived, file name)


@dataclass
class RunState:
    """What this run learned that is not (yet) in the database."""

    files: dict[str, FileInfo] = field(default_factory=dict)
    row_refusals: dict[str, str] = field(default_factory=dict)  # row key/line -> reason
    row_duplicates: dict[str, str] = field(default_factory=dict)
    file_duplicates: dict[str, str] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)
    edxml: dict[str, EdxmlInfo] = field(default_factory=dict)  # payload path -> message read from it
    derived: dict[str, FileInfo] = field(default_factory=dict)  # "message#n/name" -> decoded attachment
    created: int = 0
    pages_done: int = 0
    raised: dict[str, tuple[int, str]] = field(default_factory=dict)  # row key -> (document id, why withheld)
    paths: PayloadPaths | None = None  # attachment path matching (NFC, then case), built on first use


@dataclass
class IngestRun:
    archive: Archive
    contents: PackageContents
    package_id: int
    store: BlobStore
    state: RunState = field(default_factory=RunState)
    on_progress: Progress | None = None
    ahead: ExtractAhead | None = None  # the pool, reading stored originals before they are claimed

    def progress(self, stage: str, done: int, total: int) -> None:
        if self.on_progress:
            self.on_progress(stage, done, total, self.state.pages_done)
