"""Digital signatures in real PDFs, signed with pyHanko under a CA the tests make, validated as at ingest."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from ingest import signatures as sig
from specimens.signing import NOW, TestCA, render_pdf, sign_pdf


@pytest.fixture(scope="module")
def ca() -> TestCA:
    return TestCA()


@pytest.fixture(scope="module")
def official(ca):
    return ca.issue("Nguyễn Văn Hùng", "UBND xã Tân Hưng")


@pytest.fixture(scope="module")
def tsa(ca):
    return ca.issue("Dịch vụ cấp dấu thời gian thử nghiệm", timestamping=True)


@pytest.fixture(scope="module")
def trust(ca, tmp_path_factory):
    return sig.TrustStore.load(ca.write_roots(tmp_path_factory.mktemp("roots") / "roots.pem"))


@pytest.fixture(scope="module")
def signed_at(ca, official, tsa) -> tuple[bytes, datetime, datetime]:
    """A signed PDF and the clock just before and just after it was signed."""
    before = datetime.now(UTC)
    data = sign_pdf(render_pdf(), ca, official, tsa=tsa)
    return data, before, datetime.now(UTC)


@pytest.fixture(scope="module")
def signed(signed_at) -> bytes:
    return signed_at[0]


def test_valid_signature_reports_signer_times_and_integrity(signed_at, trust):
    signed, before, after = signed_at
    result = sig.check_pdf(signed, trust)
    assert result.valid and result.status == sig.VALID
    [one] = result.signatures
    assert one.signer == "Nguyễn Văn Hùng" and one.organization == "UBND xã Tân Hưng"
    assert "Root CA thử nghiệm" in one.issuer
    assert one.intact and one.trusted and not one.changed_after_signing
    assert one.coverage == "entire_file" and one.modification == "none"
    second = timedelta(seconds=1)  # the times are written with whole seconds
    assert one.timestamp_trusted and before - second <= one.timestamp <= after + second
    assert one.signing_time is not None and before - second <= one.signing_time <= after + second
    assert one.problems == ()


def test_unsigned_pdf(trust):
    result = sig.check_pdf(render_pdf(), trust)
    assert result.status == sig.UNSIGNED and not result.signed and not result.valid


def test_bytes_changed_after_signing_are_detected(signed, trust):
    tampered = bytearray(signed)
    # A byte of the page's content stream, inside the signed byte range.
    pos = signed.index(b"stream") + 40
    tampered[pos] ^= 0x01
    result = sig.check_pdf(bytes(tampered), trust)
    [one] = result.signatures
    assert result.status == sig.ALTERED and not one.intact
    assert "không khớp" in one.problems[0]


def test_content_added_in_an_incremental_update_after_signing(signed, trust):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    extra = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (DA SUA) Tj ET"))
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), extra])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    result = sig.check_pdf(out.getvalue(), trust)
    [one] = result.signatures
    # The signed revision itself is intact; what came after is not an allowed change.
    assert one.intact and one.coverage == "entire_revision"
    assert one.changed_after_signing and one.modification == "other"
    assert result.status == sig.ALTERED and not result.valid


def test_a_second_signature_after_the_first_is_an_allowed_change(ca, signed, trust):
    seal = ca.issue("UBND xã Tân Hưng", "UBND xã Tân Hưng")
    twice = sign_pdf(signed, ca, seal, field_name="ChuKyCoQuan")
    result = sig.check_pdf(twice, trust)
    first, second = result.signatures
    assert result.valid
    assert first.changed_after_signing and first.modification == "form_filling"
    assert second.modification == "none" and second.signer == "UBND xã Tân Hưng"


def test_signer_under_an_unconfigured_root_is_untrusted(signed, tmp_path):
    stranger = TestCA("Root CA khác")
    result = sig.check_pdf(signed, sig.TrustStore.load(stranger.write_roots(tmp_path / "other.pem")))
    [one] = result.signatures
    assert result.status == sig.UNTRUSTED and one.intact and not one.trusted
    # Intact but unproven: nothing was changed, the origin just cannot be shown.
    assert one.modification == "none"
    # With no store configured nothing is trusted either.
    assert sig.check_pdf(signed, sig.TrustStore.load(None)).status == sig.UNTRUSTED


def test_certificate_expired_before_signing(ca, trust):
    lapsed = ca.issue("Trần Văn Cũ", not_before=NOW - timedelta(days=800), not_after=NOW - timedelta(days=30))
    result = sig.check_pdf(sign_pdf(render_pdf(), ca, lapsed), trust)
    [one] = result.signatures
    assert result.status == sig.EXPIRED and one.certificate_expired and not one.trusted
    assert one.intact


def test_certificate_expired_since_but_timestamped_while_valid(ca, tsa, trust):
    lapsed = ca.issue("Lê Thị Lan", not_before=NOW - timedelta(days=800), not_after=NOW - timedelta(days=30))
    data = sign_pdf(render_pdf(), ca, lapsed, tsa=tsa, timestamp_at=NOW - timedelta(days=60))
    result = sig.check_pdf(data, trust)
    [one] = result.signatures
    # A trusted timestamp proves the signature existed while the certificate was valid.
    assert result.valid and one.certificate_expired and one.timestamp_trusted


def test_damaged_pdf_is_reported_not_raised(trust):
    result = sig.check_pdf(b"%PDF-1.7\nnot a PDF at all", trust)
    assert result.status == sig.UNREADABLE and result.error


def test_trust_store_reads_a_folder_of_pem_and_der(ca, tmp_path):
    folder = tmp_path / "roots"
    folder.mkdir()
    other = TestCA("Root CA khác")
    (folder / "a.pem").write_bytes(ca.root.pem + other.root.pem)
    (folder / "b.cer").write_bytes(other.root.cert.public_bytes(serialization.Encoding.DER))
    store = sig.TrustStore.load(folder)
    assert len(store.roots) == 3
    assert store.fingerprint != sig.TrustStore.load(folder / "b.cer").fingerprint
    (folder / "README.txt").write_text("Chứng thư gốc của Ban Cơ yếu Chính phủ")  # not a certificate file: skipped
    assert len(sig.TrustStore.load(folder).roots) == 3
    (folder / "hong.cer").write_text("không phải chứng thư")
    with pytest.raises(ValueError, match="hong.cer"):
        sig.TrustStore.load(folder)


def test_results_survive_a_round_trip_through_json(signed, trust):
    [one] = sig.check_pdf(signed, trust).signatures
    assert sig.SignatureCheck.from_dict(one.to_dict()) == one
