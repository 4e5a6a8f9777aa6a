"""``archive export``: choose the documents, then write one package per old unit in the form asked for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archive_core.context import Archive

from .eark import export_unit_eark
from .export import ExportError, UnitExport, export_unit_bag, select_documents

WRITERS = {"bag": export_unit_bag, "eark": export_unit_eark}


@dataclass
class ExportResult:
    destination: Path
    units: list[UnitExport]
    form: str

    @property
    def documents(self) -> int:
        return sum(u.documents for u in self.units)


def export(
    archive: Archive, destination: Path, *, unit: str = "", new_unit: str = "", dossier: str = "", form: str = "bag"
) -> ExportResult:
    """Write the packages under ``destination`` (which must not exist yet): one per old unit."""
    if form not in WRITERS:
        raise ExportError(f"Dạng gói không hỗ trợ: {form}")
    destination = Path(destination)
    if destination.exists():
        raise ExportError(f"Thư mục đích đã tồn tại: {destination} (không ghi đè).")
    with archive.db.session() as session:
        selection = select_documents(session, unit=unit, new_unit=new_unit, dossier=dossier)
        units = []
        for code, ids in sorted(selection.documents.items()):
            target = destination / code
            if form == "eark":
                from .eark import export_unit_eark

                units.append(
                    export_unit_eark(
                        archive,
                        session,
                        code,
                        ids,
                        target,
                        dossier=selection.dossier,
                        withheld=selection.withheld.get(code, 0),
                        label=selection.label,
                    )
                )
            else:
                units.append(
                    export_unit_bag(
                        archive,
                        session,
                        code,
                        ids,
                        target,
                        dossier=selection.dossier,
                        withheld=selection.withheld.get(code, 0),
                        label=selection.label,
                    )
                )
    return ExportResult(destination, units, form)


__all__ = ["ExportError", "ExportResult", "UnitExport", "export"]
