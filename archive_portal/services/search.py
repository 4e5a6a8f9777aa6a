"""The search service: request parameters in, a page of visible results out.

Parse (here) → build (``indexes.query.build_query``) → run (the engine) →
hydrate (the database).  The account's scope goes into the query, and every
hit and facet is checked against it again before it leaves this module.

Every function reads through the session it is given (the web request's unit
of work, or a CLI's own): one search page is one session.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from archive_core.collation import vietnamese_key
from archive_core.context import Archive
from archive_core.db.models import Document, OldUnit
from archive_core.errors import USER_ERRORS, UserError
from indexes.base import SearchQuery, SearchTimeout, SearchUnavailable
from indexes.highlight import fast_fold
from indexes.query import MAX_PAGE, build_query

from .formatting import DIRECTION_LABELS, direction_label, format_count, format_date, parse_user_date
from .generation import GenerationCache
from .scope import may_read, may_see_restricted

log = logging.getLogger(__name__)

SORTS = {"relevance": "Liên quan nhất", "date_desc": "Mới nhất", "date_asc": "Cũ nhất"}
FACET_TITLES = {
    "unit_code": "Đơn vị cũ",
    "doc_type": "Loại văn bản",
    "direction": "Hướng",
    "year": "Năm",
    "dossier": "Hồ sơ",
}
SIGNED_VALID = "hop_le"  # ?chu_ky=hop_le: "có chữ ký số hợp lệ" (ingest.signatures.VALID)
MAX_FILTER_VALUES = 20
MAX_PARAM_LENGTH = 500


class SearchInputError(UserError):
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
    dossiers: list[str] = field(default_factory=list)
    signed: bool = False  # only documents whose digital signatures are all valid
    sort: str = "relevance"
    page: int = 1

    @property
    def is_empty(self) -> bool:
        return not (
            self.q
            or self.units
            or self.types
            or self.directions
            or self.date_from_text
            or self.date_to_text
            or self.number
            or self.dossiers
            or self.signed
        )

    def to_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for this search, with ``changes`` applied (for links)."""
        args: dict[str, Any] = {
            "q": self.q,
            "unit": self.units,
            "type": self.types,
            "direction": self.directions,
            "from": self.date_from_text,
            "to": self.date_to_text,
            "number": self.number,
            "ho_so": self.dossiers,
            "chu_ky": SIGNED_VALID if self.signed else "",
            "sort": self.sort if self.sort != "relevance" else "",
            "page": self.page if self.page > 1 else "",
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
    # The engine counted a sample (more matches than ARCHIVE_SEARCH_EXACT_TOTAL_UP_TO): ``total`` is a lower
    # bound, said "hơn 450.000", and the facet counts are estimates.
    total_is_lower_bound: bool = False

    @property
    def total_text(self) -> str:
        """The total as the page says it: "1.234", or "hơn 450.000" for a lower bound."""
        return ("hơn " if self.total_is_lower_bound else "") + format_count(self.total)

    @property
    def pages(self) -> int:
        """Pages that exist and can be opened: no more than the (lower-bound) total fills, nor than MAX_PAGE."""
        return min(MAX_PAGE, max(1, math.ceil(self.total / self.per_page))) if self.per_page else 1

    @property
    def pages_text(self) -> str:
        """The page count as said: "23", or "ít nhất 23" when the total is a lower bound and more may follow."""
        more = self.total_is_lower_bound and self.pages < MAX_PAGE
        return ("ít nhất " if more else "") + format_count(self.pages)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.page < self.pages:
            return True
        # Past a lower bound a full page may have a next one; it is offered, never promised in the count.
        return self.total_is_lower_bound and len(self.hits) == self.per_page and self.page < MAX_PAGE


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
        dossiers=_get_list(params, "ho_so"),
        signed=_get_one(params, "chu_ky") == SIGNED_VALID,
        sort=sort if sort in SORTS else "relevance",
        page=max(1, page),
    )


