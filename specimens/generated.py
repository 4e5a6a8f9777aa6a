"""Realistic specimen documents (Nghị định 30/2020 layout) for the demo, tests and benchmarks.

`make_specimens` invents varied, deterministic Vietnamese administrative letters;
`render_pdf` draws one as a born-digital PDF (with a text layer) and `render_scan`
rasterises that drawing into a scan (PDF without text layer, TIFF, PNG or JPEG).
Everything drawn on the page comes from the `Specimen`, so tests compare what they
extract with the specimen itself.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from archive_core.fonts import FontNotFound, find_fonts

__all__ = [
    "Specimen",
    "FontNotFound",
    "find_fonts",
    "make_specimens",
    "render_pdf",
    "render_scan",
    "render_pdf_bytes",
]

@dataclass
class Specimen:
    number: str
    issued: date
    doc_type: str
    subject: str
    issuer: str
    parent_issuer: str
    place: str
    signer: str
    signer_title: str
    body_paragraphs: list[str]
    recipients: list[str]
    # Layout choices, drawn exactly as given.
    authority: str = ""  # "KT. CHỦ TỊCH" / "TM. ỦY BAN NHÂN DÂN" / ""
    show_parent: bool = True
    addressee: str = ""  # "Kính gửi: ..." target, "" for none
    preamble: str = ""  # e.g. "CHỦ TỊCH ỦY BAN NHÂN DÂN XÃ TÂN HƯNG" in a Quyết định
    extra: dict[str, str] = field(default_factory=dict)
    secrecy: str = ""  # "MẬT" / "TỐI MẬT" / "TUYỆT MẬT": the boxed stamp drawn under the number (NĐ 30/2020)

    @property
    def date_line(self) -> str:
        d = self.issued
        return f"{self.place}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"

    @property
    def is_cong_van(self) -> bool:
        return self.doc_type == "Công văn"


# --------------------------------------------------------------------------- fonts

_registered: tuple[str, str, str] | None = None


def _fonts() -> tuple[str, str, str]:
    global _registered
    if _registered is None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        names = ("SpecimenSerif", "SpecimenSerif-Bold", "SpecimenSerif-Italic")
        for name, path in zip(names, find_fonts(), strict=False):
            pdfmetrics.registerFont(TTFont(name, path))
        _registered = names
    return _registered


# ------------------------------------------------------------------------- content

_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Đào", "Lưu"]
_MIDDLE = ["Văn", "Thị", "Đình", "Minh", "Quang", "Hữu", "Thanh", "Đức", "Ngọc", "Xuân"]
_GIVEN = ["Hùng", "Lan", "Quang", "Thắng", "Hương", "Tuấn", "Dũng", "Phượng", "Long", "Thủy", "Cường", "Hạnh"]

# Each topic: (noun phrase, body sentences). Sentences are realistic but invented.
_TOPICS: list[tuple[str, list[str]]] = [
    (
        "sắp xếp đơn vị hành chính cấp xã",
        [
            "Thực hiện Nghị quyết của Ủy ban Thường vụ Quốc hội về việc sắp xếp đơn vị hành chính cấp huyện, cấp xã giai đoạn 2023 - 2025.",
            "Các thôn, tổ dân phố tổ chức lấy ý kiến cử tri về phương án sắp xếp, bảo đảm công khai, dân chủ và đúng thời gian quy định.",
            "Công chức Văn phòng - Thống kê rà soát hồ sơ, tài liệu lưu trữ để bàn giao đầy đủ cho đơn vị hành chính mới.",
            "Trụ sở, tài sản công sau sắp xếp được kiểm kê, lập danh mục và đề xuất phương án sử dụng phù hợp.",
        ],
    ),
    (
        "xây dựng nông thôn mới",
        [
            "Năm nay xã phấn đấu hoàn thành các tiêu chí xã nông thôn mới nâng cao, trong đó tập trung vào tiêu chí giao thông và môi trường.",
            "Ban quản lý các thôn vận động nhân dân hiến đất, góp công làm đường bê tông nội đồng với tổng chiều dài khoảng 3,5 km.",
            "Hợp tác xã dịch vụ nông nghiệp hướng dẫn bà con chuyển đổi cơ cấu cây trồng, phát triển sản phẩm OCOP gắn với nhãn lồng Hưng Yên.",
            "Kinh phí thực hiện được lồng ghép từ ngân sách tỉnh, ngân sách huyện và nguồn xã hội hóa.",
        ],
    ),
    (
        "phòng, chống dịch bệnh",
        [
            "Trạm Y tế xã chủ động theo dõi tình hình dịch sốt xuất huyết, tay chân miệng trên địa bàn và báo cáo hằng tuần.",
            "Các thôn tổ chức tổng vệ sinh môi trường, diệt bọ gậy, khơi thông cống rãnh vào sáng thứ Bảy hằng tuần.",
            "Trường mầm non và tiểu học tăng cường kiểm tra sức khỏe học sinh, thông báo kịp thời cho phụ huynh khi phát hiện ca bệnh.",
            "Đề nghị nhân dân không chủ quan, thực hiện đầy đủ các biện pháp phòng bệnh theo khuyến cáo của ngành y tế.",
        ],
    ),
    (
        "quản lý đất đai",
        [
            "Công chức Địa chính - Xây dựng rà soát các trường hợp sử dụng đất sai mục đích, lấn chiếm đất công trên địa bàn.",
            "Việc cấp giấy chứng nhận quyền sử dụng đất lần đầu phải bảo đảm đúng trình tự, thủ tục theo Luật Đất đai năm 2024.",
            "Các thửa đất nông nghiệp do xã quản lý được cho thuê theo hình thức đấu giá, công khai tại trụ sở Ủy ban nhân dân.",
            "Kết quả kiểm tra được tổng hợp, báo cáo Ủy ban nhân dân huyện trước ngày 25 hằng tháng.",
        ],
    ),
    (
        "phòng, chống thiên tai và tìm kiếm cứu nạn",
        [
            "Ban Chỉ huy phòng, chống thiên tai xã kiện toàn lực lượng xung kích, chuẩn bị vật tư, phương tiện theo phương châm bốn tại chỗ.",
            "Các hộ dân ven đê sông Luộc được hướng dẫn phương án sơ tán khi có lũ, bão lớn.",
            "Hợp tác xã chủ động tiêu úng, bảo vệ diện tích lúa mùa và rau màu vụ đông.",
            "Trực ban phòng, chống thiên tai được duy trì 24/24 giờ trong mùa mưa bão.",
        ],
    ),
    (
        "chuyển đổi số",
        [
            "Bộ phận Một cửa tiếp nhận hồ sơ trực tuyến qua Cổng dịch vụ công quốc gia, hạn chế hồ sơ giấy.",
            "Tổ công nghệ số cộng đồng hướng dẫn người dân cài đặt, kích hoạt tài khoản định danh điện tử mức độ 2.",
            "Văn bản đi, văn bản đến được xử lý trên phần mềm quản lý văn bản và điều hành, trừ văn bản mật.",
            "Cán bộ, công chức sử dụng chữ ký số trong giao dịch điện tử với các cơ quan cấp trên.",
        ],
    ),
    (
        "cải cách hành chính",
        [
            "Niêm yết công khai đầy đủ thủ tục hành chính thuộc thẩm quyền giải quyết của cấp xã tại Bộ phận Một cửa.",
            "Tỷ lệ hồ sơ giải quyết đúng hạn đạt trên 98%, không có hồ sơ quá hạn kéo dài.",
            "Tăng cường kỷ luật, kỷ cương hành chính, chấn chỉnh tác phong, thái độ phục vụ nhân dân.",
            "Kết quả cải cách hành chính là tiêu chí đánh giá, xếp loại cán bộ, công chức cuối năm.",
        ],
    ),
    (
        "bảo vệ môi trường",
        [
            "Rác thải sinh hoạt được phân loại tại nguồn và thu gom ba lần mỗi tuần theo lịch của từng thôn.",
            "Nghiêm cấm đốt rơm rạ trên đồng ruộng, đổ phế thải xây dựng ra lòng đường, bờ kênh.",
            "Các cơ sở chăn nuôi phải có hầm biogas hoặc biện pháp xử lý chất thải bảo đảm vệ sinh.",
            "Đoàn Thanh niên phát động phong trào trồng cây xanh dọc các tuyến đường liên thôn.",
        ],
    ),
]

_TYPES: list[tuple[str, str]] = [
    # (full name, symbol used in the number; "" for Công văn)
    ("Kế hoạch", "KH"),
    ("Quyết định", "QĐ"),
    ("Công văn", ""),
    ("Thông báo", "TB"),
    ("Báo cáo", "BC"),
    ("Tờ trình", "TTr"),
    ("Giấy mời", "GM"),
    ("Hướng dẫn", "HD"),
]

_UPPER_WORDS = {"UBND", "HĐND", "MTTQ", "TN&MT"}


def _issuer_abbreviation(issuer: str) -> str:
    first = issuer.split()[0]
    if first in _UPPER_WORDS:
        return first
    if issuer.lower().startswith("ủy ban nhân dân"):
        return "UBND"
    if issuer.lower().startswith("hội đồng nhân dân"):
        return "HĐND"
    return "".join(w[0] for w in issuer.split() if w[0].isupper()).upper() or "VP"


def _default_parent(issuer: str) -> str:
    low = issuer.lower()
    if " xã " in f" {low} " or " phường " in f" {low} " or "thị trấn" in low:
        return "UBND huyện Tiên Lữ"
    if " huyện " in f" {low} ":
        return "UBND tỉnh Hưng Yên"
    return ""


def _unit_name(issuer: str) -> str:
    """'UBND xã Tân Hưng' -> 'xã Tân Hưng'."""
    words = issuer.split()
    for i, w in enumerate(words):
        if w in {"xã", "huyện", "tỉnh", "phường", "thị"}:
            return " ".join(words[i:])
    return issuer


def _subject(rng: random.Random, doc_type: str, topic: str, unit: str, year: int) -> str:
    options = {
        "Kế hoạch": [
            f"Triển khai công tác {topic} năm {year}",
            f"Thực hiện {topic} trên địa bàn {unit} giai đoạn {year} - {year + 1}",
        ],
        "Quyết định": [
            f"Về việc thành lập Tổ công tác {topic}",
            f"Về việc phê duyệt kế hoạch {topic} năm {year}",
        ],
        "Công văn": [
            f"V/v đôn đốc thực hiện {topic}",
            f"V/v báo cáo kết quả {topic} năm {year}",
        ],
        "Thông báo": [
            f"Kết luận của Chủ tịch Ủy ban nhân dân tại cuộc họp về {topic}",
            f"Lịch tiếp công dân và giải quyết kiến nghị về {topic}",
        ],
        "Báo cáo": [
            f"Kết quả thực hiện {topic} 6 tháng đầu năm {year}",
            f"Tình hình {topic} năm {year} và phương hướng năm {year + 1}",
        ],
        "Tờ trình": [
            f"Về việc đề nghị phê duyệt dự toán kinh phí {topic}",
        ],
        "Giấy mời": [
            f"Dự hội nghị triển khai {topic}",
        ],
        "Hướng dẫn": [
            f"Thực hiện {topic} tại các thôn, tổ dân phố",
        ],
    }
    return rng.choice(options[doc_type])


def _opening(rng: random.Random, doc_type: str, topic: str, issued: date, year: int) -> str:
    """A first paragraph typical of the type; some carry their own (earlier) dates."""
    earlier = issued - timedelta(days=rng.randint(10, 90))
    ref = f"ngày {earlier.day} tháng {earlier.month} năm {earlier.year}"
    if doc_type == "Quyết định":
        return ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015; "
                f"căn cứ Kế hoạch số {rng.randint(2, 90)}/KH-UBND {ref} của Ủy ban nhân dân huyện về {topic}.")
    if doc_type in ("Công văn", "Tờ trình"):
        return (f"Thực hiện Văn bản số {rng.randint(100, 999)}/UBND-VP {ref} của Ủy ban nhân dân huyện "
                f"về {topic}, Ủy ban nhân dân xã báo cáo và đề nghị như sau:")
    if doc_type == "Giấy mời":
        when = issued + timedelta(days=rng.randint(2, 7))
        return (f"Thời gian: 8 giờ 00 phút, ngày {when.day:02d}/{when.month:02d}/{when.year}. "
                "Địa điểm: Hội trường Ủy ban nhân dân xã.")
    return f"Nhằm thực hiện có hiệu quả công tác {topic} trong năm {year}, Ủy ban nhân dân xã đề ra các nội dung sau:"


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def make_specimens(
    count: int,
    *,
    seed: int,
    issuer: str = "UBND xã Tân Hưng",
    place: str = "Hưng Yên",
    year: int = 2024,
    parent_issuer: str | None = None,
) -> list[Specimen]:
    """`count` varied specimens, the same ones for the same arguments."""
    rng = random.Random(seed)
    parent = _default_parent(issuer) if parent_issuer is None else parent_issuer
    unit = _unit_name(issuer)
    abbr = _issuer_abbreviation(issuer)
    chairman, vice = _name(rng), _name(rng)
    specimens = []
    start = date(year, 1, 2)
    for i in range(count):
        doc_type, symbol = _TYPES[i % len(_TYPES)] if i < len(_TYPES) else rng.choice(_TYPES)
        topic, sentences = rng.choice(_TOPICS)
        number = rng.randint(1, 480)
        num = f"{number}/{symbol}-{abbr}" if symbol else f"{number}/{abbr}" + rng.choice(["", "-VP", "-ĐC"])
        issued = start + timedelta(days=rng.randint(0, 360))
        vice_signs = rng.random() < 0.5
        signer, title = (vice, "PHÓ CHỦ TỊCH") if vice_signs else (chairman, "CHỦ TỊCH")
        organ = "ỦY BAN NHÂN DÂN" if abbr == "UBND" else issuer.upper()
        if vice_signs:
            authority = "KT. CHỦ TỊCH"
        else:
            authority = rng.choice([f"TM. {organ}", ""])
        paragraphs = sentences[:]
        rng.shuffle(paragraphs)
        n_par = rng.randint(3, len(paragraphs))
        body = [p for p in paragraphs[:n_par]]
        # Make each paragraph a little longer and varied.
        body = [p if rng.random() < 0.5 else p + " " + rng.choice([x for x in sentences if x != p]) for p in body]
        body.insert(0, _opening(rng, doc_type, topic, issued, year))
        recipients = ["Như trên", f"{parent or 'UBND tỉnh Hưng Yên'} (để b/c)", "Các thôn", "Lưu: VT"]
        addressee = ""
        if doc_type in ("Công văn", "Tờ trình"):
            addressee = rng.choice(["Các ban, ngành, đoàn thể xã", "Trưởng các thôn", parent or "UBND tỉnh Hưng Yên"])
            recipients[0] = "Như trên"
        preamble = f"CHỦ TỊCH {organ} {unit.upper()}".replace("  ", " ") if doc_type == "Quyết định" else ""
        if doc_type == "Quyết định" and abbr != "UBND":
            preamble = f"THỦ TRƯỞNG {issuer.upper()}"
        specimens.append(
            Specimen(
                number=num,
                issued=issued,
                doc_type=doc_type,
                subject=_subject(rng, doc_type, topic, unit, year),
                issuer=issuer,
                parent_issuer=parent,
                place=place,
                signer=signer,
                signer_title=title,
                body_paragraphs=body,
                recipients=recipients,
                authority=authority,
                show_parent=bool(parent) and rng.random() < 0.7,
                addressee=addressee,
                preamble=preamble,
            )
        )
    return specimens


# ------------------------------------------------------------------------- drawing

_MM = 72 / 25.4
_PAGE_W, _PAGE_H = 210 * _MM, 297 * _MM
_LEFT, _RIGHT, _TOP, _BOTTOM = 30 * _MM, 15 * _MM, 20 * _MM, 20 * _MM


def _wrap(text: str, font: str, size: float, width: float, first_width: float | None = None) -> list[str]:
    """Greedy word wrap at spaces, so joining lines with one space restores the text."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        limit = first_width if (first_width is not None and not lines) else width
        if current and stringWidth(candidate, font, size) > limit:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _issuer_lines(spec: Specimen) -> list[str]:
    upper = spec.issuer.upper()
    if upper.startswith("ỦY BAN NHÂN DÂN ") and len(upper) > 30:
        return ["ỦY BAN NHÂN DÂN", upper[len("ỦY BAN NHÂN DÂN ") :]]
    return [upper]


