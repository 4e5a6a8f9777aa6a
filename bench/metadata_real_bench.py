"""Metadata read from the text on the corpus of real documents (tests/data/real_documents).

    .venv/bin/python -m bench.metadata_real_bench [--scans N] [--languages vie,vie+eng,choice]

Born-digital: each document drawn as a PDF (specimens.real), its text layer read by
pypdfium2 as ingest does, and the first page's words with positions by pdfplumber.
Scans: the same pages rasterised and degraded (200/300 dpi, blur, grain, skew, JPEG)
and read by Tesseract with `vie`, `vie+eng`, and a page-level choice between the two
(the reading with the higher mean confidence). Prints per-field accuracy; OCR results
are cached (BENCH_CACHE, default ~/.cache/archive-bench) so re-measuring the reader
does not re-run Tesseract. Asserts nothing.

The reader before issue 12 is measured next to the current one with
``git show 4fcc8c7~1:ingest/metadata.py > /tmp/before.py`` and ``--before /tmp/before.py``.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ingest.extract import extract
from ingest.metadata import metadata_text, read_metadata, read_metadata_pages
from ingest.metadata.layout import PageLayout, layout_from_ocr, pdf_first_page_layout
from specimens.real import FIELDS, RealDocument, load_corpus, render_pdf, scan_images, scan_variant, score

LANGUAGE_CHOICES = ("vie", "vie+eng", "choice")
_CACHE_VERSION = "2"
Reader = Callable[[list[str], "PageLayout | None"], dict]


def _cache_dir() -> Path:
    root = Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "archive-bench")) / "real-ocr"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _doc_key(doc: RealDocument) -> str:
    payload = json.dumps(
        [
            doc.header_left,
            doc.header_right,
            doc.body,
            doc.truth.get("subject"),
            doc.truth.get("signer"),
            doc.truth.get("signer_title"),
            doc.truth.get("doc_type"),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


def _pages_wanted(count: int) -> list[int]:
    """The pages ingest reads metadata from: the first two and the last."""
    return sorted({0, 1, count - 1} & set(range(count)))


def _ocr_doc(args: tuple[RealDocument, str]) -> dict:
    """OCR the wanted pages of one degraded scan with one language setting (cached)."""
    from ingest.ocr import ocr_image

    doc, languages = args
    variant = scan_variant(doc)
    path = _cache_dir() / f"{doc.id}-{_doc_key(doc)}-{languages}-v{_CACHE_VERSION}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    import pypdfium2 as pdfium

    from specimens.real import render_pdf_bytes

    count = len(pdfium.PdfDocument(render_pdf_bytes(doc)))
    pages = []
    started = time.perf_counter()
    for index, image in scan_images(doc, variant, _pages_wanted(count)):
        result = ocr_image(image, languages)
        pages.append(
            {
                "index": index,
                "text": result.text,
                "confidence": result.mean_confidence,
                "size": list(result.size),
                "words": [[w.text, w.left, w.top, w.width, w.height, w.confidence] for w in result.words],
            }
        )
    out = {
        "id": doc.id,
        "languages": languages,
        "variant": variant.__dict__,
        "page_count": count,
        "pages": pages,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return out


def ocr_corpus(docs: list[RealDocument], languages: str, processes: int = 2) -> dict[str, dict]:
    """doc id -> cached OCR reading, Tesseract run where the cache has none."""
    jobs = [(d, languages) for d in docs]
    if processes <= 1:
        return {r["id"]: r for r in map(_ocr_doc, jobs)}
    with ProcessPoolExecutor(max_workers=processes) as pool:
        return {r["id"]: r for r in pool.map(_ocr_doc, jobs)}


def choose_pages(readings: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """Page-level choice: for each page, the language setting whose reading had the higher confidence."""
    out: dict[str, dict] = {}
    langs = [lang for lang in readings if lang != "choice"]
    for doc_id in readings[langs[0]]:
        base = json.loads(json.dumps(readings[langs[0]][doc_id]))
        for k in range(len(base["pages"])):
            best = max((readings[lang][doc_id]["pages"][k] for lang in langs), key=lambda p: p["confidence"])
            base["pages"][k] = best
        base["languages"] = "choice"
        out[doc_id] = base
    return out


def _layout_of(page: dict) -> PageLayout:
    from ingest.ocr import OcrWord

    words = [OcrWord(t, left, top, w, h, c) for t, left, top, w, h, c in page["words"]]
    return layout_from_ocr(words, tuple(page["size"]))


# ------------------------------------------------------------------------- accuracy


def _table(results: list[dict[str, bool]]) -> dict[str, float]:
    n = max(len(results), 1)
    return {f: round(sum(r[f] for r in results) / n, 3) for f in FIELDS}


def born_digital_inputs(docs: list[RealDocument], workdir: Path) -> dict[str, tuple[list[str], PageLayout | None]]:
    """doc id -> (page texts from pypdfium2 as ingest extracts them, first page layout by pdfplumber)."""
    out = {}
    for doc in docs:
        pdf = render_pdf(doc, workdir / f"{doc.id}.pdf")
        pages = [p.text for p in extract(pdf).pages]
        out[doc.id] = (pages, pdf_first_page_layout(pdf))
    return out


def accuracy(
    docs: list[RealDocument], inputs: dict[str, tuple[list[str], PageLayout | None]], reader: Reader
) -> tuple[dict[str, float], list[tuple[str, str, object, object]]]:
    """Per-field accuracy and the misses (doc id, field, found, expected)."""
    results, misses = [], []
    for doc in docs:
        pages, layout = inputs[doc.id]
        found = reader(pages, layout)
        right = score(found, doc)
        results.append(right)
        misses += [(doc.id, f, found.get(f), doc.expected[f]) for f in FIELDS if not right[f]]
    return _table(results), misses


def scan_inputs(docs: list[RealDocument], reading: dict[str, dict]) -> dict[str, tuple[list[str], PageLayout | None]]:
    out = {}
    for doc in docs:
        r = reading[doc.id]
        texts = [""] * r["page_count"]
        for page in r["pages"]:
            texts[page["index"]] = page["text"]
        first = next((p for p in r["pages"] if p["index"] == 0), None)
        out[doc.id] = (texts, _layout_of(first) if first else None)
    return out


def _words(text: str) -> list[str]:
    return [w.strip(".,;:()\"'“”") for w in unicodedata.normalize("NFC", text).split() if w.strip(".,;:()\"'“”")]


def word_accuracy(docs: list[RealDocument], reading: dict[str, dict]) -> dict[str, float]:
    """Words of the first page read right, tones included; and the signers' names word by word."""
    right = total = 0
    name_right = name_total = 0
    for doc in docs:
        r = reading[doc.id]
        truth_words = _words("\n".join(doc.header_left + doc.header_right + doc.body))
        got = _words("\n".join(p["text"] for p in r["pages"]))
        first = [p["text"] for p in r["pages"] if p["index"] == 0][0]
        head = truth_words[: max(40, len(_words(first)))]
        sm = difflib.SequenceMatcher(None, head, _words(first), autojunk=False)
        right += sum(b.size for b in sm.get_matching_blocks())
        total += len(head)
        signer = doc.truth.get("signer") or ""
        if signer:
            name = _words(signer)
            name_total += len(name)
            got_set = set(got)
            name_right += sum(w in got_set for w in name)
    return {
        "first_page_words": round(right / max(total, 1), 3),
        "signer_words": round(name_right / max(name_total, 1), 3),
        "signer_words_n": name_total,
    }


