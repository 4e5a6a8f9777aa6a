"""A province-scale corpus for the search benchmarks, streamed and reproducible by seed.

    from bench.corpus import Corpus
    corpus = Corpus(seed=11)
    for doc in corpus.documents(1_000_000):   # one document at a time, never a list
        ...

Documents are commune letters as the archive receives them: a header with
"ỦY BAN NHÂN DÂN", number and date (2005-2025), a type (Nghị định 30/2020
names), a direction, a subject, "Căn cứ" lines, a body and a signature, 1-6 KB
of text.  The text comes mainly from the real documents collected in
``tests/data/real_documents/*.json`` (``REAL_SHARE`` of the body's paragraphs:
runs of consecutive paragraphs of one real document from a random place; their
subjects and "Căn cứ" lines too), made templates once: the places, people,
document numbers, dates and large numbers of the 99 sources are drawn per
document (the unit's own commune and district, invented names), so that common
words are as common as in real letters ("ủy ban nhân dân", "xã" in every
document, "kế hoạch" and "báo cáo" in more than half) while names, villages and
numbers stay rare.  The rest is sentences of ``corpus_text/phrases.txt``
(written in the register of commune letters).  ``python -m bench.corpus``
prints the shares of documents holding key terms.  Units are the 381 old units
of the real Hưng Yên mapping (``archive_core/data/units-hung-yen-2025.csv``)
with skewed sizes: a few units hold many documents (wards and towns, the old
district seats, weigh more).
"""
from __future__ import annotations

import csv
import itertools
import json
import random
import re
import unicodedata
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from indexes.base import IndexDocument

ROOT = Path(__file__).resolve().parents[1]
PHRASES = Path(__file__).with_name("corpus_text") / "phrases.txt"
UNITS_CSV = ROOT / "archive_core" / "data" / "units-hung-yen-2025.csv"
REAL_DOCUMENTS = ROOT / "tests" / "data" / "real_documents"

