"""What on-call schedules and escalation levels cover, as interval sets.

Owns the meaning of the coverage rules' numbers (OC-01, OC-02, ESC-04, OC-10):
reading a rendered schedule (v2 ``final_schedule`` entries or v3
``computed_shift_assignments``) into per-person time, the time a service promises
to be covered (24/7 or its PagerDuty support hours, in the support hours' own
time zone across DST changes), coverage percentages and gaps, and the coverage of
escalation levels. Per-person load (hours, hand-offs, turns: OC-05 to OC-08) is
``audit.facts.person_load``; gaps put into words for messages, ``audit.facts.gap_text``.
Pure functions over plain data: no snapshot I/O here.

Coverage is measured to the second; percentages are not rounded.
"""

from __future__ import annotations

import collections
import enum
import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from audit.errors import SnapshotError
from audit.facts.intervals import (
    IntervalSet,
    Window,
    as_interval_set,
    clip,
    difference,
    drop_shorter_than,
    format_intervals,
    intersection,
    measure,
    normalised_few,
    to_epoch,
    union_all,
)
from audit.time_zones import iana_zone_name

ALL_DAYS = frozenset(range(1, 8))
WEEKDAYS = frozenset(range(1, 6))
NIGHT_START = time(0, 0)
NIGHT_END = time(6, 0)  # OC-08: "hours 00-06 local"


def time_zone_info(name: str) -> ZoneInfo:
    """The zone called ``name`` (IANA, or one of PagerDuty's Rails names), or a one-line SnapshotError."""
    iana = iana_zone_name(name)
    if iana is None:
        raise SnapshotError(f"unknown time zone {name!r} (expected an IANA name such as 'Europe/London')")
    return ZoneInfo(iana)


def parse_timestamp(text: Any, what: str = "timestamp") -> int:
    """Epoch seconds of an ISO-8601 timestamp with an offset, or a one-line SnapshotError."""
    if not isinstance(text, str):
        raise SnapshotError(f"{what}: expected an ISO-8601 timestamp, got {text!r}")
    seconds = _epoch_of_text(text)
    return _refuse_timestamp(text, what) if seconds is None else seconds


@functools.lru_cache(maxsize=65536)
def _epoch_of_text(text: str) -> int | None:
    """Epoch seconds of a well-formed timestamp with an offset, else None (memoised: rendered
    schedules repeat the same turn boundaries across thousands of entries and schedules)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.utcoffset() is None:
        return None
    return to_epoch(moment)


def _refuse_timestamp(text: str, what: str) -> int:
    """The one-line SnapshotError saying why ``text`` is not a usable timestamp."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SnapshotError(f"{what}: {text!r} is not an ISO-8601 timestamp") from None
    if moment.utcoffset() is None:
        raise SnapshotError(f"{what}: {text!r} has no UTC offset")
    return to_epoch(moment)


# --- rendered schedules -----------------------------------------------------------


@dataclass(frozen=True)
class RenderedSchedule:
    """Who is on call when, from a schedule's rendered entries.

    ``by_user`` maps a user id to the time they hold the schedule (consecutive
    entries of the same person merged into one shift); ``covered`` is the union
    over everyone. Slots left empty (a v2 entry with no user, a v3
    ``empty_member``) cover nothing.
    """

    by_user: Mapping[str, IntervalSet]
    covered: IntervalSet


OVERRIDE_SOURCES = frozenset({"schedule_rotation_override", "custom_shift_override"})