def _text_reader(pages: list[str], layout: PageLayout | None) -> dict:
    return read_metadata(metadata_text(pages))


def _layout_reader(pages: list[str], layout: PageLayout | None) -> dict:
    return read_metadata_pages(pages, layout)


def run(
    workdir: Path,
    *,
    scans: int | None = None,
    languages: tuple[str, ...] = LANGUAGE_CHOICES,
    processes: int = 2,
    before: Reader | None = None,
    docs: list[RealDocument] | None = None,
    misses: bool = False,
) -> dict:
    docs = load_corpus() if docs is None else docs
    workdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, object] = {"documents": len(docs)}
    born = born_digital_inputs(docs, workdir)
    readers: dict[str, Reader] = {"text": _text_reader, "layout": _layout_reader}
    if before is not None:
        readers = {"before": before, **readers}
    out["born_digital"] = {name: accuracy(docs, born, r)[0] for name, r in readers.items()}
    if misses:
        out["born_digital_misses"] = accuracy(docs, born, _layout_reader)[1]
    scan_docs = docs if scans is None else docs[:scans]
    if scan_docs and languages:
        readings: dict[str, dict[str, dict]] = {}
        for lang in [x for x in languages if x != "choice"]:
            started = time.perf_counter()
            readings[lang] = ocr_corpus(scan_docs, lang, processes)
            print(
                f"[bench] OCR {lang}: {len(scan_docs)} documents in {time.perf_counter() - started:.0f} s", flush=True
            )
        if "choice" in languages and len(readings) > 1:
            readings["choice"] = choose_pages(readings)
        out["scanned_documents"] = len(scan_docs)
        scanned: dict[str, dict] = {}
        for lang, reading in readings.items():
            inputs = scan_inputs(scan_docs, reading)
            per: dict[str, dict] = {name: accuracy(scan_docs, inputs, r)[0] for name, r in readers.items()}
            per["ocr"] = word_accuracy(scan_docs, reading)
            scanned[lang] = per
        out["scanned"] = scanned
        best = _best_language(scanned)
        if misses:
            out["scanned_misses"] = accuracy(scan_docs, scan_inputs(scan_docs, readings[best]), _layout_reader)[1]
        out["best_language"] = best
    return out


