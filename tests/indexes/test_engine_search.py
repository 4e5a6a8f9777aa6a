"""What a user of the search notices, on every engine (the ``engine`` fixture)."""
from __future__ import annotations

from datetime import date

import pytest

from indexes.base import SearchResult
from indexes.query import build_query
from tests.indexes.conftest import ESTIMATE_ABOVE, many_docs

pytestmark = pytest.mark.timeout(120)


def ids(result: SearchResult) -> list[int]:
    return [hit.id for hit in result.hits]


# -- folding and ranking ---------------------------------------------------------

def test_query_without_diacritics_finds_text_with_them(engine, search, doc, filler):
    engine.index([*filler, doc(1, body="Công văn gửi UBND thành phố Hà Nội về việc tiếp nhận hồ sơ")])
    assert ids(search("ha noi")) == [1]
    assert ids(search("HÀ NỘI")) == [1]


def test_d_finds_dj(engine, search, doc, filler):
    engine.index([*filler, doc(1, subject="Giao đất đai cho hộ gia đình")])
    assert ids(search("dat dai")) == [1]
    assert ids(search("giao dat")) == [1]


def test_exact_tones_rank_above_folded_matches(engine, search, doc, filler):
    engine.index([
        *filler,
        doc(1, body="ông Nguyễn Văn Hung được cử đi công tác tại xã"),
        doc(2, body="ông Nguyễn Văn Hưng được cử đi công tác tại xã"),
        doc(3, body="ông Nguyễn Văn Hùng được cử đi công tác tại xã"),
    ])
    assert ids(search("hưng"))[0] == 2
    assert ids(search("Hùng"))[0] == 3
    assert sorted(ids(search("hưng"))) == [1, 2, 3]  # the folded ones are still found


def test_exact_number_ranks_first(engine, search, doc, filler):
    engine.index([
        *filler,
        doc(1, number="12/QĐ-UBND", subject="Thực hiện Kế hoạch số 74/KH-UBND",
            body="Căn cứ Kế hoạch 74/KH-UBND; theo 74/KH-UBND; phụ lục 74/KH-UBND."),
        doc(2, number="74/KH-UBND", subject="Kế hoạch phòng chống thiên tai",
            body="Nội dung kế hoạch phòng chống thiên tai năm 2024 của huyện."),
        doc(3, number="174/KH-UBND", subject="Kế hoạch khác"),
    ])
    result = search("74/KH-UBND")
    assert ids(result)[0] == 2
    assert set(ids(result)) == {1, 2}  # 174/KH-UBND is not 74/KH-UBND
    assert ids(search("74/kh-ubnd"))[0] == 2


def test_subject_hit_ranks_above_body_hit(engine, search, doc, filler):
    engine.index([
        *filler,
        doc(1, subject="Về việc mua sắm thiết bị", body="Đề nghị phê duyệt phương án phòng cháy chữa cháy tại trụ sở."),
        doc(2, subject="Phương án phòng cháy chữa cháy", body="Đề nghị phê duyệt về việc mua sắm thiết bị tại trụ sở."),
    ])
    assert ids(search("phong chay chua chay")) == [2, 1]


def test_issuer_hit_ranks_above_body_hit(engine, search, doc, filler):
    engine.index([
        *filler,
        doc(1, issuer="UBND xã Tân Dân", body="Gửi Sở Tài chính tỉnh để tổng hợp số liệu."),
        doc(2, issuer="Sở Tài chính", body="Gửi UBND xã Tân Dân để tổng hợp số liệu."),
    ])
    assert ids(search("tan dan")) == [1, 2]


def test_phrase_requires_adjacent_words(engine, search, doc, filler):
    engine.index([*filler, doc(1, body="kế hoạch sử dụng đất"), doc(2, body="đất đai kế toán và hoạch định")])
    assert ids(search('"ke hoach"')) == [1]
    assert sorted(ids(search("ke hoach"))) == [1, 2]


def test_exclusion(engine, search, doc, filler):
    engine.index([*filler, doc(1, body="đất nông nghiệp"), doc(2, body="đất ở đô thị")])
    assert ids(search("đất -đô")) == [1]
    assert ids(search("đất -\"do thi\"")) == [1]


# -- snippets --------------------------------------------------------------------

