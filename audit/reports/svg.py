"""Chart geometry: where each bar, tick and label of a report chart goes.

Functions here turn report records into a ``Chart`` (a viewBox and lists of shapes,
with CSS class names for colour); ``html.draw_chart`` draws any ``Chart`` as inline
SVG, every label escaped as the templates escape what they print. No strings are
assembled into markup here and nothing is fetched: charts are plain shapes and text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence

from audit.diff import LevelChange
from audit.reports.model import Gap, LevelCount
from audit.reports.org import LoadBin, TeamCoverage
from audit.reports.trend_line import TrendPoint

# Colours are SVG presentation attributes, not CSS: WeasyPrint ignores CSS ``fill``.
PALETTE = {
    "lv0": "#c9372c", "lv1": "#e8772e", "lv2": "#d9a400", "lv3": "#5aa454", "lv4": "#1f7a4d",
    "before": "#ced4da", "empty": "#e9ecef", "gain": "#2b8a3e", "drop": "#c92a2a",
    "covered": "#b2f2bb", "gap": "#e03131", "bad": "#c9372c", "warn": "#e8772e", "ok": "#74b816",
    "neutral": "#748ffc", "axis": "#9aa3b2", "tick-line": "#9aa3b2", "trend": "#14213d", "grid": "#e9ecef",
}
INK, MUTED = "#1d2330", "#5b6474"


@dataclasses.dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str  # what the shape is (a class name for tests and hover styles), and so its colour
    title: str = ""  # tooltip (and the accessible name of the shape)

    @property
    def fill(self) -> str:
        return PALETTE.get(self.css, MUTED)


@dataclasses.dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"  # start, middle or end
    css: str = ""  # space-separated: small, tick, strong, value

    @property
    def size(self) -> float:
        return 10.5 if "small" in self.css.split() else 12.0

    @property
    def color(self) -> str:
        classes = self.css.split()
        return MUTED if ("tick" in classes or "small" in classes) and "strong" not in classes else INK

    @property
    def weight(self) -> str:
        return "bold" if {"strong", "value"} & set(self.css.split()) else "normal"


@dataclasses.dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str = "axis"

    @property
    def stroke(self) -> str:
        return PALETTE.get(self.css, MUTED)


@dataclasses.dataclass(frozen=True)
class Chart:
    width: float
    height: float
    title: str  # what the chart shows, for screen readers
    rects: tuple[Rect, ...] = ()
    labels: tuple[Label, ...] = ()
    lines: tuple[Line, ...] = ()


def _r(value: float) -> float:
    return round(value, 1)


def level_columns(distribution: Sequence[LevelCount], *, title: str = "Services per maturity level") -> Chart:
    """One column per level, its height the number of services, labelled with count and share."""
    width, height, top, bottom, left = 520.0, 220.0, 24.0, 54.0, 10.0
    slot = (width - 2 * left) / max(len(distribution), 1)
    peak = max((c.count for c in distribution), default=0) or 1
    usable = height - top - bottom
    rects, labels = [], []
    for i, count in enumerate(distribution):
        bar_height = usable * count.count / peak
        x = left + i * slot + slot * 0.15
        y = top + usable - bar_height
        rects.append(Rect(_r(x), _r(y), _r(slot * 0.7), _r(bar_height), f"lv{count.level}",
                          f"Level {count.level} ({count.name}): {count.count} services"))
        labels.append(Label(_r(x + slot * 0.35), _r(y - 6), f"{count.count} · {count.share:.0%}", "middle", "value"))
        labels.append(Label(_r(x + slot * 0.35), height - bottom + 16, f"L{count.level}", "middle", "tick strong"))
        for line, words in enumerate(_two_lines(count.name)):
            labels.append(Label(_r(x + slot * 0.35), height - bottom + 30 + 12 * line, words, "middle", "tick small"))
    axis = Line(left, top + usable, width - left, top + usable)
    return Chart(width, height, title, tuple(rects), tuple(labels), (axis,))


def level_strip(distribution: Sequence[LevelCount], *, width: float = 160.0, height: float = 14.0) -> Chart:
    """A single stacked bar of a group's levels, small enough for a table cell."""
    rects, x = [], 0.0
    total = sum(c.count for c in distribution)
    for count in distribution:
        if not count.count:
            continue
        w = width * count.count / total
        rects.append(Rect(_r(x), 0, _r(w), height, f"lv{count.level}", f"L{count.level}: {count.count}"))
        x += w
    if not rects:
        rects.append(Rect(0, 0, width, height, "empty", "no services"))
    summary = ", ".join(f"L{c.level}: {c.count}" for c in distribution if c.count) or "no services"
    return Chart(width, height, f"Levels: {summary}", tuple(rects))


