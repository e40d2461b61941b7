"""A small server-side SVG line-chart renderer: no JavaScript, no CDN.

Axes carry their unit with SI prefixes (``1.5 Mbit/s``), the time axis has ticks on round times (UTC),
every series gets a legend entry, and a missing point (``None``, or a gap longer than 1.5 steps between
two timestamps) breaks its line instead of bridging it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
SI_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"))
TIME_STEPS = (60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400)


@dataclass(frozen=True)
class Series:
    """One line: ``points`` are ``(unix time, value or None)`` in time order."""

    label: str
    points: tuple[tuple[float, float | None], ...]


def si_format(value: float, unit: str, *, si: bool = True) -> str:
    """``value`` with ``unit`` and, when ``si``, an SI prefix: 1500000 bit/s is ``1.5 Mbit/s``."""
    if not si or value == 0:
        number, prefix = value, ""
    else:
        scale, prefix = next(((s, p) for s, p in SI_PREFIXES if abs(value) >= s), SI_PREFIXES[-1])
        number = value / scale
    text = f"{number:.3g}"
    return f"{text} {prefix}{unit}".rstrip()


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times 10^k apart) covering ``low``…``high``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999 and len(ticks) <= count + 2:
        ticks.append(round(value, 12))
        value += step
    return ticks


def time_ticks(start: float, end: float, count: int = 6) -> tuple[list[float], str]:
    """Round times between ``start`` and ``end`` (at most about ``count``) and their strftime format."""
    span = end - start
    step = next((s for s in TIME_STEPS if span / s <= count), TIME_STEPS[-1])
    first = math.ceil(start / step) * step
    ticks = [first + i * step for i in range(int((end - first) // step) + 1)]
    fmt = "%H:%M" if span <= 86400 else "%d %b %H:%M" if span <= 3 * 86400 else "%d %b"
    return ticks, fmt


def segments(points: tuple[tuple[float, float | None], ...], step: float) -> list[list[tuple[float, float]]]:
    """``points`` split into runs without gaps: at a ``None`` or a jump of more than 1.5 ``step``."""
    runs: list[list[tuple[float, float]]] = []
    previous: float | None = None
    for time, value in points:
        if value is None or not math.isfinite(value):
            previous = None
            continue
        if previous is None or time - previous > 1.5 * step:
            runs.append([])
        runs[-1].append((time, value))
        previous = time
    return runs


def render_line_chart(
    series: list[Series],
    *,
    start: float,
    end: float,
    step: float,
    unit: str,
    title: str,
    si: bool = True,
    width: int = 560,
    height: int = 220,
) -> str:
    """An ``<svg>`` element (a string, already escaped) drawing ``series`` over ``start``…``end``."""
    left, right, top, bottom = 70, 10, 24, 40
    legend_rows = math.ceil(len(series) / 3)
    total_height = height + 16 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for _, v in s.points if v is not None and math.isfinite(v)]
    low = min([0.0, *values])
    high = max([*values, 0.0])
    yticks = nice_ticks(low, high if high > low else low + 1)
    y_low, y_high = yticks[0], yticks[-1]

    def x(time: float) -> float:
        return left + (time - start) / (end - start) * plot_w

    def y(value: float) -> float:
        return top + (y_high - value) / (y_high - y_low) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
        f'height="{total_height}" viewBox="0 0 {width} {total_height}" font-size="11" '
        f'font-family="sans-serif" data-start="{start:.0f}" data-end="{end:.0f}" data-step="{step:.0f}" '
        f'data-y-max="{y_high!r}">'
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="14" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in yticks:
        ty = y(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#ddd"/>'
            f'<text class="y-tick" x="{left - 4}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{escape(si_format(tick, unit, si=si))}</text>"
        )
    times, fmt = time_ticks(start, end)
    for tick in times:
        tx = x(tick)
        label = datetime.fromtimestamp(tick, UTC).strftime(fmt)
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>'
            f'<text class="x-tick" x="{tx:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{label}</text>'
        )
    parts.append(
        f'<text x="{width - right}" y="{top + plot_h + 28}" text-anchor="end" fill="#666">UTC</text>'
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    for index, line in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        runs = segments(line.points, step)
        path = " ".join("M" + " L".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run) for run in runs if run)
        count = sum(len(run) for run in runs)
        parts.append(
            f'<path class="series" data-label="{escape(line.label)}" data-points="{count}" '
            f'data-segments="{len(runs)}" d="{path}" fill="none" stroke="{colour}" stroke-width="1.5">'
            f"<title>{escape(line.label)}</title></path>"
        )
        lx = left + (index % 3) * (plot_w // 3)
        ly = height + 4 + (index // 3) * 16
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour}"/>'
            f'<text class="legend" x="{lx + 14}" y="{ly + 9}">{escape(line.label)}</text>'
        )
    if not series:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
            'fill="#666">no data</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
