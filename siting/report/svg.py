"""The report page's bar charts as inline SVG: cost waterfall, supplier mix, local share.

``report.html`` draws these three charts as SVG written out here rather than as matplotlib PNGs:
they are plain bars, text stays sharp and searchable at any zoom, and a solve does not pay for
drawing and compressing three pictures it only embeds (about half a second of every flagship run).
The map and the analyses' charts, which need projections and heat maps, stay in
:mod:`siting.report.charts`.
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd

WIDTH = 760
ROW = 24
FONT = "font-family:system-ui,sans-serif;font-size:12px"
#: Rough width of a character at 12 px, to keep labels inside their bars and the picture.
CHAR = 7.4
RISE, FALL, TOTAL = "#1f4e79", "#2e7d32", "#424242"
LOCAL, NOT_LOCAL, TARGET = "#2e7d32", "#7b1fa2", "#c62828"


def _svg(height: float, body: list[str], label: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" role="img" '
            f'aria-label="{escape(label)}" style="{FONT};max-width:100%;height:auto">'
            f"<title>{escape(label)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", **style) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in style.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, **style) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in style.items())
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" height="{h:.1f}" fill="{fill}"{extra}/>'


def _number(v: float, digits: int) -> str:
    return f"{v + 0.0:,.{digits}f}"


def cost_waterfall(costs: dict[str, float], money: str, digits: int = 1) -> str:
    """The firm's annual cost built up category by category (savings in green), ending at the total.

    Categories whose amount rounds to zero at ``digits`` are left out (they would be empty rows).
    """
    items = [(c.replace("_", " "), float(v)) for c, v in costs.items() if abs(v) >= 0.5 * 10 ** -digits]
    total = sum(v for _, v in items)
    levels, level = [], 0.0
    for _, v in items:
        levels.append((level, level + v))
        level += v
    low = min([0.0, *(min(a, b) for a, b in levels)])
    high = max([0.0, total, *(max(a, b) for a, b in levels)])
    left, right = 130.0, WIDTH - 110.0
    scale = (right - left) / ((high - low) or 1.0)

    def x(v: float) -> float:
        return left + (v - low) * scale

    body = [_text(0, 14, f"Annual cost to the firm by category ({money} a year)", font_weight="bold")]
    y = 26.0
    for (name, v), (a, b) in zip(items, levels):
        body.append(_text(left - 6, y + 15, name, "end"))
        body.append(_rect(x(min(a, b)), y + 3, abs(b - a) * scale, ROW - 6, FALL if v < 0 else RISE))
        body.append(_text(x(max(a, b)) + 4, y + 15, _number(v, digits)))
        y += ROW
    body.append(_text(left - 6, y + 15, "firm cost", "end", font_weight="bold"))
    body.append(_rect(x(min(0.0, total)), y + 3, abs(total) * scale, ROW - 6, TOTAL))
    body.append(_text(x(max(0.0, total)) + 4, y + 15, _number(total, digits), font_weight="bold"))
    body.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="26" y2="{y + ROW:.1f}" stroke="#000" stroke-width="1"/>')
    return _svg(y + ROW + 4, body, f"cost waterfall: firm cost {_number(total, digits)} {money} a year")


def supplier_mix(mix: pd.DataFrame) -> str:
    """Each input's suppliers at each open site as a bar of shares (local suppliers green, others
    purple), each supplier named inside its part where the name fits."""
    bars = list(dict.fromkeys(zip(mix["site"], mix["input"])))
    names = [f"{s} / {i}" for s, i in bars]
    left = min(max((len(n) for n in names), default=10) * CHAR + 12, 260.0)
    right = WIDTH - 10.0
    body = [_text(0, 14, "Supplier mix: share of each input's units by supplier", font_weight="bold"),
            _rect(0, 22, 12, 12, LOCAL), _text(16, 32, "local supplier"),
            _rect(120, 22, 12, 12, NOT_LOCAL), _text(136, 32, "not local")]
    y = 42.0
    for (s, i), name in zip(bars, names):
        body.append(_text(left - 6, y + 15, name, "end"))
        rows = mix[(mix["site"] == s) & (mix["input"] == i)].sort_values(["local", "share"], ascending=False)
        start = 0.0
        for n, r in enumerate(rows.itertuples()):
            width = float(r.share) * (right - left)
            shade = 0.55 + 0.2 * (n % 3)
            body.append(_rect(left + start, y + 2, width, ROW - 4, LOCAL if r.local else NOT_LOCAL,
                              opacity=f"{shade:.2f}", stroke="#fff"))
            label = f"{r.supplier} {r.share:.0%}"
            if len(label) * CHAR + 6 <= width:
                body.append(_text(left + start + width / 2, y + 16, label, "middle", fill="#fff"))
            elif len(str(r.supplier)) * CHAR + 6 <= width:
                body.append(_text(left + start + width / 2, y + 16, str(r.supplier), "middle", fill="#fff"))
            start += width
        y += ROW
    return _svg(y + 4, body, "supplier mix by site and input")


def local_share(sites: pd.DataFrame) -> str:
    """Local share achieved at each open site (bar) against its target (red mark)."""
    s = sites[sites["open"].astype(bool)]
    left = min(max((len(str(n)) for n in s["site"]), default=8) * CHAR + 12, 220.0)
    right = WIDTH - 170.0
    span = right - left
    body = [_text(0, 14, "Local share of purchases (by value) against the target", font_weight="bold"),
            _rect(0, 22, 12, 12, LOCAL), _text(16, 32, "achieved"),
            _rect(100, 22, 3, 12, TARGET), _text(108, 32, "target")]
    y = 42.0
    for _, r in s.iterrows():
        share, target = r["local_share"], r["local_target"]
        body.append(_text(left - 6, y + 15, str(r["site"]), "end"))
        body.append(_rect(left, y + 3, span, ROW - 6, "#eeeeee"))
        if not pd.isna(share):
            body.append(_rect(left, y + 3, float(share) * span, ROW - 6, LOCAL))
        if not pd.isna(target):
            body.append(_rect(left + float(target) * span - 1.5, y, 3, ROW, TARGET))
        words = "nothing bought" if pd.isna(share) else f"{share:.1%}"
        if not pd.isna(target):
            words += f" (target {target:.0%})" if math.isclose(target * 100, round(target * 100)) else \
                f" (target {target:.1%})"
        body.append(_text(right + 6, y + 15, words))
        y += ROW
    return _svg(y + 4, body, "local share against target")
