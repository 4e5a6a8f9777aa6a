"""The demo command used by ``make run``."""
from __future__ import annotations

from pathlib import Path

import click

from . import console, main, open_archive


# -- demo ---------------------------------------------------------------------------------------
@main.command()
@click.option("--dest", type=click.Path(path_type=Path), default=None, help="Where to write the demo export.")
@click.option("--documents", "per_unit", type=int, default=6, help="Documents per old unit.")
def demo(dest: Path | None, per_unit: int) -> None:
    """Load the real Hưng Yên units, build a demo export, ingest it and create demo accounts."""
    from ..demo import setup_demo

    archive = open_archive()
    setup_demo(archive, dest or archive.settings.home / "demo-export", per_unit=per_unit, console=console)

