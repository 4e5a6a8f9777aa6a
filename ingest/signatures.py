"""Validate the digital signatures embedded in a PDF with pyHanko.

An archivist must be able to show that a document is the signed original and
has not changed (Luật Giao dịch điện tử 2023, NĐ 68/2024).  For every signature
in a PDF this module reports who signed, when (the signer's own claim and a
trusted timestamp), whether the signed bytes are intact, whether the file was
changed after signing (pyHanko's difference analysis) and whether the signer's
certificate chains to a root in the configured trust store (the government CA
roots are configuration: ``ARCHIVE_TRUST_ROOTS``, never code).

Validation never fetches anything from the network: revocation data is used
when the file carries it, and its absence is not an error ("soft-fail").
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import EmbeddedPdfSignature, async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

# Status of one signature, worst last (a file's status is its worst signature's).
VALID = "hop_le"
EXPIRED = "het_han"
UNTRUSTED = "khong_tin_cay"
REVOKED = "bi_thu_hoi"
ALTERED = "bi_sua_doi"
INVALID = "khong_hop_le"
# Status of a file.
UNSIGNED = "khong_ky"
UNREADABLE = "loi"

STATUS_ORDER = (VALID, EXPIRED, UNTRUSTED, REVOKED, ALTERED, INVALID)

STATUS_LABELS = {
    VALID: "Chữ ký số hợp lệ",
    EXPIRED: "Chứng thư số hết hạn khi ký",
    UNTRUSTED: "Chứng thư số không thuộc tổ chức chứng thực tin cậy",
    REVOKED: "Chứng thư số đã bị thu hồi",
    ALTERED: "Tệp đã bị sửa đổi sau khi ký",
    INVALID: "Chữ ký số không hợp lệ",
    UNSIGNED: "Không có chữ ký số",
    UNREADABLE: "Không đọc được chữ ký số",
}

# What changed after signing, from pyHanko's modification level.
MODIFICATION_LABELS = {
    "none": "Không thay đổi sau khi ký",
    "validation_data": "Chỉ bổ sung dữ liệu xác thực (dấu thời gian, thông tin thu hồi)",
    "form_filling": "Bổ sung sau khi ký: điền biểu mẫu hoặc thêm chữ ký",
    "annotations": "Bổ sung sau khi ký: chú thích",
    "other": "Nội dung bị thay đổi sau khi ký",
    "unknown": "Không xác định được",
}
_LEVELS = {
    ModificationLevel.NONE: "none",
    ModificationLevel.LTA_UPDATES: "validation_data",
    ModificationLevel.FORM_FILLING: "form_filling",
    ModificationLevel.ANNOTATIONS: "annotations",
    ModificationLevel.OTHER: "other",
}

# Vietnamese signing certificates carry either key usage; demand one, not both.
_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
_EXPIRY_PROBLEMS = {AdESIndeterminate.EXPIRED, AdESIndeterminate.OUT_OF_BOUNDS_NO_POE}
_REVOKED_PROBLEMS = {AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE}


CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


@dataclass(frozen=True)
class TrustStore:
    """The root certificates a signer's chain must reach; every certificate given is a trust anchor."""

    roots: tuple[x509.Certificate, ...] = ()
    source: str = ""

    @classmethod
    def load(cls, location: str | Path | None) -> TrustStore:
        """Read PEM or DER certificates from a file, or from the certificate files of a folder (.pem .crt .cer .der).

        An empty setting means no roots (nothing is trusted); a certificate file that cannot be
        read is an error, so a broken trust store is noticed rather than silently trusting less.
        """
        if not location:
            return cls()
        path = Path(location)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in CERT_SUFFIXES)
        else:
            files = [path]
        roots: list[x509.Certificate] = []
        for file in files:
            roots.extend(_read_certificates(file.read_bytes(), str(file)))
        return cls(roots=tuple(roots), source=str(path))

    @property
    def fingerprint(self) -> str:
        """Names the set of roots a result was checked against, so a changed store shows in stored results."""
        digests = sorted(hashlib.sha256(root.dump()).hexdigest() for root in self.roots)
        return hashlib.sha256("\n".join(digests).encode()).hexdigest()

    def context(self, moment: datetime | None = None) -> ValidationContext:
        return ValidationContext(
            trust_roots=list(self.roots),
            allow_fetching=False,
            revocation_mode="soft-fail",
            moment=moment,
        )


