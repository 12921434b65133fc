"""Half-open UTC time intervals ``[start, end)`` and the set algebra over them.

An :class:`IntervalSet` is always normalised: sorted, disjoint, non-empty
intervals, with touching ones merged (``[9, 12) + [12, 17)`` is ``[9, 17)``), so
equal sets compare equal and a short shift nested in a long one is not a gap.
Every operation is a sort and a sweep (or a direct merge for the common shapes)
over numpy arrays of int64 epoch seconds (no Python loop over intervals), because
the facts stage runs thousands of these per account on tens of thousands of schedule entries. The API speaks
timezone-aware datetimes; epoch seconds are exposed for the few callers that
want to stay vectorised.

Resolution is one second, PagerDuty's own: a timestamp's fraction of a second is
dropped (floored).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


class Interval(NamedTuple):
    """One half-open interval ``[start, end)`` as timezone-aware UTC datetimes."""

    start: datetime
    end: datetime


def to_epoch(moment: datetime) -> int:
    """Whole seconds since 1970-01-01 UTC for an aware datetime (fraction floored)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: interval times need a time zone")
    return (moment - EPOCH) // _SECOND


def from_epoch(seconds: int | np.integer) -> datetime:
    """The UTC datetime ``seconds`` after the epoch."""
    return EPOCH + timedelta(seconds=int(seconds))


def iso_utc(moment: datetime) -> str:
    """``2027-01-04T17:00:00Z``: the form gaps and findings are written in."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class IntervalSet:
    """A normalised set of half-open UTC intervals (immutable).

    Build one with :meth:`from_pairs`, :meth:`from_epoch`, :meth:`window` or
    :meth:`empty`; combine them with the module's functions.
    """

    __slots__ = ("ends", "starts")

    starts: np.ndarray
    ends: np.ndarray

    def __init__(self, starts: np.ndarray, ends: np.ndarray) -> None:
        # Private: callers must pass arrays that are already normalised. Public
        # construction goes through from_epoch, which normalises.
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        starts.setflags(write=False)
        ends.setflags(write=False)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "ends", ends)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("IntervalSet is immutable")

    @classmethod
    def empty(cls) -> IntervalSet:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64))

    @classmethod
    def from_epoch(cls, starts: Iterable[int] | np.ndarray, ends: Iterable[int] | np.ndarray) -> IntervalSet:
        """Normalise arbitrary intervals given as epoch seconds (empty ones are dropped)."""
        start_array = np.asarray(starts if isinstance(starts, np.ndarray) else list(starts), dtype=np.int64)
        end_array = np.asarray(ends if isinstance(ends, np.ndarray) else list(ends), dtype=np.int64)
        if start_array.shape != end_array.shape or start_array.ndim != 1:
            raise ValueError("interval starts and ends must be 1-D arrays of the same length")
        if np.any(end_array < start_array):
            bad = int(np.argmax(end_array < start_array))
            raise ValueError(
                f"interval ends before it starts: [{iso_utc(from_epoch(start_array[bad]))}, "
                f"{iso_utc(from_epoch(end_array[bad]))})"
            )
        return _normalise(start_array, end_array)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[datetime, datetime]]) -> IntervalSet:
        """Normalise ``(start, end)`` pairs of aware datetimes."""
        pair_list = list(pairs)
        return cls.from_epoch(
            np.fromiter((to_epoch(start) for start, _ in pair_list), np.int64, len(pair_list)),
            np.fromiter((to_epoch(end) for _, end in pair_list), np.int64, len(pair_list)),
        )

    @classmethod
    def window(cls, start: datetime, end: datetime) -> IntervalSet:
        """The single interval ``[start, end)``."""
        return cls.from_pairs([(start, end)])

    def __len__(self) -> int:
        return len(self.starts)

    def __bool__(self) -> bool:
        return len(self.starts) > 0

    def __iter__(self) -> Iterator[Interval]:
        for start, end in zip(self.starts.tolist(), self.ends.tolist(), strict=True):
            yield Interval(from_epoch(start), from_epoch(end))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        # Both are int64 and one-dimensional: equal bytes are equal arrays (and a cache's key
        # comparison costs a memcmp, not array_equal's few microseconds).
        return self.starts.tobytes() == other.starts.tobytes() and self.ends.tobytes() == other.ends.tobytes()

    def __hash__(self) -> int:
        return hash((self.starts.tobytes(), self.ends.tobytes()))

    def __repr__(self) -> str:
        shown = ", ".join(f"[{iso_utc(i.start)}, {iso_utc(i.end)})" for i in list(self)[:3])
        more = f", … {len(self) - 3} more" if len(self) > 3 else ""
        return f"IntervalSet({shown}{more})"

    @property
    def lengths(self) -> np.ndarray:
        """Each interval's length in seconds."""
        return self.ends - self.starts

    @property
    def span(self) -> Interval | None:
        """The smallest single interval holding the whole set, or None when empty."""
        if not self:
            return None
        return Interval(from_epoch(self.starts[0]), from_epoch(self.ends[-1]))