class _Layout:
    """A tiny page-flow helper around a reportlab canvas."""

    def __init__(self, canvas, fonts: tuple[str, str, str]):
        self.c = canvas
        self.regular, self.bold, self.italic = fonts
        self.y = _PAGE_H - _TOP
        self.page = 1

    def new_page(self) -> None:
        self.c.showPage()
        self.page += 1
        self.y = _PAGE_H - _TOP
        self.c.setFont(self.regular, 13)
        self.c.drawCentredString(_PAGE_W / 2, self.y + 6 * _MM, str(self.page))

    def ensure(self, height: float) -> None:
        if self.y - height < _BOTTOM:
            self.new_page()

    def centred(self, text: str, font: str, size: float, x: float, y: float) -> None:
        self.c.setFont(font, size)
        self.c.drawCentredString(x, y, text)


def _draw_header(lay: _Layout, spec: Specimen) -> None:
    c = lay.c
    left_x = _LEFT + 35 * _MM
    right_x = _LEFT + 70 * _MM + (_PAGE_W - _RIGHT - _LEFT - 70 * _MM) / 2
    top = lay.y
    # Left column: parent body, issuing body, rule, number, V/v.
    y = top
    if spec.show_parent and spec.parent_issuer:
        lay.centred(spec.parent_issuer.upper(), lay.regular, 12, left_x, y)
        y -= 15
    for line in _issuer_lines(spec):
        lay.centred(line, lay.bold, 12, left_x, y)
        y -= 15
    c.setLineWidth(0.6)
    c.line(left_x - 12 * _MM, y + 7, left_x + 12 * _MM, y + 7)
    y = min(y - 10, top - 42)
    number_y = y
    lay.centred(f"Số: {spec.number}", lay.regular, 13, left_x, y)
    y -= 17
    if spec.is_cong_van:
        for line in _wrap(spec.subject, lay.regular, 12, 68 * _MM):
            lay.centred(line, lay.regular, 12, left_x, y)
            y -= 14
    if spec.secrecy:  # the độ mật stamp: bold capitals in a box, under the number
        y -= 6
        lay.centred(spec.secrecy, lay.bold, 13, left_x, y)
        half = c.stringWidth(spec.secrecy, lay.bold, 13) / 2 + 6
        c.rect(left_x - half, y - 5, 2 * half, 19, stroke=1, fill=0)
        y -= 19
    # Right column: national title, motto, rule, place and date.
    lay.centred("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", lay.bold, 12, right_x, top)
    lay.centred("Độc lập - Tự do - Hạnh phúc", lay.bold, 13, right_x, top - 15)
    c.line(right_x - 27 * _MM, top - 19, right_x + 27 * _MM, top - 19)
    lay.centred(spec.date_line, lay.italic, 13, right_x, number_y)
    lay.y = min(y, number_y - 17) - 12


