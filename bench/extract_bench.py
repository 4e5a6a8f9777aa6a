"""Extraction benchmark: raw text-layer speed, raw Tesseract speed, metadata accuracy.

    .venv/bin/python -m bench.extract_bench [n_pdf] [n_scan] [workdir]

Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingest.extract import ExtractLimits, extract
from ingest.metadata import read_metadata
from specimens import Specimen, make_specimens, render_pdf, render_scan

FIELDS = ("number", "issued_date", "doc_type", "subject", "issuer", "signer", "signer_title", "place")
OCR_DPI = 300
TESSERACT_PROCESSES = 2


def _truth(spec: Specimen) -> dict[str, object]:
    return {
        "number": spec.number, "issued_date": spec.issued, "doc_type": spec.doc_type,
        "subject": spec.subject, "issuer": spec.issuer, "signer": spec.signer,
        "signer_title": spec.signer_title, "place": spec.place,
    }


def _accuracy(pairs: list[tuple[Specimen, str]]) -> dict[str, float]:
    right = {f: 0 for f in FIELDS}
    for spec, text in pairs:
        found, expected = read_metadata(text), _truth(spec)
        for f in FIELDS:
            right[f] += found.get(f) == expected[f]
    n = max(len(pairs), 1)
    return {f: round(right[f] / n, 3) for f in FIELDS}


def raw_text_pages(paths: list) -> int:
    """Bare pypdfium2 text extraction of every page (the raw tool the ingest is measured against)."""
    import pypdfium2 as pdfium

    pages = 0
    for path in paths:
        pdf = pdfium.PdfDocument(path)
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
            pages += 1
        pdf.close()
    return pages


def _pdfium_pages_per_s(paths: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    pages = raw_text_pages(paths)
    elapsed = time.perf_counter() - start
    return pages / elapsed, pages


def _tesseract(png: Path, languages: str) -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    done = subprocess.run(
        ["tesseract", str(png), "stdout", "-l", languages, "--oem", "1", "--psm", "3"],
        capture_output=True, env=env, check=True,
    )
    return done.stdout.decode("utf-8")


def _tesseract_pages_per_s(pngs: list[Path], languages: str) -> tuple[float, float, list[str]]:
    """(pages/s over all processes, seconds per page in one process, texts)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=TESSERACT_PROCESSES) as pool:  # each thread drives one process
        texts = list(pool.map(lambda p: _tesseract(p, languages), pngs))
    elapsed = time.perf_counter() - start
    rate = len(pngs) / elapsed
    return rate, TESSERACT_PROCESSES / rate, texts


def run(workdir: Path, n_pdf: int, n_scan: int, *, languages: str = "vie") -> dict:
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {"n_pdf": n_pdf, "n_scan": n_scan, "ocr_dpi": OCR_DPI, "languages": languages}

    pdf_specs = make_specimens(n_pdf, seed=2024)
    pdfs = [render_pdf(s, workdir / f"born-{i}.pdf", pages=1 + i % 3) for i, s in enumerate(pdf_specs)]
    rate, pages = _pdfium_pages_per_s(pdfs)
    result["pdfium_text_pages_per_s"] = round(rate, 1)
    result["pdfium_pages"] = pages
    born = [(s, "\n".join(p.text for p in extract(path).pages)) for s, path in zip(pdf_specs, pdfs)]
    result["metadata_accuracy_born_digital"] = _accuracy(born)

    scan_specs = make_specimens(n_scan, seed=2025, issuer="UBND phường Lam Sơn")
    pngs = [render_scan(s, workdir / f"scan-{i}.png", "png", dpi=OCR_DPI) for i, s in enumerate(scan_specs)]
    if pngs:
        rate, per_page, texts = _tesseract_pages_per_s(pngs, languages)
        result["tesseract_pages_per_s"] = round(rate, 3)
        result["tesseract_s_per_page_per_process"] = round(per_page, 2)
        result["tesseract_processes"] = TESSERACT_PROCESSES
        result["metadata_accuracy_scanned"] = _accuracy(list(zip(scan_specs, texts)))
        # Through our own extractor (image_to_data, one process), for the confidence figure.
        start = time.perf_counter()
        page = extract(pngs[0], ExtractLimits(ocr_languages=languages)).pages[0]
        result["extract_one_scan_s"] = round(time.perf_counter() - start, 2)
        result["extract_one_scan_confidence"] = page.ocr_confidence
    return result


def main(argv: list[str]) -> None:
    n_pdf = int(argv[1]) if len(argv) > 1 else 40
    n_scan = int(argv[2]) if len(argv) > 2 else 8
    if len(argv) > 3:
        figures = run(Path(argv[3]), n_pdf, n_scan)
    else:
        with tempfile.TemporaryDirectory(prefix="extract-bench-") as tmp:
            figures = run(Path(tmp), n_pdf, n_scan)
    print(json.dumps(figures, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv)
