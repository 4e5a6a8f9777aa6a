"""Real office files for the tests: written by python-docx/odfpy/openpyxl, or converted by LibreOffice."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def soffice_convert(sources: list[Path], target: str, outdir: Path) -> list[Path]:
    """Convert `sources` with headless LibreOffice (`target` e.g. "doc", "xls", "rtf")."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail("LibreOffice is missing (TEST_DEBS: libreoffice-writer-nogui libreoffice-calc-nogui)")
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / ".lo-profile"
    env = {**os.environ, "HOME": str(outdir)}
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", target,
         "--outdir", str(outdir), *map(str, sources)],
        check=True, capture_output=True, timeout=300, env=env,
    )
    results = [outdir / f"{src.stem}.{target.split(':')[0]}" for src in sources]
    for path in results:
        assert path.is_file(), f"LibreOffice did not write {path}"
    return results


def write_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None, font: str | None = None) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        run = document.add_paragraph().add_run(text)
        if font:
            run.font.name = font
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(path)
    return path


def write_odt(path: Path, heading: str, paragraphs: list[str]) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text=heading))
    for text in paragraphs:
        document.text.addElement(P(text=text))
    document.save(str(path))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path
