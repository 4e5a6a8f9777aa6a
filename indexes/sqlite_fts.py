"""The SQLite FTS5 engine: one file, no server; fine up to about a million documents.

Schema (rebuildable, created on first open, no migrations):

* ``docs`` — a narrow table with the filter and facet fields (unit_code,
  doc_type, direction, issued_date ISO, year, number_norm).
* ``doc_text`` — the original text, for snippets and to re-derive the index
  values on delete.
* ``docs_fts`` — a contentless FTS5 table (``content=''``, so the text is not
  stored a second and third time) with *folded* columns (``fold()``: no tones,
  đ→d) and *exact* columns (``fold.exact()``: tones kept), tokenizer
  ``unicode61 remove_diacritics 0``.

Each query term becomes ``({folded cols}: "folded") OR ({exact cols}: "exact")``
(the exact half only when the user typed tones);
terms are ANDed, negated terms removed with NOT.  bm25 weights number > subject
> issuer > body, and the exact columns add to the folded score, so the exact
tones rank above a folded match.  A document whose normalised number equals a
number in the query is sorted first.

Reads go through a pool of read-only connections (``mode=ro``) with a time
limit; writes through one connection guarded by a lock.  WAL lets an ingest
process write while web processes read.  A search is one statement: the
filtered match set is materialised once, and the total, the facets and the
ranked page are all read from it.

One module, over 400 lines on purpose: the whole of one engine behind ``SearchEngine``
(schema, writes, the query translation, facets and the read-only connection pool share one
connection discipline); ``sqlite_topk`` holds the capped variant.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .base import FacetValue, Hit, IndexDocument, SearchQuery, SearchResult, SearchTimeout, SearchUnavailable, Term
from .fold import exact, fold, normalize_number
from .highlight import fast_fold, snippet

SCHEMA_VERSION = "2"
# Folded and exact forms of every Vietnamese letter: if fold() ever changes, the
# values re-derived for deletes would no longer match the index.
_FOLD_PROBE = "aàáảãạăằắẳẵặâầấẩẫậđeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵ"
_FOLD_SIGNATURE = fold(_FOLD_PROBE.upper()) + "|" + exact(_FOLD_PROBE.upper())

FOLDED_COLS = ("f_number", "f_subject", "f_issuer", "f_body")
EXACT_COLS = ("x_subject", "x_issuer", "x_body")
# bm25 weights, in column order: number, subject, issuer, body (folded), then exact.
WEIGHTS = (10.0, 5.0, 3.0, 1.0, 5.0, 3.0, 1.0)
MAX_IDLE_READERS = 16
FACETS = ("unit_code", "doc_type", "direction", "year", "dossier")
TEXT_FIELDS = ("ma_van_ban", "number", "subject", "issuer", "signer", "body")

# ``docs`` is kept narrow (filters and facets only) so joining 100k matches to it
# stays cheap; the original text lives in ``doc_text``.
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    unit_code TEXT NOT NULL,
    doc_type TEXT NOT NULL DEFAULT '',
    direction TEXT NOT NULL DEFAULT '',
    issued_date TEXT,
    year INTEGER,
    number_norm TEXT NOT NULL DEFAULT '',
    dossier TEXT NOT NULL DEFAULT '',
    signature TEXT NOT NULL DEFAULT '',
    restricted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS docs_unit_date ON docs (unit_code, issued_date);
CREATE INDEX IF NOT EXISTS docs_date ON docs (issued_date);
CREATE INDEX IF NOT EXISTS docs_number ON docs (number_norm);
CREATE TABLE IF NOT EXISTS doc_text (
    id INTEGER PRIMARY KEY,
    {", ".join(f"{c} TEXT NOT NULL DEFAULT ''" for c in TEXT_FIELDS)}
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    {", ".join(FOLDED_COLS + EXACT_COLS)},
    content='', tokenize='unicode61 remove_diacritics 0'
);
"""

_WORD_RE = re.compile(r"[^\W_]+")


def _safe_words(term: Term) -> list[str]:
    """Letters and digits only, even if a caller built the Term by hand (defence in depth)."""
    return [w for word in term.words for w in _WORD_RE.findall(str(word))]


def _phrase(words: Iterable[str]) -> str:
    """An FTS5 string of plain words (quotes doubled anyway)."""
    return '"' + " ".join(words).replace('"', '""') + '"'