def level_comparison(old: Sequence[LevelCount], new: Sequence[LevelCount]) -> Chart:
    """Before and after, side by side per level (share of services), for the trend."""
    width, height, top, bottom, left = 520.0, 200.0, 20.0, 40.0, 10.0
    slot = (width - 2 * left) / max(len(new), 1)
    usable = height - top - bottom
    peak = max([c.share for c in (*old, *new)] + [0.01])
    rects, labels = [], []
    for i, (before, after) in enumerate(zip(old, new)):
        for j, (count, css, when) in enumerate(((before, "before", "previous"), (after, f"lv{after.level}", "now"))):
            h = usable * count.share / peak
            x = left + i * slot + slot * (0.12 + 0.38 * j)
            rects.append(Rect(_r(x), _r(top + usable - h), _r(slot * 0.36), _r(h), css,
                              f"L{count.level} {when}: {count.count} services ({count.share:.0%})"))
            labels.append(Label(_r(x + slot * 0.18), _r(top + usable - h - 4), f"{count.share:.0%}", "middle",
                                "value small"))
            # Which bar is which, in words under each: colour is never the only carrier (WCAG 1.4.1).
            labels.append(Label(_r(x + slot * 0.18), top + usable + 9, "then" if j == 0 else "now", "middle",
                                "tick small"))
        labels.append(Label(_r(left + i * slot + slot / 2), height - bottom + 23, f"L{after.level}", "middle",
                            "tick strong"))
    labels.append(Label(left, height - 4, "then: previous audit (grey) · now: this audit", "start", "tick small"))
    return Chart(width, height, "Share of services per level, previous audit against this one",
                 tuple(rects), tuple(labels), (Line(left, top + usable, width - left, top + usable),))


def horizontal_bars(items: Sequence[tuple[str, float, str]], *, maximum: float, unit: str = "",
                    title: str, width: float = 520.0) -> Chart:
    """Labelled bars, one per row: (label, value, css class)."""
    row, label_width, top = 22.0, 170.0, 4.0
    usable = width - label_width - 70
    rects, labels = [], []
    for i, (label, value, css) in enumerate(items):
        y = top + i * row
        w = usable * value / maximum if maximum else 0
        rects.append(Rect(label_width, _r(y), _r(max(w, 1.5)), row - 6, css, f"{label}: {value:.0f}{unit}"))
        labels.append(Label(label_width - 8, _r(y + row / 2), _shorten(label, 26), "end", "tick"))
        labels.append(Label(_r(label_width + w + 6), _r(y + row / 2), f"{value:.0f}{unit}", "start", "value"))
    return Chart(width, top * 2 + row * len(items), title, tuple(rects), tuple(labels))


def score_changes(changes: Sequence[tuple[str, float]], *, title: str, width: float = 520.0) -> Chart:
    """Diverging bars around zero: a score change per team, gains right, drops left."""
    row, label_width = 22.0, 170.0
    usable = (width - label_width - 20) / 2
    centre = label_width + usable
    peak = max([abs(delta) for _, delta in changes] + [1.0])
    rects, labels = [], []
    for i, (name, delta) in enumerate(changes):
        y = 4 + i * row
        w = usable * abs(delta) / peak
        x = centre if delta >= 0 else centre - w
        rects.append(Rect(_r(x), _r(y), _r(max(w, 1.5)), row - 6, "gain" if delta >= 0 else "drop",
                          f"{name}: {delta:+.1f} points"))
        labels.append(Label(label_width - 8, _r(y + row / 2), _shorten(name, 26), "end", "tick"))
        # A drop's figure sits right of the axis (that side of its row is empty), clear of the names.
        labels.append(Label(_r(x + w + 4 if delta >= 0 else centre + 4), _r(y + row / 2), f"{delta:+.1f}",
                            "start", "value"))
    height = 8 + row * len(changes)
    return Chart(width, height, title, tuple(rects), tuple(labels), (Line(centre, 0, centre, height),))


def timeline(start: dt.datetime, end: dt.datetime, gaps: Sequence[Gap], *, title: str,
             width: float = 720.0, height: float = 34.0) -> Chart:
    """The window as a covered band with each gap cut out in red, and a tick per day (labelled weekly)."""
    band = height - 16
    rects = [Rect(0, 0, width, band, "covered", "covered")]
    for gap in gaps:
        x1, x2 = _x_of(gap.start, start, end, width), _x_of(gap.end, start, end, width)
        rects.append(Rect(_r(x1), 0, _r(max(x2 - x1, 1.0)), band, "gap",
                          f"gap {gap.start:%a %d %b %H:%M} – {gap.end:%a %d %b %H:%M} UTC ({gap.hours:.1f} h)"))
    lines, labels = _day_ticks(start, end, width, height)
    return Chart(width, height, title, tuple(rects), labels, lines)


