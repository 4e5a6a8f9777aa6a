"""Metadata read from real documents (tests/data/real_documents), drawn as born-digital PDFs
and as degraded scans. Expected values are the corpus's ground truth, never the reader's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.extract import extract
from ingest.metadata import metadata_text, read_metadata, read_metadata_pages
from ingest.metadata.layout import layout_from_ocr, pdf_first_page_layout
from specimens.real import FIELDS, RealDocument, fold, load_corpus, render_pdf, scan_images, score

BORN_DIGITAL_MIN = 0.95


@pytest.fixture(scope="module")
def corpus() -> list[RealDocument]:
    return load_corpus()


@pytest.fixture(scope="module")
def born_digital(corpus, tmp_path_factory):
    """doc id -> (document, page texts as ingest extracts them, pdf path)."""
    root = tmp_path_factory.mktemp("real")
    out = {}
    for doc in corpus:
        pdf = render_pdf(doc, root / f"{doc.id}.pdf")
        out[doc.id] = (doc, [p.text for p in extract(pdf).pages], pdf)
    return out


def _doc(born_digital, prefix: str):
    hits = [v for k, v in born_digital.items() if k.startswith(prefix + "-")]
    assert hits, f"corpus document {prefix} is missing"
    return hits[0]


def test_every_field_is_right_on_95_percent_of_born_digital_documents(born_digital):
    right = {f: 0 for f in FIELDS}
    misses = []
    for doc, pages, pdf in born_digital.values():
        found = read_metadata_pages(pages, pdf_first_page_layout(pdf))
        for f, ok in score(found, doc).items():
            right[f] += ok
            if not ok:
                misses.append((doc.id, f, found.get(f), doc.expected[f]))
    n = len(born_digital)
    assert n >= 12
    accuracy = {f: right[f] / n for f in FIELDS}
    assert all(a >= BORN_DIGITAL_MIN for a in accuracy.values()), (accuracy, misses)


# Layouts issue 12 names, each on a real document: (corpus number, what it shows).
LAYOUTS = [
    ("001", "old number 97-CP, Việt Nam Dân chủ Cộng hòa motto, K.T. over two authority lines"),
    ("002", "old number 01-TTg, short VỀ title"),
    ("004", "no number at all: left empty; name with (Đã ký) and no title"),
    ("005", "KẾ HOẠCH with an uppercase title over several lines"),
    ("006", "QUYẾT ĐỊNH with a V/V title over two lines, preamble CHỦ TỊCH ... under it"),
    ("007", "five-line VỀ VIỆC title quoting another number and date"),
    ("011", "old number with two hyphens 08-TTg-NN"),
    ("017", "Đảng: ĐẢNG CỘNG SẢN VIỆT NAM on the right, number 97-QĐ/TW"),
    ("018", "Đảng: two-level letterhead BAN CHẤP HÀNH TRUNG ƯƠNG / ỦY BAN KIỂM TRA"),
    ("019", "Đoàn: ĐOÀN TNCS HỒ CHÍ MINH on the right, Nơi nhận before the signature"),
    ("020", "Quy chế without number or date: both left empty; title over three lines"),
    ("023", "two-level letterhead, parent city first"),
    ("028", "UBTVQH letterhead over two lines, 'Nghị quyết số:'"),
    ("037", "Công văn, V/v over two lines, signature KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"),
    ("044", "'Số:' and the number on separate lines"),
]


@pytest.mark.parametrize(("number", "layout"), LAYOUTS, ids=[n for n, _ in LAYOUTS])
def test_named_layouts_give_the_truth(born_digital, number, layout):
    doc, pages, pdf = _doc(born_digital, number)
    found = read_metadata_pages(pages, pdf_first_page_layout(pdf))
    right = score(found, doc)
    assert all(right.values()), (layout, {f: (found.get(f), doc.expected[f]) for f in FIELDS if not right[f]})


def test_missing_fields_are_left_empty_not_guessed(born_digital):
    """Documents whose number, date or signature the source does not hold get none."""
    checked = 0
    for doc, pages, pdf in born_digital.values():
        found = read_metadata_pages(pages, pdf_first_page_layout(pdf))
        for f in ("number", "issued_date", "signer"):
            if not doc.truth.get(f):
                checked += 1
                assert not found.get(f), (doc.id, f, found.get(f))
    assert checked >= 10


def test_pdfplumber_separates_the_header_columns_as_printed(born_digital):
    """Drawn row by row, the text layer interleaves the columns; positions separate them again."""
    interleaved = 0
    for doc, pages, pdf in born_digital.values():
        if len(doc.header_left) < 2 or not doc.header_right:
            continue
        layout = pdf_first_page_layout(pdf)
        assert layout is not None
        # (a short body line standing at the left margin under the header may join the left column)
        assert fold(" ".join(layout.header_left)).startswith(fold(" ".join(doc.header_left))), doc.id
        assert fold(" ".join(layout.header_right)) == fold(" ".join(doc.header_right)), doc.id
        first_line = fold(pages[0].split("\n", 1)[0])
        interleaved += first_line.startswith(fold(doc.header_left[0])) and fold(doc.header_right[0]) in first_line
    assert interleaved >= 3  # the corpus really exercises the interleaved order


def test_plain_text_reader_on_interleaved_layers(born_digital):
    """Without positions (a text layer only), the header still reads right on most documents."""
    right = {f: 0 for f in ("number", "issued_date", "issuer")}
    for doc, pages, _ in born_digital.values():
        ok = score(read_metadata(metadata_text(pages)), doc)
        for f in right:
            right[f] += ok[f]
    n = len(born_digital)
    assert all(r / n >= BORN_DIGITAL_MIN for r in right.values()), right


@pytest.mark.ocr
@pytest.mark.parametrize("number", ["019", "013"])
def test_degraded_scan_gives_the_signer_with_tones(corpus, number):
    """A skewed, blurred, grainy scan through Tesseract: the signer's name keeps its tones and
    the header's fields come from the word boxes."""
    from ingest.ocr import ocr_image

    doc = next(d for d in corpus if d.id.startswith(number + "-"))
    pages = {i: ocr_image(img) for i, img in scan_images(doc, pages=[0, -1])}
    first = pages[0]
    texts = [pages[i].text for i in sorted(pages)]
    found = read_metadata_pages(texts, layout_from_ocr(first.words, first.size))
    right = score(found, doc)
    assert right["signer"] and right["number"] and right["issued_date"], {f: found.get(f) for f in FIELDS}
    assert sum(right.values()) >= 5, {f: (found.get(f), doc.expected[f]) for f in FIELDS if not right[f]}


