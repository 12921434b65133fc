"""Half-open UTC time intervals ``[start, end)`` and the set algebra over them.

An :class:`IntervalSet` is always normalised: sorted, disjoint, non-empty
intervals, with touching ones merged (``[9, 12) + [12, 17)`` is ``[9, 17)``), so
equal sets compare equal and a short shift nested in a long one is not a gap.
Every operation is a sort and a sweep over numpy arrays of int64 epoch seconds
(no Python loop over intervals), because the facts stage runs thousands of these
per account on tens of thousands of schedule entries. The API speaks
timezone-aware datetimes; epoch seconds are exposed for the few callers that
want to stay vectorised.

Resolution is one second, PagerDuty's own: a timestamp's fraction of a second is
dropped (floored).
"""

from __future__ import annotations

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
        return np.array_equal(self.starts, other.starts) and np.array_equal(self.ends, other.ends)

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
# Every set operation is one sweep: each interval adds its weight at its start and
# removes it at its end; the running total between two consecutive boundary times
# says which inputs hold that stretch, and a predicate on the total picks the
# stretches to keep. Boundaries at the same instant are netted before the total is
# read, which is exactly half-open semantics (an interval ending at t and one
# starting at t touch and do not overlap).


def _sweep(starts: np.ndarray, ends: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    times = np.concatenate([starts, ends])
    deltas = np.concatenate([weights, -weights]).astype(np.float64)
    boundaries, slot = np.unique(times, return_inverse=True)
    # Integer weights summed in float64 are exact far beyond any realistic count.
    level = np.rint(np.cumsum(np.bincount(slot, weights=deltas, minlength=len(boundaries)))).astype(np.int64)
    return boundaries, level


def _select(boundaries: np.ndarray, keep: np.ndarray) -> IntervalSet:
    """The union of stretches ``[boundaries[i], boundaries[i+1])`` where keep[i]."""
    if len(boundaries) < 2:
        return IntervalSet.empty()
    keep = keep[:-1].astype(np.int8)
    edges = np.diff(np.concatenate([[0], keep, [0]]))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    return IntervalSet(boundaries[run_starts], boundaries[run_ends])


def _normalise(starts: np.ndarray, ends: np.ndarray) -> IntervalSet:
    nonempty = ends > starts
    starts, ends = starts[nonempty], ends[nonempty]
    if len(starts) == 0:
        return IntervalSet.empty()
    boundaries, level = _sweep(starts, ends, np.ones(len(starts), np.int64))
    return _select(boundaries, level > 0)


def _stack(*sets: IntervalSet) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.concatenate([s.starts for s in sets]) if sets else np.empty(0, np.int64),
        np.concatenate([s.ends for s in sets]) if sets else np.empty(0, np.int64),
    )


# --- the algebra ----------------------------------------------------------------


def union(*sets: IntervalSet) -> IntervalSet:
    """Time held by any of the sets."""
    if len(sets) == 1:
        return sets[0]
    starts, ends = _stack(*sets)
    return _normalise(starts, ends)


def union_all(sets: Iterable[IntervalSet]) -> IntervalSet:
    """:func:`union` over an iterable (e.g. every target of an escalation level)."""
    return union(*list(sets))


def held_by_at_least(sets: Iterable[IntervalSet], count: int) -> IntervalSet:
    """Time held by at least ``count`` of the sets (2 of 2 is the intersection)."""
    set_list = list(sets)
    if count < 1:
        raise ValueError("count must be at least 1")
    if len(set_list) < count:
        return IntervalSet.empty()
    starts, ends = _stack(*set_list)
    if len(starts) == 0:
        return IntervalSet.empty()
    boundaries, level = _sweep(starts, ends, np.ones(len(starts), np.int64))
    return _select(boundaries, level >= count)


def intersection(first: IntervalSet, second: IntervalSet) -> IntervalSet:
    """Time held by both sets."""
    return held_by_at_least([first, second], 2)


def difference(minuend: IntervalSet, subtrahend: IntervalSet) -> IntervalSet:
    """Time in ``minuend`` not in ``subtrahend`` (window minus covered = gaps)."""
    if not minuend or not subtrahend:
        return minuend
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
    return int(np.sum(intervals.ends - intervals.starts))


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
    """``[[start_iso, end_iso], ...]`` in UTC, as findings and reports show gaps."""
    return [[iso_utc(interval.start), iso_utc(interval.end)] for interval in intervals]