@functools.lru_cache(maxsize=16)
def _day_ticks(start: dt.datetime, end: dt.datetime, width: float, height: float) -> tuple[tuple[Line, ...],
                                                                                          tuple[Label, ...]]:
    """A timeline's tick per day and label per week: the same for every timeline of a report's window."""
    band = height - 16
    lines, labels = [], []
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    days = 0
    while day <= end:
        if day >= start:
            x = _r(_x_of(day, start, end, width))
            weekly = days % 7 == 0
            lines.append(Line(x, band, x, band + (5 if weekly else 2), "tick-line"))
            if weekly:
                labels.append(Label(min(x, width - 40), height - 1, f"{day:%d %b}", "start", "tick small"))
        day += dt.timedelta(days=1)
        days += 1
    return tuple(lines), tuple(labels)


def _x_of(moment: dt.datetime, start: dt.datetime, end: dt.datetime, width: float) -> float:
    """Where ``moment`` falls on a timeline of ``width`` from ``start`` to ``end`` (clamped to it)."""
    span = (end - start).total_seconds() or 1.0
    return max(0.0, min(width, width * (moment - start).total_seconds() / span))


def _two_lines(text: str) -> list[str]:
    """A label split at the space nearest its middle, so neighbouring column labels do not collide."""
    words = text.split()
    if len(words) < 2:
        return [text]
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------- charts of report records


def coverage_by_team(rows: Sequence[TeamCoverage]) -> Chart:
    items = [(r.team, r.kept_pct, "bad" if r.kept_pct < 50 else "warn" if r.kept_pct < 100 else "ok") for r in rows]
    return horizontal_bars(items, maximum=100, unit="%",
                           title="Share of each team's 24/7 services whose level 1 is fully covered")


def load_histogram(bins: Sequence[LoadBin]) -> Chart:
    peak = max((b.count for b in bins), default=0) or 1
    return horizontal_bars([(b.label, b.count, "neutral") for b in bins], maximum=peak,
                           title="Number of people per band of on-call hours in the window")


def movers(changes: Sequence[LevelChange]) -> Chart:
    return score_changes([(c.name, c.score_delta or 0.0) for c in changes],
                         title="Score change of the most improved teams and the worst drops")


def trend_line(points: Sequence[TrendPoint]) -> Chart:
    """The org score at each audit, oldest left, as a line of dots labelled with score and mean level."""
    width, height, top, bottom, left, right = 460.0, 190.0, 24.0, 40.0, 30.0, 10.0
    inset = 44.0  # the first and last points stand clear of the axis labels, with room for their own
    usable_w, usable_h = width - left - right, height - top - bottom
    step = (usable_w - 2 * inset) / max(len(points) - 1, 1)

    def y_of(score: float) -> float:
        return _r(top + usable_h * (1 - score / 100))

    lines = [Line(left, y_of(v), width - right, y_of(v), "grid") for v in (25, 50, 75)]
    lines.append(Line(left, top + usable_h, width - right, top + usable_h))
    labels = [Label(left - 6, y_of(v), f"{v}", "end", "tick small") for v in (0, 25, 50, 75, 100)]
    rects = []
    placed = [(_r(left + inset + i * step if len(points) > 1 else left + usable_w / 2), p)
              for i, p in enumerate(points)]
    scored = [(x, p) for x, p in placed if p.score is not None]
    for (x1, a), (x2, b) in zip(scored, scored[1:]):
        lines.append(Line(x1, y_of(a.score or 0), x2, y_of(b.score or 0), "trend"))
    every = max(len(placed) // 8, 1)  # at most about eight date labels under the axis, the last always
    for i, (x, point) in enumerate(placed):
        if i % every == 0 or i == len(placed) - 1:
            labels.append(Label(x, height - bottom + 16, f"{point.day:%d %b %Y}", "middle", "tick small"))
        if point.score is None:
            continue
        level = "–" if point.mean_level is None else f"{point.mean_level:.1f}"
        rects.append(Rect(_r(x - 4), _r(y_of(point.score) - 4), 8, 8, "trend",
                          f"{point.day:%Y-%m-%d}: score {point.score:.0f}, mean level {level}"))
        labels.append(Label(x, _r(y_of(point.score) - 12), f"{point.score:.0f} · L{level}", "middle", "value small"))
    labels.append(Label(left, height - 6, "org score (0–100) · mean level (0–4) at each audit", "start", "tick small"))
    return Chart(width, height, f"Org score at each of {len(points)} audits, oldest first",
                 tuple(rects), tuple(labels), tuple(lines))
