"""A certificate authority of our own and real PDF signatures made with pyHanko (tests, bench, demo).

Builds what an eOffice system produces: a PDF rendered with reportlab in a
Vietnamese font, signed by an official's certificate issued under a root CA,
optionally with an RFC 3161 timestamp from a timestamping authority under the
same root.  Nothing here is mocked: the archive validates these files exactly
as it validates a real one.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
NOW = datetime.now(UTC)


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


@dataclass(frozen=True)
class Identity:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        der = self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return asn1_keys.PrivateKeyInfo.load(der)


class TestCA:
    """A root CA (RSA, like the government's root) issuing signer and timestamping certificates."""

    __test__ = False

    def __init__(self, name: str = "Root CA thử nghiệm Chính phủ") -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = _name(name, "Ban Cơ yếu Chính phủ (thử nghiệm)")
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=3650))
            .not_valid_after(NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        self.root = Identity(cert, key)

    def issue(
        self,
        common_name: str,
        organization: str = "UBND xã Tân Hưng",
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        timestamping: bool = False,
    ) -> Identity:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(self.root.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - timedelta(days=365))
            .not_valid_after(not_after or NOW + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.root.key.public_key()), critical=False
            )
        )
        if timestamping:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        else:
            builder = builder.add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
            )
        return Identity(builder.sign(self.root.key, hashes.SHA256()), key)

    def write_roots(self, path: Path) -> Path:
        path.write_bytes(self.root.pem)
        return path


def render_pdf(lines: list[str] | None = None) -> bytes:
    """A one-page administrative document in a font that covers Vietnamese."""
    if "DejaVuSerif" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSerif", FONT))
    lines = lines or [
        "ỦY BAN NHÂN DÂN XÃ TÂN HƯNG",
        "Số: 74/QĐ-UBND",
        "QUYẾT ĐỊNH",
        "Về việc phê duyệt kế hoạch sắp xếp đơn vị hành chính cấp xã",
        "CHỦ TỊCH",
        "Nguyễn Văn Hùng",
    ]
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setFont("DejaVuSerif", 12)
    y = 780
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 24
    pdf.save()
    return buf.getvalue()


def sign_pdf(
    data: bytes,
    ca: TestCA,
    signer: Identity,
    *,
    field_name: str = "ChuKyLanhDao",
    tsa: Identity | None = None,
    timestamp_at: datetime | None = None,
    box: tuple[int, int, int, int] | None = None,
) -> bytes:
    """Sign (as an incremental update) with pyHanko, optionally with a timestamp fixed at ``timestamp_at``;
    ``box`` (left, bottom, right, top on the first page): a visible signature there, pyHanko's stamp."""
    registry = SimpleCertificateStore.from_certs([ca.root.asn1_cert])
    simple = signers.SimpleSigner(signing_cert=signer.asn1_cert, signing_key=signer.asn1_key, cert_registry=registry)
    timestamper = None
    if tsa is not None:
        timestamper = DummyTimeStamper(
            tsa_cert=tsa.asn1_cert, tsa_key=tsa.asn1_key, certs_to_embed=registry, fixed_dt=timestamp_at
        )
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data), strict=False),
        signers.PdfSignatureMetadata(field_name=field_name),
        signer=simple,
        timestamper=timestamper,
        new_field_spec=None if box is None else fields.SigFieldSpec(sig_field_name=field_name, box=box),
        output=out,
    )
    return out.getvalue()
