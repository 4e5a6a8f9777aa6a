"""A province-scale corpus for the search benchmarks, streamed and reproducible by seed.

    from bench.corpus import Corpus
    corpus = Corpus(seed=11)
    for doc in corpus.documents(1_000_000):   # one document at a time, never a list
        ...

Documents are commune letters as the archive receives them: a header with
"ỦY BAN NHÂN DÂN", number and date (2005-2025), a type (Nghị định 30/2020
names), a direction, a subject, "Căn cứ" lines, body paragraphs from one or two
topics and a signature, 1-6 KB of text.  The sentences come from
``corpus_text/phrases.txt`` (written in the register of real letters) and,
when present, from the real documents collected in
``tests/data/real_documents/*.json`` (key ``text``), split into sentences, so
that the common words are as common as in real archives ("ủy ban nhân dân",
"kế hoạch", "xã" in most documents) while person names, villages and numbers
are rare.  Units are the 381 old units of the real Hưng Yên mapping
(``archive_core/data/units-hung-yen-2025.csv``) with skewed sizes: a few units
hold many documents (wards and towns, the old district seats, weigh more).
"""
from __future__ import annotations

import csv
import itertools
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
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


def _real_sentences() -> list[str]:
    """Sentences of the collected real documents (none when the folder is absent)."""
    out: list[str] = []
    for path in sorted(REAL_DOCUMENTS.glob("*.json")) if REAL_DOCUMENTS.is_dir() else ():
        try:
            text = json.loads(path.read_text(encoding="utf-8")).get("text", "")
        except (OSError, ValueError, AttributeError):
            continue
        for sentence in _SENTENCE_RE.split(" ".join(str(text).split())):
            if 30 <= len(sentence) <= 600:
                out.append(sentence.replace("{", "(").replace("}", ")"))
    return out


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
        self.real = _real_sentences()
        self._types = list(DOC_TYPES)
        self._type_cum = list(itertools.accumulate(w for _, w in DOC_TYPES.values()))
        self._real_share = min(0.3, len(self.real) / 3000)

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
    def document(self, doc_id: int) -> IndexDocument:
        """Document ``doc_id`` alone (its own random stream: order and batching do not matter)."""
        rng = random.Random(self.seed * 1_000_003 + doc_id)
        unit = rng.choices(self.units, cum_weights=self._unit_cum)[0]
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
        topics = rng.sample(self.topics, 2)
        body: list[str] = []
        size = sum(len(h) + 1 for h in head)
        while size < target - 200:
            roll = rng.random()
            if roll < self._real_share:
                sentence = rng.choice(self.real)
            elif roll < 0.6:
                sentence = self._fill(rng.choice(self.general), rng, ctx)
            else:
                sentence = self._fill(rng.choice(topics[0] if roll < 0.85 else topics[1]), rng, ctx)
            body.append(sentence)
            size += len(sentence.encode("utf-8")) + 1
        tail = ["Nơi nhận:", "- Như trên;", f"- Ủy ban nhân dân {huyen};", "- Lưu: VT.",
                rng.choice(SIGN_TITLES), signer]
        text = "\n".join(head + [" ".join(body[i:i + 4]) for i in range(0, len(body), 4)] + tail)
        return IndexDocument(
            id=doc_id, unit_code=unit.code, ma_van_ban=f"H30.{unit.code}.{year}.{doc_id:07d}", number=number,
            issued_date=issued, doc_type=doc_type, direction=direction, subject=subject,
            issuer=issuer, signer=signer, body=text,
        )

    def documents(self, count: int, start: int = 1) -> Iterator[IndexDocument]:
        """Documents ``start .. start+count-1``, one at a time."""
        for doc_id in range(start, start + count):
            yield self.document(doc_id)

    def scope_of_new_unit(self, index: int = 0) -> tuple[str, frozenset[str]]:
        """(new unit name, old unit codes): the scope of a lookup account of one new commune."""
        by_new: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for unit in self.units:
            by_new.setdefault(unit.new_code, set()).add(unit.code)
            names[unit.new_code] = unit.new_name
        code = sorted(by_new, key=lambda c: (-len(by_new[c]), c))[index % len(by_new)]
        return names[code], frozenset(by_new[code])
