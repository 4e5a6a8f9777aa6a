"""The archive of one data home: settings, database and search engine, opened together.

The CLI, the web app and the ingest pipeline all work through one ``Archive``;
nothing is opened at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from indexes.base import SearchEngine

from .db.session import Database
from .engines import open_engine
from .settings import Settings


@dataclass
class Archive:
    settings: Settings
    db: Database = field(init=False)

    def __post_init__(self) -> None:
        self.settings.ensure_dirs()
        self.db = Database(self.settings.database_url)
        self.db.set_session_info(archive=self)  # the audit trail finds its key files through it

    @classmethod
    def open(cls, settings: Settings | None = None, *, migrate: bool = True) -> Archive:
        archive = cls(settings or Settings.load())
        if migrate:
            archive.db.upgrade()
        return archive

    @cached_property
    def engine(self) -> SearchEngine:
        return open_engine(self.settings)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.close()
        self.db.dispose()
