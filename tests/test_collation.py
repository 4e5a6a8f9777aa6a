"""Vietnamese order of names: letters of the Vietnamese alphabet, then tones, spaces collapsed."""
from __future__ import annotations

from archive_core.collation import vietnamese_key


def ordered(*names: str) -> list[str]:
    return sorted(names, key=vietnamese_key)


def test_vietnamese_letters_and_tones():
    assert ordered("Bãi Sậy", "Ân Thi", "Yên Mỹ") == ["Ân Thi", "Bãi Sậy", "Yên Mỹ"]
    assert ordered("Em", "Đào Dương", "Dân Tiến", "Đa Lộc") == ["Dân Tiến", "Đa Lộc", "Đào Dương", "Em"]
    assert ordered("Ân", "Bình", "An", "Ăn") == ["An", "Ăn", "Ân", "Bình"]
    assert ordered("Ơn", "Ôn", "On", "Pa") == ["On", "Ôn", "Ơn", "Pa"]
    assert ordered("Bạ", "Bá", "Bã", "Bả", "Bà", "Ba") == ["Ba", "Bà", "Bả", "Bã", "Bá", "Bạ"]
    assert ordered("Tân  Hưng", "Tân Dân", "Tân Hưng") == ["Tân Dân", "Tân  Hưng", "Tân Hưng"]
    assert ordered("Bắc Sơn", "Bạch Sam") == ["Bạch Sam", "Bắc Sơn"]  # ach < ăc: the letter decides first