def test_ingest_reader_uses_the_original_pdf_layout(born_digital):
    """read_document_metadata (what ingest calls at finalisation) reads the first page's columns
    from the original PDF; on a row-interleaved letter it finds what the text layer alone mixes up."""
    from ingest.metadata import read_document_metadata

    doc, pages, pdf = _doc(born_digital, "042")  # signature block beside a long Nơi nhận, drawn row by row
    found = read_document_metadata(pages, pdf, first_page_from_text_layer=True)
    assert all(score(found, doc).values()), found
    assert found["signer_title"] == "CHÁNH VĂN PHÒNG" and found["signer"] == "Thái Hữu Phép"


def test_ingest_reader_ignores_a_layout_that_disagrees_with_the_converted_text(tmp_path, corpus):
    """A .VnTime PDF: pdfplumber sees TCVN3 codes, the extractor converted them; the text wins."""
    from reportlab.pdfgen import canvas

    from ingest.encodings import encode_tcvn3
    from ingest.metadata import read_document_metadata

    doc = next(d for d in corpus if d.id.startswith("037-"))
    path = tmp_path / "old.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 10)
    y = 800
    for left, right in zip(doc.header_left + [""] * 3, doc.header_right + [""] * 4, strict=False):
        pdf.drawString(40, y, encode_tcvn3(left))
        pdf.drawString(320, y, encode_tcvn3(right))
        y -= 14
    for line in doc.body[:6] + doc.body[-3:]:
        pdf.drawString(40, y, encode_tcvn3(line[:95]))
        y -= 14
    pdf.save()
    result = extract(path)
    found = read_document_metadata([p.text for p in result.pages], path, first_page_from_text_layer=True)
    right = score(found, doc)
    assert right["number"] and right["issued_date"] and right["issuer"] and right["signer"], found


