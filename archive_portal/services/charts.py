"""Charts drawn on the server as SVG: no script, no font or request from elsewhere, readable without colour.

Each chart carries its title and a text alternative (``role="img"`` + ``<title>``), and each bar its value
written beside it, so a screen reader or a printout loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR = 22  # px per bar (a tap-sized row on a phone)
LABEL_W = 190
VALUE_W = 64


def _number(n: float) -> str:
    return f"{n:,.0f}".replace(",", ".")


def bar_chart(title: str, rows: Sequence[tuple[str, float]], *, width: int = 560, unit: str = "") -> Markup:
    """Horizontal bars, one row per ``(label, value)``, scaled to the largest value; SVG scales to its box."""
    if not rows:
        return Markup(f'<p class="empty">{escape(title)}: chưa có dữ liệu.</p>')
    top = max(v for _, v in rows) or 1
    plot = width - LABEL_W - VALUE_W
    height = BAR * len(rows) + 8
    alt = f"{title}: " + "; ".join(f"{label} {_number(v)}{unit}" for label, v in rows)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-label="{escape(alt)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(alt)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * BAR
        w = max(1.0, plot * value / top) if value else 0
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" class="label">{escape(short)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{BAR - 6}" class="bar"/>'
            f'<text x="{LABEL_W + w + 4:.1f}" y="{y + 15}" class="value">{_number(value)}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(title: str, rows: Sequence[tuple[str, float]], *, width: int = 560, height: int = 200) -> Markup:
    """Vertical columns (years): label under each, value above; too many labels are thinned."""
    if not rows:
        return Markup(f'<p class="empty">{escape(title)}: chưa có dữ liệu.</p>')
    top = max(v for _, v in rows) or 1
    base = height - 24
    step = (width - 10) / len(rows)
    every = max(1, round(len(rows) / 12))
    alt = f"{title}: " + "; ".join(f"{label}: {_number(v)}" for label, v in rows)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-label="{escape(alt)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(alt)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        x = 5 + i * step
        h = (base - 18) * value / top
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{base - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" '
            f'class="bar"/>'
        )
        if i % every == 0 or i == len(rows) - 1:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 6}" text-anchor="middle" class="label">'
                f"{escape(label)}</text>"
            )
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" class="value">'
                f"{_number(value)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