def _draw_title(lay: _Layout, spec: Specimen) -> None:
    mid = _LEFT + (_PAGE_W - _LEFT - _RIGHT) / 2
    if not spec.is_cong_van:
        lay.centred(spec.doc_type.upper(), lay.bold, 14, mid, lay.y)
        lay.y -= 18
        for line in _wrap(spec.subject, lay.bold, 14, 140 * _MM):
            lay.centred(line, lay.bold, 14, mid, lay.y)
            lay.y -= 18
        lay.c.line(mid - 15 * _MM, lay.y + 12, mid + 15 * _MM, lay.y + 12)
        lay.y -= 10
    if spec.preamble:
        lay.centred(spec.preamble, lay.bold, 13, mid, lay.y)
        lay.y -= 24
    if spec.addressee:
        lay.centred(f"Kính gửi: {spec.addressee}", lay.regular, 13, mid, lay.y)
        lay.y -= 24


def _draw_paragraph(lay: _Layout, text: str) -> None:
    width = _PAGE_W - _LEFT - _RIGHT
    lines = _wrap(text, lay.regular, 13, width, first_width=width - 10 * _MM)
    for i, line in enumerate(lines):
        lay.ensure(18)
        lay.c.setFont(lay.regular, 13)
        lay.c.drawString(_LEFT + (10 * _MM if i == 0 else 0), lay.y, line)
        lay.y -= 18
    lay.y -= 4