def schedule_intervals(
    final_schedule: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    window: Window | None = None,
    sources: Iterable[str] | None = None,
) -> RenderedSchedule:
    """Read a rendered final schedule into per-user interval sets.

    ``final_schedule`` is a v2 ``final_schedule`` object (or its
    ``rendered_schedule_entries`` list) or a v3 ``final_schedule`` object (or its
    ``computed_shift_assignments`` list). With ``window``, everything is clipped
    to it and a v2 entry with no end runs to the window's end. With ``sources``
    (v3 only), only assignments whose ``source.type`` is listed count, e.g.
    :data:`OVERRIDE_SOURCES` for the time overrides hold (OC-10).
    """
    entries = _entries_of(final_schedule)
    window_set = as_interval_set(window) if window is not None else None
    open_end = window_set.ends[-1] if window_set else None
    wanted_sources = frozenset(sources) if sources is not None else None

    user_ids: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise SnapshotError(f"schedule entry {position}: expected an object, got {type(entry).__name__}")
        if "member" in entry or "start_time" in entry:
            user_id, start, end = _read_v3_assignment(entry, position, wanted_sources)
        else:
            if wanted_sources is not None:
                raise ValueError("sources= applies to v3 computed shift assignments only")
            user_id, start, end = _read_v2_entry(entry, position, open_end)
        if end < start:
            raise SnapshotError(f"schedule entry {position}: ends before it starts")
        if user_id is None:
            continue
        user_ids.append(user_id)
        starts.append(start)
        ends.append(end)

    if window_set is not None and len(window_set) == 1 and len(user_ids) <= FEW_ENTRIES:
        return _in_one_window(user_ids, starts, ends, int(window_set.starts[0]), int(window_set.ends[0]))
    by_user = _group_by_user(user_ids, np.array(starts, np.int64), np.array(ends, np.int64))
    if window_set is not None:
        by_user = {user: clip(intervals, window_set) for user, intervals in by_user.items()}
        by_user = {user: intervals for user, intervals in by_user.items() if intervals}
    return RenderedSchedule(by_user=by_user, covered=union_all(by_user.values()))