def _read_certificates(data: bytes, name: str) -> list[x509.Certificate]:
    if pem.detect(data):
        return [
            x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"
        ]
    try:
        cert = x509.Certificate.load(data)
        cert.native  # noqa: B018 - parse now, so a stray file fails here and not at validation time
    except ValueError as exc:
        raise ValueError(f"{name}: không phải chứng thư số PEM/DER ({exc})") from exc
    return [cert]


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature field of a PDF."""

    field_name: str
    status: str
    signer: str = ""  # the certificate's common name
    organization: str = ""
    subject: str = ""
    issuer: str = ""
    serial: str = ""
    certificate_sha256: str = ""
    certificate_valid_from: datetime | None = None
    certificate_valid_to: datetime | None = None
    signing_time: datetime | None = None  # the signer's own claim
    timestamp: datetime | None = None  # from a timestamp token, when one is present
    timestamp_trusted: bool = False
    intact: bool = False  # the signed bytes hash to what was signed and the signature verifies
    coverage: str = ""  # entire_file | entire_revision | partial
    modification: str = "unknown"  # key of MODIFICATION_LABELS
    changed_after_signing: bool = False
    trusted: bool = False  # chain to a root of the store, valid at the time checked
    certificate_expired: bool = False  # expired now (a trusted timestamp may still prove it was valid then)
    revoked: bool = False
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.status == VALID

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.astimezone(UTC).isoformat()
        out["problems"] = list(self.problems)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SignatureCheck:
        values = dict(data)
        for key in ("certificate_valid_from", "certificate_valid_to", "signing_time", "timestamp"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        values["problems"] = tuple(values.get("problems") or ())
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True)
class PdfSignatures:
    """Every signature of one PDF, checked at one time against one trust store."""

    checked_at: datetime
    trust_store: str  # TrustStore.fingerprint
    signatures: tuple[SignatureCheck, ...] = ()
    error: str = ""
    detail: list[str] = field(default_factory=list)

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    @property
    def status(self) -> str:
        if self.error:
            return UNREADABLE
        if not self.signatures:
            return UNSIGNED
        return max((s.status for s in self.signatures), key=STATUS_ORDER.index)

    @property
    def valid(self) -> bool:
        """Signed, and every signature in it valid: what "có chữ ký số hợp lệ" means."""
        return self.status == VALID


def check_pdf(source: bytes | str | Path | BinaryIO, trust: TrustStore) -> PdfSignatures:
    """Validate every signature in a PDF; a file pyHanko cannot read is reported, never raised."""
    checked_at = datetime.now(UTC)
    if isinstance(source, (bytes, str, Path)) and not may_be_signed(source):
        return PdfSignatures(checked_at, trust.fingerprint)  # what pyHanko finds in it: no signature
    try:
        if isinstance(source, (str, Path)):
            with open(source, "rb") as file:
                checks = asyncio.run(_check_stream(file, trust))
        else:
            stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
            checks = asyncio.run(_check_stream(stream, trust))
    except Exception as exc:
        return PdfSignatures(checked_at, trust.fingerprint, error=f"{type(exc).__name__}: {exc}")
    return PdfSignatures(checked_at, trust.fingerprint, tuple(checks))


def may_be_signed(source: bytes | str | Path) -> bool:
    """False only when the file surely holds no signature, found cheaply: PDFium reads it and counts no
    signature field with a value (``FPDF_GetSignatureCount``), and no ``/ByteRange`` stands in its bytes.
    A file PDFium cannot open is left to pyHanko (which says why it cannot read it).  The extractor
    asks the same of a PDF it has open for its text (``Extraction.signature_free``)."""
    import pypdfium2 as pdfium

    from archive_core.pages import signature_free

    try:
        pdf = pdfium.PdfDocument(source if isinstance(source, bytes) else str(source))
    except Exception:
        return True
    try:
        return not signature_free(pdf, source)
    finally:
        pdf.close()


async def _check_stream(stream: BinaryIO, trust: TrustStore) -> list[SignatureCheck]:
    reader = PdfFileReader(stream, strict=False)
    return [await _check_one(sig, trust) for sig in reader.embedded_regular_signatures]


async def _check_one(sig: EmbeddedPdfSignature, trust: TrustStore) -> SignatureCheck:
    try:
        status = await async_validate_pdf_signature(sig, trust.context(), key_usage_settings=_KEY_USAGE)
    except Exception as exc:
        return _unverifiable(sig, f"{type(exc).__name__}: {exc}")
    expired_now = status.trust_problem_indic in _EXPIRY_PROBLEMS
    if expired_now and _trusted_timestamp(status) is not None:
        # Long-term validity: the chain is judged at the time the timestamp proves the signature existed.
        status = await async_validate_pdf_signature(
            sig, trust.context(moment=_trusted_timestamp(status)), key_usage_settings=_KEY_USAGE
        )
    return _verdict(sig, status, expired_now)


def _trusted_timestamp(status: PdfSignatureStatus) -> datetime | None:
    tst = status.timestamp_validity
    if tst is not None and tst.intact and tst.valid and tst.trusted:
        return tst.timestamp
    return None


def _name(name: x509.Name) -> str:
    """``Common name (Organisation)`` as people read a certificate, the full DN when it has neither."""
    values = name.native
    cn, org = str(values.get("common_name", "")), str(values.get("organization_name", ""))
    if cn and org and org != cn:
        return f"{cn} ({org})"
    return cn or org or name.human_friendly


def _certificate_facts(cert: x509.Certificate | None) -> dict[str, Any]:
    if cert is None:
        return {}
    subject = cert.subject.native
    return {
        "signer": str(subject.get("common_name", "")),
        "organization": str(subject.get("organization_name", "")),
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "serial": format(cert.serial_number, "X"),
        "certificate_sha256": hashlib.sha256(cert.dump()).hexdigest(),
        "certificate_valid_from": cert.not_valid_before,
        "certificate_valid_to": cert.not_valid_after,
    }


def _unverifiable(sig: EmbeddedPdfSignature, reason: str) -> SignatureCheck:
    try:
        facts = _certificate_facts(sig.signer_cert)
    except Exception:
        facts = {}
    try:
        name = str(sig.field_name)
    except Exception:
        name = ""
    return SignatureCheck(field_name=name, status=INVALID, problems=(f"Không kiểm tra được chữ ký: {reason}",), **facts)


def _modification(status: PdfSignatureStatus) -> tuple[str, str]:
    coverage = {
        SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
        SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision",
    }.get(status.coverage, "partial")  # type: ignore[arg-type]
    level = status.modification_level
    return coverage, _LEVELS.get(level, "unknown") if level is not None else "unknown"


def _verdict(sig: EmbeddedPdfSignature, status: PdfSignatureStatus, expired_now: bool) -> SignatureCheck:
    facts = _certificate_facts(status.signing_cert)
    coverage, modification = _modification(status)
    intact = bool(status.intact and status.valid)
    timestamp = status.timestamp_validity.timestamp if status.timestamp_validity is not None else None
    timestamp_trusted = _trusted_timestamp(status) is not None
    changed = modification not in ("none", "validation_data")
    modification_ok = coverage == "entire_file" or (status.docmdp_ok is True and modification != "other")
    problems: list[str] = []
    if not intact:
        problems.append("Nội dung đã ký không khớp với chữ ký (tệp bị sửa hoặc chữ ký hỏng)")
    if not modification_ok:
        problems.append(MODIFICATION_LABELS.get(modification, MODIFICATION_LABELS["other"]))
    if status.timestamp_validity is not None and not timestamp_trusted:
        problems.append("Dấu thời gian không hợp lệ hoặc không thuộc tổ chức tin cậy")
    trust_problem = status.trust_problem_indic
    revoked = status.revoked or trust_problem in _REVOKED_PROBLEMS
    expired_at_check = trust_problem in _EXPIRY_PROBLEMS or trust_problem == AdESIndeterminate.NOT_YET_VALID
    if revoked:
        problems.append("Chứng thư số đã bị thu hồi")
    elif expired_at_check:
        problems.append(
            "Chứng thư số không còn hiệu lực và không có dấu thời gian tin cậy chứng minh đã ký khi còn hiệu lực"
        )
    elif trust_problem is not None or status.validation_path is None:
        reason = getattr(trust_problem, "name", "NO_CERTIFICATE_CHAIN_FOUND")
        problems.append(f"Không xác lập được chuỗi tin cậy tới chứng thư gốc đã cấu hình ({reason})")
    if not status.intact or not modification_ok:
        verdict = ALTERED
    elif not status.valid:
        verdict = INVALID
    elif revoked:
        verdict = REVOKED
    elif expired_at_check:
        verdict = EXPIRED
    elif not status.bottom_line or problems:
        verdict = UNTRUSTED
    else:
        verdict = VALID
    return SignatureCheck(
        field_name=str(sig.field_name),
        status=verdict,
        signing_time=status.signer_reported_dt,
        timestamp=timestamp,
        timestamp_trusted=timestamp_trusted,
        intact=intact,
        coverage=coverage,
        modification=modification,
        changed_after_signing=changed,
        trusted=status.trusted,
        certificate_expired=expired_now or expired_at_check,
        revoked=revoked,
        problems=tuple(problems),
        **facts,
    )
