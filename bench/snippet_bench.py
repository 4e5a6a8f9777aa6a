"""Snippet benchmark: the highlighter on long bodies full of query words (issue 10, finding 3).

    .venv/bin/python -m bench.snippet_bench [--size 260000] [--docs 3]

Reproduces the review's case: an 8-word query on three 260 KB documents whose
words recur thousands of times. Prints figures only; nothing here asserts on time.
"""
from __future__ import annotations

import argparse
import random
import time

from indexes.highlight import snippet
from indexes.query import build_query

QUERY = "ủy ban nhân dân kế hoạch báo cáo thực hiện"  # eight words, all frequent in administrative text
_WORDS = ["ủy", "ban", "nhân", "dân", "tỉnh", "huyện", "xã", "kế", "hoạch", "báo", "cáo", "thực", "hiện", "công", "văn", "quyết", "định", "đất", "đai", "xây", "dựng", "nông", "thôn", "mới", "giao", "thông", "thủy", "lợi", "cán", "bộ"]


def body(size: int, seed: int) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=260_000, help="characters per document")
    parser.add_argument("--docs", type=int, default=3)
    args = parser.parse_args()
    terms = build_query(QUERY, scope=None).terms
    texts = [body(args.size, seed) for seed in range(args.docs)]
    start = time.perf_counter()
    for text in texts:
        snippet(text, terms)
    elapsed = time.perf_counter() - start
    print(f"snippets: {args.docs} documents of {args.size // 1000} KB, 8-word query: {elapsed:.3f} s "
          f"({elapsed / args.docs * 1000:.1f} ms each)")


if __name__ == "__main__":
    main()
