"""Tiny inline-SVG charts for the HTML report.

Why hand-drawn SVG: the report must open offline, from a file, years later — no JavaScript,
no CDN, no fonts to fetch. Three shapes cover what the report needs: labelled horizontal
bars, a histogram and a line chart. Every string that reaches the markup is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["PALETTE", "hbar_chart", "histogram", "line_chart"]

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _empty(width: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" role="img" '
            f'aria-label="{escape(title)}"><text x="10" y="35" {_FONT} fill="#6b7280">'
            f'{escape(title)}: no data</text></svg>')


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10.0 ** len(str(int(v))) / 10.0
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * mag >= v:
            return step * mag
    return 10.0 * mag


def hbar_chart(
    items: Sequence[tuple[str, float, str]], *, title: str, width: int = 560,
    colors: Sequence[str] | None = None,
) -> str:
    """Horizontal bars: (label, value, annotation) each; bar length ∝ value."""
    if not items:
        return _empty(width, title)
    row, label_w, pad = 22, 170, 8
    height = len(items) * row + 2 * pad
    top = max(v for _, v, _ in items) or 1.0
    plot_w = width - label_w - 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">']
    for i, (label, value, note) in enumerate(items):
        y = pad + i * row
        w = max(1.0, plot_w * value / top) if value > 0 else 0.0
        color = (colors or PALETTE)[i % len(colors or PALETTE)]
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" {_FONT}>'
                     f'{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                     f'fill="{color}"><title>{escape(label)}: {escape(note)}</title></rect>')
        parts.append(f'<text x="{label_w + w + 5:.1f}" y="{y + 15}" {_FONT}>{escape(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    edges: Sequence[float], counts: Sequence[int], *, title: str, unit: str = "",
    width: int = 560, height: int = 220,
) -> str:
    """Vertical bars between `edges` (len(counts) + 1 of them), labelled by the lower edge."""
    if not counts or sum(counts) == 0:
        return _empty(width, title)
    left, bottom, top_pad = 44, 36, 10
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = _nice_max(max(counts))
    bw = plot_w / len(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" '
             'stroke="#9ca3af"/>',
             f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end" {_FONT}>{top:g}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" {_FONT}>0</text>']
    for i, n in enumerate(counts):
        h = plot_h * n / top
        x = left + i * bw
        parts.append(f'<rect x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bw - 2:.1f}" '
                     f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{edges[i]:g}–{edges[i + 1]:g}'
                     f'{escape(unit)}: {n}</title></rect>')
        if i % max(1, len(counts) // 8) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" {_FONT}>'
                         f'{edges[i]:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    xs: Sequence[float], series: Sequence[tuple[str, Sequence[float]]], *, title: str,
    x_unit: str = "s", width: int = 560, height: int = 220,
) -> str:
    """One polyline per named series over shared x values, with a small legend."""
    if not xs or not series or all(not any(v) for _, v in series):
        return _empty(width, title)
    left, bottom, top_pad = 44, 36, 22
    plot_w, plot_h = width - left - 14, height - bottom - top_pad
    top = _nice_max(max(max(v) for _, v in series))
    x_max = max(xs) or 1.0

    def px(x: float, y: float) -> str:
        return f"{left + plot_w * x / x_max:.1f},{top_pad + plot_h - plot_h * y / top:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
             f'y2="{top_pad + plot_h}" stroke="#9ca3af"/>',
             f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" '
             'stroke="#9ca3af"/>',
             f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end" {_FONT}>{top:g}</text>',
             f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end" {_FONT}>0</text>',
             f'<text x="{left}" y="{height - bottom + 16}" {_FONT}>0{escape(x_unit)}</text>',
             f'<text x="{left + plot_w}" y="{height - bottom + 16}" text-anchor="end" {_FONT}>'
             f'{x_max:g}{escape(x_unit)}</text>']
    for i, (name, ys) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        points = " ".join(px(x, y) for x, y in zip(xs, ys, strict=False))
        if len(xs) == 1:
            points += " " + px(x_max, ys[0])
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        lx = left + 10 + i * 120
        parts.append(f'<rect x="{lx}" y="4" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{left + 24 + i * 120}" y="13" {_FONT}>{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
