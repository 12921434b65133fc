"""Half-open time intervals and who holds them: the arithmetic under schedule rendering.

A ``Shift`` is one person (or nobody) on call over ``[start, end)``. Layers, overrides and v3
rotations all become lists of shifts; stacking, clipping, merging and coverage are done here
once so the v2 and v3 renderers and /oncalls agree on every edge case.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Shift:
    start: datetime
    end: datetime
    user_id: str | None  # None: an empty v3 slot (on the rota, but nobody is paged)
    source: str = ""  # the layer, rotation or override id the shift came from

    @property
    def span(self) -> Span:
        return (self.start, self.end)


def union(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint spans covering exactly the same time; touching spans are joined."""
    merged: list[list[datetime]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def intersect(spans: Sequence[Span], windows: Sequence[Span]) -> list[Span]:
    """The parts of ``spans`` inside ``windows``; both sorted and disjoint (two-pointer walk)."""
    result: list[Span] = []
    i = j = 0
    while i < len(spans) and j < len(windows):
        start = max(spans[i][0], windows[j][0])
        end = min(spans[i][1], windows[j][1])
        if start < end:
            result.append((start, end))
        if spans[i][1] <= windows[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(span: Span, covered: Sequence[Span]) -> list[Span]:
    """The parts of ``span`` outside ``covered`` (sorted and disjoint)."""
    pieces: list[Span] = []
    cursor, end = span
    for c_start, c_end in covered:
        if c_end <= cursor:
            continue
        if c_start >= end:
            break
        if c_start > cursor:
            pieces.append((cursor, c_start))
        cursor = max(cursor, c_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def clip(shifts: Iterable[Shift], start: datetime, end: datetime) -> list[Shift]:
    """Shifts cut to ``[start, end)``; those outside it are dropped."""
    clipped = []
    for shift in shifts:
        s, e = max(shift.start, start), min(shift.end, end)
        if s < e:
            clipped.append(shift if (s, e) == shift.span else replace(shift, start=s, end=e))
    return clipped


def stack(layers: Sequence[Sequence[Shift]]) -> list[Shift]:
    """Flatten layers given highest priority first: a higher layer hides whatever lies below it."""
    covered: list[Span] = []
    result: list[Shift] = []
    for layer in layers:
        for shift in layer:
            result.extend(replace(shift, start=s, end=e) for s, e in subtract(shift.span, covered))
        covered = union([*covered, *(shift.span for shift in layer)])
    result.sort(key=lambda shift: (shift.start, shift.user_id or ""))
    return result


def join_adjacent(shifts: Sequence[Shift]) -> list[Shift]:
    """Sorted shifts with back-to-back shifts of the same person merged into one."""
    joined: list[Shift] = []
    for shift in sorted(shifts, key=lambda s: (s.start, s.user_id or "")):
        last = joined[-1] if joined else None
        if last is not None and last.user_id == shift.user_id and last.end == shift.start:
            joined[-1] = replace(last, end=shift.end)
        else:
            joined.append(shift)
    return joined


def coverage_percentage(spans: Iterable[Span], start: datetime, end: datetime) -> float:
    """Share of ``[start, end)`` covered by ``spans``, in percent, two decimals (0 for an empty window)."""
    window = (end - start).total_seconds()
    if window <= 0:
        return 0.0
    covered = sum((e - s).total_seconds() for s, e in intersect(union(spans), [(start, end)]))
    return round(100.0 * covered / window, 2)
