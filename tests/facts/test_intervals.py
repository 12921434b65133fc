"""Interval-set algebra: hand-computed cases and properties against a minute-grid reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.facts.intervals import (
    Interval,
    IntervalSet,
    _normalise_arrays,
    _normalise_few,
    clip,
    contains,
    difference,
    drop_shorter_than,
    format_intervals,
    held_by_at_least,
    intersection,
    measure,
    measure_before,
    to_epoch,
    union,
)


def utc(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2027, 1, day, hour, minute, second, tzinfo=UTC)


def spans(*pairs: tuple[datetime, datetime]) -> IntervalSet:
    return IntervalSet.from_pairs(pairs)


HOUR = 3600


class TestNormalising:
    def test_touching_shifts_merge_into_one(self):
        day_shift = spans((utc(4, 9), utc(4, 17)), (utc(4, 17), utc(5, 9)))
        assert list(day_shift) == [Interval(utc(4, 9), utc(5, 9))]

    def test_a_short_shift_nested_in_a_long_one_is_not_a_gap(self):
        week = spans((utc(4, 9), utc(11, 9)), (utc(6, 12), utc(6, 13)))
        assert list(week) == [Interval(utc(4, 9), utc(11, 9))]
        assert measure(week) == 7 * 24 * HOUR

    def test_unsorted_overlapping_input_is_sorted_and_merged(self):
        shifts = spans((utc(6, 9), utc(6, 17)), (utc(4, 9), utc(4, 17)), (utc(4, 12), utc(4, 20)))
        assert list(shifts) == [Interval(utc(4, 9), utc(4, 20)), Interval(utc(6, 9), utc(6, 17))]

    def test_empty_intervals_are_dropped(self):
        assert not spans((utc(4, 9), utc(4, 9)))
        assert len(spans((utc(4, 9), utc(4, 9)), (utc(4, 10), utc(4, 11)))) == 1

    def test_an_interval_ending_before_it_starts_is_refused(self):
        with pytest.raises(ValueError, match=r"ends before it starts: \[2027-01-04T17:00:00Z"):
            spans((utc(4, 17), utc(4, 9)))

    def test_naive_datetimes_are_refused(self):
        with pytest.raises(ValueError, match="naive datetime"):
            IntervalSet.from_pairs([(datetime(2027, 1, 4, 9), datetime(2027, 1, 4, 17))])

    def test_offsets_are_converted_to_utc(self):
        new_york_winter = timezone(timedelta(hours=-5))
        shift = spans(
            (datetime(2027, 1, 4, 9, tzinfo=new_york_winter), datetime(2027, 1, 4, 17, tzinfo=new_york_winter))
        )
        assert format_intervals(shift) == [["2027-01-04T14:00:00Z", "2027-01-04T22:00:00Z"]]

    def test_fractions_of_a_second_are_floored(self):
        assert to_epoch(utc(4, 9) + timedelta(microseconds=999_999)) == to_epoch(utc(4, 9))

    def test_sets_are_immutable_and_compare_by_value(self):
        first = spans((utc(4, 9), utc(4, 17)))
        with pytest.raises(AttributeError):
            first.starts = np.array([0])
        with pytest.raises(ValueError):
            first.starts[0] = 0
        assert first == spans((utc(4, 9), utc(4, 12)), (utc(4, 12), utc(4, 17)))
        assert first != spans((utc(4, 9), utc(4, 16)))
        assert hash(first) == hash(spans((utc(4, 9), utc(4, 17))))


class TestAlgebra:
    window = spans((utc(4), utc(5)))
    office = spans((utc(4, 9), utc(4, 17)))
    evening = spans((utc(4, 17), utc(4, 22)))

    def test_union_of_sets(self):
        assert list(union(self.office, self.evening)) == [Interval(utc(4, 9), utc(4, 22))]
        assert union() == IntervalSet.empty()

    def test_intersection_of_touching_sets_is_empty(self):
        assert not intersection(self.office, self.evening)

    def test_intersection_keeps_only_shared_time(self):
        late = spans((utc(4, 12), utc(4, 20)), (utc(4, 23), utc(5, 1)))
        assert list(intersection(self.office, late)) == [Interval(utc(4, 12), utc(4, 17))]
        assert list(intersection(late, self.window)) == [
            Interval(utc(4, 12), utc(4, 20)),
            Interval(utc(4, 23), utc(5)),
        ]

    def test_window_minus_covered_is_the_gaps(self):
        gaps = difference(self.window, union(self.office, self.evening))
        assert format_intervals(gaps) == [
            ["2027-01-04T00:00:00Z", "2027-01-04T09:00:00Z"],
            ["2027-01-04T22:00:00Z", "2027-01-05T00:00:00Z"],
        ]
        assert measure(gaps) == 11 * HOUR

    def test_difference_with_nothing_to_subtract(self):
        assert difference(self.office, IntervalSet.empty()) == self.office
        assert difference(IntervalSet.empty(), self.office) == IntervalSet.empty()

    def test_clip_to_a_window_pair(self):
        long_shift = spans((utc(3, 12), utc(4, 12)), (utc(4, 20), utc(6)))
        assert clip(long_shift, (utc(4), utc(5))) == spans((utc(4), utc(4, 12)), (utc(4, 20), utc(5)))

    def test_held_by_at_least(self):
        a = spans((utc(4, 0), utc(4, 12)))
        b = spans((utc(4, 6), utc(4, 18)))
        c = spans((utc(4, 10), utc(4, 20)))
        assert list(held_by_at_least([a, b, c], 3)) == [Interval(utc(4, 10), utc(4, 12))]
        assert list(held_by_at_least([a, b, c], 2)) == [Interval(utc(4, 6), utc(4, 18))]
        assert not held_by_at_least([a], 2)
        with pytest.raises(ValueError):
            held_by_at_least([a], 0)

    def test_gaps_under_the_tolerance_are_dropped_and_a_minute_is_kept(self):
        gaps = spans(
            (utc(4, 9), utc(4, 9, 0, 59)),  # 59 s: ignored
            (utc(4, 10), utc(4, 10, 1)),  # exactly 1 min: kept
            (utc(4, 12), utc(4, 16)),
        )
        kept = drop_shorter_than(gaps, 60)
        assert format_intervals(kept) == [
            ["2027-01-04T10:00:00Z", "2027-01-04T10:01:00Z"],
            ["2027-01-04T12:00:00Z", "2027-01-04T16:00:00Z"],
        ]
        assert drop_shorter_than(gaps, 0) == gaps

    def test_contains_is_half_open(self):
        shifts = spans((utc(4, 9), utc(4, 17)), (utc(5, 9), utc(5, 12)))
        moments = [utc(4, 8, 59), utc(4, 9), utc(4, 16, 59, 59), utc(4, 17), utc(5, 10), utc(5, 12)]
        assert contains(shifts, moments) == [False, True, True, False, True, False]
        assert contains(IntervalSet.empty(), moments[:2]) == [False, False]
        assert contains(shifts, []) == []

    def test_span_and_lengths(self):
        shifts = spans((utc(4, 9), utc(4, 17)), (utc(5, 9), utc(5, 12)))
        assert shifts.span == Interval(utc(4, 9), utc(5, 12))
        assert shifts.lengths.tolist() == [8 * HOUR, 3 * HOUR]
        assert IntervalSet.empty().span is None

    def test_repr_shows_utc_bounds(self):
        assert "2027-01-04T09:00:00Z" in repr(spans((utc(4, 9), utc(4, 17))))


def test_fifty_thousand_entries_union_in_one_sweep():
    # A year of 10-minute shifts from three overlapping rotations, offset by 5
    # minutes: the union is one solid block, its measure known in advance.
    base = to_epoch(utc(1))
    starts = np.concatenate([base + np.arange(0, 52_560) * 600 + offset for offset in (0, 300, 150)])
    shifts = IntervalSet.from_epoch(starts, starts + 600)
    assert len(shifts) == 1
    assert measure(shifts) == 52_560 * 600 + 300
    holes = IntervalSet.from_epoch(base + np.arange(1, 52_560, 2) * 600, base + np.arange(1, 52_560, 2) * 600 + 60)
    assert measure(difference(shifts, holes)) == measure(shifts) - len(holes) * 60


# --- properties against a minute-grid reference --------------------------------------

GRID_MINUTES = 240
ORIGIN = to_epoch(utc(4))

minute_intervals = st.lists(
    st.tuples(st.integers(0, GRID_MINUTES), st.integers(0, GRID_MINUTES)).map(sorted),
    max_size=12,
)


def from_minutes(pairs: list[list[int]]) -> IntervalSet:
    return IntervalSet.from_epoch([ORIGIN + a * 60 for a, _ in pairs], [ORIGIN + b * 60 for _, b in pairs])


def grid(pairs: list[list[int]]) -> np.ndarray:
    held = np.zeros(GRID_MINUTES, bool)
    for start, end in pairs:
        held[start:end] = True
    return held


def grid_of(intervals: IntervalSet) -> np.ndarray:
    return grid(
        [[(s - ORIGIN) // 60, (e - ORIGIN) // 60] for s, e in zip(intervals.starts, intervals.ends, strict=True)]
    )


@settings(max_examples=200, deadline=None)
@given(minute_intervals, minute_intervals)
def test_set_operations_match_the_minute_grid(first, second):
    a, b = from_minutes(first), from_minutes(second)
    assert np.array_equal(grid_of(union(a, b)), grid(first) | grid(second))
    assert np.array_equal(grid_of(intersection(a, b)), grid(first) & grid(second))
    assert np.array_equal(grid_of(difference(a, b)), grid(first) & ~grid(second))
    assert measure(a) == 60 * int(grid(first).sum())


@settings(max_examples=200, deadline=None)
@given(minute_intervals, st.randoms(use_true_random=False))
def test_union_is_idempotent_and_order_independent(pairs, random):
    shuffled = list(pairs)
    random.shuffle(shuffled)
    normalised = from_minutes(pairs)
    assert from_minutes(shuffled) == normalised
    assert union(normalised, normalised) == normalised
    assert IntervalSet.from_pairs(list(normalised)) == normalised
    # Normalised means sorted, disjoint and not touching.
    assert np.all(normalised.starts[1:] > normalised.ends[:-1])
    assert np.all(normalised.ends > normalised.starts)


@settings(max_examples=200, deadline=None)
@given(minute_intervals, st.lists(st.integers(-10, GRID_MINUTES + 10), max_size=8))
def test_measure_before_matches_the_minute_grid(pairs, minutes):
    intervals = from_minutes(pairs)
    moments = np.array([ORIGIN + minute * 60 for minute in minutes], np.int64)
    expected = [60 * int(grid(pairs)[: max(minute, 0)].sum()) for minute in minutes]
    assert measure_before(intervals, moments).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(minute_intervals, max_size=6), st.integers(1, 4))
def test_many_way_operations_match_the_minute_grid(many, count):
    sets = [from_minutes(pairs) for pairs in many]
    grids = [grid(pairs) for pairs in many]
    held = np.sum(grids, axis=0) if grids else np.zeros(GRID_MINUTES, int)
    assert np.array_equal(grid_of(union(*sets)), held >= 1)
    assert np.array_equal(grid_of(held_by_at_least(sets, count)), held >= count)
    for first, second in zip(sets, sets[1:]):
        assert np.array_equal(grid_of(intersection(first, second)), grid_of(first) & grid_of(second))
        assert np.array_equal(grid_of(difference(first, second)), grid_of(first) & ~grid_of(second))
        assert np.array_equal(grid_of(clip(first, second)), grid_of(first) & grid_of(second))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, GRID_MINUTES), st.integers(0, GRID_MINUTES)), max_size=70))
def test_the_small_set_merge_and_the_array_merge_agree_with_the_grid(pairs):
    # Sets of up to _FEW intervals are merged in plain Python, larger ones with arrays: both must give
    # the same normalised set, on either side of the threshold (pairs may be empty or reversed).
    starts = np.array([ORIGIN + a * 60 for a, _ in pairs], np.int64)
    ends = np.array([ORIGIN + b * 60 for _, b in pairs], np.int64)
    few = _normalise_few(starts.tolist(), ends.tolist())
    arrays = _normalise_arrays(starts, ends)
    assert few == arrays
    assert (grid_of(few) == grid([[a, b] for a, b in pairs if b > a])).all()
    assert measure(few) == int(grid_of(few).sum()) * 60
