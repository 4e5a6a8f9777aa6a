"""The real-document corpus is well formed: enough documents, complete ground truth, a spread
of levels, types and eras. It checks the data only; the extractor is measured elsewhere."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from specimens.real_corpus import LEVELS, TRUTH_KEYS, load_real_documents


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return load_real_documents()


def _flat(s: str) -> str:
    return " ".join(s.split()).casefold()


def _nospace(s: str) -> str:
    return "".join(s.split()).casefold()


def test_corpus_is_large_enough(docs: list[dict]) -> None:
    assert len(docs) >= 80
    assert len({d["id"] for d in docs}) == len(docs)
    assert len({d["id"].split("-")[0] for d in docs}) == len(docs), "each file has its own number"


def test_every_truth_key_is_present_and_dates_parse(docs: list[dict]) -> None:
    for d in docs:
        assert set(d["truth"]) == set(TRUTH_KEYS), d["id"]
        if d["truth"]["issued_date"]:
            day = dt.date.fromisoformat(d["truth"]["issued_date"])
            assert 1945 <= day.year <= dt.date.today().year, d["id"]
            assert abs(day.year - d["era"]) <= 1, d["id"]


def test_levels_types_and_eras_are_spread(docs: list[dict]) -> None:
    levels = Counter(d["level"] for d in docs)
    assert set(levels) == set(LEVELS)
    assert min(levels.values()) >= 4, levels
    types = Counter(d["truth"]["doc_type"] for d in docs)
    for needed in ("Công văn", "Quyết định", "Kế hoạch", "Nghị quyết", "Chỉ thị"):
        assert types[needed] >= 2, (needed, types)
    for needed in ("Thông báo", "Thư ngỏ", "Hướng dẫn", "Quy chế", "Thông tư"):
        assert types[needed] >= 1, (needed, types)
    assert len(types) >= 12, types
    assert sum(1 for d in docs if d["era"] < 2000) >= 15
    assert sum(1 for d in docs if d["era"] >= 2015) >= 15


def test_truth_is_visible_in_the_text(docs: list[dict]) -> None:
    """Numbers, signers and subjects are read from the document, so they appear in its text."""
    for d in docs:
        text = _flat(d["text"])
        t = d["truth"]
        if t["number"]:
            assert _nospace(t["number"]) in _nospace(d["text"]), d["id"]
        if t["signer"]:
            assert _flat(t["signer"]) in text, d["id"]
            assert _flat(d["body"]).rfind(_flat(t["signer"])) >= 0, d["id"]
        if t["subject"]:
            assert _flat(t["subject"])[:30] in text, d["id"]
        if t["issued_date"]:
            year = t["issued_date"][:4]
            assert year in d["text"], d["id"]


def test_headers_are_the_two_columns(docs: list[dict]) -> None:
    for d in docs:
        left, right = d["header_left"], d["header_right"]
        if not (left or right):
            assert "no letterhead" in d["layout_notes"], d["id"]
            assert d["truth"]["number"] is None and d["truth"]["issuer"] is None, d["id"]
            continue
        assert left and right, d["id"]
        for line in left + right:
            assert line in d["text"], (d["id"], line)
        assert d["text"].endswith(d["body"]), d["id"]
        if d["truth"]["number"]:
            assert any(_nospace(d["truth"]["number"]) in _nospace(line) for line in left), d["id"]
        motto = r"độc lập|hạnh phúc|đảng cộng sản việt nam|đoàn tncs|ngày .* tháng"
        assert any(re.search(motto, line, re.I) for line in right), d["id"]


def test_truncated_documents_say_so(docs: list[dict]) -> None:
    """A record whose source stopped before the signature has no signer and says it was cut."""
    for d in docs:
        if d["truncated"]:
            assert d["truth"]["signer"] is None, d["id"]
    assert sum(1 for d in docs if not d["truncated"] and d["truth"]["signer"]) >= 10