def test_snippet_marks_folded_match_and_escapes(engine, search, doc, filler):
    engine.index([*filler, doc(1, subject="Trích yếu", body="<b>Kế hoạch</b> số 5 về Hà Nội & vùng lân cận")])
    hit = search("ke hoach").hits[0]
    assert "<mark>Kế</mark>" in hit.snippet and "<mark>hoạch</mark>" in hit.snippet
    assert "<b>" not in hit.snippet and "&lt;b&gt;" in hit.snippet and "&amp;" in hit.snippet


def test_snippet_falls_back_to_subject(engine, search, doc, filler):
    engine.index([*filler, doc(1, subject="Về đê điều Hưng Yên", body="Nội dung chung chung.")])
    assert search("de dieu").hits[0].snippet == "Về <mark>đê</mark> <mark>điều</mark> Hưng Yên"


# -- filters, facets, sorting, paging -------------------------------------------

@pytest.fixture
def corpus(engine, doc):
    docs = [
        doc(1, unit="A", doc_type="QĐ", direction="di", number="1/QĐ-UBND", issued_date=date(2024, 1, 10),
            subject="Quyết định về đất đai"),
        doc(2, unit="A", doc_type="CV", direction="den", number="2/UBND", issued_date=date(2024, 3, 1),
            subject="Công văn về đất đai"),
        doc(3, unit="B", doc_type="QĐ", direction="den", number="3/QĐ-UBND", issued_date=date(2023, 6, 30),
            subject="Quyết định thu hồi đất"),
        doc(4, unit="B", doc_type="TB", direction="di", number="4/TB-UBND", issued_date=date(2022, 12, 31),
            subject="Thông báo đất đai"),
        doc(5, unit="C", doc_type="QĐ", direction="di", number="5/QĐ-UBND", issued_date=None,
            subject="Quyết định đất công"),
    ]
    engine.index(docs)
    return docs


def test_filter_by_unit_type_direction(search, corpus):
    assert sorted(ids(search("đất", unit_codes=["A"]))) == [1, 2]
    assert sorted(ids(search("đất", unit_codes=["A", "C"]))) == [1, 2, 5]
    assert sorted(ids(search("đất", doc_types=["QĐ"]))) == [1, 3, 5]
    assert sorted(ids(search("đất", directions=["den"]))) == [2, 3]
    assert sorted(ids(search("đất", doc_types=["QĐ"], directions=["di"]))) == [1, 5]


def test_filter_by_dates_is_inclusive(search, corpus):
    assert sorted(ids(search("đất", date_from=date(2023, 6, 30), date_to=date(2024, 1, 10)))) == [1, 3]
    assert sorted(ids(search("đất", date_from=date(2024, 1, 1)))) == [1, 2]
    assert sorted(ids(search("đất", date_to=date(2022, 12, 31)))) == [4]


def test_filter_by_number(search, corpus):
    assert ids(search("", number="3/qđ-ubnd")) == [3]
    assert ids(search("đất", number="3/QD-UBND")) == [3]
    assert ids(search("", number="99/QĐ")) == []


def test_facets_count_the_whole_filtered_match_set(search, corpus):
    result = search("đất", per_page=1)
    assert result.total == 5 and len(result.hits) == 1
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["unit_code"] == {"A": 2, "B": 2, "C": 1}
    assert facets["doc_type"] == {"QĐ": 3, "CV": 1, "TB": 1}
    assert facets["direction"] == {"di": 3, "den": 2}
    assert facets["year"] == {"2024": 2, "2023": 1, "2022": 1}
    filtered = search("đất", doc_types=["QĐ"])
    assert {v.value: v.count for v in filtered.facets["unit_code"]} == {"A": 1, "B": 1, "C": 1}
    assert {v.value: v.count for v in search("dai").facets["unit_code"]} == {"A": 2, "B": 1}


def test_sort_by_date(search, corpus):
    assert ids(search("đất", sort="date_desc")) == [2, 1, 3, 4, 5]  # undated last
    assert ids(search("đất", sort="date_asc")) == [4, 3, 1, 2, 5]
    assert ids(search("")) == [2, 1, 3, 4, 5]  # a browse is newest first