def _best_language(per_language: dict[str, dict]) -> str:
    def key(lang: str) -> tuple[float, float]:
        fields = per_language[lang]["layout"]
        return (per_language[lang]["ocr"]["signer_words"] + fields["signer"], sum(fields.values()))

    return max(per_language, key=key)


def summary(result: dict) -> list[str]:
    """Table lines: one row per reading, one column per field."""
    head = f"{'':34}" + "".join(f"{f[:12]:>13}" for f in FIELDS)
    lines = [f"real corpus: {result['documents']} documents", head]
    for name, table in result["born_digital"].items():
        lines.append(f"{'born-digital ' + name:34}" + "".join(f"{table[f]:>13.3f}" for f in FIELDS))
    for lang, per in result.get("scanned", {}).items():
        for name, table in per.items():
            if name == "ocr":
                continue
            lines.append(f"{f'scan {lang} {name}':34}" + "".join(f"{table[f]:>13.3f}" for f in FIELDS))
        o = per["ocr"]
        lines.append(
            f"{'':34}OCR {lang}: first-page words {o['first_page_words']:.3f}, "
            f"signer-name words {o['signer_words']:.3f} (n={o['signer_words_n']})"
        )
    if "best_language" in result:
        lines.append(f"best OCR setting on this corpus: {result['best_language']}")
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=None, help="scan only the first N documents")
    parser.add_argument("--languages", default=",".join(LANGUAGE_CHOICES))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--before", help="path of an older metadata module to measure next to the current one")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args(argv[1:])
    before = None
    if args.before:
        import importlib.util

        spec = importlib.util.spec_from_file_location("metadata_before", args.before)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        before = lambda pages, layout: module.read_metadata(metadata_text(pages))
    languages = tuple(x for x in args.languages.split(",") if x)
    with tempfile.TemporaryDirectory(prefix="metadata-real-") as tmp:
        result = run(
            Path(tmp),
            scans=args.scans,
            languages=languages,
            processes=args.processes,
            before=before,
            misses=args.misses,
        )
    if args.misses:
        for key in ("born_digital_misses", "scanned_misses"):
            for miss in result.get(key, []):
                print(key.split("_")[0], *miss, sep=" | ")
    print("\n".join(summary(result)))


if __name__ == "__main__":
    main(sys.argv)