Window = IntervalSet | tuple[datetime, datetime]


def as_interval_set(window: Window) -> IntervalSet:
    """Accept a window as an IntervalSet or a ``(start, end)`` pair."""
    if isinstance(window, IntervalSet):
        return window
    start, end = window
    return IntervalSet.window(start, end)


# --- the sweep ------------------------------------------------------------------
# A set operation over several inputs is one sweep: each interval adds its weight at
# its start and removes it at its end; the running total between two consecutive
# boundary times says which inputs hold that stretch, and a predicate on the total
# picks the stretches to keep. Boundaries at the same instant are netted before the
# total is read, which is exactly half-open semantics (an interval ending at t and
# one starting at t touch and do not overlap).
#
# The facts stage runs a few hundred thousand of these on sets of a handful of
# intervals, so per-call overhead matters as much as the maths: the sweep sorts
# once (no np.unique), and the common shapes (union of disjoint inputs, clipping to
# one window, a window minus a set) take direct paths that give the same result.


def _sweep(starts: np.ndarray, ends: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct boundary times and the running total from each one to the next."""
    times = np.concatenate([starts, ends])
    deltas = np.concatenate([weights, -weights])
    order = np.argsort(times, kind="stable")
    times, totals = times[order], np.cumsum(deltas[order])
    # The total after the last boundary at each instant is the one that holds until the next.
    last_at_instant = np.flatnonzero(np.diff(times, append=times[-1] + 1))
    return times[last_at_instant], totals[last_at_instant]


def _select(boundaries: np.ndarray, keep: np.ndarray) -> IntervalSet:
    """The union of stretches ``[boundaries[i], boundaries[i+1])`` where keep[i]."""
    if len(boundaries) < 2:
        return IntervalSet.empty()
    keep = keep[:-1].astype(np.int8)
    edges = np.diff(keep, prepend=0, append=0)
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    return IntervalSet(boundaries[run_starts], boundaries[run_ends])


def _normalise(starts: np.ndarray, ends: np.ndarray) -> IntervalSet:
    """Sorted, disjoint, touching ones merged: a sort and a running maximum of the ends."""
    if len(starts) <= _FEW:
        return _normalise_few(starts.tolist(), ends.tolist())
    return _normalise_arrays(starts, ends)


def _normalise_arrays(starts: np.ndarray, ends: np.ndarray) -> IntervalSet:
    nonempty = ends > starts
    if not nonempty.all():
        starts, ends = starts[nonempty], ends[nonempty]
    if len(starts) <= 1:
        return IntervalSet(starts.copy(), ends.copy())  # never freeze the caller's arrays
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    # A new interval begins where a start lies beyond everything before it has ended.
    begins = np.flatnonzero(starts[1:] > reach[:-1]) + 1
    firsts = np.concatenate([[0], begins])
    lasts = np.concatenate([begins - 1, [len(starts) - 1]])
    return IntervalSet(starts[firsts], reach[lasts])


def normalised_few(starts: list[int], ends: list[int]) -> IntervalSet:
    """:meth:`IntervalSet.from_epoch` of a handful of intervals given as Python ints, no end before its
    start (empty ones are dropped): merged in plain Python, with no numpy until the result."""
    return _normalise_few(starts, ends)


def _normalise_few(starts: list[int], ends: list[int]) -> IntervalSet:
    """:func:`_normalise` of a handful of intervals in plain Python (most schedules' and levels' sets):
    a dozen numpy calls cost more than the merge itself."""
    merged_starts: list[int] = []
    merged_ends: list[int] = []
    for start, end in sorted(zip(starts, ends, strict=True)):
        if end <= start:
            continue
        if merged_ends and start <= merged_ends[-1]:  # overlapping or touching: one interval
            if end > merged_ends[-1]:
                merged_ends[-1] = end
        else:
            merged_starts.append(start)
            merged_ends.append(end)
    return IntervalSet(np.array(merged_starts, np.int64), np.array(merged_ends, np.int64))


def _stack(*sets: IntervalSet) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.concatenate([s.starts for s in sets]) if sets else np.empty(0, np.int64),
        np.concatenate([s.ends for s in sets]) if sets else np.empty(0, np.int64),
    )


def _clip_to_span(intervals: IntervalSet, start: int, end: int) -> IntervalSet:
    """The part of a normalised set inside the single interval ``[start, end)``: no sort needed."""
    starts, ends = intervals.starts, intervals.ends
    if starts[0] >= start and ends[-1] <= end:
        return intervals  # already inside, e.g. a rendering clipped to the window once before
    first = int(ends.searchsorted(start, side="right"))  # the first interval ending after start
    last = int(starts.searchsorted(end, side="left"))
    if last <= first:
        return IntervalSet.empty()
    starts = starts[first:last].copy()
    ends = ends[first:last].copy()
    if starts[0] < start:
        starts[0] = start
    if ends[-1] > end:
        ends[-1] = end
    return IntervalSet(starts, ends)


# --- the algebra ----------------------------------------------------------------


def union(*sets: IntervalSet) -> IntervalSet:
    """Time held by any of the sets."""
    non_empty = [s for s in sets if s]
    if len(non_empty) <= 1:
        return non_empty[0] if non_empty else IntervalSet.empty()
    starts, ends = _stack(*non_empty)
    return _normalise(starts, ends)


def union_all(sets: Iterable[IntervalSet]) -> IntervalSet:
    """:func:`union` over an iterable (e.g. every target of an escalation level)."""
    return union(*list(sets))


def held_by_at_least(sets: Iterable[IntervalSet], count: int) -> IntervalSet:
    """Time held by at least ``count`` of the sets (2 of 2 is the intersection)."""
    set_list = list(sets)
    if count < 1:
        raise ValueError("count must be at least 1")
    if count == 1:
        return union(*set_list)
    set_list = [s for s in set_list if s]
    if len(set_list) < count:
        return IntervalSet.empty()
    starts, ends = _stack(*set_list)
    boundaries, level = _sweep(starts, ends, np.ones(len(starts), np.int64))
    return _select(boundaries, level >= count)


def intersection(first: IntervalSet, second: IntervalSet) -> IntervalSet:
    """Time held by both sets."""
    if not first or not second:
        return IntervalSet.empty()
    if len(second) == 1:
        return _clip_to_span(first, int(second.starts[0]), int(second.ends[0]))
    if len(first) == 1:
        return _clip_to_span(second, int(first.starts[0]), int(first.ends[0]))
    return held_by_at_least([first, second], 2)


def difference(minuend: IntervalSet, subtrahend: IntervalSet) -> IntervalSet:
    """Time in ``minuend`` not in ``subtrahend`` (window minus covered = gaps)."""
    if not minuend or not subtrahend:
        return minuend
    if len(minuend) == 1:
        # A window minus a set: the stretches between the set's intervals inside the window.
        start, end = int(minuend.starts[0]), int(minuend.ends[0])
        inside = _clip_to_span(subtrahend, start, end)
        return _normalise(np.concatenate([[start], inside.ends]), np.concatenate([inside.starts, [end]]))
    # Weight 1 for the minuend, 2 for the subtrahend: a running total of exactly
    # 1 means "in the first, not in the second" (both inputs are normalised, so
    # neither overlaps itself).
    starts, ends = _stack(minuend, subtrahend)
    weights = np.concatenate([np.ones(len(minuend), np.int64), np.full(len(subtrahend), 2, np.int64)])
    boundaries, level = _sweep(starts, ends, weights)
    return _select(boundaries, level == 1)


def clip(intervals: IntervalSet, window: Window) -> IntervalSet:
    """The part of ``intervals`` inside ``window``."""
    return intersection(intervals, as_interval_set(window))


def measure(intervals: IntervalSet) -> int:
    """Total length in seconds."""
    if len(intervals.starts) <= _FEW:  # Python's sums beat numpy's call overhead on a handful of intervals
        return sum(intervals.ends.tolist()) - sum(intervals.starts.tolist())
    return int((intervals.ends - intervals.starts).sum())


_FEW = 32  # measured: below this, summing Python ints is faster (0.5 against 2.8 us for one interval)


def measure_before(intervals: IntervalSet, moments: np.ndarray) -> np.ndarray:
    """For each epoch second in ``moments``, the seconds of ``intervals`` before it (vectorised).

    ``measure_before(s, b) - measure_before(s, a)`` is the measure of ``s`` inside ``[a, b)``
    for whole arrays of ranges at once, e.g. the uncovered time on each day of a window.
    """
    instants = np.asarray(moments, dtype=np.int64)
    if not intervals:
        return np.zeros(len(instants), np.int64)
    prefix = np.concatenate([[0], np.cumsum(intervals.lengths)])
    started = np.searchsorted(intervals.starts, instants, side="right")  # intervals starting at or before
    last = np.maximum(started - 1, 0)
    still_running = np.where(started > 0, np.maximum(intervals.ends[last] - instants, 0), 0)
    return prefix[started] - still_running


def contains(intervals: IntervalSet, moments: Iterable[datetime]) -> list[bool]:
    """For each moment, whether the set holds it (a start is inside, an end is not)."""
    instants = np.fromiter((to_epoch(moment) for moment in moments), np.int64)
    if not intervals:
        return [False] * len(instants)
    # The last interval starting at or before each instant holds it if it has not ended yet.
    candidate = np.searchsorted(intervals.starts, instants, side="right") - 1
    inside = (candidate >= 0) & (intervals.ends[np.maximum(candidate, 0)] > instants)
    return inside.tolist()


def drop_shorter_than(intervals: IntervalSet, seconds: float) -> IntervalSet:
    """Only the intervals at least ``seconds`` long (OC-01 ignores gaps under a minute)."""
    if seconds <= 0:
        return intervals
    keep = intervals.lengths >= seconds
    return IntervalSet(intervals.starts[keep], intervals.ends[keep])


def format_intervals(intervals: IntervalSet) -> list[list[str]]:
    """``[[start_iso, end_iso], ...]`` in UTC, as findings and reports show gaps (the form of :func:`iso_utc`)."""
    if not intervals:
        return []
    return [list(pair) for pair in _formatted(intervals)]  # lists of the caller's own


@functools.lru_cache(maxsize=4096)  # the same gaps recur across an account's schedules, policies and services
def _formatted(intervals: IntervalSet) -> tuple[tuple[str, str], ...]:
    starts = np.datetime_as_string(intervals.starts.astype("datetime64[s]"), unit="s")
    ends = np.datetime_as_string(intervals.ends.astype("datetime64[s]"), unit="s")
    return tuple((f"{start}Z", f"{end}Z") for start, end in zip(starts.tolist(), ends.tolist(), strict=True))
