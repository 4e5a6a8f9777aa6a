"""Every engine: restricted documents left out unless allowed (hits, totals and facets), the signature
filter "có chữ ký số hợp lệ", and the dossier filter and facet."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("loaded")


@pytest.fixture
def loaded(engine, doc, filler):
    engine.index([
        *filler,
        doc(1, subject="Quyết định sắp xếp đơn vị hành chính", dossier="HS-MO", signature="hop_le"),
        doc(2, subject="Kế hoạch sắp xếp đơn vị hành chính", dossier="HS-MO", signature="bi_sua_doi"),
        doc(3, subject="Danh sách cán bộ dôi dư khi sắp xếp", dossier="HS-HC", signature="hop_le", restricted=True),
        doc(4, subject="Báo cáo sắp xếp không có hồ sơ", signature="khong_ky"),
    ])


def ids(result) -> set[int]:
    return {h.id for h in result.hits}


def test_restricted_documents_are_left_out_unless_allowed(search):
    hidden = search("sắp xếp")
    assert ids(hidden) == {1, 2, 4} and hidden.total == 3
    assert "HS-HC" not in {v.value for v in hidden.facets.get("dossier", [])}  # not even its dossier's code
    shown = search("sắp xếp", restricted_ok=True)
    assert ids(shown) == {1, 2, 3, 4} and shown.total == 4
    assert 3 not in ids(search(""))  # a browse too


def test_signature_filter(search):
    assert ids(search("sắp xếp", signature="hop_le")) == {1}
    assert ids(search("sắp xếp", signature="hop_le", restricted_ok=True)) == {1, 3}


def test_dossier_filter_and_facet(search):
    assert ids(search("", dossiers=["HS-MO"])) == {1, 2}
    facet = {v.value: v.count for v in search("sắp xếp", restricted_ok=True).facets["dossier"]}
    assert facet == {"HS-MO": 2, "HS-HC": 1}
