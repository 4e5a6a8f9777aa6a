"""No user input reaches engine syntax: every string gives a result or a QueryError."""
from __future__ import annotations

from datetime import date

import pytest

from indexes.base import SearchQuery, SearchResult, Term
from indexes.query import QueryError, build_query

pytestmark = pytest.mark.timeout(120)

HOSTILE = [
    '"', '""', '"""', "*", "**", "a*", "*a", "NEAR(", "NEAR(a b, 2)", "NEAR(a", "AND OR NOT", "AND", "OR",
    "NOT a", "a NOT", "col:", "subject:x", "f_body: đất", "{f_body}: x", "^", "^a", "a + b", "(", ")", "((a)",
    'a" OR "b', '"unbalanced', "unbalanced)", "-", "--", "- -a", "-*", '-"', "\x00", "a\x00b", "😀", "😀 đất 😀",
    "'; DROP TABLE docs; --", "1' OR '1'='1", "\" OR 1=1 --", "Robert'); DROP TABLE docs;--",
    "%", "_", "a_b", "\\", "\\\"", "\n\t\r", "\u200b", "\ufeff", "Ha\u0300 No\u0323\u0302i", "ǅ ß İ",
    "74/", "/KH", "74//KH", "74/KH-", "-74/KH-UBND", "1/2/3/4/5/6/7", "a" * 10_000, "đ " * 400,
    " ".join(["NEAR("] * 40), "x" * 499 + '"',
]


@pytest.fixture
def loaded(engine, doc):
    engine.index([
        doc(1, unit="A", number="74/KH-UBND", subject="Kế hoạch đất đai", body="NEAR AND OR NOT col đất"),
        doc(2, unit="B", subject="drop table docs", body="'; select * from docs --", issued_date=date(2021, 1, 1)),
    ])
    return engine


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("scope", [None, frozenset({"A"})])
def test_hostile_text_gives_result_or_query_error(loaded, text, scope):
    try:
        query = build_query(text, scope=scope)
    except QueryError as exc:
        assert str(exc)
        return
    result = loaded.search(query)
    assert isinstance(result, SearchResult)
    assert result.total >= len(result.hits)
    if scope is not None:
        assert {v.value for v in result.facets.get("unit_code", [])} <= scope


@pytest.mark.parametrize("value", ["'", '"', "x' OR 1=1 --", "[\"A\"]", "\x00", "😀", "*"])
def test_hostile_filter_values_are_plain_values(loaded, value):
    query = build_query("", scope=frozenset({"A", value}), unit_codes=[value, "A"], doc_types=[value],
                        directions=[value], number=value)
    assert loaded.search(query).total == 0
    assert loaded.search(build_query("đất", scope=frozenset({"A", value}), unit_codes=[value])).total == 0
    assert loaded.count(frozenset({value})) == 0


@pytest.mark.parametrize("words", [('"',), ("NEAR(",), ("a*",), ("col:", "x"), ("",), ("AND",), ("\x00",)])
def test_engine_survives_terms_not_made_by_the_builder(loaded, words):
    """Defence in depth: even a hand-made query with syntax in its words cannot break the engine."""
    for term in (Term(words), Term(words, phrase=True), Term(words, negated=True)):
        result = loaded.search(SearchQuery(terms=(term, Term(("đất",))), scope=None))
        assert isinstance(result, SearchResult)
