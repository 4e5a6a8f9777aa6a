"""What the Tantivy engine adds to the shared engine suite: its folding, its writers, its readers."""

from __future__ import annotations

import multiprocessing
import time
from datetime import date

import pytest

from indexes.base import IndexDocument
from indexes.fold import fold
from indexes.query import build_query
from indexes.tantivy_engine import ANALYZERS, TantivyEngine

pytestmark = pytest.mark.timeout(120)

LETTERS = "aàáảãạăằắẳẵặâầấẩẫậđeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"


def _doc(i: int, body: str, unit: str = "U1") -> IndexDocument:
    return IndexDocument(id=i, unit_code=unit, issued_date=date(2020, 1, 1), subject=f"Văn bản {i}", body=body)


def _ids(engine: TantivyEngine, text: str) -> list[int]:
    return [hit.id for hit in engine.search(build_query(text, scope=None)).hits]


def test_index_folding_is_the_highlighters_folding():
    """A word found by the index is the word the snippet marks: both fold every letter alike."""
    for letter in LETTERS + LETTERS.upper():
        assert ANALYZERS["vi_fold"].analyze(letter) == [fold(letter)], letter


def test_phrase_of_common_syllables_needs_them_adjacent_and_in_order(tmp_path):
    engine = TantivyEngine(tmp_path / "t")
    engine.index(
        [
            _doc(1, "Ủy ban nhân dân xã ban hành kế hoạch"),
            _doc(2, "nhân dân và ủy ban cùng bàn"),
            _doc(3, "dân nhân ban ủy"),
            _doc(4, "ủy ban nhân dân"),
        ]
    )
    assert sorted(_ids(engine, '"uy ban nhan dan"')) == [1, 4]
    assert sorted(_ids(engine, '"nhân dân"')) == [1, 2, 4]
    assert _ids(engine, '"dan nhan"') == [3]


def test_decomposed_text_is_found_like_composed_text(tmp_path):
    engine = TantivyEngine(tmp_path / "t")
    engine.index([_doc(1, "Ke\u0302\u0301 hoa\u0323ch su\u031b\u0309 du\u0323ng đất")])  # NFD, as some PDFs give
    assert _ids(engine, "kế hoạch") == [1]
    assert _ids(engine, '"ke hoach su dung"') == [1]


def test_two_engines_on_one_index_take_turns_writing_and_see_each_other(tmp_path):
    first, second = TantivyEngine(tmp_path / "t"), TantivyEngine(tmp_path / "t")
    first.index([_doc(1, "đê điều")])
    second.index([_doc(2, "đê điều")])  # the first let the writer lock go when its call returned
    first.index([_doc(3, "đê điều")])
    deadline = time.monotonic() + 30
    while sorted(_ids(second, "de dieu")) != [1, 2, 3] and time.monotonic() < deadline:
        time.sleep(0.05)  # a reader picks up another writer's commit when the index files change
    assert sorted(_ids(second, "de dieu")) == [1, 2, 3]
    assert first.count() == 3


def _write_in_child(path: str) -> None:
    engine = TantivyEngine(path)
    engine.index([_doc(10, "thủy lợi nội đồng", unit="U2")])
    engine.close()


def test_another_process_writes_and_this_one_reads(tmp_path):
    engine = TantivyEngine(tmp_path / "t")
    engine.index([_doc(1, "đê điều")])
    child = multiprocessing.get_context("spawn").Process(target=_write_in_child, args=(str(tmp_path / "t"),))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    deadline = time.monotonic() + 30
    while _ids(engine, "thuy loi") != [10] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ids(engine, "thuy loi") == [10]
    assert engine.count(frozenset({"U2"})) == 1


def test_bulk_load_is_searchable_after_optimize_and_keeps_everything_on_close(tmp_path):
    bulk = TantivyEngine(tmp_path / "t", keep_writer=True)
    bulk.index([_doc(i, "xây dựng nông thôn mới") for i in range(1, 101)])
    bulk.optimize()
    assert bulk.search(build_query('"nong thon moi"', scope=None)).total == 100
    bulk.index([_doc(i, "xây dựng nông thôn mới") for i in range(101, 151)])
    bulk.close()  # commits what was pending
    assert TantivyEngine(tmp_path / "t").count() == 150


def test_estimated_counts_are_a_flagged_lower_bound_and_small_counts_stay_exact(tmp_path):
    engine = TantivyEngine(tmp_path / "t", estimate_above=100)
    engine.index([_doc(i, "đê điều" if i <= 3000 else "thủy lợi") for i in range(1, 3021)])
    broad = engine.search(build_query("de dieu", scope=None))
    assert getattr(broad, "total_is_lower_bound", False)
    assert 1000 <= broad.total <= 3000  # "hơn ...": never more than the truth
    assert len(broad.hits) == 20 and all(hit.id <= 3000 for hit in broad.hits)
    narrow = engine.search(build_query("thuy loi", scope=None))
    assert narrow.total == 20 and not getattr(narrow, "total_is_lower_bound", False)
    assert {v.value: v.count for v in narrow.facets["unit_code"]} == {"U1": 20}