def unit_names(session: Session, codes: set[str] | frozenset[str]) -> dict[str, str]:
    """Names of the old units ``codes`` (for hits and facets), from every old unit's name kept per
    process until the units change (a few hundred rows, read again on each search before)."""
    if not codes:
        return {}
    names = _unit_names.get(
        session,
        "unit_names",
        lambda: {code: name for code, name in session.execute(select(OldUnit.code, OldUnit.name))},
    )
    return {code: names[code] for code in codes if code in names}


@dataclass(frozen=True)
class UnitOption:
    code: str
    label: str  # "Lạc Đạo (xã, 11989)"
    search: str  # folded words for filtering as one types


@dataclass(frozen=True)
class UnitGroup:
    label: str  # the old district (or province) the units belonged to, with its code
    options: list[UnitOption]


_PREFIXES = ("thành phố ", "thị xã ", "thị trấn ", "huyện ", "quận ", "phường ", "xã ", "tỉnh ")


def _proper_name(name: str) -> tuple[str, str]:
    """("Lạc Đạo", "xã") from "Xã Lạc Đạo": officials look a unit up by its own name."""
    clean = " ".join(name.split())
    for prefix in _PREFIXES:
        if clean.lower().startswith(prefix):
            return clean[len(prefix) :], prefix.strip()
    return clean, ""


@dataclass(frozen=True)
class SearchMenus:
    """The search form's menus for one scope: the old units and the document types it may narrow to."""

    units: list[UnitGroup]
    doc_types: list[str]


# Scopes kept per process (a province has a few hundred new units); see services.generation.
_menus: GenerationCache[SearchMenus] = GenerationCache(size=512)
_unit_names: GenerationCache[dict[str, str]] = GenerationCache(size=4)


def search_menus(session: Session, scope: frozenset[str] | None) -> SearchMenus:
    """The menus of the search form for ``scope``, computed once per change of the documents.

    Computing them reads the documents table (the distinct types and holding units of the
    scope: tens of milliseconds at a million documents for one commune, hundreds for the whole
    archive), so they are kept per process under the database's change counter
    (``services.generation``) and the scope, and reused until a trigger of the database bumps
    the counter: an ingest, a withhold or release, a document's type or unit changed, the units
    mapping loaded.  Every value handed out is checked against the scope again.
    """
    menus = _menus.get(
        session,
        ("menus", scope),
        lambda: SearchMenus(units_in_scope(session, scope), doc_types_in_scope(session, scope)),
    )
    return _in_scope(menus, scope)


def _in_scope(menus: SearchMenus, scope: frozenset[str] | None) -> SearchMenus:
    """``menus`` with any unit outside ``scope`` left out (it never should be there)."""
    if scope is None:
        return menus
    groups = []
    for group in menus.units:
        options = [o for o in group.options if o.code in scope]
        if len(options) != len(group.options):
            log.error("search menu units dropped: outside the account's scope")
        if options:
            groups.append(UnitGroup(group.label, options))
    return SearchMenus(groups, menus.doc_types if scope else [])


