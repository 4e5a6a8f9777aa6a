"""indexes.query.build_query: what the user types, turned into a bounded SearchQuery."""
from __future__ import annotations

from datetime import date

import pytest

from indexes.base import Term
from indexes.query import QueryError, build_query


def q(text: str, **kwargs):
    kwargs.setdefault("scope", None)
    return build_query(text, **kwargs)


def test_bare_words_are_separate_terms():
    query = q("kế hoạch  đất đai")
    assert query.terms == (Term(("kế",)), Term(("hoạch",)), Term(("đất",)), Term(("đai",)))
    assert query.has_text and query.numbers == ()


def test_quoted_phrase_and_exclusion():
    query = q('"kế hoạch" -thanh -"tra lại" tỉnh')
    assert Term(("kế", "hoạch"), phrase=True) in query.terms
    assert Term(("thanh",), negated=True) in query.terms
    assert Term(("tra", "lại"), phrase=True, negated=True) in query.terms
    assert Term(("tỉnh",)) in query.terms


def test_unbalanced_quote_takes_the_rest_as_a_phrase():
    query = q('đất "đai hưng yên')
    assert query.terms == (Term(("đất",)), Term(("đai", "hưng", "yên"), phrase=True))


@pytest.mark.parametrize("text, number, words", [
    ("74/KH-UBND", "74/KH-UBND", ("74", "KH", "UBND")),
    ("theo 123/QĐ-UBND ngày", "123/QD-UBND", ("123", "QĐ", "UBND")),
    ("05/2024/NQ-HĐND", "05/2024/NQ-HDND", ("05", "2024", "NQ", "HĐND")),
    ("(74/kh-ubnd),", "74/KH-UBND", ("74", "kh", "ubnd")),
])
def test_numbers_are_detected_normalised_and_kept_as_phrases(text, number, words):
    query = q(text)
    assert query.numbers == (number,)
    assert Term(words, phrase=True) in query.terms


def test_excluded_number_is_not_a_number_to_rank():
    query = q("đất -74/KH-UBND")
    assert query.numbers == ()
    assert Term(("74", "KH", "UBND"), phrase=True, negated=True) in query.terms


def test_no_syntax_character_survives():
    query = q('NEAR(a b) "x" * ^col: a:b OR (c')
    for term in query.terms:
        for word in term.words:
            assert word.isalnum(), word


def test_text_is_nfc_normalised():
    decomposed = "Ha\u0300 No\u0323\u0302i"  # "Hà Nội" in NFD
    assert q(decomposed).terms == (Term(("Hà",)), Term(("Nội",)))


def test_too_long_query_is_refused_in_vietnamese():
    with pytest.raises(QueryError, match="quá dài"):
        q("a" * 501)
    assert q("a" * 500).terms


def test_too_many_terms_is_refused():
    with pytest.raises(QueryError, match="quá nhiều"):
        q(" ".join(f"w{i}" for i in range(33)))
    assert len(q(" ".join(f"w{i}" for i in range(32))).terms) == 32


def test_symbols_only_is_refused():
    with pytest.raises(QueryError):
        q('"" *** ()')


def test_paging_bounds():
    assert q("a", page=0).page == 1
    assert q("a", per_page=1000).per_page == 100
    assert q("a", per_page=0).per_page == 1
    with pytest.raises(QueryError, match="trang"):
        q("a", page=501)
    assert q("a", page=3, per_page=20).offset == 40


def test_sorting_defaults():
    assert q("a", sort="bogus").sort == "relevance"
    assert q("a", sort="date_asc").sort == "date_asc"
    assert q("", unit_codes=["U1"]).sort == "date_desc"  # browse
    assert q("-a").sort == "date_desc"  # only exclusions: a browse too


def test_filters_are_cleaned():
    query = q("", scope=frozenset({"U1"}), unit_codes=[" U1 ", "U1", ""], doc_types=["QĐ"],
              directions=["den"], date_from=date(2024, 5, 1), date_to=date(2024, 1, 1), number="74 / kh-ubnd")
    assert query.scope == frozenset({"U1"})
    assert query.unit_codes == ("U1",)
    assert query.doc_types == ("QĐ",) and query.directions == ("den",)
    assert (query.date_from, query.date_to) == (date(2024, 1, 1), date(2024, 5, 1))  # swapped
    assert query.number_filter == "74/KH-UBND"
    assert not query.has_text


def test_empty_scope_is_kept_empty():
    assert q("a", scope=frozenset()).scope == frozenset()
    assert q("a", scope=None).scope is None