DOC_TYPES = {  # name -> (symbol, weight)
    "Công văn": ("CV", 30), "Quyết định": ("QĐ", 18), "Kế hoạch": ("KH", 12), "Báo cáo": ("BC", 12),
    "Thông báo": ("TB", 8), "Tờ trình": ("TTr", 6), "Giấy mời": ("GM", 6), "Nghị quyết": ("NQ", 3),
    "Biên bản": ("BB", 2), "Hướng dẫn": ("HD", 1), "Chương trình": ("CTr", 1), "Chỉ thị": ("CT", 1),
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DIRECTIONS = (("di", 45), ("den", 50), ("noi_bo", 5))
FAMILY = _names("Nguyễn Nguyễn Nguyễn Trần Trần Lê Lê Phạm Phạm Hoàng Vũ Vũ Đỗ Bùi Đặng Ngô Đào Dương Đinh "
                "Lương Mai Tạ Trịnh Phan Lưu Hà Tô Quách Chu Cao Lại Khúc Ninh Triệu Doãn")
MIDDLE = _names("Văn Văn Thị Thị Đức Minh Thanh Hữu Quang Ngọc Xuân Thu Hồng Đình Công Quốc Kim Mạnh Bá")
GIVEN = _names("An Anh Bình Bích Chiến Cường Dũng Duyên Đạt Điệp Giang Hà Hải Hạnh Hằng Hiền Hiếu Hoa Hòa Hùng Hương "
               "Huyền Khánh Khoa Lan Liên Linh Loan Long Lợi Mai Minh Nam Nga Ngọc Nhung Phong Phúc Phương Quân "
               "Quế Sơn Tâm Thắng Thanh Thảo Thịnh Thủy Thư Tiến Toàn Trang Trung Tú Tuấn Tùng Uyên Vân Việt Xuân Yến")
VILLAGES = _names("Đông Tây Nam Bắc Trung Thượng Hạ Cốc Đoài Ngoại Nội Tiền Hậu An Phú Thọ Lạc Hòa Bình Yên Thái Hưng "
                  "Long Phượng Đào Mai Ninh Vĩnh Cao Xuân Đồng Kênh Cầu Chợ Bến")
SIGN_TITLES = ("CHỦ TỊCH", "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH")
LAYOUT = "packages"  # documents() groups each unit's documents, as packages arrive (see there)
REAL_SHARE = 0.75  # of the body's paragraphs, taken from the real documents (when they are there)
_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
_SENTENCE_RE = re.compile(r"(?<=[.;:!?])\s+(?=[A-ZÀ-ỸĐ0-9\-])")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str  # "Xã Minh Tân"
    district: str  # "Huyện Phù Cừ"
    new_code: str
    new_name: str
    weight: float


def load_units(seed: int) -> list[Unit]:
    """The 381 old units (one row per old unit; a split unit keeps its first new unit)."""
    rng = random.Random(seed)
    seen: dict[str, Unit] = {}
    with UNITS_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["old_code"]
            if code in seen:
                continue
            # Zipf-like skew: a few large archives, many small ones; wards and towns weigh more.
            weight = 1.0 / (1 + rng.random() * 40) ** 0.9
            if row["old_name"].startswith(("Phường", "Thị trấn")):
                weight *= 3
            seen[code] = Unit(code, row["old_name"], row["old_parent_name"], row["new_code"], row["new_name"], weight)
    return list(seen.values())


def _load_phrases() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = "chung"
    for line in PHRASES.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        sections.setdefault(current, []).append(line)
    return sections


_UPPER = "A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
_PROPER = rf"(?:\s+[{_UPPER}][^\W_]*)"  # a capitalised word after a space
# Real text turned into templates: the places, people, numbers and dates of the 99 source documents
# would otherwise recur in a hundredth of a million documents; they are drawn per document instead.
_TEMPLATE_RULES = (
    (re.compile(r"(?i:\btỉnh)" + _PROPER + "+"), "{tinh}"),
    (re.compile(r"(?i:\b(?:huyện|quận|thị xã|thành phố))" + _PROPER + "+"), "{huyen}"),
    (re.compile(r"(?i:\b(?:xã|phường|thị trấn))" + _PROPER + "+"), "{xa}"),
    (re.compile(r"\b(?:" + "|".join(sorted(set(FAMILY))) + r")" + _PROPER + "{2,3}"), "{nguoi}"),
    (re.compile(r"\bngày \d{1,2} tháng \d{1,2} năm \d{4}"), "ngày {ngay}"),
    (re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-](?:19|20)\d{2}\b"), "{ngay}"),
    (re.compile(r"\b\d+(?:/(?:19|20)\d{2})?/[" + _UPPER + r"][\w\-]*"), "{so}"),
    (re.compile(r"\b(?:19[4-9]\d|20[0-2]\d)\b"), "{nam}"),
    (re.compile(r"\b\d[\d.,]{2,}\b"), "{sl}"),
)


def _template(text: str) -> str:
    text = text.replace("{", "(").replace("}", ")")
    for pattern, placeholder in _TEMPLATE_RULES:
        text = pattern.sub(placeholder, text)
    return text


@dataclass(frozen=True)
class RealText:
    """The templates of the real documents: body paragraphs (one list per document), subjects, "Căn cứ" lines."""

    documents: tuple[tuple[str, ...], ...]
    subjects: tuple[str, ...]
    can_cu: tuple[str, ...]


def _real_text() -> RealText:
    """The collected real documents (``tests/data/real_documents``; empty when the folder is absent)."""
    documents: list[tuple[str, ...]] = []
    subjects: list[str] = []
    can_cu: list[str] = []
    for path in sorted(REAL_DOCUMENTS.glob("*.json")) if REAL_DOCUMENTS.is_dir() else ():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            body = unicodedata.normalize("NFC", str(record.get("body") or record.get("text") or ""))
            subject = (record.get("truth") or {}).get("subject") or ""
        except (OSError, ValueError, AttributeError):
            continue
        if subject:  # often a title in capitals: written as a sentence, its places and numbers drawn
            subject = _template(unicodedata.normalize("NFC", " ".join(subject.split())))
            subjects.append(subject[0] + subject[1:].lower() if _PLACEHOLDER_RE.sub("", subject).isupper() else subject)
        paragraphs: list[str] = []
        for line in body.splitlines():
            line = " ".join(line.split())
            if line.startswith(("Nơi nhận", "TM.", "KT.", "T/M", "K/T")):
                break  # recipients and signature: the generator writes its own
            if len(line) < 15 or (line.isupper() and len(line) < 80):
                continue  # titles and headings
            pieces = [line] if len(line) <= 1200 else _SENTENCE_RE.split(line)
            for piece in pieces:
                template = _template(piece)
                (can_cu if template.startswith("Căn cứ") else paragraphs).append(template)
        if paragraphs:
            documents.append(tuple(paragraphs))
    return RealText(tuple(documents), tuple(subjects), tuple(can_cu))


class Corpus:
    """Documents ``1..count`` for one seed: the same seed gives the same documents."""

    def __init__(self, seed: int = 11) -> None:
        self.seed = seed
        self.units = load_units(seed)
        self._unit_cum = list(itertools.accumulate(u.weight for u in self.units))
        phrases = _load_phrases()
        self.can_cu = phrases.pop("can_cu")
        self.subjects = phrases.pop("subject")
        self.general = phrases.pop("chung")
        self.topics = list(phrases.values())
        self.real = _real_text()
        # Subjects and "Căn cứ" lines: the real ones and the written ones alike.
        self.subjects += self.real.subjects
        self.can_cu += self.real.can_cu
        self._types = list(DOC_TYPES)
        self._type_cum = list(itertools.accumulate(w for _, w in DOC_TYPES.values()))
        self._real_share = REAL_SHARE if self.real.documents else 0.0

    # -- pieces --------------------------------------------------------
    @staticmethod
    def person(rng: random.Random) -> str:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"

    @staticmethod
    def village(rng: random.Random) -> str:
        return f"{rng.choice(VILLAGES)} {rng.choice(VILLAGES)}" if rng.random() < 0.6 else str(rng.randint(1, 12))

    def _fill(self, text: str, rng: random.Random, ctx: dict[str, str]) -> str:
        """Placeholders filled one by one (only those the sentence has)."""
        if "{" not in text:
            return text

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in ctx:
                return ctx[name]
            if name == "tinh":
                return "tỉnh Hưng Yên" if rng.random() < 0.7 else "tỉnh Thái Bình"
            if name == "ngay":
                return self._date_text(rng, int(ctx["nam"]))
            if name == "so":
                return f"{rng.randint(1, 2500)}/{rng.choice(('KH', 'QĐ', 'UBND', 'TB', 'BC'))}-UBND"
            if name == "nguoi":
                return self.person(rng)
            if name == "thon":
                return self.village(rng)
            if name == "sl":
                return str(rng.randint(2, 950))
            if name == "ha":
                return f"{rng.randint(12, 98_000):,}".replace(",", ".")
            return f"{rng.randint(5, 9_000) * 1_000_000:,}".replace(",", ".")  # tien

        return _PLACEHOLDER_RE.sub(value, text)

    @staticmethod
    def _date_text(rng: random.Random, year: int) -> str:
        return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"

    # -- documents ------------------------------------------------------
    def _rng(self, doc_id: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + doc_id)

    def _unit(self, rng: random.Random) -> Unit:
        return rng.choices(self.units, cum_weights=self._unit_cum)[0]

    def document(self, doc_id: int) -> IndexDocument:
        """Document ``doc_id`` alone (its own random stream: order and batching do not matter)."""
        rng = self._rng(doc_id)
        unit = self._unit(rng)
        doc_type = rng.choices(self._types, cum_weights=self._type_cum)[0]
        symbol = DOC_TYPES[doc_type][0]
        direction = rng.choices([d for d, _ in DIRECTIONS], [w for _, w in DIRECTIONS])[0]
        issued = date(2005, 1, 1) + timedelta(days=rng.randint(0, 7669))  # up to 30/12/2025
        year = str(issued.year)
        xa = unit.name[0].lower() + unit.name[1:]
        huyen = unit.district[0].lower() + unit.district[1:]
        ctx = {"xa": xa, "huyen": huyen, "nam": year}
        if direction == "den" and rng.random() < 0.5:
            issuer = f"Ủy ban nhân dân {huyen}"
            number = f"{rng.randint(1, 3000)}/{symbol}-UBND"
        else:
            issuer = f"Ủy ban nhân dân {xa}"
            number = f"{rng.randint(1, 400)}/{symbol}-UBND"
        if symbol in ("QĐ", "NQ") and rng.random() < 0.3:
            number = f"{rng.randint(1, 99):02d}/{year}/{symbol}-UBND"
        subject = self._fill(rng.choice(self.subjects), rng, ctx)
        if subject.startswith("về việc"):
            subject = f"{doc_type} {subject}"
        signer = self.person(rng)
        place_date = f"{unit.name.split(' ', 1)[-1]}, ngày {issued.day:02d} tháng {issued.month:02d} năm {year}"
        head = [issuer.upper(), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                f"Số: {number}", place_date, doc_type.upper(), subject]
        if symbol in ("QĐ", "NQ", "KH", "CT"):
            head += [self._fill(c, rng, ctx) for c in rng.sample(self.can_cu, rng.randint(2, 5))]
        target = int(min(6000, max(1000, rng.lognormvariate(7.9, 0.45))))
        body = self._body(rng, ctx, target - 200 - sum(len(h.encode("utf-8")) + 1 for h in head))
        tail = ["Nơi nhận:", "- Như trên;", f"- Ủy ban nhân dân {huyen};", "- Lưu: VT.",
                rng.choice(SIGN_TITLES), signer]
        text = "\n".join(head + body + tail)
        return IndexDocument(
            id=doc_id, unit_code=unit.code, ma_van_ban=f"H30.{unit.code}.{year}.{doc_id:07d}", number=number,
            issued_date=issued, doc_type=doc_type, direction=direction, subject=subject,
            issuer=issuer, signer=signer, body=text,
        )

    def _body(self, rng: random.Random, ctx: dict[str, str], size: int) -> list[str]:
        """Paragraphs up to ``size`` bytes: runs of consecutive paragraphs of a real document (from a
        random place, then another document), and, in ``1 - REAL_SHARE`` of the paragraphs, sentences
        written for two topics, two to a paragraph."""
        real = self.real.documents
        topics = rng.sample(self.topics, 2)
        source, at = (), 0
        out: list[str] = []
        while size > 0:
            roll = rng.random()
            if roll < self._real_share:
                if at >= len(source) or rng.random() < 0.1:
                    source = real[rng.randrange(len(real))]
                    at = rng.randrange(len(source))
                paragraph = self._fill(source[at], rng, ctx)
                at += 1
            else:
                written = [
                    self._fill(rng.choice(self.general if rng.random() < 0.5 else topics[rng.random() < 0.3]), rng, ctx)
                    for _ in range(2)
                ]
                paragraph = " ".join(written)
            length = len(paragraph.encode("utf-8")) + 1
            if out and length > size + 300:
                continue  # would overshoot the document's size: another (a written one always fits)
            out.append(paragraph)
            size -= length
        return out

    def documents(self, count: int) -> Iterator[IndexDocument]:
        """``count`` documents one at a time, package by package, as an archive receives them.

        An export package is one old unit's (docs/export-package.md), and packages are ingested one
        after another, so an archive's ids, and its index, hold each unit's documents together: the
        documents ``1..count`` are yielded grouped by unit, units in an order drawn from the seed,
        renumbered ``1..count`` in that order.  (Interleaving units document by document, as this
        corpus did before ``LAYOUT`` "packages", made a lookup account's scoped search ~1.8x the CPU:
        its few units' documents sat in every block of every posting list.)  Only each document's
        unit is held for the grouping (two bytes a document), never the documents."""
        by_unit: dict[str, array[int]] = {u.code: array("I") for u in self.units}
        for doc_id in range(1, count + 1):
            by_unit[self._unit(self._rng(doc_id)).code].append(doc_id)
        order = [u.code for u in self.units]
        random.Random(self.seed).shuffle(order)
        position = 0
        for code in order:
            for doc_id in by_unit.pop(code):
                position += 1
                yield replace(self.document(doc_id), id=position)

    def build_name(self, engine: str, count: int) -> str:
        return build_name(engine, count, self.seed)

    def scope_of_new_unit(self, index: int = 0) -> tuple[str, frozenset[str]]:
        """(new unit name, old unit codes): the scope of a lookup account of one new commune."""
        by_new: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for unit in self.units:
            by_new.setdefault(unit.new_code, set()).add(unit.code)
            names[unit.new_code] = unit.new_name
        code = sorted(by_new, key=lambda c: (-len(by_new[c]), c))[index % len(by_new)]
        return names[code], frozenset(by_new[code])


def build_name(engine: str, count: int, seed: int) -> str:
    """The directory name of an index (or data home) of ``count`` documents of the corpus of ``seed``:
    an index built from another seed, size or layout is never taken for this one."""
    return f"{engine}-{count}-{seed}-{LAYOUT}"


KEY_TERMS = ("ủy ban nhân dân", "kế hoạch", "xã", "báo cáo", "nhân dân", "đất đai", "nông thôn mới",
             "thiên tai", "hộ nghèo", "ngân sách", "covid", "hưng yên", "thôn đông")


def term_shares(corpus: Corpus, sample: int = 5000, count: int = 1_000_000,
                terms: tuple[str, ...] = KEY_TERMS) -> dict[str, float]:
    """The share of ``sample`` documents spread over ``1..count`` whose text (lower case) has each term as words."""
    patterns = {t: re.compile(r"(?<!\w)" + re.escape(t) + r"(?!\w)") for t in terms}
    hits = dict.fromkeys(terms, 0)
    step = max(1, count // sample)
    for doc_id in range(1, count + 1, step):
        doc = corpus.document(doc_id)
        text = f"{doc.subject}\n{doc.issuer}\n{doc.body}".lower()
        for term, pattern in patterns.items():
            hits[term] += pattern.search(text) is not None
    seen = len(range(1, count + 1, step))
    return {t: round(n / seen, 3) for t, n in hits.items()}


if __name__ == "__main__":  # python -m bench.corpus [sample]: sizes and key-term shares of the corpus
    import statistics
    import sys

    sample = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    corpus = Corpus()
    sizes = [len(corpus.document(i).body.encode("utf-8")) for i in range(1, sample + 1)]
    print(f"{len(corpus.real.documents)} real documents, {sum(map(len, corpus.real.documents))} paragraphs; "
          f"body bytes median {statistics.median(sizes):.0f}, min {min(sizes)}, max {max(sizes)}")
    for term, share in term_shares(corpus, sample).items():
        print(f"  {term!r:20} in {share:.1%} of documents")
