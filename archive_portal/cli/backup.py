"""Backup and restore commands."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console

from archive_core.settings import Settings

from . import console, main, open_archive


def _say(text: str) -> None:
    console.print(text, soft_wrap=True, highlight=False)


_err = Console(stderr=True)


def _progress(quiet: bool):
    return (lambda _message: None) if quiet else (lambda message: _err.print(f"[dim]… {message}[/dim]"))


@main.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help="Keep only the newest N snapshots (and the originals they need).",
)
@click.option("--with-index", is_flag=True, help="Also copy the search index (otherwise restore rebuilds it).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--quiet", is_flag=True)
def backup_command(dest: Path, keep: int | None, with_index: bool, as_json: bool, quiet: bool) -> None:
    """Snapshot the database, originals and reports into DEST (safe while the portal and ingest run)."""
    from archive_ops.backup import backup
    from archive_ops.snapshots import BackupError

    archive = open_archive()
    started = time.perf_counter()
    try:
        result = backup(archive, dest, keep=keep, with_index=with_index, progress=_progress(quiet or as_json))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        archive.close()
    seconds = round(time.perf_counter() - started, 2)
    if as_json:
        click.echo(
            json.dumps({**asdict(result), "path": str(result.path), "seconds": seconds}, ensure_ascii=False, indent=2)
        )
        return
    _say(f"Đã sao lưu / backed up: {result.path}")
    _say(
        f"  cơ sở dữ liệu / database: {result.database}; chỉ mục / index: "
        f"{'có / included' if result.with_index else 'không / not included (restore rebuilds it)'}"
    )
    _say(
        f"  bản gốc / originals: {result.objects} ({result.objects_copied} mới / new, "
        f"{result.bytes_copied:,} byte; {result.objects_reused} đã có / already there)"
    )
    if result.pruned_snapshots or result.pruned_objects:
        _say(f"  đã xoá / pruned: {len(result.pruned_snapshots)} bản sao lưu cũ, {result.pruned_objects} bản gốc")
    _say(f"  thời gian / time: {seconds} s")


@main.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--snapshot", default=None, help="Snapshot name (default: the newest).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--quiet", is_flag=True)
def restore_command(src: Path, snapshot: str | None, as_json: bool, quiet: bool) -> None:
    """Restore a backup into the EMPTY data home ARCHIVE_HOME, checking every checksum."""
    from archive_ops.restore import restore
    from archive_ops.snapshots import BackupError

    settings = Settings.load()
    started = time.perf_counter()
    try:
        result = restore(src, settings, snapshot=snapshot, progress=_progress(quiet or as_json))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    seconds = round(time.perf_counter() - started, 2)
    if as_json:
        click.echo(
            json.dumps({**asdict(result), "home": str(settings.home), "seconds": seconds}, ensure_ascii=False, indent=2)
        )
        return
    _say(f"Đã khôi phục / restored {result.snapshot} vào / into {settings.home}")
    _say(f"  bản gốc / originals: {result.objects} ({result.bytes:,} byte), mã kiểm tra khớp / checksums OK")
    _say(
        f"  chỉ mục / index: {'khôi phục / restored' if result.index == 'restored' else 'dựng lại / rebuilt'}"
        f" ({result.documents_indexed} văn bản được đánh chỉ mục lại / documents indexed)"
    )
    _say(f"  thời gian / time: {seconds} s. Nên chạy / next: archive verify")
