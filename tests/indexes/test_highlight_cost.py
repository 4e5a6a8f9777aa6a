"""The highlighter's work grows linearly with the matches in a body (issue 10, finding 3).

The review's 8-word query on three 260 KB documents took 82 s because the best
window was searched by counting every match for every match. Work is measured
here by the Python lines executed (a deterministic count, not a clock): twice
the matches must cost about twice the lines, not four times.
"""
from __future__ import annotations

import sys

from indexes.highlight import snippet
from indexes.query import build_query

TERMS = build_query("ủy ban nhân dân kế hoạch báo cáo thực hiện", scope=None).terms


def executed_lines(text: str) -> int:
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        out = snippet(text, TERMS)
    finally:
        sys.settrace(None)
    assert "<mark>" in out
    return count


def test_twice_the_matches_cost_about_twice_the_work():
    unit = "ủy ban nhân dân tỉnh ban hành kế hoạch và báo cáo kết quả thực hiện. "  # 8 matches
    small = executed_lines(unit * 300)
    large = executed_lines(unit * 600)
    assert large / small < 2.6, (small, large)


def test_a_body_made_of_query_words_still_gives_a_marked_window():
    text = "kế hoạch " * 30_000  # 270 KB of matches
    out = snippet(text, TERMS, max_chars=120)
    assert out.count("<mark>") >= 10 and len(out) < 120 * 20