def _entries_of(final_schedule: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Sequence[Any]:
    if isinstance(final_schedule, dict):
        for key in ("rendered_schedule_entries", "computed_shift_assignments"):
            if key in final_schedule:
                entries = final_schedule[key]
                break
        else:
            raise SnapshotError(
                "final schedule has neither rendered_schedule_entries (v2) nor computed_shift_assignments (v3)"
            )
    else:
        entries = final_schedule
    if entries is None:
        return []
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise SnapshotError(f"final schedule entries: expected a list, got {type(entries).__name__}")
    return entries


def _read_v2_entry(entry: Mapping[str, Any], position: int, open_end: np.int64 | None) -> tuple[str | None, int, int]:
    where = f"schedule entry {position}"
    start = parse_timestamp(entry.get("start"), f"{where} start")
    if entry.get("end") is None:
        # The API's "the entry does not end": it runs to the end of the rendered range.
        if open_end is None:
            raise SnapshotError(f"{where} has no end and no window was given to close it")
        end = int(open_end)
    else:
        end = parse_timestamp(entry["end"], f"{where} end")
    user = entry.get("user")
    if user is None:
        return None, start, end
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise SnapshotError(f"{where}: user must be a reference with an id, got {user!r}")
    return user["id"], start, end


def _read_v3_assignment(
    entry: Mapping[str, Any], position: int, wanted_sources: frozenset[str] | None
) -> tuple[str | None, int, int]:
    where = f"shift assignment {position}"
    start = parse_timestamp(entry.get("start_time"), f"{where} start_time")
    end = parse_timestamp(entry.get("end_time"), f"{where} end_time")
    if wanted_sources is not None:
        source = entry.get("source")
        if not isinstance(source, dict) or source.get("type") not in wanted_sources:
            return None, start, end
    member = entry.get("member")
    member_type = member.get("type") if isinstance(member, dict) else None
    if member_type == "empty_member":
        return None, start, end
    if member_type == "user_member" and isinstance(member, dict) and isinstance(member.get("user_id"), str):
        return member["user_id"], start, end
    # An unknown member kind is refused rather than skipped: skipping it would
    # report a gap that may not exist.
    raise SnapshotError(f"{where}: member must be a user_member with a user_id or an empty_member, got {member!r}")


# Up to this many entries a rendering is grouped, merged and clipped in plain Python: most schedules
# render a few dozen entries a month, and a dozen numpy calls per person cost more than the merge.
FEW_ENTRIES = 256


def _in_one_window(user_ids: list[str], starts: list[int], ends: list[int], first: int, last: int) -> RenderedSchedule:
    """:func:`schedule_intervals`' grouping and clipping to the window ``[first, last)``, in plain Python.

    Each entry is clipped before the merge: the union of clipped intervals is the clipped union.
    """
    positions: dict[str, list[int]] = {}
    for position, user_id in enumerate(user_ids):
        positions.setdefault(user_id, []).append(position)
    by_user = {}
    for user_id in sorted(positions):
        held = normalised_few(
            [max(starts[p], first) for p in positions[user_id]], [min(ends[p], last) for p in positions[user_id]]
        )
        if held:
            by_user[user_id] = held
    covered_starts = [start for held in by_user.values() for start in held.starts.tolist()]
    covered_ends = [end for held in by_user.values() for end in held.ends.tolist()]
    return RenderedSchedule(by_user=by_user, covered=normalised_few(covered_starts, covered_ends))


def _group_by_user(user_ids: list[str], starts: np.ndarray, ends: np.ndarray) -> dict[str, IntervalSet]:
    # A dict of positions, not np.unique over an object array: a schedule has a few dozen entries.
    positions: dict[str, list[int]] = {}
    for position, user_id in enumerate(user_ids):
        positions.setdefault(user_id, []).append(position)
    return {user_id: IntervalSet.from_epoch(starts[positions[user_id]], ends[positions[user_id]])
            for user_id in sorted(positions)}


# --- coverage ---------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """How much of a promised time set a covered set holds.

    ``gaps`` are the uncovered stretches at least the tolerance long; shorter
    ones are counted in ``ignored_seconds`` and treated as covered by ``pct``, so
    ``covered_seconds + ignored_seconds + measure(gaps) == window_seconds``.
    With nothing promised (``window_seconds == 0``) ``pct`` is 100: there is
    nothing to miss.
    """

    pct: float
    covered_seconds: int
    window_seconds: int
    gaps: IntervalSet
    ignored_seconds: int = 0

    @property
    def gap_seconds(self) -> int:
        return measure(self.gaps)

    def gaps_iso(self) -> list[list[str]]:
        """The gaps as ``[start_iso, end_iso]`` UTC pairs."""
        return format_intervals(self.gaps)


def coverage(covered: IntervalSet, window: Window, *, ignore_gaps_shorter_than: float = 0) -> Coverage:
    """Coverage of ``window`` (a range or any promised time set) by ``covered``."""
    promised = as_interval_set(window)
    if len(promised) == 1 and len(covered) <= FEW_ENTRIES:
        return _coverage_of_span(covered, int(promised.starts[0]), int(promised.ends[0]), ignore_gaps_shorter_than)
    window_seconds = measure(promised)
    covered_seconds = measure(clip(covered, promised))
    all_gaps = difference(promised, covered)
    gaps = drop_shorter_than(all_gaps, ignore_gaps_shorter_than)
    ignored_seconds = measure(all_gaps) - measure(gaps)
    if window_seconds == 0:
        pct = 100.0
    else:
        pct = 100.0 * (window_seconds - measure(gaps)) / window_seconds
    return Coverage(pct, covered_seconds, window_seconds, gaps, ignored_seconds)


def _coverage_of_span(covered: IntervalSet, first: int, last: int, tolerance: float) -> Coverage:
    """:func:`coverage` of the single interval ``[first, last)`` in plain Python: a schedule's or a
    level's time over the window is a handful of intervals, and this runs for thousands of them."""
    covered_seconds = 0
    gap_starts: list[int] = []
    gap_ends: list[int] = []
    moment = first  # covered or a gap up to here
    for start, end in zip(covered.starts.tolist(), covered.ends.tolist(), strict=True):
        start, end = max(start, first), min(end, last)
        if end <= start:
            continue
        covered_seconds += end - start
        if start > moment:
            gap_starts.append(moment)
            gap_ends.append(start)
        moment = end
    if last > moment:
        gap_starts.append(moment)
        gap_ends.append(last)
    all_gap_seconds = sum(gap_ends) - sum(gap_starts)
    if tolerance > 0:
        kept = [(start, end) for start, end in zip(gap_starts, gap_ends, strict=True) if end - start >= tolerance]
        gap_starts, gap_ends = [start for start, _ in kept], [end for _, end in kept]
    gap_seconds = sum(gap_ends) - sum(gap_starts)
    window_seconds = last - first
    gaps = IntervalSet(np.array(gap_starts, np.int64), np.array(gap_ends, np.int64))
    pct = 100.0 * (window_seconds - gap_seconds) / window_seconds
    return Coverage(pct, covered_seconds, window_seconds, gaps, all_gap_seconds - gap_seconds)


# --- what a service promises ------------------------------------------------------


class Promise(enum.StrEnum):
    """When a service promises someone answers (OC-01)."""

    ALWAYS = "24/7"
    SUPPORT_HOURS = "support_hours"
    NONE = "none"


def promise_window(window: Window, kind: Promise | str, support_hours: Mapping[str, Any] | None = None) -> IntervalSet:
    """The part of ``window`` a service promises to be covered.

    24/7: all of it. Support hours: PagerDuty's ``fixed_time_per_day`` support
    hours (``days_of_week`` 1 = Monday .. 7 = Sunday, times of day in the support
    hours' own ``time_zone``), as UTC intervals: 09:00-17:00 stays 09:00-17:00 on
    the local clock on both sides of a DST change. None: nothing.
    """
    try:
        promise = Promise(kind)
    except ValueError:
        raise ValueError(f"unknown promise {kind!r}; expected one of {[p.value for p in Promise]}") from None
    window_set = as_interval_set(window)
    if promise is Promise.ALWAYS:
        return window_set
    if promise is Promise.NONE:
        return IntervalSet.empty()
    if support_hours is None:
        raise SnapshotError("service uses support-hours urgency but declares no support_hours")
    return support_hours_intervals(window_set, support_hours)


def support_hours_intervals(window: Window, support_hours: Mapping[str, Any]) -> IntervalSet:
    """A PagerDuty ``support_hours`` object as UTC intervals within ``window``."""
    if support_hours.get("type", "fixed_time_per_day") != "fixed_time_per_day":
        raise SnapshotError(f"support_hours type {support_hours.get('type')!r} is not fixed_time_per_day")
    days = support_hours.get("days_of_week")
    if not isinstance(days, list) or any(not isinstance(day, int) or not 1 <= day <= 7 for day in days):
        raise SnapshotError(f"support_hours days_of_week must be a list of 1 (Monday) .. 7 (Sunday), got {days!r}")
    return local_daily_intervals(
        window,
        support_hours.get("time_zone"),
        _time_of_day(support_hours.get("start_time"), "support_hours start_time"),
        _time_of_day(support_hours.get("end_time"), "support_hours end_time"),
        frozenset(days),
    )


def _time_of_day(text: Any, what: str) -> time:
    try:
        return time.fromisoformat(text)
    except (TypeError, ValueError):
        raise SnapshotError(f"{what}: expected a time of day like '09:00:00', got {text!r}") from None


def local_daily_intervals(
    window: Window,
    time_zone: str | None,
    start: time,
    end: time,
    days_of_week: frozenset[int] = ALL_DAYS,
) -> IntervalSet:
    """Every ``[start, end)`` of local wall-clock time on the given ISO weekdays, within ``window``.

    ``end`` at or before ``start`` runs into the next day (22:00-06:00 is a night;
    09:00-09:00 a whole day). A local time the clocks skip is read with the offset
    in force before the change (01:30 on London's spring-forward day is 01:30 GMT,
    the instant the clocks read 02:30 BST); an ambiguous one (a fall-back hour)
    means its first occurrence.
    """
    if not isinstance(time_zone, str):
        raise SnapshotError(f"time zone must be a name, got {time_zone!r}")
    zone = time_zone_info(time_zone)
    window_set = as_interval_set(window)
    span = window_set.span
    if span is None:
        return IntervalSet.empty()
    # Start a day early: yesterday's local interval may run into the window.
    first_day = span.start.astimezone(zone).date() - timedelta(days=1)
    last_day = span.end.astimezone(zone).date()
    ends_next_day = end <= start
    starts: list[int] = []
    ends: list[int] = []
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        if day.isoweekday() not in days_of_week:
            continue
        end_day = day + timedelta(days=1) if ends_next_day else day
        starts.append(to_epoch(datetime.combine(day, start, tzinfo=zone)))
        ends.append(to_epoch(datetime.combine(end_day, end, tzinfo=zone)))
    return clip(IntervalSet.from_epoch(starts, ends), window_set)


# --- escalation levels ------------------------------------------------------------


@dataclass(frozen=True)
class PolicyCoverage:
    """Coverage of each escalation level, of any level, and of each backup level.

    ``backups[i]`` is level ``i + 2``'s coverage of the time level ``i + 1`` is
    covered (OC-02: the backup is there wherever the primary is).
    """

    levels: tuple[Coverage, ...]
    any_level: Coverage
    backups: tuple[Coverage, ...]


def level_covered(targets: Iterable[IntervalSet]) -> IntervalSet:
    """A level's covered time: any of its targets holds it."""
    return union_all(targets)


def policy_coverage(
    levels: Sequence[Iterable[IntervalSet]],
    window: Window,
    *,
    ignore_gaps_shorter_than: float = 0,
    known: dict[Any, Any] | None = None,
) -> PolicyCoverage:
    """Per-level, any-level and backup coverage of ``window`` (or a promised time set).

    ``known`` remembers what is worked out (each coverage by the covered time, a level's or every
    level's together, and for a backup by the primary's and the backup's; the promised part of a
    level's time; the levels' time together), for callers that judge many policies over the same
    window: policies sharing a schedule share its level coverage, and on a large account a few
    covered sets (most often the whole window) recur in thousands of policies. It must only ever be
    used with one window and one tolerance.
    """
    promised = as_interval_set(window)
    tolerance = {"ignore_gaps_shorter_than": ignore_gaps_shorter_than}
    remembered = known if known is not None else {}

    def covering(covered: IntervalSet, over: IntervalSet, key: Any) -> Coverage:
        found = remembered.get(key)
        if found is None:
            found = remembered[key] = coverage(covered, over, **tolerance)
        return found

    def within(covered: IntervalSet) -> IntervalSet:  # the promised part of a level's time
        key = ("promised part", covered)
        found = remembered.get(key)
        if found is None:
            found = remembered[key] = clip(covered, promised)
        return found

    level_sets = [within(level_covered(targets)) for targets in levels]
    together = ("any level", *level_sets)
    any_level = remembered.get(together)
    if any_level is None:
        any_level = remembered[together] = union_all(level_sets)
    return PolicyCoverage(
        levels=tuple(covering(level, promised, level) for level in level_sets),
        any_level=covering(any_level, promised, any_level),
        backups=tuple(
            covering(backup, primary, (primary, backup)) for primary, backup in itertools.pairwise(level_sets)
        ),
    )


def people_of_level(targets: Iterable[Mapping[str, IntervalSet]]) -> dict[str, IntervalSet]:
    """A level resolved to people: each person's time over all the level's targets."""
    gathered: dict[str, list[IntervalSet]] = collections.defaultdict(list)
    for target in targets:
        for user_id, intervals in target.items():
            gathered[user_id].append(intervals)
    return {user_id: union_all(parts) for user_id, parts in gathered.items()}


def same_person_overlap(first: Mapping[str, IntervalSet], second: Mapping[str, IntervalSet]) -> IntervalSet:
    """Time one person holds both levels at once (ESC-04)."""
    return union_all(intersection(first[user], second[user]) for user in first.keys() & second.keys())


__all__ = [
    "ALL_DAYS",
    "OVERRIDE_SOURCES",
    "WEEKDAYS",
    "Coverage",
    "PolicyCoverage",
    "Promise",
    "RenderedSchedule",
    "coverage",
    "level_covered",
    "local_daily_intervals",
    "parse_timestamp",
    "people_of_level",
    "policy_coverage",
    "promise_window",
    "same_person_overlap",
    "schedule_intervals",
    "support_hours_intervals",
    "time_zone_info",
]
