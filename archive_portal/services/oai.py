"""OAI-PMH 2.0 data provider: Dublin Core records of the documents' metadata.

Only catalogue metadata (title = subject, creator = issuer, publisher = old
unit, date, type, identifiers, formats) of documents that are not withheld
and lie inside the caller's scope; never the text, never the files.  One set
per old unit (``unit:<code>``).  Datestamps are the time a document entered
the archive (UTC, seconds granularity); deletions are not tracked
(``deletedRecord`` = ``no``).  Resumption tokens are signed and carry the
last id returned, so paging is stable while documents are being added.

The protocol: https://www.openarchives.org/OAI/openarchivesprotocol.html

One module, over 400 lines on purpose: the six verbs share the scope, the token paging
and the record writer, and read best as one protocol implementation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive_core.clock import utcnow
from archive_core.db.models import Document, OldUnit

from .scope import may_read, may_see_restricted

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_XSD = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_XSD = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
ID_XSD = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"

METADATA_FORMATS = {"oai_dc": (OAI_DC_XSD, OAI_DC_NS)}
SET_PREFIX = "unit:"
TOKEN_LIFETIME = timedelta(hours=24)
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

VERBS: dict[str, tuple[set[str], set[str]]] = {  # verb: (required, optional) arguments
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}


class OaiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Repository:
    base_url: str
    name: str
    repository_id: str
    admin_email: str
    page_size: int
    secret: str


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _stamp(value: datetime) -> str:
    return value.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# Characters XML 1.0 allows (lxml refuses the others); tab, LF and CR are allowed by XML but are
# never part of an OAI argument.
_XML_TEXT = re.compile("[\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def base_url(public_url: str, repository_id: str) -> str:
    """The endpoint's address as configured (``ARCHIVE_PUBLIC_URL``), never taken from the request's Host."""
    root = public_url.rstrip("/") if public_url else f"http://{repository_id}"
    return f"{root}/oai"


def oai_identifier(repo: Repository, doc_id: int) -> str:
    return f"oai:{repo.repository_id}:{doc_id}"


def _doc_id(repo: Repository, identifier: str) -> int | None:
    prefix = f"oai:{repo.repository_id}:"
    if not identifier.startswith(prefix):
        return None
    rest = identifier[len(prefix) :]
    if not rest.isdigit() or len(rest) > 18:
        return None
    return int(rest)


def _parse_datestamp(value: str, *, end: bool) -> tuple[datetime, str]:
    """A from/until argument as a naive UTC datetime and its granularity; badArgument otherwise."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time.max if end else time.min), "day"
        if len(value) == 20 and value.endswith("Z") and value[10] == "T":
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            return (parsed.replace(microsecond=999_999) if end else parsed), "seconds"
    except ValueError:
        pass
    raise OaiError("badArgument", f"Ngày “{value[:40]}” không đúng dạng YYYY-MM-DD hoặc YYYY-MM-DDThh:mm:ssZ.")


@dataclass
class ListRequest:
    verb: str
    prefix: str
    set_spec: str | None
    from_: str | None
    until: str | None
    after_id: int = 0
    cursor: int = 0


