"""The search service: request parameters in, a page of visible results out.

Parse (here) → build (``indexes.query.build_query``) → run (the engine) →
hydrate (the database).  The account's scope goes into the query, and every
hit and facet is checked against it again before it leaves this module.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from markupsafe import Markup, escape
from sqlalchemy import select

from indexes.base import SearchUnavailable

from archive_core.context import Archive
from archive_core.db.models import Document, OldUnit
from .formatting import DIRECTION_LABELS, direction_label, format_date, parse_user_date

log = logging.getLogger(__name__)

SORTS = {"relevance": "Liên quan nhất", "date_desc": "Mới nhất", "date_asc": "Cũ nhất"}
FACET_TITLES = {"unit_code": "Đơn vị cũ", "doc_type": "Loại văn bản", "direction": "Hướng", "year": "Năm"}
MAX_FILTER_VALUES = 20
MAX_PARAM_LENGTH = 500


class SearchInputError(ValueError):
    """The request cannot be searched; the message is Vietnamese and shown as is."""


@dataclass
class SearchParams:
    q: str = ""
    units: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    directions: list[str] = field(default_factory=list)
    date_from_text: str = ""
    date_to_text: str = ""
    number: str = ""
    sort: str = "relevance"
    page: int = 1

    @property
    def is_empty(self) -> bool:
        return not (self.q or self.units or self.types or self.directions
                    or self.date_from_text or self.date_to_text or self.number)

    def to_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for this search, with ``changes`` applied (for links)."""
        args: dict[str, Any] = {
            "q": self.q, "unit": self.units, "type": self.types, "direction": self.directions,
            "from": self.date_from_text, "to": self.date_to_text, "number": self.number,
            "sort": self.sort if self.sort != "relevance" else "", "page": self.page if self.page > 1 else "",
        }
        args.update(changes)
        return {k: v for k, v in args.items() if v not in ("", None, [], ())}


@dataclass(frozen=True)
class HitView:
    id: int
    ma_van_ban: str
    number: str
    issued_date: date | None
    issued_date_display: str
    doc_type: str
    direction: str
    direction_label: str
    subject: str
    issuer: str
    unit_code: str
    unit_name: str
    snippet: Markup
    score: float


@dataclass(frozen=True)
class FacetView:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchPage:
    params: SearchParams
    hits: list[HitView] = field(default_factory=list)
    total: int = 0
    facets: dict[str, list[FacetView]] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20
    error: str = ""
    unavailable: bool = False
    searched: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _get_list(params: Mapping[str, Any], key: str) -> list[str]:
    if hasattr(params, "getlist"):
        values = params.getlist(key)
    else:
        raw = params.get(key)
        values = [] if raw is None else (list(raw) if isinstance(raw, (list, tuple)) else [raw])
    out: list[str] = []
    for value in values:
        text = str(value).strip()[:MAX_PARAM_LENGTH]
        if text and text not in out:
            out.append(text)
    return out[:MAX_FILTER_VALUES]


def _get_one(params: Mapping[str, Any], key: str) -> str:
    values = _get_list(params, key)
    return values[0] if values else ""


def _first_raw(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value or "").strip()


def parse_params(params: Mapping[str, Any]) -> SearchParams:
    """Request parameters as typed values; never raises (bad values are checked later)."""
    page_text = _get_one(params, "page")
    try:
        page = int(page_text) if page_text else 1
    except ValueError:
        page = 1
    sort = _get_one(params, "sort") or "relevance"
    return SearchParams(
        q=_first_raw(params, "q"),
        units=_get_list(params, "unit"),
        types=_get_list(params, "type"),
        directions=_get_list(params, "direction"),
        date_from_text=_get_one(params, "from"),
        date_to_text=_get_one(params, "to"),
        number=_get_one(params, "number"),
        sort=sort if sort in SORTS else "relevance",
        page=max(1, page),
    )


def unit_names(archive: Archive, codes: set[str] | frozenset[str]) -> dict[str, str]:
    if not codes:
        return {}
    with archive.db.session() as session:
        rows = session.execute(select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_(list(codes))))
        return {code: name for code, name in rows}


def units_in_scope(archive: Archive, scope: frozenset[str] | None) -> list[tuple[str, str]]:
    """(code, name) of the old units a search may be narrowed to, by name."""
    with archive.db.session() as session:
        stmt = select(OldUnit.code, OldUnit.name).order_by(OldUnit.level, OldUnit.name)
        if scope is not None:
            if not scope:
                return []
            stmt = stmt.where(OldUnit.code.in_(list(scope)))
        return [(code, name) for code, name in session.execute(stmt)]


