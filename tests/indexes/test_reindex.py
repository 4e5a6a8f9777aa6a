"""``archive reindex``: rebuilt from the database into a new index, searches answer during and after."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive_portal.cli import main as cli
from archive_core.context import Archive
from archive_core.db.models import Blob, Document, DocumentFile, Package, Page
from archive_core.clock import utcnow
from archive_ops.reindex import reindex
from archive_core.settings import Settings
from indexes.fold import normalize_number
from indexes.query import build_query
from tests.indexes.conftest import ENGINES
from tests.opensearch_node import unique_alias

pytestmark = pytest.mark.timeout(300)


def _settings(engine: str, home: Path, request) -> Settings:
    settings = Settings.load(home=home, secret_key="k", database_url=f"sqlite:///{home / 'archive.sqlite'}")
    if engine in ("sqlite", "tantivy"):
        settings = replace(settings, index_engine=engine)  # named: the default engine is not the one under test
    if engine == "opensearch":
        node = request.getfixturevalue("opensearch_node")
        settings = replace(settings, index_engine="opensearch", search_url=node.url, search_index=unique_alias(),
                           search_timeout_ms=30_000)
    return settings


def _add(session, package: Package, n: int, *, subject: str, page: str, withheld: bool = False,
         ready: bool = True, unit: str = "U1") -> Document:
    number = f"{n}/QĐ-UBND"
    doc = Document(package_id=package.id, unit_code=unit, ma_van_ban=f"VB-{n}", number=number,
                   number_norm=normalize_number(number), issued_date=date(2024, 1, 1 + n % 28), doc_type="QĐ",
                   direction="den", subject=subject, withheld=withheld, text_ready=ready)
    session.add(doc)
    session.flush()
    data = page.encode()
    sha = hashlib.sha256(data + str(n).encode()).hexdigest()
    session.add(Blob(sha256=sha, size=len(data), media_type="application/pdf"))
    session.flush()
    dfile = DocumentFile(document_id=doc.id, position=0, path_in_package=f"files/{n}.pdf", filename=f"{n}.pdf",
                         blob_sha256=sha, media_type="application/pdf", status="extracted", page_count=1)
    session.add(dfile)
    session.flush()
    session.add(Page(file_id=dfile.id, number=1, text=page, method="text"))
    return doc


@pytest.fixture(params=ENGINES)
def archive(request, tmp_path):
    archive = Archive.open(_settings(request.param, tmp_path / "home", request))
    with archive.db.transaction() as session:
        package = Package(fingerprint="a" * 64, source_path=str(tmp_path), form="folder", unit_code="U1")
        session.add(package)
        session.flush()
        for n in range(1, 31):
            _add(session, package, n, subject=f"Quyết định số {n} về đê điều", page=f"Nội dung trang của văn bản {n}")
        _add(session, package, 900, subject="Văn bản mật về đê điều", page="bí mật", withheld=True)
        _add(session, package, 901, subject="Chưa đọc xong về đê điều", page="đang xử lý", ready=False)
    yield archive
    if hasattr(archive.engine, "drop"):
        archive.engine.drop()
    archive.close()


def _indexable(archive: Archive) -> set[int]:
    with archive.db.session() as session:
        return set(session.scalars(select(Document.id).where(Document.text_ready.is_(True),
                                                              Document.withheld.is_(False))))


def _total(engine, text: str) -> int:
    return engine.search(build_query(text, scope=None)).total


def test_reindex_rebuilds_from_database_and_searches_answer_during_and_after(archive):
    engine = archive.engine
    # An index that is out of date: an old subject, a withheld document that must go.
    with archive.db.session() as session:
        first = session.scalars(select(Document).where(Document.withheld.is_(False)).order_by(Document.id)).first()
        secret = session.scalars(select(Document).where(Document.withheld.is_(True))).one()
        from ingest.indexing import index_document

        stale = [replace(index_document(session, first), subject="tiêu đề cũ về thủy lợi và đê điều"),
                 index_document(session, secret)]
    engine.index(stale)
    assert _total(engine, "thuy loi") == 1
    # A second reader (as a web process would have) opened before the rebuild.
    other = Archive.open(archive.settings, migrate=False)
    assert _total(other.engine, "de dieu") == 2

    seen_during: list[int] = []
    late: list[int] = []

    def during(done: int, total: int) -> None:
        if done < total:
            # The old index still answers while the new one fills...
            seen_during.append(_total(archive.engine, "de dieu"))
            seen_during.append(_total(other.engine, "de dieu"))
            # ...and ingest goes on: a document indexed now, into the old index, must survive the switch.
            with archive.db.transaction() as session:
                package = session.scalars(select(Package)).first()
                doc = _add(session, package, 500, subject="Kế hoạch phòng chống lụt bão", page="lụt bão năm nay")
                session.flush()
                doc.indexed_at = utcnow()
                from ingest.indexing import index_document

                archive.engine.index([index_document(session, doc)])
                late.append(doc.id)

    report = reindex(archive, batch=2, progress=during)
    assert seen_during == [2, 2]
    assert late and report.caught_up >= 1 and report.removed == 0
    wanted = _indexable(archive)
    assert report.documents == 30
    for reader in (archive.engine, other.engine):
        assert reader.count() == len(wanted) == 31
        assert reader.indexed_ids() == wanted
        assert _total(reader, "thuy loi") == 0  # the stale subject is gone
        assert _total(reader, "de dieu") == 30  # not the withheld one, not the unfinished one
        assert _total(reader, "lut bao") == 1  # indexed during the rebuild, kept
        assert _total(reader, "noi dung trang") == 30  # page text comes from the database
    other.close()
    with archive.db.session() as session:
        unmarked = session.scalar(select(func.count()).select_from(Document).where(
            Document.id.in_(wanted), Document.indexed_at.is_(None)))
    assert unmarked == 0


def test_reindex_twice_keeps_one_index_and_sqlite_keeps_two_files(archive):
    reindex(archive)
    reindex(archive)
    assert archive.engine.count() == 30
    if archive.settings.index_engine == "sqlite":
        files = {p.name for p in archive.settings.index_dir.iterdir() if p.name.endswith(".sqlite")}
        assert "fts.sqlite" in files and len(files) <= 3  # the link, the current file, the previous one
    elif archive.settings.index_engine == "tantivy":
        dirs = {p.name for p in archive.settings.index_dir.iterdir() if p.name.startswith("tantivy")}
        assert "tantivy" in dirs and len(dirs) <= 3  # the link, the current directory, the previous one
    else:
        client = archive.engine.client
        assert len(client.alias_targets(archive.settings.search_index)) == 1


def test_cli_reindex(archive, monkeypatch):
    s = archive.settings
    env = {"ARCHIVE_HOME": str(s.home), "ARCHIVE_DATABASE_URL": s.database_url,
           "ARCHIVE_INDEX_ENGINE": s.index_engine, "ARCHIVE_SEARCH_URL": s.search_url,
           "ARCHIVE_SEARCH_INDEX": s.search_index}
    result = CliRunner().invoke(cli, ["reindex", "--engine", s.index_engine], env=env)
    assert result.exit_code == 0, result.output
    assert "30 văn bản" in result.output
    assert archive.engine.count() == 30


def _generations(archive: Archive) -> set[str]:
    """The indexes that exist for this archive: files/directories (embedded) or cluster indices."""
    settings = archive.settings
    if settings.index_engine in ("sqlite", "tantivy"):
        return {p.name for p in settings.index_dir.iterdir()}
    import json
    import urllib.request

    with urllib.request.urlopen(f"{settings.search_url}/_cat/indices/{settings.search_index}-*?format=json") as answer:
        return {row["index"] for row in json.load(answer)}


def test_a_reindex_that_fails_half_way_leaves_the_old_index_serving(archive):
    reindex(archive)  # a settled archive: one generation serving
    before_generations = _generations(archive)
    before = {text: archive.engine.search(build_query(text, scope=None, per_page=50)) for text in ("de dieu", "")}

    def disk_full(done: int, total: int) -> None:
        if done < total:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        reindex(archive, batch=2, progress=disk_full)
    for text, result in before.items():
        after = archive.engine.search(build_query(text, scope=None, per_page=50))
        assert (after.total, [h.id for h in after.hits]) == (result.total, [h.id for h in result.hits])
    assert _generations(archive) == before_generations, "the half-built index was discarded"
    reopened = Archive.open(archive.settings, migrate=False)  # a process started after the failure
    try:
        assert reopened.engine.count() == 30
    finally:
        reopened.close()