class Provider:
    """Answers one OAI-PMH request for a caller whose scope is ``scope`` (None = all units)."""

    def __init__(self, session: Session, repo: Repository, scope: frozenset[str] | None):
        self.session = session
        self.repo = repo
        self.scope = scope
        self.serializer = URLSafeTimedSerializer(repo.secret, salt="oai-pmh-resumption")

    # -- entry ---------------------------------------------------------------------------------
    def respond(self, args: Mapping[str, list[str]]) -> tuple[bytes, str, int]:
        """The XML answer, the verb (or "" when bad) and how many records/headers/sets it carries."""
        root = etree.Element(_q(OAI_NS, "OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
        root.set(_q(XSI_NS, "schemaLocation"), f"{OAI_NS} {OAI_XSD}")
        etree.SubElement(root, _q(OAI_NS, "responseDate")).text = _stamp(utcnow())
        request_el = etree.SubElement(root, _q(OAI_NS, "request"))
        request_el.text = self.repo.base_url
        verb = ""
        count = 0
        try:
            verb, params = self._check_arguments(args)
            request_el.set("verb", verb)
            for name, value in params.items():
                request_el.set(name, value)
            count = getattr(self, f"_{verb}")(root, params)
        except OaiError as error:
            if error.code in ("badVerb", "badArgument"):
                for name in list(request_el.attrib):
                    del request_el.attrib[name]
            err = etree.SubElement(root, _q(OAI_NS, "error"), code=error.code)
            err.text = error.message
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
        return body, verb, count

    def _check_arguments(self, args: Mapping[str, list[str]]) -> tuple[str, dict[str, str]]:
        for name, values in args.items():
            if not all(_XML_TEXT.fullmatch(v) for v in (name, *values)):
                # Control characters cannot be echoed in XML: refused, never reflected.
                raise OaiError("badArgument", "Tham số chứa ký tự điều khiển hoặc ký tự không hợp lệ.")
        verbs = args.get("verb", [])
        if len(verbs) != 1 or verbs[0] not in VERBS:
            raise OaiError("badVerb", "Thiếu tham số verb, verb lặp lại hoặc không hợp lệ.")
        verb = verbs[0]
        required, optional = VERBS[verb]
        params: dict[str, str] = {}
        for name, values in args.items():
            if name == "verb":
                continue
            if name not in required | optional:
                raise OaiError("badArgument", f"Tham số “{name[:40]}” không dùng được với {verb}.")
            if len(values) != 1:
                raise OaiError("badArgument", f"Tham số “{name[:40]}” lặp lại.")
            params[name] = values[0]
        if "resumptionToken" in params:
            if len(params) != 1:
                raise OaiError("badArgument", "resumptionToken phải là tham số duy nhất (ngoài verb).")
        else:
            missing = required - set(params)
            if missing:
                raise OaiError("badArgument", f"Thiếu tham số: {', '.join(sorted(missing))}.")
        return verb, params

    # -- queries -------------------------------------------------------------------------------
    def _visible(self, stmt):
        stmt = stmt.where(Document.withheld.is_(False), Document.text_ready.is_(True))  # as ``may_read``
        if self.scope is not None:
            stmt = stmt.where(Document.unit_code.in_(sorted(self.scope)))
        if not may_see_restricted(self.scope):
            stmt = stmt.where(Document.restricted.is_(False))
        return stmt

    def _earliest(self, session: Session) -> datetime:
        found = session.scalar(self._visible(select(func.min(Document.created_at))))
        return found or datetime(2025, 7, 1)

    def _get_visible(self, session: Session, doc_id: int) -> Document | None:
        doc = session.get(Document, doc_id, options=[selectinload(Document.files)])
        if doc is None or not may_read(doc, self.scope):
            return None
        return doc

    # -- verbs ---------------------------------------------------------------------------------
    def _Identify(self, root, params) -> int:
        session = self.session
        earliest = self._earliest(session)
        el = etree.SubElement(root, _q(OAI_NS, "Identify"))
        for tag, value in (
            ("repositoryName", self.repo.name),
            ("baseURL", self.repo.base_url),
            ("protocolVersion", "2.0"),
            ("adminEmail", self.repo.admin_email),
            ("earliestDatestamp", _stamp(earliest)),
            ("deletedRecord", "no"),
            ("granularity", GRANULARITY),
        ):
            etree.SubElement(el, _q(OAI_NS, tag)).text = value
        description = etree.SubElement(el, _q(OAI_NS, "description"))
        ident = etree.SubElement(description, _q(ID_NS, "oai-identifier"), nsmap={None: ID_NS, "xsi": XSI_NS})
        ident.set(_q(XSI_NS, "schemaLocation"), f"{ID_NS} {ID_XSD}")
        for tag, value in (
            ("scheme", "oai"),
            ("repositoryIdentifier", self.repo.repository_id),
            ("delimiter", ":"),
            ("sampleIdentifier", oai_identifier(self.repo, 1)),
        ):
            etree.SubElement(ident, _q(ID_NS, tag)).text = value
        return 1

    def _ListMetadataFormats(self, root, params) -> int:
        if "identifier" in params:
            doc_id = _doc_id(self.repo, params["identifier"])
            session = self.session
            if doc_id is None or self._get_visible(session, doc_id) is None:
                raise OaiError("idDoesNotExist", "Không có bản ghi với định danh này.")
        el = etree.SubElement(root, _q(OAI_NS, "ListMetadataFormats"))
        for prefix, (schema, namespace) in METADATA_FORMATS.items():
            fmt = etree.SubElement(el, _q(OAI_NS, "metadataFormat"))
            etree.SubElement(fmt, _q(OAI_NS, "metadataPrefix")).text = prefix
            etree.SubElement(fmt, _q(OAI_NS, "schema")).text = schema
            etree.SubElement(fmt, _q(OAI_NS, "metadataNamespace")).text = namespace
        return len(METADATA_FORMATS)

    def _ListSets(self, root, params) -> int:
        if "resumptionToken" in params:  # every set fits in one answer: no token is ever issued
            raise OaiError("badResumptionToken", "Mã tiếp tục không hợp lệ hoặc đã hết hạn.")
        session = self.session
        codes: list[str] = sorted(set(session.scalars(self._visible(select(Document.unit_code).distinct()))))
        names = (
            dict(session.execute(select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_(codes))).all())
            if codes
            else {}
        )
        codes = [c for c in codes if _valid_set_code(c)]
        if not codes:
            raise OaiError("noSetHierarchy", "Kho chưa có tập bản ghi nào trong phạm vi được phép.")
        el = etree.SubElement(root, _q(OAI_NS, "ListSets"))
        for code in codes:
            s = etree.SubElement(el, _q(OAI_NS, "set"))
            etree.SubElement(s, _q(OAI_NS, "setSpec")).text = SET_PREFIX + code
            etree.SubElement(s, _q(OAI_NS, "setName")).text = names.get(code, code)
        return len(codes)

    def _GetRecord(self, root, params) -> int:
        prefix = params["metadataPrefix"]
        doc_id = _doc_id(self.repo, params["identifier"])
        session = self.session
        doc = self._get_visible(session, doc_id) if doc_id is not None else None
        if doc is None:
            raise OaiError("idDoesNotExist", "Không có bản ghi với định danh này.")
        if prefix not in METADATA_FORMATS:
            raise OaiError("cannotDisseminateFormat", f"Không hỗ trợ định dạng “{prefix[:40]}”; dùng oai_dc.")
        names = self._unit_names(session, [doc])
        el = etree.SubElement(root, _q(OAI_NS, "GetRecord"))
        self._record(el, doc, names)
        return 1

    def _ListIdentifiers(self, root, params) -> int:
        return self._list(root, params, "ListIdentifiers")

    def _ListRecords(self, root, params) -> int:
        return self._list(root, params, "ListRecords")

    def _list(self, root, params, verb: str) -> int:
        request = (
            self._decode_token(params["resumptionToken"], verb)
            if "resumptionToken" in params
            else ListRequest(
                verb=verb,
                prefix=params["metadataPrefix"],
                set_spec=params.get("set"),
                from_=params.get("from"),
                until=params.get("until"),
            )
        )
        stmt = self._list_filter(request)
        page_size = max(1, self.repo.page_size)
        session = self.session
        total = session.scalar(stmt.with_only_columns(func.count(Document.id)).order_by(None)) or 0
        query = stmt.where(Document.id > request.after_id).order_by(Document.id).limit(page_size + 1)
        if verb == "ListRecords":
            query = query.options(selectinload(Document.files))
        docs = list(session.scalars(query))
        if not docs:
            if request.cursor == 0:
                raise OaiError("noRecordsMatch", "Không có bản ghi nào thỏa điều kiện.")
            raise OaiError("badResumptionToken", "Mã tiếp tục không còn dùng được.")
        more = len(docs) > page_size
        docs = docs[:page_size]
        el = etree.SubElement(root, _q(OAI_NS, verb))
        if verb == "ListRecords":
            names = self._unit_names(session, docs)
            for doc in docs:
                self._record(el, doc, names)
        else:
            for doc in docs:
                self._header(el, doc)
        if more or request.cursor > 0:
            token_el = etree.SubElement(el, _q(OAI_NS, "resumptionToken"), cursor=str(request.cursor))
            token_el.set("completeListSize", str(max(total, 1)))
            if more:
                following = ListRequest(
                    verb=verb,
                    prefix=request.prefix,
                    set_spec=request.set_spec,
                    from_=request.from_,
                    until=request.until,
                    after_id=docs[-1].id,
                    cursor=request.cursor + len(docs),
                )
                token_el.text = self._encode_token(following)
                token_el.set("expirationDate", _stamp(utcnow() + TOKEN_LIFETIME))
        return len(docs)

    def _list_filter(self, request: ListRequest):
        if request.prefix not in METADATA_FORMATS:
            raise OaiError("cannotDisseminateFormat", f"Không hỗ trợ định dạng “{request.prefix[:40]}”; dùng oai_dc.")
        stmt = self._visible(select(Document))
        start = end = None
        if request.from_:
            start, g1 = _parse_datestamp(request.from_, end=False)
            stmt = stmt.where(Document.created_at >= start)
        if request.until:
            end, g2 = _parse_datestamp(request.until, end=True)
            stmt = stmt.where(Document.created_at <= end)
        if start and end:
            if g1 != g2:
                raise OaiError("badArgument", "from và until phải cùng độ chi tiết (ngày hoặc giây).")
            if start > end:
                raise OaiError("badArgument", "from phải trước hoặc bằng until.")
        if request.set_spec is not None:
            if not request.set_spec.startswith(SET_PREFIX) or not _valid_set_code(request.set_spec[len(SET_PREFIX) :]):
                raise OaiError("noRecordsMatch", "Không có tập bản ghi này.")
            stmt = stmt.where(Document.unit_code == request.set_spec[len(SET_PREFIX) :])
        return stmt

    # -- resumption tokens -----------------------------------------------------------------------
    def _encode_token(self, request: ListRequest) -> str:
        return self.serializer.dumps(
            [
                request.verb,
                request.prefix,
                request.set_spec,
                request.from_,
                request.until,
                request.after_id,
                request.cursor,
            ]
        )

    def _decode_token(self, token: str, verb: str) -> ListRequest:
        try:
            v, prefix, set_spec, from_, until, after_id, cursor = self.serializer.loads(
                token, max_age=int(TOKEN_LIFETIME.total_seconds())
            )
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            raise OaiError("badResumptionToken", "Mã tiếp tục không hợp lệ hoặc đã hết hạn.") from None
        if v != verb or not isinstance(after_id, int) or not isinstance(cursor, int):
            raise OaiError("badResumptionToken", "Mã tiếp tục không dùng cho yêu cầu này.")
        return ListRequest(
            verb=v, prefix=prefix, set_spec=set_spec, from_=from_, until=until, after_id=after_id, cursor=cursor
        )

    # -- records -------------------------------------------------------------------------------
    def _unit_names(self, session: Session, docs: Iterable[Document]) -> dict[str, str]:
        codes = sorted({d.unit_code for d in docs})
        return (
            dict(session.execute(select(OldUnit.code, OldUnit.name).where(OldUnit.code.in_(codes))).all())
            if codes
            else {}
        )

    def _header(self, parent, doc: Document) -> None:
        header = etree.SubElement(parent, _q(OAI_NS, "header"))
        etree.SubElement(header, _q(OAI_NS, "identifier")).text = oai_identifier(self.repo, doc.id)
        etree.SubElement(header, _q(OAI_NS, "datestamp")).text = _stamp(doc.created_at)
        if _valid_set_code(doc.unit_code):
            etree.SubElement(header, _q(OAI_NS, "setSpec")).text = SET_PREFIX + doc.unit_code

    def _record(self, parent, doc: Document, unit_names: dict[str, str]) -> None:
        record = etree.SubElement(parent, _q(OAI_NS, "record"))
        self._header(record, doc)
        metadata = etree.SubElement(record, _q(OAI_NS, "metadata"))
        dc = etree.SubElement(metadata, _q(OAI_DC_NS, "dc"), nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
        dc.set(_q(XSI_NS, "schemaLocation"), f"{OAI_DC_NS} {OAI_DC_XSD}")
        for tag, value in dublin_core(doc, unit_names.get(doc.unit_code, doc.unit_code)):
            etree.SubElement(dc, _q(DC_NS, tag)).text = value


def dublin_core(doc: Document, unit_name: str) -> list[tuple[str, str]]:
    """The Dublin Core elements of one document, in the order oai_dc lists them."""
    out: list[tuple[str, str]] = []
    out.append(("title", doc.subject or doc.number or doc.ma_van_ban))
    if doc.issuer:
        out.append(("creator", doc.issuer))
    out.append(("publisher", unit_name))
    if doc.issued_date:
        out.append(("date", doc.issued_date.isoformat()))
    elif doc.issued_date_raw:
        out.append(("date", doc.issued_date_raw))
    if doc.doc_type:
        out.append(("type", doc.doc_type))
    out.append(("type", "Text"))
    for media in sorted({f.media_type for f in doc.files if f.media_type}):
        out.append(("format", media))
    if doc.number:
        out.append(("identifier", doc.number))
    out.append(("identifier", doc.ma_van_ban))
    if doc.dossier:
        order = f", số thứ tự {doc.dossier_order}" if doc.dossier_order is not None else ""
        out.append(("relation", f"Hồ sơ {doc.dossier}{order}"))
    out.append(("language", "vi"))
    out.append(("coverage", unit_name))
    out.append(("rights", "Hạn chế sử dụng" if doc.restricted else "Không hạn chế"))
    return [(tag, _xml_safe(value)) for tag, value in out if value]


def _xml_safe(text: str) -> str:
    """Drop the characters XML 1.0 cannot carry (control characters from damaged exports)."""
    return "".join(
        ch
        for ch in str(text)
        if ch in "\t\n\r"
        or (" " <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ("\U00010000" <= ch <= "\U0010ffff")
    )


def _valid_set_code(code: str) -> bool:
    return bool(code) and all(ch.isascii() and (ch.isalnum() or ch in "-_.!~*'()") for ch in code)
