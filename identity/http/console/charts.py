"""Stacked bar charts drawn on the server as SVG, each with its table (issue 20, part 4).

No script and no external file: the page's template (``_chart.html``) draws the
:class:`Chart` this module lays out. Each chart is an ``<svg role="img">`` named by its title
and summed up in its description, and has a table of the same numbers (WCAG 2.2 SC 1.1.1:
a text alternative; the table is what a screen reader reads). Colours come from a small
palette whose every colour has at least 3:1 contrast on white (SC 1.4.11); each bar also
names its series and count in its ``<title>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["PALETTE", "Bar", "Chart", "stacked_chart"]

#: Dark blue, ochre, green, purple, red, slate: distinct in hue and lightness.
PALETTE = ("#1f4e79", "#8a5a00", "#1e7a3c", "#6b3fa0", "#a32020", "#4a5560")
WIDTH, HEIGHT = 640, 240
_LEFT, _BOTTOM, _TOP, _RIGHT = 44, 28, 10, 8
#: With more series than colours, this many keep their own colour and the rest are summed.
MAX_SERIES = len(PALETTE) - 1


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A laid-out chart: bars, axis labels, legend, and the table with the same numbers."""

    id: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, int], ...]  # (y, value)
    labels: tuple[tuple[float, str], ...]  # (x of the column's middle, text)
    legend: tuple[tuple[str, str], ...]  # (colour, series name)
    columns: tuple[str, ...]  # the table's series columns
    rows: tuple[tuple[str, tuple[int, ...], int], ...]  # (category, per series, total)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - _BOTTOM
    left: float = _LEFT


def _top(total: int) -> int:
    """A round top for the scale: 1, 2 or 5 times a power of ten, at least ``total``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= total:
                return max(step * factor, 1)
        step *= 10


def stacked_chart(
    *, id: str, title: str, description: str, categories: Sequence[tuple[str, str]],
    values: Mapping[str, Mapping[str, int]], names: Mapping[str, str], other: str,
    label_every: int = 1,
) -> Chart:  # fmt: skip
    """Columns per category (``(key, label)``, in order), each stacking its series'
    ``values[category][series]``; the :data:`MAX_SERIES` largest series by total keep their
    colour and the rest are summed under ``other``; ``names`` words each series."""
    totals: dict[str, int] = {}
    for key, _label in categories:
        for series, count in values.get(key, {}).items():
            totals[series] = totals.get(series, 0) + count
    ranked = sorted(totals, key=lambda s: (-totals[s], names.get(s, s)))
    kept = ranked if len(ranked) <= len(PALETTE) else ranked[:MAX_SERIES]
    rest = [s for s in ranked if s not in kept]
    columns = [names.get(s, s) for s in kept] + ([other] if rest else [])
    colours = dict(zip(columns, PALETTE, strict=False))
    rows: list[tuple[str, tuple[int, ...], int]] = []
    for key, label in categories:
        counts = values.get(key, {})
        cells = [counts.get(s, 0) for s in kept]
        if rest:
            cells.append(sum(counts.get(s, 0) for s in rest))
        rows.append((label, tuple(cells), sum(cells)))
    top = _top(max((total for _l, _c, total in rows), default=0))
    plot_height = HEIGHT - _BOTTOM - _TOP
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(rows), 1)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for index, (label, row, _total) in enumerate(rows):
        x = _LEFT + index * slot + slot * 0.15
        base: float = HEIGHT - _BOTTOM
        for column, count in zip(columns, row, strict=True):
            if not count:
                continue
            height = plot_height * count / top
            base -= height
            bars.append(Bar(round(x, 2), round(base, 2), round(slot * 0.7, 2), round(height, 2),
                            colours[column], f"{label}: {column} {count}"))  # fmt: skip
        if index % label_every == 0:
            labels.append((round(_LEFT + index * slot + slot / 2, 2), label))
    ticks = tuple(
        (round(HEIGHT - _BOTTOM - plot_height * value / top, 2), value)
        for value in sorted({0, top // 2, top})
    )
    return Chart(
        id=id, title=title, description=description, bars=tuple(bars), ticks=ticks,
        labels=tuple(labels), legend=tuple((colours[c], c) for c in columns),
        columns=tuple(columns), rows=tuple(rows),
    )  # fmt: skip