def search_documents(
    archive: Archive, *, account_scope: frozenset[str] | None, params: Mapping[str, Any]
) -> SearchPage:
    """Run one search for an account; errors of the user's making come back in ``.error``."""
    from indexes.query import QueryError, build_query

    parsed = parse_params(params)
    per_page = archive.settings.search_page_size
    result_page = SearchPage(params=parsed, page=parsed.page, per_page=per_page)
    try:
        if len(parsed.q) > archive.settings.max_query_length:
            raise SearchInputError(
                f"Câu tìm kiếm quá dài (tối đa {archive.settings.max_query_length} ký tự)."
            )
        bad = [d for d in parsed.directions if d not in DIRECTION_LABELS]
        if bad:
            raise SearchInputError("Hướng văn bản không hợp lệ.")
        date_from = parse_user_date(parsed.date_from_text)
        date_to = parse_user_date(parsed.date_to_text)
        if date_from and date_to and date_from > date_to:
            raise SearchInputError("“Từ ngày” phải trước hoặc bằng “Đến ngày”.")
        query = build_query(
            parsed.q, scope=account_scope, unit_codes=tuple(parsed.units), doc_types=tuple(parsed.types),
            directions=tuple(parsed.directions), date_from=date_from, date_to=date_to,
            number=parsed.number, sort=parsed.sort, page=parsed.page, per_page=per_page,
        )
    except (QueryError, SearchInputError, ValueError) as exc:
        result_page.error = str(exc) or "Yêu cầu tìm kiếm không hợp lệ."
        return result_page
    try:
        result = archive.engine.search(query)
    except SearchUnavailable:
        log.exception("search engine unavailable")
        result_page.error = "Dịch vụ tìm kiếm tạm thời không sẵn sàng. Vui lòng thử lại sau."
        result_page.unavailable = True
        return result_page
    result_page.searched = True
    result_page.hits, dropped = _hydrate(archive, result.hits, account_scope)
    result_page.total = max(0, result.total - dropped)
    result_page.facets = _facets(archive, result.facets, account_scope, parsed)
    return result_page


def _hydrate(archive: Archive, hits, scope: frozenset[str] | None) -> tuple[list[HitView], int]:
    ids = [h.id for h in hits]
    if not ids:
        return [], 0
    with archive.db.session() as session:
        docs = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(ids)))}
        names = {c: n for c, n in session.execute(
            select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_({d.unit_code for d in docs.values()}))
        )}
    out: list[HitView] = []
    dropped = 0
    for hit in hits:
        doc = docs.get(hit.id)
        if doc is None or doc.withheld or (scope is not None and doc.unit_code not in scope):
            log.error("search hit %s dropped: missing, withheld or outside the account's scope", hit.id)
            dropped += 1
            continue
        snippet = Markup(hit.snippet) if hit.snippet else escape(doc.subject[:300])
        out.append(HitView(
            id=doc.id, ma_van_ban=doc.ma_van_ban, number=doc.number, issued_date=doc.issued_date,
            issued_date_display=format_date(doc.issued_date) or doc.issued_date_raw,
            doc_type=doc.doc_type, direction=doc.direction, direction_label=direction_label(doc.direction),
            subject=doc.subject, issuer=doc.issuer, unit_code=doc.unit_code,
            unit_name=names.get(doc.unit_code, doc.unit_code), snippet=Markup(snippet), score=hit.score,
        ))
    return out, dropped


def _facets(archive: Archive, facets, scope: frozenset[str] | None, params: SearchParams) -> dict[str, list[FacetView]]:
    selected = {"unit_code": params.units, "doc_type": params.types, "direction": params.directions}
    unit_values = {v.value for v in facets.get("unit_code", [])}
    names = unit_names(archive, unit_values)
    out: dict[str, list[FacetView]] = {}
    for name in FACET_TITLES:
        values = []
        for value in facets.get(name, []):
            if not value.value or value.count <= 0:
                continue
            if name == "unit_code" and scope is not None and value.value not in scope:
                log.error("facet value %s dropped: outside the account's scope", value.value)
                continue
            if name == "unit_code":
                label = names.get(value.value, value.value)
            elif name == "direction":
                label = direction_label(value.value)
            else:
                label = value.value
            values.append(FacetView(value.value, label, value.count, value.value in selected.get(name, [])))
        if values:
            out[name] = values
    return out


def doc_types_in_scope(archive: Archive, scope: frozenset[str] | None) -> list[str]:
    """The document types present among the visible documents, for the type filter."""
    if scope is not None and not scope:
        return []
    with archive.db.session() as session:
        stmt = select(Document.doc_type).where(Document.doc_type != "", Document.withheld.is_(False)).distinct()
        if scope is not None:
            stmt = stmt.where(Document.unit_code.in_(list(scope)))
        return sorted(session.scalars(stmt), key=str.lower)


def facet_args(params: SearchParams, facet: str, value: str) -> dict[str, Any]:
    """Query-string arguments after clicking a facet value (toggles it; a year sets the date range)."""
    if facet == "year":
        return params.to_args(**{"from": f"01/01/{value}", "to": f"31/12/{value}", "page": ""})
    key, current = {
        "unit_code": ("unit", params.units), "doc_type": ("type", params.types),
        "direction": ("direction", params.directions),
    }[facet]
    values = [v for v in current if v != value] if value in current else [*current, value]
    return params.to_args(**{key: values, "page": ""})