def _draw_signature(lay: _Layout, spec: Specimen, rng: random.Random) -> None:
    lay.ensure(60 * _MM)
    lay.y -= 6
    c = lay.c
    top = lay.y
    right_x = _LEFT + 70 * _MM + (_PAGE_W - _RIGHT - _LEFT - 70 * _MM) / 2
    y = top
    c.setFont(lay.bold, 12)
    c.drawString(_LEFT, y, "Nơi nhận:")
    y -= 14
    for i, rec in enumerate(spec.recipients):
        c.setFont(lay.regular, 11)
        c.drawString(_LEFT, y, f"- {rec}{'.' if i == len(spec.recipients) - 1 else ';'}")
        y -= 13
    y = top
    if spec.authority:
        lay.centred(spec.authority, lay.bold, 13, right_x, y)
        y -= 16
    lay.centred(spec.signer_title, lay.bold, 13, right_x, y)
    # A pen scribble for the signature.
    c.setLineWidth(1.1)
    sy = y - 30 * _MM / 2
    p = c.beginPath()
    p.moveTo(right_x - 18 * _MM, sy)
    for _ in range(4):
        p.curveTo(
            right_x + rng.uniform(-15, 15) * _MM, sy + rng.uniform(4, 10) * _MM,
            right_x + rng.uniform(-15, 15) * _MM, sy - rng.uniform(2, 6) * _MM,
            right_x + rng.uniform(-16, 16) * _MM, sy + rng.uniform(-2, 3) * _MM,
        )
    c.drawPath(p, stroke=1, fill=0)
    y -= 30 * _MM
    lay.centred(spec.signer, lay.bold, 13, right_x, y)
    lay.y = min(y, top - 14 * (len(spec.recipients) + 1)) - 10


