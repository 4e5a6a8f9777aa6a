"""What only the SQLite engine has: read-only readers, time limit, threads, processes, versions."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from indexes.base import IndexDocument, SearchTimeout, SearchUnavailable
from indexes.query import build_query
from indexes.sqlite_fts import SqliteFtsEngine

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]


def _docs(n: int, start: int = 1) -> list[IndexDocument]:
    return [IndexDocument(id=i, unit_code=f"U{i % 5}", subject=f"Kế hoạch đất đai số {i}",
                          body="ủy ban nhân dân tỉnh Hưng Yên " * 20, issued_date=date(2020, 1, 1))
            for i in range(start, start + n)]


@pytest.fixture
def sqlite_engine(tmp_path):
    eng = SqliteFtsEngine(tmp_path / "sub" / "fts.sqlite")
    yield eng
    eng.close()


def test_schema_is_created_on_first_open_in_wal_mode(sqlite_engine):
    assert sqlite_engine.path.exists()
    conn = sqlite3.connect(sqlite_engine.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_reader_connection_is_read_only(sqlite_engine):
    sqlite_engine.index(_docs(3))
    conn = sqlite_engine._borrow()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM docs")
    sqlite_engine._give_back(conn)
    assert sqlite_engine.count() == 3


def test_time_limit_gives_a_clear_error(tmp_path):
    eng = SqliteFtsEngine(tmp_path / "fts.sqlite", time_limit_ms=0)
    eng.index(_docs(3000))
    with pytest.raises(SearchTimeout, match="quá nhiều thời gian"):
        eng.search(build_query("hung yen", scope=None))
    eng.close()


def test_many_threads_read_while_one_writes(sqlite_engine):
    sqlite_engine.index(_docs(200))
    errors: list[BaseException] = []

    def read(_: int) -> int:
        try:
            return sqlite_engine.search(build_query("dat dai", scope=None)).total
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            raise

    writer = threading.Thread(target=lambda: [sqlite_engine.index(_docs(10, 1000 + 10 * k)) for k in range(20)])
    writer.start()
    with ThreadPoolExecutor(8) as pool:
        totals = list(pool.map(read, range(200)))
    writer.join()
    assert not errors
    assert all(200 <= t <= 400 for t in totals)
    assert sqlite_engine.search(build_query("dat dai", scope=None)).total == 400
    assert len(sqlite_engine._idle) <= 8  # connections are reused, not one per thread


def test_readers_do_not_pile_up_with_short_lived_threads(sqlite_engine):
    sqlite_engine.index(_docs(5))
    for _ in range(50):
        t = threading.Thread(target=lambda: sqlite_engine.search(build_query("ke hoach", scope=None)))
        t.start()
        t.join()
    assert len(sqlite_engine._idle) == 1


def test_another_process_reads_what_this_one_wrote(sqlite_engine):
    sqlite_engine.index(_docs(5))
    code = (
        "import sys; from indexes.sqlite_fts import SqliteFtsEngine; from indexes.query import build_query;"
        "e = SqliteFtsEngine(sys.argv[1]);"
        "print(e.search(build_query('ke hoach', scope=frozenset({'U1'}))).total); e.close()"
    )
    out = subprocess.run([sys.executable, "-c", code, str(sqlite_engine.path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "1"


def test_two_engines_on_one_file_see_each_others_writes(sqlite_engine):
    other = SqliteFtsEngine(sqlite_engine.path)
    other.index(_docs(4))
    assert sqlite_engine.count() == 4
    sqlite_engine.delete([1])
    assert other.indexed_ids() == {2, 3, 4}
    other.close()


def test_index_built_with_another_folding_refuses_writes_until_cleared(sqlite_engine):
    sqlite_engine.index(_docs(2))
    conn = sqlite3.connect(sqlite_engine.path)
    conn.execute("UPDATE meta SET value = 'old' WHERE key = 'fold'")
    conn.commit()
    conn.close()
    reopened = SqliteFtsEngine(sqlite_engine.path)
    with pytest.raises(SearchUnavailable):
        reopened.index(_docs(1, 50))
    assert reopened.count() == 2  # still readable
    reopened.clear()
    assert reopened.index(_docs(1, 50)) == 1
    reopened.close()


def test_failed_batch_leaves_the_index_unchanged(sqlite_engine):
    sqlite_engine.index(_docs(2))

    def batch():
        yield from _docs(3, 10)
        raise RuntimeError("ingest crashed")

    with pytest.raises(RuntimeError):
        sqlite_engine.index(batch())
    assert sqlite_engine.indexed_ids() == {1, 2}


def test_closed_engine_is_unavailable(sqlite_engine):
    sqlite_engine.close()
    with pytest.raises(SearchUnavailable):
        sqlite_engine.search(build_query("a", scope=None))
