"""Coverage gaps in words, for findings' messages: exact, short, in the promise's own time zone.

``uncovered 16 h a day on weekdays, all day at weekends; 8 times, ...; 76.2% of the 28-day
window``: the daily pattern leads when the gaps repeat by the local calendar (DST days included),
then the count, the total and the longest gap. Reads the ``Coverage`` of ``audit.facts.coverage``.
"""

from __future__ import annotations

import collections
import functools
from datetime import datetime, time, timedelta

import numpy as np

from audit.facts.coverage import WEEKDAYS, Coverage, time_zone_info
from audit.facts.intervals import IntervalSet, Window, as_interval_set, from_epoch, measure, measure_before, to_epoch


def format_duration(seconds: int) -> str:
    """``16 h``, ``1 h 30 min``, ``45 min``, ``30 s`` (to the nearest minute from a minute up)."""
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def format_local_span(start: datetime, end: datetime, time_zone: str) -> str:
    """``Sat 2027-01-09 00:00 – 16:00 Europe/London`` (the end's date only when it differs)."""
    zone = time_zone_info(time_zone)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_end.date() == local_start.date():
        end_text = local_end.strftime("%H:%M")
    elif local_end.date() == local_start.date() + timedelta(days=1) and local_end.time() == time(0, 0):
        end_text = "24:00"
    else:
        end_text = local_end.strftime("%a %Y-%m-%d %H:%M")
    return f"{local_start.strftime('%a %Y-%m-%d %H:%M')} – {end_text} {time_zone}"


def describe_gaps(gaps: IntervalSet, time_zone: str, window: Window | None = None) -> str:
    """A short, exact summary of gaps for a finding's message.

    ``uncovered 3 times, 41 h in all, longest 16 h (Sat 2027-01-09 00:00 – 16:00
    Europe/London)``; when ``window`` is given and the gaps repeat by the local
    calendar, that pattern leads: ``uncovered 16 h a day on weekdays, 24 h a day
    at weekends; 20 times, ...``.
    """
    if not gaps:
        return "no gaps"
    longest = int(np.argmax(gaps.lengths))
    longest_text = format_local_span(from_epoch(gaps.starts[longest]), from_epoch(gaps.ends[longest]), time_zone)
    if len(gaps) == 1:
        summary = f"once, {format_duration(measure(gaps))} ({longest_text})"
    else:
        summary = (
            f"{len(gaps)} times, {format_duration(measure(gaps))} in all, "
            f"longest {format_duration(int(gaps.lengths[longest]))} ({longest_text})"
        )
    pattern = _daily_pattern(gaps, time_zone, window) if window is not None else None
    if pattern:
        return f"uncovered {pattern}; {summary}"
    return f"uncovered {summary}"


def gap_summary(result: Coverage, time_zone: str, window: Window, promised: str = "") -> str:
    """:func:`describe_gaps` of a coverage's gaps with the uncovered share, for findings' messages.

    ``uncovered 16 h a day on weekdays, all day at weekends; ...; 76.2% of the 28-day window``;
    with ``promised`` (e.g. "the support hours") the share is of that: ``...; 20.0% of the support
    hours in the 28-day window``. "no gaps" when there are none.
    """
    if not result.gaps:
        return "no gaps"
    # The same gaps recur across an account (schedules and promises with the same hours, in the
    # same zone, over the same window): each distinct one is put into words once.
    return _summary(result.gaps, as_interval_set(window), result.window_seconds, time_zone, promised)


@functools.lru_cache(maxsize=4096)  # IntervalSets hash and compare by content
def _summary(gaps: IntervalSet, window: IntervalSet, window_seconds: int, time_zone: str, promised: str) -> str:
    days = f"{measure(window) / 86400:g}-day window"
    share = 100.0 * measure(gaps) / window_seconds
    place = f"{promised} in the {days}" if promised else f"the {days}"
    return f"{describe_gaps(gaps, time_zone, window)}; {share:.1f}% of {place}"