def _term_expr(words: list[str], *, negated: bool) -> str:
    folded_words = [fast_fold(w) for w in words]
    folded = f"{{{' '.join(FOLDED_COLS)}}} : {_phrase(folded_words)}"
    exact_words = [exact(w) for w in words]
    if negated or exact_words == folded_words:
        # Nothing to prefer when the user typed no tones (or for exclusions).
        return f"({folded})"
    exact_expr = f"{{{' '.join(EXACT_COLS)}}} : {_phrase(exact_words)}"
    return f"(({folded}) OR ({exact_expr}))"


def match_expression(terms: Sequence[Term]) -> tuple[str, str]:
    """(positive expression, negative expression) in FTS5 syntax; either may be ''."""
    positive: list[str] = []
    negative: list[str] = []
    for term in terms:
        words = _safe_words(term)
        if words:
            (negative if term.negated else positive).append(_term_expr(words, negated=term.negated))
    return " AND ".join(positive), " OR ".join(negative)


def _fts_values(text: dict[str, str]) -> tuple[str, ...]:
    """The FTS column values of a document's text: the same for insert and for delete."""
    number = f"{text['number']} {text['ma_van_ban']}"
    issuer = f"{text['issuer']} {text['signer']}"
    subject, body = text["subject"], text["body"]
    return (
        fast_fold(number),
        fast_fold(subject),
        fast_fold(issuer),
        fast_fold(body),
        exact(subject),
        exact(issuer),
        exact(body),
    )


def _texts(doc: IndexDocument) -> dict[str, str]:
    return {f: getattr(doc, f) or "" for f in TEXT_FIELDS}


def _row(doc: IndexDocument) -> tuple[Any, ...]:
    issued = doc.issued_date.isoformat() if doc.issued_date else None
    return (
        int(doc.id),
        doc.unit_code,
        doc.doc_type or "",
        doc.direction or "",
        issued,
        doc.issued_date.year if doc.issued_date else None,
        normalize_number(doc.number),
        doc.dossier or "",
        doc.signature or "",
        int(bool(doc.restricted)),
    )


_ALL_FTS = ", ".join(FOLDED_COLS + EXACT_COLS)
_FTS_INSERT = f"INSERT INTO docs_fts(rowid, {_ALL_FTS}) VALUES (?, {', '.join('?' * 7)})"
_FTS_DELETE = f"INSERT INTO docs_fts(docs_fts, rowid, {_ALL_FTS}) VALUES ('delete', ?, {', '.join('?' * 7)})"
_BM25 = f"bm25(f.docs_fts, {', '.join(map(str, WEIGHTS))})"
_DOC_COLUMNS = (
    "id",
    "unit_code",
    "doc_type",
    "direction",
    "issued_date",
    "year",
    "number_norm",
    "dossier",
    "signature",
    "restricted",
)
_DOC_INSERT = f"INSERT INTO docs ({', '.join(_DOC_COLUMNS)}) VALUES ({', '.join('?' * len(_DOC_COLUMNS))})"
# Columns added after schema 2: an older index file gets them (empty) when opened.
_ADDED_COLUMNS = {
    "dossier": "TEXT NOT NULL DEFAULT ''",
    "signature": "TEXT NOT NULL DEFAULT ''",
    "restricted": "INTEGER NOT NULL DEFAULT 0",
}
_TEXT_INSERT = f"INSERT INTO doc_text (id, {', '.join(TEXT_FIELDS)}) VALUES (?, {', '.join('?' * len(TEXT_FIELDS))})"


_TOO_SLOW = "Tìm kiếm mất quá nhiều thời gian; hãy thêm từ hoặc bộ lọc để thu hẹp."


