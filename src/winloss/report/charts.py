"""Small, dependency-free SVG charts for the self-contained HTML report.

Charts are inline SVG: they open offline, need no script or CDN, scale, and print cleanly to PDF.
Every chart carries a ``<title>`` and ``data-chart`` attribute so tests (and screen readers) find it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIN = "#1f7a4d"
LOSS = "#b3261e"
NEUTRAL = "#3b5b92"
GRID = "#d9dde3"
TEXT = "#1d2430"


def _fmt(value: float, pct: bool) -> str:
    if pct:
        return f"{value:.0%}"
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.3g}B" if abs(value) < 1e12 else f"{value / 1e9:,.0f}B"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M" if abs(value) < 1e8 else f"{value / 1e6:,.0f}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.3g}k" if abs(value) < 1e5 else f"{value / 1e3:,.0f}k"
    return f"{value:.3g}"


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round-number axis ticks covering ``[low, high]``: steps of 1, 2, 2.5 or 5 × 10^k, so an
    axis reads 0/10/20/30 % or 0/200/400/600, never 12/23/35/47."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    start = math.floor(low / step + 1e-9) * step
    ticks = [start]
    while ticks[-1] < high - 1e-9:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _svg(name: str, title: str, width: int, height: int, body: str) -> str:
    """The chart with its title shown above it (a caption) and kept for screen readers."""
    return (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg class="chart" data-chart="{escape(name)}" '
        f'role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{body}</svg></figure>"
    )


def hbar_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    lows: Sequence[float] | None = None,
    highs: Sequence[float] | None = None,
    reference: float | None = None,
    pct: bool = True,
    colors: Sequence[str] | None = None,
    width: int = 720,
    full_scale: bool = False,
) -> str:
    """Horizontal bars with optional interval whiskers and a reference line (e.g. baseline).

    ``full_scale``: a share whose whole range matters (completeness) is drawn on 0–100 %, so 3 %
    never looks like a full bar."""
    n = len(labels)
    row_h, left, right, top = 26, 300, 60, 24
    height = top + n * row_h + 24
    hi_vals = list(highs) if highs is not None else list(values)
    vmax = max([*hi_vals, reference or 0, 1e-9])
    if pct:
        vmax = 1.0 if full_scale else min(1.0, max(vmax, 0.05))
    elif vmax <= 1e-9:
        vmax = 1.0  # every value is 0: a 0–1 axis, not 0–0.000000001
    ticks = nice_ticks(0.0, vmax)
    vmax = ticks[-1]
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * max(0.0, v) / vmax

    parts: list[str] = []
    for tick in ticks:
        gx = x(tick)
        parts.append(
            f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - 20}" '
            f'stroke="{GRID}" />'
        )
        parts.append(
            f'<text x="{gx:.1f}" y="{height - 6}" font-size="11" fill="{TEXT}" '
            f'text-anchor="middle">{_fmt(tick, pct)}</text>'
        )
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row_h
        color = colors[i] if colors else NEUTRAL
        short = label if len(label) <= 42 else label[:41] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" font-size="12" fill="{TEXT}" '
            f'text-anchor="end"><title>{escape(label)}</title>{escape(short)}</text>'
        )
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{max(0.5, x(v) - left):.1f}" '
            f'height="{row_h - 10}" fill="{color}" rx="2" />'
        )
        if lows is not None and highs is not None:
            lo, hi = x(lows[i]), x(highs[i])
            cy = y + row_h / 2 - 1
            parts.append(
                f'<line x1="{lo:.1f}" y1="{cy:.1f}" x2="{hi:.1f}" y2="{cy:.1f}" '
                f'stroke="{TEXT}" stroke-width="1.5" />'
            )
        parts.append(
            f'<text x="{x(hi_vals[i]) + 6:.1f}" y="{y + 15}" font-size="11" '
            f'fill="{TEXT}">{_fmt(v, pct)}</text>'
        )
    if reference is not None:
        rx = x(reference)
        parts.append(
            f'<line x1="{rx:.1f}" y1="{top - 8}" x2="{rx:.1f}" y2="{height - 20}" '
            f'stroke="{TEXT}" stroke-dasharray="4 3" />'
        )
        parts.append(
            f'<text x="{rx + 4:.1f}" y="{top - 10}" font-size="11" fill="{TEXT}">'
            f"overall {_fmt(reference, pct)}</text>"
        )
    return _svg(name, title, width, height, "".join(parts))


def line_chart(
    name: str,
    title: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    pct: bool = True,
    colors: Sequence[str] | None = None,
    width: int = 720,
    height: int = 260,
    bands: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    full_scale: bool = False,
) -> str:
    """Lines over ordered x labels (quarters); ``None`` leaves a gap; optional shaded bands.

    ``full_scale``: shares drawn on 0–100 % (see :func:`hbar_chart`)."""
    left, right, top, bottom = 56, 150, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series.values() for v in s if v is not None and not math.isnan(v)]
    if bands:
        values += [v for lo, hi in bands.values() for v in (*lo, *hi)]
    vmax = max(values + [1e-9])
    vmin = min(0.0, min(values + [0.0]))
    if pct:
        vmax = 1.0 if full_scale else min(1.0, max(vmax, 0.05))
    elif vmax <= 1e-9:
        vmax = 1.0  # every value is 0 (or below)
    ticks = nice_ticks(vmin, vmax)
    vmin, vmax = ticks[0], ticks[-1]
    n = max(1, len(x_labels) - 1)

    def px(i: int) -> float:
        return left + plot_w * i / n

    def py(v: float) -> float:
        return top + plot_h * (1 - (v - vmin) / (vmax - vmin or 1))

    palette = list(colors or [NEUTRAL, WIN, LOSS, "#8a5a00", "#6b3fa0"])
    parts: list[str] = []
    for v in ticks:
        parts.append(
            f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" '
            f'stroke="{GRID}" />'
        )
        parts.append(
            f'<text x="{left - 6}" y="{py(v) + 4:.1f}" font-size="11" fill="{TEXT}" '
            f'text-anchor="end">{_fmt(v, pct)}</text>'
        )
    step = max(1, len(x_labels) // 10)
    for i, lab in enumerate(x_labels):
        if i % step == 0 or i == len(x_labels) - 1:
            parts.append(
                f'<text x="{px(i):.1f}" y="{height - 12}" font-size="11" fill="{TEXT}" '
                f'text-anchor="middle">{escape(str(lab))}</text>'
            )
    for k, (label, (lo, hi)) in enumerate((bands or {}).items()):
        color = palette[k % len(palette)]
        pts = [f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(hi)]
        pts += [f"{px(i):.1f},{py(v):.1f}" for i, v in reversed(list(enumerate(lo)))]
        parts.append(
            f'<polygon points="{" ".join(pts)}" fill="{color}" opacity="0.15">'
            f"<title>{escape(label)}</title></polygon>"
        )
    for k, (label, vals) in enumerate(series.items()):
        color = palette[k % len(palette)]
        segment: list[str] = []
        for i, value in enumerate(vals):
            if value is None or math.isnan(value):
                if len(segment) > 1:
                    parts.append(
                        f'<polyline points="{" ".join(segment)}" fill="none" '
                        f'stroke="{color}" stroke-width="2" />'
                    )
                segment = []
                continue
            segment.append(f"{px(i):.1f},{py(value):.1f}")
            parts.append(
                f'<circle cx="{px(i):.1f}" cy="{py(value):.1f}" r="3" fill="{color}">'
                f"<title>{escape(label)} {escape(str(x_labels[i]))}: "
                f"{_fmt(value, pct)}</title></circle>"
            )
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="{color}" '
                f'stroke-width="2" />'
            )
        parts.append(
            f'<rect x="{left + plot_w + 14}" y="{top + 18 * k}" width="12" height="12" '
            f'fill="{color}" />'
        )
        parts.append(
            f'<text x="{left + plot_w + 32}" y="{top + 18 * k + 10}" font-size="12" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    return _svg(name, title, width, height, "".join(parts))


def reliability_chart(
    name: str,
    title: str,
    predicted: Sequence[float],
    observed: Sequence[float],
    counts: Sequence[int],
    *,
    width: int = 360,
    unit: str = "deal",
    rate: str = "win rate",
) -> str:
    """Predicted vs observed ``rate`` per probability bin, against the diagonal; each bin's
    count is of ``unit`` (the PQL score's are accounts converting, not deals winning)."""
    height = width
    pad = 40
    plot = width - 2 * pad

    def p(v: float) -> float:
        return pad + plot * v

    def q(v: float) -> float:
        return pad + plot * (1 - v)

    parts = [
        f'<rect x="{pad}" y="{pad}" width="{plot}" height="{plot}" fill="none" stroke="{GRID}" />',
        f'<line x1="{p(0)}" y1="{q(0)}" x2="{p(1)}" y2="{q(1)}" stroke="{GRID}" '
        f'stroke-dasharray="4 3" />',
    ]
    for i in range(6):
        v = i / 5
        parts.append(
            f'<text x="{p(v):.1f}" y="{height - 14}" font-size="10" fill="{TEXT}" '
            f'text-anchor="middle">{v:.0%}</text>'
        )
        parts.append(
            f'<text x="{pad - 6}" y="{q(v) + 4:.1f}" font-size="10" fill="{TEXT}" '
            f'text-anchor="end">{v:.0%}</text>'
        )
    total = max(1, sum(counts))
    pts = []
    for pr, ob, c in zip(predicted, observed, counts, strict=True):
        if c == 0:
            continue
        r = 3 + 9 * math.sqrt(c / total)
        pts.append(f"{p(pr):.1f},{q(ob):.1f}")
        parts.append(
            f'<circle cx="{p(pr):.1f}" cy="{q(ob):.1f}" r="{r:.1f}" fill="{NEUTRAL}" '
            f'opacity="0.8"><title>predicted {pr:.0%}, observed {ob:.0%}, {c} {unit}'
            f"{'' if c == 1 else 's'}</title></circle>"
        )
    if len(pts) > 1:
        parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{NEUTRAL}" />')
    parts.append(
        f'<text x="{width / 2}" y="{pad - 14}" font-size="12" fill="{TEXT}" '
        f'text-anchor="middle">predicted vs observed {rate}</text>'
    )
    return _svg(name, title, width, height, "".join(parts))


def bowtie_chart(
    name: str,
    title: str,
    stages: Sequence[dict[str, object]],
    *,
    width: int = 960,
    height: int = 300,
) -> str:
    """The Bowtie: two mirrored funnels meeting at the knot (commit), each stage labelled with its
    volume (VM), conversion (CR) and median time in stage (Δt).

    ``stages`` are dicts with ``stage``, ``side`` (pre/post), ``volume``, ``conversion`` and
    ``median_days`` (``None``/NaN shown as "–"). Segment heights narrow towards the knot on the
    left and widen away from it on the right (the shape, not a scale); the numbers carry the data.
    A stage with volume 0 is drawn as a dashed, unfilled outline ("no deals reached this stage").
    """
    pre = [s for s in stages if s.get("side") == "pre"]
    post = [s for s in stages if s.get("side") == "post"]
    n = len(pre) + len(post)
    if n == 0:
        return _svg(name, title, width, 40, "")
    top, bottom = 26, 26
    mid = (height - top - bottom) / 2 + top
    seg_w = (width - 20) / n
    full, knot = (height - top - bottom) / 2, 36.0  # the knot holds its four label lines
    steps = max(len(pre) - 1, 1)

    def half(i: int) -> float:  # half-height at the left edge of pre-sale segment i
        return full - (full - knot) * min(i, steps) / steps

    def num(value: object, fmt: str) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return format(value, fmt)

    parts: list[str] = []
    order = pre + post
    for k, s in enumerate(order):
        x0 = 10 + k * seg_w
        x1 = x0 + seg_w - 4
        if s in pre:
            i = pre.index(s)
            h0, h1 = half(i), half(i + 1) if i + 1 < len(pre) else knot
            color = NEUTRAL
        else:
            j = post.index(s)
            h0 = knot + (full - knot) * j / max(len(post), 1)
            h1 = knot + (full - knot) * (j + 1) / max(len(post), 1)
            color = WIN
        points = (
            f"{x0:.1f},{mid - h0:.1f} {x1:.1f},{mid - h1:.1f} {x1:.1f},{mid + h1:.1f} "
            f"{x0:.1f},{mid + h0:.1f}"
        )
        volume = s.get("volume")
        # a stage no deal reached keeps its place in the shape but is drawn as an empty outline,
        # so that it does not look like a stage that holds deals
        empty = isinstance(volume, (int, float)) and not volume
        parts.append(
            f'<polygon points="{points}" fill="{color}" '
            f'fill-opacity="{0 if empty else 0.18}" stroke="{color}" stroke-width="1"'
            + (' stroke-dasharray="4 3"' if empty else "")
            + (
                f"><title>{escape(str(s.get('stage', '')))}: no deals reached this stage"
                "</title></polygon>"
                if empty
                else "/>"
            )
        )
        cx = (x0 + x1) / 2
        conv = s.get("conversion")
        days = s.get("median_days")
        lines = [
            (str(s.get("stage", "")), "bold"),
            (f"VM {num(volume, ',.0f')}", "normal"),
            (f"CR {num(conv, '.0%')}", "normal"),
            (f"Δt {num(days, '.0f')} d", "normal"),
        ]
        for r, (text, weight) in enumerate(lines):
            y = mid - 26 + r * 16
            parts.append(
                f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle" font-size="12" '
                f'font-weight="{weight}" fill="{TEXT}">{escape(text)}</text>'
            )
    parts.append(
        f'<text x="10" y="16" font-size="12" fill="{TEXT}">before the sale: '
        "conversion rates multiply</text>"
    )
    parts.append(
        f'<text x="{width - 10}" y="16" font-size="12" text-anchor="end" '
        f'fill="{TEXT}">after the sale: recurring impact compounds</text>'
    )
    return _svg(name, title, width, height, "".join(parts))


def _mix(share: float) -> str:
    """A colour between LOSS (share 0) and WIN (share 1)."""
    share = min(max(share, 0.0), 1.0)
    a = [int(LOSS[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(WIN[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))


def path_graph_chart(
    name: str,
    title: str,
    nodes: Sequence[tuple[str, float, float]],
    edges: Sequence[tuple[str, str, int, float]],
    *,
    width: int = 1000,
) -> str:
    """The engagement graph: nodes ``(label, column position, win share)`` laid out left to right
    by their typical step, edges ``(source, target, count, win share)`` with width by count and
    colour from lost (red) to won (green)."""
    if not nodes:
        return _svg(name, title, width, 60, "")
    columns: dict[int, list[tuple[str, float]]] = {}
    for label, position, share in nodes:
        columns.setdefault(int(round(position)), []).append((label, share))
    ordered = sorted(columns)
    per_col = max(len(v) for v in columns.values())
    step, stagger = 84, 42  # a row's labels (name above, share below) clear the next row's
    height = 40 + (per_col - 1) * step + stagger + 40
    xs = {c: 60 + i * (width - 130) / max(len(ordered) - 1, 1) for i, c in enumerate(ordered)}
    where: dict[str, tuple[float, float]] = {}
    for i, c in enumerate(ordered):
        for j, (label, _share) in enumerate(sorted(columns[c])):
            # alternate columns are staggered so that edges and labels do not overlap
            where[label] = (xs[c], 30 + j * step + (i % 2) * stagger)
    top = max((n for _, _, n, _ in edges), default=1) or 1
    body: list[str] = []
    for source, target, count, share in sorted(edges, key=lambda e: e[2]):
        if source not in where or target not in where or source == target:
            continue
        (x1, y1), (x2, y2) = where[source], where[target]
        bend = (x2 - x1) / 2 if x2 != x1 else 60
        stroke = 0.8 + 9 * count / top
        body.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" stroke="{_mix(share)}" stroke-opacity="0.55" '
            f'stroke-width="{stroke:.1f}"><title>{escape(source)} → {escape(target)}: {count:,} '
            f"({share:.0%} of closed won)</title></path>"
        )
    for label, _position, share in nodes:
        x, y = where[label]
        body.append(
            f'<g><circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{_mix(share)}"/>'
            f'<text x="{x:.1f}" y="{y - 14:.1f}" font-size="11" text-anchor="middle" '
            f'fill="{TEXT}">{escape(label)}</text>'
            f'<text x="{x:.1f}" y="{y + 22:.1f}" font-size="10" text-anchor="middle" '
            f'fill="{TEXT}">{share:.0%} won</text></g>'
        )
    return _svg(name, title, width, height, "".join(body))
