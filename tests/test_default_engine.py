"""Tantivy is the default engine; a data home made while FTS5 was the default keeps answering after an upgrade."""
from __future__ import annotations

from datetime import date

from archive_core.context import Archive
from archive_core.engines import open_engine
from archive_core.settings import Settings
from indexes.base import IndexDocument
from indexes.query import build_query
from indexes.tantivy_engine import TantivyEngine

DOC = IndexDocument(id=1, unit_code="11950", issued_date=date(2024, 4, 10), subject="Kế hoạch sắp xếp đơn vị hành chính")


def test_a_new_home_searches_with_tantivy(tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHIVE_INDEX_ENGINE", raising=False)
    archive = Archive.open(Settings.load(home=tmp_path / "home"))
    try:
        assert archive.settings.index_engine == "tantivy" and archive.engine.name == "tantivy"
        archive.engine.index([DOC])
        assert (tmp_path / "home" / "index" / "tantivy").is_dir()
        assert [h.id for h in archive.engine.search(build_query("ke hoach", scope=None)).hits] == [1]
    finally:
        archive.close()


def test_an_fts5_home_keeps_its_index_until_a_tantivy_one_is_built(tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHIVE_INDEX_ENGINE", raising=False)
    home = tmp_path / "home"
    old = open_engine(Settings.load(home=home, index_engine="sqlite"))  # the home as the former default made it
    old.index([DOC])
    old.close()
    upgraded = Settings.load(home=home)
    assert upgraded.index_engine == "sqlite"  # its searches keep answering after the upgrade
    engine = open_engine(upgraded)
    assert engine.search(build_query("sắp xếp", scope=None)).total == 1
    engine.close()
    TantivyEngine(home / "index" / "tantivy").close()  # what `archive reindex --engine tantivy` leaves
    assert Settings.load(home=home).index_engine == "tantivy"
    monkeypatch.setenv("ARCHIVE_INDEX_ENGINE", "sqlite")  # a configured engine always wins
    assert Settings.load(home=home).index_engine == "sqlite"
