"""What on-call schedules and escalation levels cover, as interval sets.

Owns the meaning of the on-call rules' numbers (OC-01, OC-02, ESC-04, OC-05 to
OC-08, OC-10): reading a rendered schedule (v2 ``final_schedule`` entries or v3
``computed_shift_assignments``) into per-person time, the time a service promises
to be covered (24/7 or its PagerDuty support hours, in the support hours' own
time zone across DST changes), coverage percentages and gaps, the coverage of
escalation levels, and per-person load (hours, shifts, hand-offs, night hours,
back-to-back turns). Pure functions over plain data: no snapshot I/O here.

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
    from_epoch,
    intersection,
    measure,
    measure_before,
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


def _group_by_user(user_ids: list[str], starts: np.ndarray, ends: np.ndarray) -> dict[str, IntervalSet]:
    if not user_ids:
        return {}
    names, which = np.unique(np.array(user_ids, dtype=object), return_inverse=True)
    order = np.argsort(which, kind="stable")
    boundaries = np.flatnonzero(np.diff(which[order])) + 1
    groups = np.split(order, boundaries)
    return {str(names[which[group[0]]]): IntervalSet.from_epoch(starts[group], ends[group]) for group in groups}


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
    known: dict[IntervalSet, Coverage] | None = None,
) -> PolicyCoverage:
    """Per-level, any-level and backup coverage of ``window`` (or a promised time set).

    ``known`` remembers each level's coverage by its covered time, for callers that judge many
    policies over the same window: policies sharing a schedule share its level coverage. It must
    only ever be used with one window and one tolerance.
    """
    promised = as_interval_set(window)
    level_sets = [clip(level_covered(targets), promised) for targets in levels]
    tolerance = {"ignore_gaps_shorter_than": ignore_gaps_shorter_than}
    level_coverages = []
    for level in level_sets:
        if known is None:
            level_coverages.append(coverage(level, promised, **tolerance))
            continue
        if level not in known:
            known[level] = coverage(level, promised, **tolerance)
        level_coverages.append(known[level])
    return PolicyCoverage(
        levels=tuple(level_coverages),
        any_level=coverage(union_all(level_sets), promised, **tolerance),
        backups=tuple(coverage(backup, primary, **tolerance) for primary, backup in itertools.pairwise(level_sets)),
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


# --- per-person load --------------------------------------------------------------


@dataclass(frozen=True)
class Handoff:
    """An instant the pager changes hands: these people go off and those come on."""

    at: datetime
    from_users: tuple[str, ...]
    to_users: tuple[str, ...]


def handoff_instants(by_user: Mapping[str, IntervalSet]) -> np.ndarray:
    """Epoch seconds of every instant in :func:`handoffs`, without working out who is involved.

    Each person's time is normalised (touching shifts merged), so an instant where some
    shift ends and some shift starts always has two different people at it.
    """
    if not by_user:
        return np.empty(0, np.int64)
    sets = list(by_user.values())
    return np.intersect1d(np.concatenate([s.starts for s in sets]), np.concatenate([s.ends for s in sets]))


def handoffs(by_user: Mapping[str, IntervalSet]) -> list[Handoff]:
    """Every instant where one person's shift ends and another's starts (OC-05).

    A shift that starts after a gap (nobody on before) is not a hand-off.
    """
    users = sorted(by_user)
    if not users:
        return []
    counts = [len(by_user[user]) for user in users]
    owners = np.repeat(np.arange(len(users)), counts)
    start_times = np.concatenate([by_user[user].starts for user in users])
    end_times = np.concatenate([by_user[user].ends for user in users])
    start_order, end_order = np.argsort(start_times, kind="stable"), np.argsort(end_times, kind="stable")
    sorted_starts, sorted_ends = start_times[start_order], end_times[end_order]
    instants = np.intersect1d(start_times, end_times)

    def owners_at(sorted_times: np.ndarray, order: np.ndarray, instant: int) -> tuple[str, ...]:
        first, last = np.searchsorted(sorted_times, [instant, instant + 1])
        return tuple(sorted(users[owner] for owner in owners[order[first:last]].tolist()))

    return [
        Handoff(
            from_epoch(instant),
            owners_at(sorted_ends, end_order, instant),
            owners_at(sorted_starts, start_order, instant),
        )
        for instant in instants.tolist()
    ]


@dataclass(frozen=True)
class Turn:
    """A stretch one person holds the pager with nobody else taking over in between."""

    start: datetime
    end: datetime
    on_call_seconds: int

    @property
    def span_seconds(self) -> int:
        return to_epoch(self.end) - to_epoch(self.start)


# A turn counts as back-to-back once it spans more than a turn and a quarter: a
# single turn stretched by an override of a few hours is not two turns, while two
# turns in a row (even restricted to weekday working hours) always span more.
BACK_TO_BACK_SLACK = 1.25


@dataclass(frozen=True)
class PersonLoad:
    """One person's on-call load over the window."""

    user_id: str
    on_call_seconds: int
    shift_seconds: tuple[int, ...]
    night_seconds: int
    turns: tuple[Turn, ...]
    back_to_back_turns: int | None

    @property
    def night_share(self) -> float:
        return self.night_seconds / self.on_call_seconds if self.on_call_seconds else 0.0