def test_paging_covers_everything_once(search, corpus):
    pages = [search("đất", per_page=2, page=p) for p in (1, 2, 3, 4)]
    assert [r.total for r in pages] == [5, 5, 5, 5]
    seen = [i for r in pages for i in ids(r)]
    assert sorted(seen) == [1, 2, 3, 4, 5]
    assert ids(pages[3]) == []


def test_browse_with_filters_only(search, corpus):
    result = search("", unit_codes=["B"])
    assert result.total == 2 and ids(result) == [3, 4]


# -- scope: the security boundary -----------------------------------------------

def test_scope_restricts_hits_total_facets_and_snippets(engine, search, doc, filler):
    engine.index([
        *filler,
        doc(1, unit="A", subject="Bí mật của A", body="tài liệu riêng đơn vị A"),
        doc(2, unit="B", subject="Bí mật của B", body="tài liệu riêng đơn vị B"),
        doc(3, unit="C", subject="Bí mật của C", body="tài liệu riêng đơn vị C"),
        doc(4, unit="B", number="88/QĐ-UBND", subject="Quyết định riêng của B"),
    ])
    result = search("tai lieu rieng", scope=frozenset({"A", "C"}))
    assert sorted(ids(result)) == [1, 3]
    assert result.total == 2
    assert {v.value for v in result.facets["unit_code"]} == {"A", "C"}
    assert sum(v.count for v in result.facets["doc_type"] or []) <= 2
    assert all("B" not in hit.snippet for hit in result.hits)
    # asking for a unit outside the scope gives nothing, not that unit's documents
    outside = search("tai lieu rieng", scope=frozenset({"A"}), unit_codes=["B"])
    assert outside.total == 0 and outside.hits == []
    assert all(v.count == 0 for values in outside.facets.values() for v in values)
    # browsing and number lookups are scoped as well
    assert ids(search("", scope=frozenset({"B"}))) == [4, 2]
    assert search("88/QĐ-UBND", scope=frozenset({"A", "C"})).total == 0
    assert search("", number="88/QĐ-UBND", scope=frozenset({"A"})).total == 0
    assert ids(search("88/QĐ-UBND", scope=frozenset({"B"}))) == [4]
    assert engine.count(frozenset({"A", "C"})) == 2
    assert engine.count(None) == 44


def test_empty_scope_sees_nothing(engine, search, doc, filler):
    engine.index([*filler, doc(1, unit="A", number="9/QĐ", subject="đất đai")])
    for text in ("đất", "", "9/QĐ"):
        result = search(text, scope=frozenset())
        assert result.total == 0 and result.hits == [] and not any(result.facets.values())
    assert engine.count(frozenset()) == 0


# -- writing ---------------------------------------------------------------------

def test_reindex_is_idempotent_and_replaces(engine, search, doc, filler):
    assert engine.index([*filler, doc(1, subject="bản cũ về thủy lợi")]) == 41
    assert engine.index([*filler, doc(1, subject="bản cũ về thủy lợi")]) == 41
    assert engine.count() == 41 and search("thuy loi").total == 1
    engine.index([doc(1, subject="bản mới về giao thông")])
    assert engine.count() == 41
    assert search("thuy loi").total == 0 and ids(search("giao thong")) == [1]
    assert engine.indexed_ids() == {1} | {d.id for d in filler}


def test_delete_and_clear(engine, search, doc, filler):
    engine.index([*filler, doc(1, subject="đê điều"), doc(2, subject="đê điều")])
    engine.delete([1, 999])
    assert ids(search("de dieu")) == [2] and 1 not in engine.indexed_ids()
    engine.clear()
    assert engine.count() == 0 and search("de dieu").total == 0
    engine.index([doc(3, subject="đê điều")])
    assert ids(search("de dieu")) == [3]