def _page_groups(paragraphs: list[str], pages: int) -> list[list[str]]:
    paras = list(paragraphs)
    while len(paras) < pages and paragraphs:
        paras += paragraphs
    size, rest = divmod(len(paras), pages)
    groups, i = [], 0
    for p in range(pages):
        n = size + (1 if p < rest else 0)
        groups.append(paras[i : i + n])
        i += n
    return groups


def render_pdf_bytes(spec: Specimen, pages: int = 1, *, password: str | None = None) -> bytes:
    """The born-digital PDF as bytes; `pages` is the minimum page count."""
    from reportlab.pdfgen import canvas as rl_canvas

    if pages < 1:
        raise ValueError("pages must be >= 1")
    buf = io.BytesIO()
    kwargs = {"encrypt": password} if password else {}
    c = rl_canvas.Canvas(buf, pagesize=(_PAGE_W, _PAGE_H), invariant=True, **kwargs)
    c.setTitle(f"{spec.doc_type} {spec.number}")
    lay = _Layout(c, _fonts())
    _draw_header(lay, spec)
    _draw_title(lay, spec)
    for i, group in enumerate(_page_groups(spec.body_paragraphs, pages)):
        if i:
            lay.new_page()
        for para in group:
            _draw_paragraph(lay, para)
    _draw_signature(lay, spec, random.Random(spec.number))
    c.showPage()
    c.save()
    return buf.getvalue()