def person_load(
    by_user: Mapping[str, IntervalSet],
    window: Window,
    time_zones: Mapping[str, str],
    *,
    default_time_zone: str = "UTC",
    turn_length_seconds: int | None = None,
) -> dict[str, PersonLoad]:
    """Hours, shifts, night hours (00:00-06:00 local) and turns for each person.

    ``by_user`` is one rotation's time per person (a schedule's rendered
    entries); ``time_zones`` gives each person's zone, falling back to
    ``default_time_zone``. A turn ends when someone else comes on call; with
    ``turn_length_seconds`` (the rotation's turn), turns longer than
    :data:`BACK_TO_BACK_SLACK` turns are counted as back-to-back (OC-07),
    otherwise that count is None (not judged).
    """
    window_set = as_interval_set(window)
    clipped = {user: clip(intervals, window_set) for user, intervals in by_user.items()}
    loads = {}
    for user, intervals in clipped.items():
        if not intervals:
            continue
        zone_name = time_zones.get(user) or default_time_zone
        nights = local_daily_intervals(window_set, zone_name, NIGHT_START, NIGHT_END)
        others = union_all(other for other_user, other in clipped.items() if other_user != user)
        turns = _turns(intervals, others)
        back_to_back = None
        if turn_length_seconds:
            back_to_back = sum(turn.span_seconds > BACK_TO_BACK_SLACK * turn_length_seconds for turn in turns)
        loads[user] = PersonLoad(
            user_id=user,
            on_call_seconds=measure(intervals),
            shift_seconds=tuple(intervals.lengths.tolist()),
            night_seconds=measure(intersection(intervals, nights)),
            turns=turns,
            back_to_back_turns=back_to_back,
        )
    return loads


def _turns(mine: IntervalSet, others: IntervalSet) -> tuple[Turn, ...]:
    # The rest between two of my shifts breaks my turn only if someone else was on
    # call during it: the first other interval ending after the rest starts must
    # begin before the rest ends.
    rest_starts, rest_ends = mine.ends[:-1], mine.starts[1:]
    if len(others):
        first_candidate = np.searchsorted(others.ends, rest_starts, side="right")
        in_range = first_candidate < len(others)
        candidate_starts = others.starts[np.minimum(first_candidate, len(others) - 1)]
        broken = in_range & (candidate_starts < rest_ends)
    else:
        broken = np.zeros(len(rest_starts), bool)
    turn_firsts = np.concatenate([[0], np.flatnonzero(broken) + 1])
    turn_lasts = np.concatenate([turn_firsts[1:] - 1, [len(mine) - 1]])
    cumulative = np.concatenate([[0], np.cumsum(mine.lengths)])
    return tuple(
        Turn(from_epoch(mine.starts[first]), from_epoch(mine.ends[last]), int(cumulative[last + 1] - cumulative[first]))
        for first, last in zip(turn_firsts.tolist(), turn_lasts.tolist(), strict=True)
    )


def time_zone_spread_hours(time_zones: Iterable[str], moments: Iterable[datetime]) -> float:
    """The widest gap between the people's UTC offsets at any of ``moments`` (OC-08).

    Give the window's start and end at least: zones that change clocks on
    different dates are an hour closer or further apart for a few weeks.
    """
    zones = [time_zone_info(name) for name in set(time_zones)]
    if not zones:
        return 0.0
    widest = timedelta(0)
    for moment in moments:
        offsets = [moment.astimezone(zone).utcoffset() or timedelta(0) for zone in zones]
        widest = max(widest, max(offsets) - min(offsets))
    return widest / timedelta(hours=1)


# --- describing gaps --------------------------------------------------------------


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
    window_set = as_interval_set(window)
    days = f"{measure(window_set) / 86400:g}-day window"
    share = 100.0 * result.gap_seconds / result.window_seconds
    place = f"{promised} in the {days}" if promised else f"the {days}"
    return f"{describe_gaps(result.gaps, time_zone, window_set)}; {share:.1f}% of {place}"


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


__all__ = [
    "ALL_DAYS",
    "BACK_TO_BACK_SLACK",
    "OVERRIDE_SOURCES",
    "WEEKDAYS",
    "Coverage",
    "Handoff",
    "PersonLoad",
    "PolicyCoverage",
    "Promise",
    "RenderedSchedule",
    "Turn",
    "coverage",
    "describe_gaps",
    "format_duration",
    "format_local_span",
    "gap_summary",
    "handoff_instants",
    "handoffs",
    "level_covered",
    "local_daily_intervals",
    "parse_timestamp",
    "people_of_level",
    "person_load",
    "policy_coverage",
    "promise_window",
    "same_person_overlap",
    "schedule_intervals",
    "support_hours_intervals",
    "time_zone_info",
    "time_zone_spread_hours",
]
