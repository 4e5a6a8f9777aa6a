"""The ``archive`` command: what archivists and admins run on the server.

Each topic is a module of this package that adds its commands to ``main``.
"""

from __future__ import annotations

import click
from rich.console import Console

from archive_core.context import Archive
from archive_core.processes import cap_malloc_arenas
from archive_core.settings import Settings

console = Console()


def open_archive() -> Archive:
    return Archive.open(Settings.load())


@click.group()
def main() -> None:
    """Kho lưu trữ văn bản của các đơn vị hành chính cũ."""
    cap_malloc_arenas()  # before any command starts a thread (an ingest's heap stays flat)


@main.group()
def db() -> None:
    """Cơ sở dữ liệu."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations to the database of ARCHIVE_HOME."""
    archive = open_archive()
    console.print(f"Cơ sở dữ liệu đã cập nhật: {archive.settings.database_url}")


from . import (  # noqa: E402,F401  (command registration)
    accounts,
    audit,
    backup,
    export,
    ingest,
    reindex,
    reocr,
    search,
    tokens,
    units,
    verify,
    withholding,
    worker,
)