# A pattern is stated only from enough whole days to be one, and only when it
# holds on at least this share of them (DST days are an hour longer or shorter).
_PATTERN_MIN_DAYS = {"weekdays": 3, "weekends": 2}
_PATTERN_MIN_SHARE = 0.75
_WHOLE_DAY = "whole day"


def _daily_pattern(gaps: IntervalSet, time_zone: str, window: Window) -> str | None:
    typical: dict[str, tuple[int | str, str]] = {}
    for kind, per_day in _uncovered_per_local_day(gaps, time_zone, as_interval_set(window)).items():
        if len(per_day) < _PATTERN_MIN_DAYS[kind]:
            return None
        amount, count = collections.Counter(per_day).most_common(1)[0]
        if count < _PATTERN_MIN_SHARE * len(per_day):
            return None
        typical[kind] = (amount, "" if count == len(per_day) else "most ")
    (weekday_amount, weekday_most), (weekend_amount, weekend_most) = typical["weekdays"], typical["weekends"]
    if not weekday_amount and not weekend_amount:
        return None
    if weekday_amount == weekend_amount and not weekday_most and not weekend_most:
        if weekday_amount == _WHOLE_DAY:
            return "all day every day"
        return f"{format_duration(int(weekday_amount))} every day"
    phrases = [(weekday_amount, f"on {weekday_most}weekdays"), (weekend_amount, f"at {weekend_most}weekends")]
    # The uncovered part first: "all day at weekends, none on weekdays".
    phrases.sort(key=lambda phrase: phrase[0] == 0)
    return ", ".join(f"{_per_day(amount)} {place}" for amount, place in phrases)


def _per_day(amount: int | str) -> str:
    if amount == _WHOLE_DAY:
        return "all day"
    return f"{format_duration(int(amount))} a day" if amount else "none"


def _uncovered_per_local_day(gaps: IntervalSet, time_zone: str, window: IntervalSet) -> dict[str, list[int | str]]:
    """Uncovered seconds on each whole local calendar day inside the window, by weekday/weekend.

    A day uncovered from midnight to midnight counts as a whole day whatever its
    length, so a 23-hour DST Sunday still reads as "all day".
    """
    per_kind: dict[str, list[int | str]] = {"weekdays": [], "weekends": []}
    if not window:
        return per_kind
    midnights, weekdays = _local_midnights(time_zone, int(window.starts[0]), int(window.ends[-1]))
    day_starts, day_ends = midnights[:-1], midnights[1:]
    day_lengths = day_ends - day_starts
    inside = measure_before(window, day_ends) - measure_before(window, day_starts) == day_lengths
    uncovered = measure_before(gaps, day_ends) - measure_before(gaps, day_starts)
    for is_inside, weekday, seconds, length in zip(
        inside.tolist(), weekdays, uncovered.tolist(), day_lengths.tolist(), strict=True
    ):
        if is_inside:
            kind = "weekdays" if weekday in WEEKDAYS else "weekends"
            per_kind[kind].append(_WHOLE_DAY if seconds == length else seconds)
    return per_kind


@functools.lru_cache(maxsize=256)
def _local_midnights(time_zone: str, start: int, end: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Epoch seconds of each local midnight from the day holding ``start`` to the day after the one
    holding ``end``, and the ISO weekday of each day (one fewer than the midnights).

    Cached: every service and schedule of an account is described over the same window in a
    handful of zones.
    """
    zone = time_zone_info(time_zone)
    first = from_epoch(start).astimezone(zone).date()
    last = from_epoch(end).astimezone(zone).date()
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 2)]
    midnights = np.array([to_epoch(datetime.combine(day, time(0), tzinfo=zone)) for day in days], np.int64)
    midnights.setflags(write=False)
    return midnights, tuple(day.isoweekday() for day in days[:-1])
