"""The old-unit selector: grouped by old district with codes, in Vietnamese order; a lookup account
is offered only the units of its scope that hold documents."""
from __future__ import annotations

import re
from html import unescape

from archive_core.collation import vietnamese_key


def _groups(html: str) -> list[tuple[str, list[str]]]:
    select = re.search(r'<select name="unit" id="unit">(.*?)</select>', html, re.S).group(1)
    return [(unescape(label), [unescape(o) for o in re.findall(r"<option [^>]*>([^<]*)</option>", body)])
            for label, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)]


def test_admin_sees_every_unit_grouped_by_district_in_vietnamese_order(as_admin):
    groups = _groups(as_admin.get("/").get_data(as_text=True))
    labels = [label for label, _ in groups]
    assert sum(len(options) for _, options in groups) > 150
    an_thi = next(i for i, label in enumerate(labels) if label.startswith("Huyện Ân Thi"))
    assert an_thi == 0  # "Ân" sorts after "An" but before every "B…" district
    assert labels == sorted(labels, key=lambda label: vietnamese_key(re.sub(r"^(Huyện|Thị xã|Thành phố) ", "", label)))
    options = dict(groups)[labels[an_thi]]
    names = [o.split(" (")[0] for o in options[1:]]  # the district's own documents first
    assert options[0].startswith("Văn bản của chính Huyện Ân Thi")
    assert names.index("Ân Thi") < names.index("Bãi Sậy") < names.index("Bắc Sơn")  # a < ă: Bãi before Bắc
    d_names = [n for n in names if n[0] in "DĐE"]
    assert d_names == sorted(d_names, key=lambda n: "DĐE".index(n[0]))  # Đ after D, before E
    assert all(re.search(r"\((xã|thị trấn|phường), \d+\)$", o) for o in options[1:]), options


def test_lookup_is_offered_only_its_units_holding_documents(as_sonnam):
    groups = _groups(as_sonnam.get("/").get_data(as_text=True))
    offered = {re.search(r"(\d+)\)$", o).group(1) for _, opts in groups for o in opts}
    assert offered == {"11950", "323"}, groups  # not the other wards of the city, which hold nothing