class SqliteFtsEngine:
    """The ``SearchEngine`` on one SQLite file.  Thread- and process-safe."""

    name = "sqlite"

    def __init__(self, path: str | Path, *, time_limit_ms: int = 3000, snippet_chars: int = 240) -> None:
        self.path = Path(path)
        self.time_limit = time_limit_ms / 1000.0
        self.snippet_chars = snippet_chars
        self._lock = threading.RLock()
        self._idle: list[sqlite3.Connection] = []
        self._writer_conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        # ``path`` may be a symlink that ``switch_to`` moves to a rebuilt file: connections are
        # made to the file it names now, and dropped when it names another one.
        self._file = Path(os.path.realpath(self.path))
        self._borrowed: dict[int, Path] = {}
        self._closed = False
        self._ensure_schema()

    # -- connections -----------------------------------------------------
    def _check_pid(self) -> None:
        """After a fork, never reuse the parent's connections; after a switch, leave the old file."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._writer_conn = None
            self._idle = []  # the parent's connections: forget them, never close them here
        current = Path(os.path.realpath(self.path))
        if current != self._file:
            with self._lock:
                if current != self._file:
                    self._file = current
                    idle, self._idle = self._idle, []
                    for conn in idle:
                        conn.close()
                    if self._writer_conn is not None:
                        self._writer_conn.close()
                        self._writer_conn = None
                    self._ensure_schema()

    def _writer(self) -> sqlite3.Connection:
        self._check_pid()
        if self._closed:
            raise SearchUnavailable("search index is closed")
        if self._writer_conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self._file, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except (sqlite3.Error, OSError) as exc:
                raise SearchUnavailable(f"cannot open search index {self.path}: {exc}") from exc
            self._writer_conn = conn
        return self._writer_conn

    def _borrow(self) -> sqlite3.Connection:
        """An idle read-only connection, or a new one.

        A pool rather than one per thread: a threaded server starts a thread per
        request, and per-thread connections would pile up.
        """
        self._check_pid()
        with self._lock:
            if self._closed:
                raise SearchUnavailable("search index is closed")
            if self._idle:
                conn = self._idle.pop()
                self._borrowed[id(conn)] = self._file
                return conn
            target = self._file
        uri = target.as_uri() + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA mmap_size = 268435456")
            conn.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"cannot open search index {self.path}: {exc}") from exc
        with self._lock:
            self._borrowed[id(conn)] = target
        return conn

    def _give_back(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            target = self._borrowed.pop(id(conn), None)
            if (
                not self._closed
                and os.getpid() == self._pid
                and target == self._file
                and len(self._idle) < MAX_IDLE_READERS
            ):
                self._idle.append(conn)
                return
        conn.close()

    def _ensure_schema(self) -> None:
        with self._lock:
            conn = self._writer()
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                present = {row[1] for row in conn.execute("PRAGMA table_info(docs)")}
                for column, declaration in _ADDED_COLUMNS.items():
                    if column not in present:
                        conn.execute(f"ALTER TABLE docs ADD COLUMN {column} {declaration}")
                meta = dict(conn.execute("SELECT key, value FROM meta"))
                if not meta:
                    conn.executemany(
                        "INSERT INTO meta VALUES (?, ?)", [("schema", SCHEMA_VERSION), ("fold", _FOLD_SIGNATURE)]
                    )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise SearchUnavailable(f"cannot prepare search index {self.path}: {exc}") from exc
            self._stale = (
                meta.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION
                or meta.get("fold", _FOLD_SIGNATURE) != _FOLD_SIGNATURE
            )

    # -- writing ---------------------------------------------------------
    def _delete_in_tx(self, conn: sqlite3.Connection, ids: Iterable[int]) -> int:
        """Remove ids (inside the caller's transaction), feeding FTS the old values."""
        removed = 0
        for doc_id in ids:
            row = conn.execute(f"SELECT {', '.join(TEXT_FIELDS)} FROM doc_text WHERE id = ?", (doc_id,)).fetchone()
            if row is not None:
                conn.execute(_FTS_DELETE, (doc_id, *_fts_values(dict(zip(TEXT_FIELDS, row, strict=False)))))
                conn.execute("DELETE FROM doc_text WHERE id = ?", (doc_id,))
            removed += conn.execute("DELETE FROM docs WHERE id = ?", (doc_id,)).rowcount
        return removed

    def _write(self, work) -> Any:
        with self._lock:
            conn = self._writer()
            if self._stale:
                raise SearchUnavailable("search index was built by another version; clear and re-index it")
            try:
                conn.execute("BEGIN IMMEDIATE")
                result = work(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def index(self, documents: Iterable[IndexDocument]) -> int:
        """Upsert documents in one transaction (same id again replaces it); returns the count."""

        def work(conn: sqlite3.Connection) -> int:
            count = 0
            for doc in documents:
                texts = _texts(doc)
                self._delete_in_tx(conn, (int(doc.id),))
                conn.execute(_DOC_INSERT, _row(doc))
                conn.execute(_TEXT_INSERT, (int(doc.id), *texts.values()))
                conn.execute(_FTS_INSERT, (int(doc.id), *_fts_values(texts)))
                count += 1
            return count

        return self._write(work)

    def delete(self, ids: Sequence[int]) -> None:
        self._write(lambda conn: self._delete_in_tx(conn, [int(i) for i in ids]))

    def clear(self) -> None:
        """Drop everything and start an empty index (also after a version change)."""
        with self._lock:
            conn = self._writer()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table in ("docs_fts", "doc_text", "docs", "meta"):
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._ensure_schema()

    def optimize(self) -> None:
        """Merge the FTS segments after a large load (slow; optional)."""
        self._write(lambda conn: conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')"))

    # -- rebuild: a new file, then the symlink moves ---------------------
    def new_generation(self) -> SqliteFtsEngine:
        """An engine on a new, empty file beside this one (``fts-<UTC timestamp>.sqlite``)."""
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + f"{time.time_ns() % 1_000_000_000:09d}"
        return SqliteFtsEngine(
            self.path.parent / f"{self.path.stem}-{stamp}{self.path.suffix}",
            time_limit_ms=int(self.time_limit * 1000),
            snippet_chars=self.snippet_chars,
        )

    def switch_to(self, generation: SqliteFtsEngine) -> None:
        """Point ``path`` at ``generation``'s file in one rename; keep the previous file, drop older ones.

        Open readers finish on the file they had; each engine (in any process)
        moves to the new file at its next call.
        """
        generation.optimize()
        generation.close()
        previous = Path(os.path.realpath(self.path)) if self.path.exists() else None
        link = self.path.parent / f".{self.path.name}.{os.getpid()}.tmp"
        link.unlink(missing_ok=True)
        os.symlink(generation.path.name, link)
        os.replace(link, self.path)  # atomic: a reader sees the old file or the new one
        keep = {generation.path.name, previous.name if previous else ""}
        pattern = re.compile(re.escape(self.path.stem) + r"-\d+" + re.escape(self.path.suffix))
        for old in self.path.parent.iterdir():
            base = re.sub(r"-(wal|shm|journal)$", "", old.name)
            if base in keep:
                continue
            if pattern.fullmatch(base) or base == self.path.name and old.name != self.path.name:
                old.unlink(missing_ok=True)
        self._check_pid()

    def discard(self) -> None:
        """Close and delete this (unfinished) generation's file."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self._file}{suffix}").unlink(missing_ok=True)

    # -- reading ---------------------------------------------------------
    def _read(
        self, sql: str, params: Sequence[Any] = (), *, timed: bool = True, deadline: float | None = None
    ) -> list[tuple]:
        """Run one read statement; past the time limit (or the search's ``deadline``, shared by
        all its statements) it is interrupted or not started at all (``SearchTimeout``)."""
        if timed:
            deadline = deadline if deadline is not None else time.monotonic() + self.time_limit
            if time.monotonic() >= deadline:
                raise SearchTimeout(_TOO_SLOW)
        conn = self._borrow()
        if timed and deadline is not None:
            ends = deadline
            conn.set_progress_handler(lambda: 1 if time.monotonic() > ends else 0, 5000)
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise SearchTimeout(_TOO_SLOW) from exc
            raise SearchUnavailable(f"search index error: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise SearchUnavailable(f"search index error: {exc}") from exc
        finally:
            conn.set_progress_handler(None, 0)
            self._give_back(conn)

    def indexed_ids(self) -> set[int]:
        return {row[0] for row in self._read("SELECT id FROM docs", timed=False)}

    def count(self, scope: frozenset[str] | None = None) -> int:
        if scope is None:
            return self._read("SELECT count(*) FROM docs")[0][0]
        if not scope:
            return 0
        sql = "SELECT count(*) FROM docs WHERE unit_code IN (SELECT value FROM json_each(?))"
        return self._read(sql, (json.dumps(sorted(scope)),))[0][0]

    @staticmethod
    def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        for column, values in (
            ("unit_code", sorted(query.scope) if query.scope is not None else None),
            ("unit_code", query.unit_codes or None),
            ("doc_type", query.doc_types or None),
            ("direction", query.directions or None),
            ("dossier", query.dossiers or None),
        ):
            if values is not None:
                where.append(f"d.{column} IN (SELECT value FROM json_each(?))")
                params.append(json.dumps(list(values)))
        if query.date_from:
            where.append("d.issued_date >= ?")
            params.append(query.date_from.isoformat())
        if query.date_to:
            where.append("d.issued_date <= ?")
            params.append(query.date_to.isoformat())
        if query.number_filter:
            number = normalize_number(query.number_filter)
            prefixes = [p for p in query.number_prefixes if p]
            where.append("(d.number_norm = ?" + " OR substr(d.number_norm, 1, ?) = ?" * len(prefixes) + ")")
            params.append(number)
            for prefix in prefixes:
                params.extend([len(prefix), prefix])
        if query.signature:
            where.append("d.signature = ?")
            params.append(query.signature)
        if not query.restricted_ok:
            where.append("d.restricted = 0")
        return where, params

    def search(self, query: SearchQuery) -> SearchResult:
        """One pass over the match set: count, facets and the page come from one statement.

        One time budget covers the whole search: both statements and the snippets."""
        deadline = time.monotonic() + self.time_limit
        if query.scope is not None and not query.scope:
            return SearchResult(total=0, hits=[], facets={})
        positive, negative = match_expression(query.terms)
        where, params = self._filters(query)
        if negative:
            where.append("d.id NOT IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)")
            params.append(negative)
        if positive:
            # CROSS JOIN keeps FTS5 as the outer loop: the planner must not probe it per row.
            source = "docs_fts f CROSS JOIN docs d ON d.id = f.rowid"
            where.insert(0, "f.docs_fts MATCH ?")
            params.insert(0, positive)
        else:
            source = "docs d"
        relevance = bool(positive) and query.sort == "relevance"
        hit, select_params, parts = match_set_selects(query, relevance)
        sql = (
            f"WITH m AS MATERIALIZED (SELECT d.id AS id, {_BM25 if relevance else '0.0'} AS score, "
            f"{hit} AS hit, d.issued_date AS issued_date, {', '.join('d.' + f for f in FACETS)} "
            f"FROM {source} WHERE {' AND '.join(where) or '1'}) " + " UNION ALL ".join(parts)
        )
        rows = self._read(sql, [*select_params, *params, query.per_page, query.offset], deadline=deadline)
        total = 0
        facet_values: dict[str, list[FacetValue]] = {f: [] for f in query.facets if f in FACETS}
        ranked: list[tuple[int, float]] = []
        for kind, name, count, value in rows:
            if kind == 0:
                total = count
            elif kind == 1:
                facet_values[name].append(FacetValue(str(value), count))
            else:
                ranked.append((count, -float(value) if relevance else 0.0))
        for name, values in facet_values.items():
            # Years newest first; the others most frequent first.
            values.sort(
                key=(lambda v: v.value) if name == "year" else (lambda v: (-v.count, v.value)), reverse=name == "year"
            )
        if total == 0:
            return SearchResult(total=0, hits=[], facets=facet_values)
        return SearchResult(total=total, hits=self._hits(ranked, query, deadline), facets=facet_values)

    def _hits(self, ranked: list[tuple[int, float]], query: SearchQuery, deadline: float) -> list[Hit]:
        if not ranked:
            return []
        if not query.with_snippets:
            return [Hit(id=i, score=s) for i, s in ranked]
        ids = [i for i, _ in ranked]
        rows = self._read(
            "SELECT id, subject, body FROM doc_text WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
            deadline=deadline,
        )
        texts = {row[0]: (row[1], row[2]) for row in rows}
        hits = []
        for doc_id, score in ranked:
            subject, body = texts.get(doc_id, ("", ""))
            if time.monotonic() < deadline:
                text = snippet(body, query.terms, self.snippet_chars, fallback=subject)
            else:  # out of budget: the subject, unmarked, costs nothing
                text = snippet(subject or body[: self.snippet_chars], (), self.snippet_chars)
            hits.append(Hit(id=doc_id, score=score, snippet=text))
        return hits

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            for conn in idle:
                conn.close()
            if self._writer_conn is not None:
                self._writer_conn.close()
                self._writer_conn = None


def match_set_selects(query: SearchQuery, relevance: bool) -> tuple[str, list[Any], list[str]]:
    """The pieces read from the match set ``m`` in one statement: the number-hit expression (and its
    parameter), then the total, one count per facet and the ranked page, as UNION ALL parts."""
    select_params: list[Any] = []
    if relevance and query.numbers:
        hit = "d.number_norm IN (SELECT value FROM json_each(?))"
        select_params.append(json.dumps(list(query.numbers)))
    else:
        hit = "0"
    if relevance:
        order = "hit DESC, score, id DESC"
    elif query.sort == "date_asc":
        order = "issued_date ASC NULLS LAST, id ASC"
    else:
        order = "issued_date DESC NULLS LAST, id DESC"
    facets = [f for f in query.facets if f in FACETS]
    parts = ["SELECT 0, '', count(*), NULL FROM m"]
    parts += [f"SELECT 1, '{f}', count(*), {f} FROM m WHERE {f} IS NOT NULL AND {f} != '' GROUP BY {f}" for f in facets]
    parts.append(f"SELECT * FROM (SELECT 2, '', id, score FROM m ORDER BY {order} LIMIT ? OFFSET ?)")
    return hit, select_params, parts