def test_number_field_matches_the_beginning_of_a_number(engine, search, doc, filler):
    """The number field finds a number from its beginning up to a separator, never inside a digit run."""
    engine.index([*filler,
                  doc(1, number="191/KH-UBND", subject="Kế hoạch tiêm chủng"),
                  doc(2, number="1910/KH-UBND", subject="Kế hoạch khác"),
                  doc(3, number="191/QĐ-UBND", subject="Quyết định khen thưởng"),
                  doc(4, number="19/KH-UBND", subject="Kế hoạch năm"),
                  doc(5, number="05/2024/NQ-HĐND", subject="Nghị quyết")])
    assert sorted(ids(search("", number="191"))) == [1, 3]
    assert ids(search("", number="191/KH")) == [1]
    assert ids(search("", number="191/kh-ubnd")) == [1]
    assert ids(search("", number="191/QD")) == [3]
    assert sorted(ids(search("", number="191/"))) == [1, 3]
    assert ids(search("", number="05/2024")) == [5]
    assert ids(search("", number="05/2024/NQ-HĐ")) == []  # within a word: no
    assert ids(search("tiêm chủng", number="191")) == [1]
    assert ids(search("", number="19")) == [4]
    assert ids(search("", number="1.*")) == []  # regex characters are only characters


def test_equal_scores_come_by_id_newest_first_and_pages_tile_them(engine, search, doc, filler):
    """Twelve documents with the same words score the same; indexed over several commits (Tantivy:
    several segments, whose order a merge or a restore changes) they still come by id, newest
    first, and pages of five cross the tie without repeating or skipping a hit."""
    engine.index(filler)
    same = {"subject": "Giấy mời họp giao ban", "body": "mời dự họp giao ban tuần tại hội trường"}
    ids = [5, 17, 3, 29, 11, 2, 23, 8, 31, 14, 20, 26]
    for start in range(0, len(ids), 3):  # one commit each: separate segments
        engine.index([doc(i, **same) for i in ids[start : start + 3]])
    first = search("giao ban", per_page=50)
    assert [h.id for h in first.hits] == sorted(ids, reverse=True)
    paged = [h.id for page in (1, 2, 3) for h in search("giao ban", per_page=5, page=page).hits]
    assert paged == sorted(ids, reverse=True)


# -- more matches than are counted: a lower bound from the 1/64 sample ----------------

def _facets(result: SearchResult) -> dict[str, dict[str, int]]:
    return {name: {v.value: v.count for v in values} for name, values in result.facets.items()}


def _page(result: SearchResult) -> list[tuple[int, float, str]]:
    return [(hit.id, hit.score, hit.snippet) for hit in result.hits]


@pytest.mark.parametrize("text, sort", [("kế hoạch", "relevance"), ("ke hoach", "date_desc"),
                                        ('"phòng chống thiên tai"', "relevance")])
def test_a_broad_search_gives_a_lower_bound_estimates_and_the_exact_page(estimating, text, sort):
    sampled, exact = estimating(many_docs())
    for page in (1, 3):
        query = build_query(text, scope=None, sort=sort, page=page)
        truth, estimate = exact.search(query), sampled.search(query)
        assert not truth.total_is_lower_bound and truth.total > ESTIMATE_ABOVE
        assert estimate.total_is_lower_bound  # the portal says "hơn ..."
        assert 0.5 * truth.total <= estimate.total <= truth.total
        assert _page(estimate) == _page(truth)  # the page is found as without the sample
        real, guessed = _facets(truth), _facets(estimate)
        assert real.keys() == guessed.keys()
        for name, counts in real.items():
            assert set(guessed[name]) <= set(counts), name  # no value that no match has
            for value, count in counts.items():
                if count >= truth.total // 5:  # a value held by a fifth of the matches or more: within 30 %
                    assert abs(guessed[name].get(value, 0) - count) <= 0.3 * count, (name, value)
            assert abs(sum(guessed[name].values()) - sum(counts.values())) <= 0.15 * sum(counts.values()), name


def test_a_narrow_search_or_scope_stays_exact_beside_the_sample(estimating):
    sampled, exact = estimating(many_docs())
    for text, kwargs in (("thủy lợi", {"scope": None}), ("kế hoạch", {"scope": frozenset({"H05"}), "date_from": date(2022, 1, 1), "per_page": 5}),
                         ("", {"scope": None, "doc_types": ["Báo cáo"], "date_from": date(2024, 1, 1)})):
        query = build_query(text, **kwargs)
        truth, estimate = exact.search(query), sampled.search(query)
        assert not estimate.total_is_lower_bound and 0 < truth.total <= ESTIMATE_ABOVE
        assert (estimate.total, _facets(estimate), _page(estimate)) == (truth.total, _facets(truth), _page(truth))