def render_pdf(spec: Specimen, path: Path, pages: int = 1, *, password: str | None = None) -> Path:
    """Write a born-digital PDF (with a text layer); `password` encrypts it."""
    path = Path(path)
    path.write_bytes(render_pdf_bytes(spec, pages, password=password))
    return path


def _scan_pages(spec: Specimen, dpi: int, pages: int, noise: bool):
    """Yield one greyscale PIL page at a time (bounded memory)."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageFilter

    pdf = pdfium.PdfDocument(render_pdf_bytes(spec, pages))
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                img = bitmap.to_pil().convert("L")
                bitmap.close()
            finally:
                page.close()
            if noise:
                img = img.filter(ImageFilter.GaussianBlur(0.5))
                grain = Image.effect_noise(img.size, 40)
                img = Image.blend(img, grain, 0.05)
            img.info["dpi"] = (dpi, dpi)
            yield img
    finally:
        pdf.close()


def render_scan(
    spec: Specimen,
    path: Path,
    fmt: str = "pdf",
    dpi: int = 200,
    pages: int = 1,
    *,
    noise: bool = True,
) -> Path:
    """Rasterise the born-digital rendering into a scan; a PDF scan has no text layer.

    `fmt` is "pdf", "tiff" (multi-page), "png" or "jpeg" (single page only).
    """
    fmt = fmt.lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in {"pdf", "tiff", "png", "jpeg"}:
        raise ValueError(f"unknown scan format {fmt!r}")
    path = Path(path)
    imgs = _scan_pages(spec, dpi, pages, noise)
    first = next(imgs)
    if fmt in {"png", "jpeg"}:
        rest = list(imgs)
        if rest:
            raise ValueError(f"{fmt} holds one page; the document rendered {len(rest) + 1}")
        opts = {"quality": 88} if fmt == "jpeg" else {"optimize": False}
        first.save(path, fmt.upper(), dpi=(dpi, dpi), **opts)
    elif fmt == "tiff":
        first.save(path, "TIFF", save_all=True, append_images=imgs, compression="tiff_deflate", dpi=(dpi, dpi))
    else:
        first.save(path, "PDF", save_all=True, append_images=imgs, resolution=float(dpi))
    return path
