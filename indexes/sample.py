"""The 1/64 sample broad searches are counted on (issue 11), shared by the Tantivy and cluster engines.

Every document carries ``sample_of(id)``, a multiplicative hash of its id in 0-63; the documents whose
value is 0 are the sample.  A search that matches more than an engine's ``estimate_above`` documents
counts only those (one short posting list beside the query: 1/64 of the work) and reports the total
as a lower bound ("hơn 780.000") and the facet counts as estimates, both as computed here, so that the
portal shows the same thing whichever engine answered.
"""

from __future__ import annotations

from .base import FacetValue

SAMPLE_FACTOR = 64  # the sample: documents whose ``sample`` is 0, 1/64 of the index


def sample_of(doc_id: int) -> int:
    """A document's sample value, 0-63 (Fibonacci hashing: consecutive ids spread evenly)."""
    return (int(doc_id) * 0x9E3779B1 >> 7) & (SAMPLE_FACTOR - 1)


def two_digits(value: int) -> int:
    """``value`` rounded down to two significant digits (an estimate says no more than it knows)."""
    digits = max(0, len(str(value)) - 2)
    return value // 10**digits * 10**digits


def lower_bound(sample_count: int) -> int:
    """A count of the whole index from a sample's, 3.3 standard deviations low, two significant digits."""
    return two_digits(max(sample_count, int(SAMPLE_FACTOR * (sample_count - 3.3 * sample_count**0.5))))


def counted_exactly(sample_count: int, estimate_above: int) -> bool:
    """Whether a search whose sample holds ``sample_count`` matches is to be counted in full instead.

    Only a lower bound above ``estimate_above`` is shown: near it the bound is far below the truth
    (a sample of 160 says "more than 7,500" of some 10,200 matches, while 9,900 are counted exactly
    as "9,900"), so the totals shown would go down as the matches go up.  Counting those in full
    costs little: they are at most a few times ``estimate_above``."""
    return lower_bound(sample_count) <= estimate_above


def scaled(facets: dict[str, list[FacetValue]]) -> dict[str, list[FacetValue]]:
    """The sample's facet counts as estimates of the whole index's (order kept: the sample's)."""
    return {
        name: [FacetValue(v.value, two_digits(v.count * SAMPLE_FACTOR)) for v in values]
        for name, values in facets.items()
    }