def test_a_count_just_above_the_exact_limit_is_exact_and_an_estimate_never_says_less_than_it(tmp_path):
    """Matches a little above ``estimate_above`` are counted in full: a lower bound from the sample
    would say far less than the truth ("hơn 330" for 1,300) and less than a search that matches
    fewer and is counted exactly; a lower bound is shown only above the limit."""
    engine = TantivyEngine(tmp_path / "t", estimate_above=1000)
    engine.index([_doc(i, "đê điều" if i <= 1300 else "thủy lợi") for i in range(1, 11_001)])
    near = engine.search(build_query("de dieu", scope=None))
    assert (near.total, getattr(near, "total_is_lower_bound", False)) == (1300, False)
    assert {v.value: v.count for v in near.facets["unit_code"]} == {"U1": 1300}
    broad = engine.search(build_query("thuy loi", scope=None))
    assert getattr(broad, "total_is_lower_bound", False)
    assert 1000 < broad.total <= 9700  # "hơn ...": above the limit, never more than the truth


def test_a_copy_made_while_a_writer_commits_and_merges_is_one_whole_commit(tmp_path):
    """``copy_to`` (backups) needs no lock: whatever the writer does, a copy is one commit, whole."""
    import threading

    engine = TantivyEngine(tmp_path / "t")
    engine.index([_doc(i, "sổ đăng ký văn bản đến") for i in range(100)])
    writer = TantivyEngine(tmp_path / "t")

    def write() -> None:
        for batch in range(20):  # 20 commits of 20 documents: merges start and delete segment files
            writer.index([_doc(100 + batch * 20 + i, "sổ đăng ký văn bản đi") for i in range(20)])

    thread = threading.Thread(target=write)
    thread.start()
    copies = []
    while (thread.is_alive() and len(copies) < 6) or not copies:
        copy = tmp_path / f"copy-{len(copies)}"
        copies.append((copy, engine.copy_to(copy)))
    thread.join()
    writer.close()
    for number, (copy, held) in enumerate(copies):
        TantivyEngine.install_copy(tmp_path / f"restored-{number}" / "t", copy)
        restored = TantivyEngine(tmp_path / f"restored-{number}" / "t")
        assert restored.count() == held and (held - 100) % 20 == 0  # whole batches only
        assert restored.indexed_ids() == set(range(held))
        assert restored.search(build_query("so dang ky", scope=None)).total == held
        restored.close()


def test_a_broad_search_ranks_from_the_bound_query_exactly_as_by_scoring_every_match(tmp_path, monkeypatch):
    """Searches matching many documents take their page from the top hits of a disjunction of their
    terms (block-max WAND) and score only those: every page, tie and score is what scoring every
    match gives, with phrases, tones, exclusions and restricted documents among the candidates."""
    from indexes import tantivy_engine

    words = ["kế hoạch", "ke hoach", "báo cáo", "ủy ban nhân dân", "nhân dân", "hoạch định"]
    docs = []
    for i in range(1, 1601):
        body = " ".join(words[(i * k) % len(words)] for k in range(1, 2 + i % 5)) + " xã" * (i % 3)
        docs.append(
            IndexDocument(
                id=i,
                unit_code="U1",
                issued_date=date(2020, 1, 1),
                subject=f"Kế hoạch {i % 7}" if i % 4 else "",
                body=body,
                restricted=i % 10 == 0,
            )
        )
    engine = TantivyEngine(tmp_path / "t", estimate_above=500)
    engine.index(docs)
    queries = ["kế hoạch", "ke hoach", '"ủy ban nhân dân"', "nhân dân xã", "kế hoạch -báo", '"kế hoạch" xã']
    for text in queries:
        for page in (1, 2, 5, 30):
            query = build_query(text, scope=None, page=page)
            monkeypatch.setattr(tantivy_engine, "BOUND_FROM", 10**9)
            every = engine.search(query)
            monkeypatch.setattr(tantivy_engine, "BOUND_FROM", 0)
            bound = engine.search(query)
            assert [(h.id, h.score) for h in bound.hits] == [(h.id, h.score) for h in every.hits], (text, page)
            assert all(h.id % 10 for h in bound.hits)  # restricted documents stay out
    engine.close()


def test_a_phrase_in_every_document_within_a_scope_is_counted_and_ranked_as_by_scoring_every_match(
    tmp_path, monkeypatch
):
    """ "ủy ban nhân dân" is in every document: within a scope its count and page come from the
    query with the scope beside each syllable pair (no walk over both whole lists); the same
    totals, facets, pages, ties and scores as walking them."""
    from indexes import tantivy_engine

    docs = [
        IndexDocument(
            id=i,
            unit_code=f"U{i % 9}",
            issued_date=date(2020, 1 + i % 12, 1),
            doc_type="Kế hoạch" if i % 3 else "",
            subject=("Ủy ban nhân dân xã " if i % 2 else "Kế hoạch của ủy ban nhân dân ") + str(i % 5),
            body="ủy ban nhân dân " * (1 + i % 4) + "ban hành kế hoạch" * (i % 3),
            restricted=i % 17 == 0,
        )
        for i in range(1, 2001)
    ]
    engine = TantivyEngine(tmp_path / "t", estimate_above=100_000)
    engine.index(docs)
    for scope in ({"U1", "U2"}, {"U3"}):
        for text in ('"ủy ban nhân dân"', '"ủy ban nhân dân" kế hoạch', '"uy ban nhan dan" -xã'):
            for page in (1, 3, 12):
                query = build_query(text, scope=frozenset(scope), page=page)
                monkeypatch.setattr(tantivy_engine, "_dense_phrase", lambda searcher, query: False)
                every = engine.search(query)
                monkeypatch.undo()
                dense = engine.search(query)
                assert (dense.total, dense.facets) == (every.total, every.facets), (text, scope)
                assert [(h.id, h.score) for h in dense.hits] == [(h.id, h.score) for h in every.hits], (text, page)
    engine.close()