@pytest.mark.parametrize("order", ["left-first", "right-first", "rows"])
def test_header_columns_in_any_order_give_the_same_fields(corpus, order):
    """OCR returns a two-column header left column first, right column first, or row by row."""
    from itertools import zip_longest

    def header(doc: RealDocument) -> list[str]:
        if order == "left-first":
            return doc.header_left + doc.header_right
        if order == "right-first":
            return doc.header_right + doc.header_left
        return [" ".join(x for x in pair if x) for pair in zip_longest(doc.header_left, doc.header_right, fillvalue="")]

    docs = [d for d in corpus if d.header_left and d.header_right]
    fields = ("number", "issued_date", "issuer", "doc_type", "subject")
    right = {f: 0 for f in fields}
    for doc in docs:
        ok = score(read_metadata("\n".join(header(doc) + doc.body)), doc)
        for f in fields:
            right[f] += ok[f]
    assert all(r / len(docs) >= BORN_DIGITAL_MIN for r in right.values()), right


def test_ingest_fills_blank_rows_from_real_documents_with_provenance(tmp_path, born_digital):
    """A package whose register rows are blank but for the file: ingest reads each field from the
    document (the first page's columns from the original PDF) and notes it came from the text;
    a value the manifest gives is kept and noted as the manifest's."""
    import shutil

    from sqlalchemy import select

    from archive_core.context import Archive
    from archive_core.db.models import Document
    from archive_core.settings import Settings
    from archive_portal.services.units import import_mapping
    from ingest.pipeline import IngestOptions, ingest_package

    from .packaging import write_package

    units = Path(__file__).resolve().parents[2] / "archive_core" / "data" / "units-hung-yen-2025.csv"
    chosen = [_doc(born_digital, n) for n in ("037", "042", "019", "001")]
    root = tmp_path / "pkg"
    (root / "files").mkdir(parents=True)
    rows = []
    for k, (_, _, pdf) in enumerate(chosen):
        shutil.copy(pdf, root / "files" / f"{k}.pdf")
        rows.append({"ma_van_ban": f"VB-{k}", "huong": "den", "tep_dinh_kem": f"files/{k}.pdf"})
    rows[0]["trich_yeu"] = "Trích yếu theo sổ đăng ký"
    package = write_package(root, rows)
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    try:
        with archive.db.transaction() as session:
            import_mapping(session, units)
        ingest_package(archive, package, IngestOptions(workers=1))
        with archive.db.session() as session:
            for k, (doc, _, _) in enumerate(chosen):
                d = session.scalar(select(Document).where(Document.ma_van_ban == f"VB-{k}"))
                found = {f: getattr(d, f) for f in FIELDS}
                right = score(found, doc)
                if k == 0:
                    assert d.subject == "Trích yếu theo sổ đăng ký" and d.field_sources["subject"] == "manifest"
                    right["subject"] = True
                assert all(right.values()), (doc.id, {f: (found[f], doc.expected[f]) for f in FIELDS if not right[f]})
                expected_from_text = {f for f in FIELDS if doc.truth.get(f)} - ({"subject"} if k == 0 else set())
                assert {f for f, s in d.field_sources.items() if s == "text"} == expected_from_text, d.field_sources
    finally:
        archive.close()