def units_in_scope(session: Session, scope: frozenset[str] | None) -> list[UnitGroup]:
    """The old units a search may be narrowed to, grouped by old district, in Vietnamese order, with codes.

    An account with a scope is offered only its units that hold a searchable document; admins all units.
    """
    stmt = select(OldUnit.code, OldUnit.name, OldUnit.level, OldUnit.parent_code)
    if scope is not None:
        if not scope:
            return []
        holding = (
            select(Document.unit_code)
            .where(Document.withheld.is_(False), Document.unit_code.in_(list(scope)))
            .distinct()
        )
        stmt = stmt.where(OldUnit.code.in_(list(scope)), OldUnit.code.in_(holding))
    rows = list(session.execute(stmt))
    parents = {p for _c, _n, level, p in rows if p and level != "tinh"}
    names = (
        dict(
            session.execute(
                select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_(list(parents | {c for c, *_ in rows})))
            ).all()
        )
        if rows
        else {}
    )
    groups: dict[str, list[tuple[Any, UnitOption]]] = {}
    for code, name, level, parent in rows:
        own, kind = _proper_name(name)
        group = code if level in ("huyen", "tinh") else (parent or "")
        label = f"{own} ({kind + ', ' if kind else ''}{code})"
        if group == code:
            label = f"Văn bản của chính {name} ({code})"
        key = (0, ()) if group == code else (1, vietnamese_key(own))
        groups.setdefault(group, []).append((key, UnitOption(code, label, fast_fold(f"{name} {code}"))))
    out = []
    for group, options in groups.items():
        title = names.get(group, group)
        label = f"{title} ({group})" if group else "Khác"
        out.append(
            (
                (0, vietnamese_key(_proper_name(title)[0])) if group else (1, ()),
                UnitGroup(label, [o for _k, o in sorted(options, key=lambda pair: pair[0])]),
            )
        )
    return [g for _k, g in sorted(out, key=lambda pair: pair[0])]


def search_documents(
    session: Session, archive: Archive, *, account_scope: frozenset[str] | None, params: Mapping[str, Any]
) -> SearchPage:
    """Run one search for an account; errors of the user's making come back in ``.error``."""
    parsed = parse_params(params)
    per_page = archive.settings.search_page_size
    result_page = SearchPage(params=parsed, page=parsed.page, per_page=per_page)
    try:
        query = search_query(archive, account_scope, parsed, page=parsed.page, per_page=per_page)
    except USER_ERRORS as exc:
        result_page.error = str(exc) or "Yêu cầu tìm kiếm không hợp lệ."
        return result_page
    try:
        result = archive.engine.search(query)
    except SearchTimeout as exc:  # the search ran past ARCHIVE_SEARCH_TIMEOUT_MS: say so, and how to narrow it
        log.warning("search past its time budget: %s", exc)
        result_page.error = str(exc)
        result_page.unavailable = True
        return result_page
    except SearchUnavailable:
        log.exception("search engine unavailable")
        result_page.error = "Dịch vụ tìm kiếm tạm thời không sẵn sàng. Vui lòng thử lại sau."
        result_page.unavailable = True
        return result_page
    result_page.searched = True
    result_page.hits, dropped = hydrate(session, result.hits, account_scope)
    result_page.total = max(0, result.total - dropped)
    result_page.total_is_lower_bound = result.total_is_lower_bound
    if result.total_is_lower_bound:  # a sample's lower bound, never below the documents already shown
        result_page.total = max(result_page.total, (parsed.page - 1) * per_page + len(result_page.hits))
    result_page.facets = _facets(session, result.facets, account_scope, parsed)
    return result_page


def search_query(
    archive: Archive, account_scope: frozenset[str] | None, parsed: SearchParams, *, page: int, per_page: int
) -> SearchQuery:
    """The engine query of a parsed search (the account's scope included); raises the user's errors."""
    if len(parsed.q) > archive.settings.max_query_length:
        raise SearchInputError(f"Câu tìm kiếm quá dài (tối đa {archive.settings.max_query_length} ký tự).")
    bad = [d for d in parsed.directions if d not in DIRECTION_LABELS]
    if bad:
        raise SearchInputError("Hướng văn bản không hợp lệ.")
    date_from = parse_user_date(parsed.date_from_text)
    date_to = parse_user_date(parsed.date_to_text)
    if date_from and date_to and date_from > date_to:
        raise SearchInputError("“Từ ngày” phải trước hoặc bằng “Đến ngày”.")
    return build_query(
        parsed.q,
        scope=account_scope,
        unit_codes=tuple(parsed.units),
        doc_types=tuple(parsed.types),
        directions=tuple(parsed.directions),
        date_from=date_from,
        date_to=date_to,
        number=parsed.number,
        dossiers=tuple(parsed.dossiers),
        signature=SIGNED_VALID if parsed.signed else "",
        restricted_ok=may_see_restricted(account_scope),
        sort=parsed.sort,
        page=page,
        per_page=per_page,
    )


HIT_COLUMNS = (
    Document.id,
    Document.ma_van_ban,
    Document.number,
    Document.issued_date,
    Document.issued_date_raw,
    Document.doc_type,
    Document.direction,
    Document.subject,
    Document.issuer,
    Document.unit_code,
    Document.withheld,
    Document.text_ready,
    Document.restricted,
)

# Built once: building the select and its IN list cost a search request ~0.5 ms.
_HITS = select(*HIT_COLUMNS).where(Document.id.in_(bindparam("ids", expanding=True)))


def hydrate(session: Session, hits, scope: frozenset[str] | None) -> tuple[list[HitView], int]:
    ids = [h.id for h in hits]
    if not ids:
        return [], 0
    # The columns a hit shows and ``may_read`` tests, not whole rows (JSON provenance, remarks...).
    docs = {d.id: d for d in session.execute(_HITS, {"ids": ids})}
    names = unit_names(session, {d.unit_code for d in docs.values()})
    out: list[HitView] = []
    dropped = 0
    for hit in hits:
        doc = docs.get(hit.id)
        if doc is None or not may_read(doc, scope):
            log.error("search hit %s dropped: missing, withheld or outside the account's scope", hit.id)
            dropped += 1
            continue
        snippet = Markup(hit.snippet) if hit.snippet else escape(doc.subject[:300])
        out.append(
            HitView(
                id=doc.id,
                ma_van_ban=doc.ma_van_ban,
                number=doc.number,
                issued_date=doc.issued_date,
                issued_date_display=format_date(doc.issued_date) or doc.issued_date_raw,
                doc_type=doc.doc_type,
                direction=doc.direction,
                direction_label=direction_label(doc.direction),
                subject=doc.subject,
                issuer=doc.issuer,
                unit_code=doc.unit_code,
                unit_name=names.get(doc.unit_code, doc.unit_code),
                snippet=Markup(snippet),
                score=hit.score,
            )
        )
    return out, dropped


def _facets(session: Session, facets, scope: frozenset[str] | None, params: SearchParams) -> dict[str, list[FacetView]]:
    selected = {
        "unit_code": params.units,
        "doc_type": params.types,
        "direction": params.directions,
        "dossier": params.dossiers,
    }
    unit_values = {v.value for v in facets.get("unit_code", [])}
    names = unit_names(session, unit_values)
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


def doc_types_in_scope(session: Session, scope: frozenset[str] | None) -> list[str]:
    """The document types present among the visible documents, for the type filter."""
    if scope is not None and not scope:
        return []
    stmt = select(Document.doc_type).where(Document.doc_type != "", Document.withheld.is_(False)).distinct()
    if scope is not None:
        stmt = stmt.where(Document.unit_code.in_(list(scope)))
    return sorted(session.scalars(stmt), key=str.lower)


# The query-string arguments a facet's click sets: its own values, or a year's date range.
FACET_ARGUMENTS = {
    "unit_code": ("unit",),
    "doc_type": ("type",),
    "direction": ("direction",),
    "dossier": ("ho_so",),
    "year": ("from", "to"),
}


_CHOSEN = {"unit": "units", "type": "types", "direction": "directions", "ho_so": "dossiers"}  # SearchParams' lists


def facet_click(params: SearchParams, facet: str, value: str) -> dict[str, Any]:
    """The facet's own query-string arguments after clicking ``value`` (the rest stay, from page 1): the value
    toggled among the chosen ones, or a year's date range."""
    if facet == "year":
        return {"from": f"01/01/{value}", "to": f"31/12/{value}"}
    key = FACET_ARGUMENTS[facet][0]
    current = getattr(params, _CHOSEN[key])
    return {key: [v for v in current if v != value] if value in current else [*current, value]}
