"""Schedule facts: who each v2 and v3 schedule puts on call over the window, and how well.

Owns reading a schedule into a :class:`ScheduleRendering` (the rendered final
schedule per person, the time overrides hold, the members and turn lengths its
layers or rotations are configured with) and the ``schedule`` fact table built
from those renderings: coverage and gaps (OC-01's raw material), rotation size
(OC-03), turn and shift lengths (OC-04), each layer's own hand-off times on the
schedule's wall clock (OC-05; the final schedule's hand-offs are kept as facts
too), hours per person (OC-06), back-to-back turns (OC-07), override share
(OC-10) and health: empty layers, ended, used by a policy (OC-11).

Coverage comes from what PagerDuty rendered, never from re-rendering layers: a
v2 ``final_schedule.rendered_schedule_entries`` entry with no user is a gap, as
is a v3 ``empty_member`` assignment. The interval maths is ``coverage``'s.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from audit.errors import SnapshotError
from audit.facts.columns import frame
from audit.facts.coverage import OVERRIDE_SOURCES, coverage, parse_timestamp, schedule_intervals
from audit.facts.gap_text import gap_summary
from audit.facts.intervals import IntervalSet, intersection, measure, to_epoch
from audit.facts.person_load import BACK_TO_BACK_SLACK
from audit.facts.raw import as_list, as_text, ref_id, ref_ids
from audit.time_zones import iana_zone_name

HOUR = 3600.0
V2 = "v2"
V3 = "v3"
# OC-05's working hours and weekend, as the precomputed hand-off counts judge them.
WORKING_HOURS = (9, 17)
WEEKEND = frozenset({6, 7})
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY = 86400
_NAIVE_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class ScheduleRendering:
    """One schedule read from the snapshot: configuration and rendered time.

    ``by_user``/``covered`` are clipped to the window. ``override_time`` is the
    part of ``covered`` held by overrides. ``members`` are the people named on
    layers or rotations still active at ``now``; ``turn_seconds`` their turn
    lengths; ``layer_count``/``empty_layers`` count active layers (v2) or
    rotations (v3), the empty ones having nobody to put on call.
    """

    id: str
    kind: str
    name: str
    time_zone: str
    by_user: Mapping[str, IntervalSet]
    covered: IntervalSet
    override_time: IntervalSet
    rendered: bool
    members: tuple[str, ...]
    turn_seconds: tuple[int, ...]
    layer_count: int
    empty_layers: int
    ended: bool
    # Each active layer's (v2) or rotation event's (v3) own hand-offs, as local wall-clock
    # times in the schedule's zone (OC-05): see ``layer_handoffs`` and ``event_handoffs``.
    rotation_handoffs: tuple[LocalTime, ...] = ()
    # One active layer or rotation event with people on it puts someone on call at every hour of
    # the week by its configuration alone (PPL-03): no restrictions, or occurrences filling the week.
    around_the_clock: bool = False


@dataclass(frozen=True, order=True)
class LocalTime:
    """A moment on the schedule's wall clock: ISO weekday (1 = Monday) and hour (09:30 is 9.5)."""

    weekday: int
    hour: float

    def __str__(self) -> str:
        minutes = round(self.hour * 60)
        return f"{DAY_NAMES[self.weekday - 1]} {minutes // 60:02d}:{minutes % 60:02d}"

    @property
    def on_weekend(self) -> bool:
        return self.weekday in WEEKEND

    @property
    def off_hours(self) -> bool:
        """A weekday moment outside working hours (09:00 is inside, 17:00 is not)."""
        return not self.on_weekend and not WORKING_HOURS[0] <= self.hour < WORKING_HOURS[1]


def zone_or_utc(name: Any) -> str:
    """An IANA zone name the maths can use: the given one (a Rails name's zone), or UTC when absent or unknown."""
    return iana_zone_name(name) or "UTC"


def render_schedules(
    v2_schedules: Iterable[Mapping[str, Any]],
    v3_schedules: Iterable[Mapping[str, Any]],
    window: IntervalSet,
    now: datetime,
) -> dict[str, ScheduleRendering]:
    """Every schedule of the snapshot, keyed by id (v2 and v3 ids never collide in PagerDuty)."""
    now_epoch = to_epoch(now)
    renderings = {}
    for schedule in v2_schedules:
        if ref_id(schedule) is not None:
            renderings[schedule["id"]] = _read_v2(schedule, window, now_epoch)
    for schedule in v3_schedules:
        if ref_id(schedule) is not None:
            renderings[schedule["id"]] = _read_v3(schedule, window, now_epoch)
    return renderings


def _rendered(final: Any, window: IntervalSet, sources: Iterable[str] | None = None) -> tuple[dict, IntervalSet, bool]:
    if not isinstance(final, dict) or not any(
        key in final for key in ("rendered_schedule_entries", "computed_shift_assignments")
    ):
        return {}, IntervalSet.empty(), False
    rendering = schedule_intervals(final, window=window, sources=sources)
    return dict(rendering.by_user), rendering.covered, True


def _read_v2(schedule: Mapping[str, Any], window: IntervalSet, now: int) -> ScheduleRendering:
    layers = [layer for layer in as_list(schedule.get("schedule_layers")) if isinstance(layer, dict)]
    where = f"schedule {schedule['id']} layer end"
    active = [layer for layer in layers if _still_running(layer.get("end"), now, where)]
    turns = [layer.get("rotation_turn_length_seconds") for layer in active]
    zone = ZoneInfo(zone_or_utc(schedule.get("time_zone")))
    handoffs_of_layers = [
        moment for layer in active for moment in layer_handoffs(layer, zone, window, f"schedule {schedule['id']} layer")
    ]
    return _reading(
        schedule,
        V2,
        _rendered(schedule.get("final_schedule"), window),
        # Overrides are the top layer: the time they hold is their part of the final schedule.
        _rendered(schedule.get("overrides_subschedule"), window)[1],
        [ref_ids([member.get("user") for member in as_list(layer.get("users")) if isinstance(member, dict)])
         for layer in active],
        [int(t) for t in turns if isinstance(t, int) and not isinstance(t, bool) and t > 0],
        handoffs_of_layers,
        around_the_clock=any(
            not as_list(layer.get("restrictions")) and any(isinstance(u, dict) for u in as_list(layer.get("users")))
            for layer in active
        ),
    )


def _read_v3(schedule: Mapping[str, Any], window: IntervalSet, now: int) -> ScheduleRendering:
    members_per_rotation: list[list[str]] = []
    turns: list[int] = []
    handoffs_of_events: list[LocalTime] = []
    around_the_clock = False
    zone = ZoneInfo(zone_or_utc(schedule.get("time_zone")))
    for rotation in as_list(schedule.get("rotations")):
        if not isinstance(rotation, dict):
            continue
        events = [
            event
            for event in as_list(rotation.get("events"))
            if isinstance(event, dict)
            and _still_running(event.get("effective_until"), now, f"schedule {schedule['id']} event effective_until")
        ]
        if not events:
            continue  # a rotation whose events have all ended no longer puts anyone on call
        rotation_members = []
        for event in events:
            declared = event.get("assignment_strategy")
            strategy = declared if isinstance(declared, dict) else {}
            rotation_members += [
                member["user_id"]
                for member in as_list(strategy.get("members"))
                if isinstance(member, dict)
                and member.get("type") == "user_member"
                and isinstance(member.get("user_id"), str)
            ]
            turn = _v3_turn_seconds(event, strategy)
            if turn:
                turns.append(turn)
            handoff = event_handoff(event, strategy, zone)
            if handoff is not None:
                handoffs_of_events.append(handoff)
            around_the_clock = around_the_clock or (bool(rotation_members) and event_fills_the_week(event))
        members_per_rotation.append(rotation_members)
    final = schedule.get("final_schedule")
    return _reading(
        schedule,
        V3,
        _rendered(final, window),
        _rendered(final, window, OVERRIDE_SOURCES)[1],
        members_per_rotation,
        turns,
        handoffs_of_events,
        around_the_clock=around_the_clock,
    )


# Occurrences a week of an event's recurrence rule (RFC 5545 FREQ, with BYDAY for weekly rules).
_OCCURRENCES_A_WEEK = {"DAILY": 7, "HOURLY": 168}


def event_fills_the_week(event: Mapping[str, Any]) -> bool:
    """Whether a v3 event's occurrences add up to the whole week: a weekly 7-day shift, a daily
    24-hour one, a weekday-only 24-hour one does not."""
    start, end = event.get("start_time"), event.get("end_time")
    if not isinstance(start, dict) or not isinstance(end, dict):
        return False
    try:
        occurrence = parse_timestamp(end.get("date_time")) - parse_timestamp(start.get("date_time"))
    except SnapshotError:
        return False
    rule = ";".join(text for text in as_list(event.get("recurrence")) if isinstance(text, str)).upper()
    parts = dict(part.split("=", 1) for part in rule.replace("RRULE:", "").split(";") if "=" in part)
    frequency = parts.get("FREQ", "")
    per_week = _OCCURRENCES_A_WEEK.get(frequency)
    if frequency == "WEEKLY":
        per_week = max(1, len([day for day in parts.get("BYDAY", "").split(",") if day]))
    return per_week is not None and occurrence * per_week >= 7 * DAY


def _reading(
    schedule: Mapping[str, Any],
    kind: str,
    rendered: tuple[dict, IntervalSet, bool],
    override_held: IntervalSet,
    members_per_layer: Sequence[Sequence[str]],
    turns: Sequence[int],
    rotation_handoffs: Sequence[LocalTime],
    *,
    around_the_clock: bool,
) -> ScheduleRendering:
    """A rendering from what both kinds share: rendered time, and people and turns per active layer."""
    by_user, covered, is_rendered = rendered
    return ScheduleRendering(
        id=schedule["id"],
        kind=kind,
        name=as_text(schedule.get("name")),
        time_zone=zone_or_utc(schedule.get("time_zone")),
        by_user=by_user,
        covered=covered,
        override_time=intersection(override_held, covered),
        rendered=is_rendered,
        members=tuple(dict.fromkeys(user for members in members_per_layer for user in members)),
        turn_seconds=tuple(turns),
        layer_count=len(members_per_layer),
        empty_layers=sum(1 for members in members_per_layer if not members),
        ended=not members_per_layer,
        rotation_handoffs=tuple(rotation_handoffs),
        around_the_clock=around_the_clock and bool(members_per_layer),
    )


# --- each layer's own hand-offs (OC-05) -------------------------------------------------


def layer_handoffs(layer: Mapping[str, Any], zone: ZoneInfo, window: IntervalSet, what: str) -> list[LocalTime]:
    """A v2 layer's hand-offs in the window: ``rotation_virtual_start`` plus whole turns, on the wall clock.

    Turns are added on the schedule's wall clock, as PagerDuty does for day and week turns: a
    Monday 09:00 hand-off stays Monday 09:00 across a DST change. The layer's own start is not a
    hand-off (nobody hands over to the first turn), and a layer of fewer than two people never
    hands over to anyone else.
    """
    turn = layer.get("rotation_turn_length_seconds")
    members = [m for m in as_list(layer.get("users")) if isinstance(m, dict)]
    if not isinstance(turn, int) or isinstance(turn, bool) or turn <= 0 or len(members) < 2 or not window:
        return []
    if layer.get("rotation_virtual_start") is None:
        return []
    origin = _wall_clock_of(layer["rotation_virtual_start"], zone, f"{what} rotation_virtual_start")
    layer_start = _wall_clock_of(layer["start"], zone, f"{what} start") if layer.get("start") is not None else None
    low = _wall_clock(int(window.starts[0]), zone)
    high = _wall_clock(int(window.ends[-1]), zone)
    if layer_start is not None:
        low = max(low, layer_start)
    if layer.get("end") is not None:
        high = min(high, _wall_clock_of(layer["end"], zone, f"{what} end"))
    if high <= low:
        return []
    first, last = -(-(low - origin) // turn), -(-(high - origin) // turn) - 1  # ceil divisions
    moments = origin + np.arange(first, last + 1, dtype=np.int64) * turn
    if layer_start is not None:
        moments = moments[moments != layer_start]
    return _local_times(moments)


def event_handoff(event: Mapping[str, Any], strategy: Mapping[str, Any], zone: ZoneInfo) -> LocalTime | None:
    """A v3 rotation event's hand-off: the start of its shifts, on the schedule's wall clock.

    None when the event has fewer than two members (nobody else to hand over to) or no readable start.
    """
    members = [m for m in as_list(strategy.get("members")) if isinstance(m, dict)]
    start = event.get("start_time")
    if len(members) < 2 or not isinstance(start, dict):
        return None
    try:
        moment = parse_timestamp(start.get("date_time"))
    except SnapshotError:
        return None  # an event without a readable start has no hand-off to judge
    return _local_times(np.array([_wall_clock(moment, zone)]))[0]


@functools.lru_cache(maxsize=65536)
def _wall_clock(epoch: int, zone: ZoneInfo) -> int:
    """Seconds since 1970-01-01 00:00 on the zone's wall clock at the instant ``epoch``.

    Memoised: schedules of an account hand off at the same few instants in the same few zones.
    """
    local = datetime.fromtimestamp(epoch, zone).replace(tzinfo=None)
    return int((local - _NAIVE_EPOCH).total_seconds())


def _wall_clock_of(text: Any, zone: ZoneInfo, what: str) -> int:
    """A layer's timestamp on the zone's wall clock; one without an offset is already wall-clock time."""
    if isinstance(text, str):
        naive = _naive_wall_clock(text)
        if naive is not None:
            return naive
    return _wall_clock(parse_timestamp(text, what), zone)


@functools.lru_cache(maxsize=65536)
def _naive_wall_clock(text: str) -> int | None:
    """Wall-clock seconds of a timestamp without an offset; None for any other text (memoised: layers
    of an account start and hand off at the same few timestamps)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return int((moment - _NAIVE_EPOCH).total_seconds()) if moment.tzinfo is None else None


def _local_times(wall_clock_seconds: np.ndarray) -> list[LocalTime]:
    """Each wall-clock moment's weekday and hour, in plain Python: a layer hands off a few times a
    window, where numpy's per-call cost was most of the work; the moments recur across layers."""
    return [_local_time(moment % (7 * DAY)) for moment in wall_clock_seconds.tolist()]


@functools.lru_cache(maxsize=4096)
def _local_time(second_of_week: int) -> LocalTime:
    """The LocalTime of a wall-clock moment, given as seconds since the start of a Thursday (the
    epoch's weekday: a whole number of weeks changes neither weekday nor hour)."""
    days, second_of_day = divmod(second_of_week, DAY)
    return LocalTime((days + 3) % 7 + 1, second_of_day / HOUR)  # 1970-01-01 was a Thursday (ISO weekday 4)


def _v3_turn_seconds(event: Mapping[str, Any], strategy: Mapping[str, Any]) -> int | None:
    """One member's turn: an occurrence's length, times the occurrences each member covers in a row."""
    start, end = event.get("start_time"), event.get("end_time")
    if not isinstance(start, dict) or not isinstance(end, dict):
        return None
    try:
        occurrence = parse_timestamp(end.get("date_time")) - parse_timestamp(start.get("date_time"))
    except SnapshotError:
        return None  # an event without readable times has no turn to judge
    if occurrence <= 0:
        return None
    per_member = strategy.get("shifts_per_member")
    if strategy.get("type") == "rotating_member_assignment_strategy" and isinstance(per_member, int) and per_member > 0:
        return occurrence * per_member
    return occurrence


def _still_running(end: Any, now: int, what: str) -> bool:
    return end is None or parse_timestamp(end, what) > now


# --- the table ---------------------------------------------------------------------


def schedule_table(
    renderings: Mapping[str, ScheduleRendering],
    raw_schedules: Mapping[str, Mapping[str, Any]],
    window: IntervalSet,
    policy_ids_by_schedule: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    """One row per schedule (see ``columns.SCHEDULE`` for what each column means)."""
    rows = [
        _schedule_row(
            rendering, raw_schedules.get(schedule_id, {}), window, policy_ids_by_schedule.get(schedule_id, ())
        )
        for schedule_id, rendering in renderings.items()
    ]
    return frame("schedule", rows)


def fill_policy_columns(table: pd.DataFrame, policy_ids_by_schedule: Mapping[str, Sequence[str]]) -> None:
    """Fill in the policies using each schedule, for a table built before the policies were resolved
    (with no policies given): the same columns, values and dtypes as built with them."""
    policy_ids = [list(policy_ids_by_schedule.get(schedule_id, ())) for schedule_id in table.index]
    table["policy_ids"] = pd.Series(policy_ids, index=table.index, dtype=object)
    table["policy_count"] = pd.Series([len(ids) for ids in policy_ids], index=table.index, dtype="int64")
    table["used_by_policy"] = pd.Series([bool(ids) for ids in policy_ids], index=table.index, dtype=bool)


def _schedule_row(
    rendering: ScheduleRendering,
    raw: Mapping[str, Any],
    window: IntervalSet,
    policy_ids: Sequence[str],
) -> dict[str, Any]:
    covered = coverage(rendering.covered, window)
    turn = min(rendering.turn_seconds) if rendering.turn_seconds else None
    hours = {user: measure(held) / HOUR for user, held in sorted(rendering.by_user.items())}
    mean_hours = float(np.mean(list(hours.values()))) if hours else math.nan
    shift_lengths = [int(length) for held in rendering.by_user.values() for length in held.lengths]
    weekdays, local_hours = _handoff_local_times(rendering)
    covered_seconds = measure(rendering.covered)
    team_ids = ref_ids(raw.get("teams"))
    return {
        "id": rendering.id,
        "name": rendering.name,
        "html_url": as_text(raw.get("html_url")) or None,
        "kind": rendering.kind,
        "time_zone": rendering.time_zone,
        "team_ids": team_ids,
        "team_count": len(team_ids),
        "rendered": rendering.rendered,
        "coverage_pct": covered.pct,
        "covered_hours": covered_seconds / HOUR,
        "gap_hours": covered.gap_seconds / HOUR,
        "gaps": covered.gaps_iso(),
        "gap_summary": gap_summary(covered, rendering.time_zone, window),
        "layer_count": rendering.layer_count,
        "empty_layers": rendering.empty_layers,
        "ended": rendering.ended,
        "member_ids": list(rendering.members),
        "people_count": len(rendering.members),
        "on_call_people_count": len(hours),
        "turn_hours_min": min(rendering.turn_seconds) / HOUR if rendering.turn_seconds else math.nan,
        "turn_hours_max": max(rendering.turn_seconds) / HOUR if rendering.turn_seconds else math.nan,
        "shift_hours_max": max(shift_lengths) / HOUR if shift_lengths else math.nan,
        "handoff_count": len(weekdays),
        "handoff_weekdays": weekdays,
        "handoff_hours": local_hours,
        "weekend_handoffs": sum(1 for day in weekdays if day in WEEKEND),
        "off_hours_handoffs": sum(
            1 for day, hour in zip(weekdays, local_hours, strict=True)
            if day not in WEEKEND and not WORKING_HOURS[0] <= hour < WORKING_HOURS[1]
        ),
        "rotation_handoff_times": [str(moment) for moment in sorted(set(rendering.rotation_handoffs))],
        "rotation_weekend_handoffs": sum(1 for moment in rendering.rotation_handoffs if moment.on_weekend),
        "rotation_off_hours_handoffs": sum(1 for moment in rendering.rotation_handoffs if moment.off_hours),
        "hours_by_person": hours,
        "mean_hours_per_person": mean_hours,
        "max_hours_ratio": max(hours.values()) / mean_hours if hours and mean_hours > 0 else math.nan,
        "back_to_back_turns": float(_back_to_back_turns(rendering, turn)) if turn is not None else math.nan,
        "override_hours": measure(rendering.override_time) / HOUR,
        "override_share_pct": 100.0 * measure(rendering.override_time) / covered_seconds if covered_seconds else 0.0,
        "policy_ids": list(policy_ids),
        "policy_count": len(policy_ids),
        "used_by_policy": bool(policy_ids),
        "is_shadow": "shadow" in rendering.name.lower(),
        "covers_around_the_clock": rendering.around_the_clock,
    }


def _back_to_back_turns(rendering: ScheduleRendering, turn_seconds: int) -> int:
    """OC-07: turns spanning more than BACK_TO_BACK_SLACK configured turns, over everyone.

    The same reading of a turn as ``person_load.person_load`` (a person's rest ends
    their turn only if someone else is on call during it), without its per-person
    night hours, which cost a local calendar per person and schedule and which the
    schedule table does not use (users' night hours are measured once per user).
    """
    held = [person for person in rendering.by_user.values() if person]
    if not held:
        return 0
    # In plain Python: a schedule holds a few dozen shifts a month, where numpy's per-call cost was
    # most of the work. Everyone's shifts person after person; a turn runs over a person's shifts
    # until a rest in which someone else is on call, or until their last shift.
    covered_starts, covered_ends = rendering.covered.starts.tolist(), rendering.covered.ends.tolist()
    longest = BACK_TO_BACK_SLACK * turn_seconds
    count = 0
    for person in held:
        starts, ends = person.starts.tolist(), person.ends.tolist()
        first = 0
        for shift in range(len(starts)):
            if shift + 1 < len(starts):
                # During my rest I hold nothing, so any covered time in it is someone else's.
                following = bisect.bisect_right(covered_ends, ends[shift])
                if following >= len(covered_starts) or covered_starts[following] >= starts[shift + 1]:
                    continue  # nobody else on call in the rest: the turn goes on
            count += ends[shift] - starts[first] > longest
            first = shift + 1
    return count


def _handoff_local_times(rendering: ScheduleRendering) -> tuple[list[int], list[float]]:
    """ISO weekday and local hour (09:30 is 9.5) of each hand-off, in the schedule's time zone.

    The hand-offs are :func:`audit.facts.person_load.handoff_instants`, found here with Python sets:
    a schedule hands off a few dozen times a month, where numpy's per-call cost was most of the work."""
    held = list(rendering.by_user.values())
    starts = {start for person in held for start in person.starts.tolist()}
    ends = {end for person in held for end in person.ends.tolist()}
    zone = ZoneInfo(rendering.time_zone)
    weekdays: list[int] = []
    hours: list[float] = []
    for instant in sorted(starts & ends):
        days, seconds_of_day = divmod(_wall_clock(instant, zone), DAY)
        weekdays.append((days + 3) % 7 + 1)  # 1970-01-01 was a Thursday (ISO weekday 4)
        hour, seconds_of_hour = divmod(seconds_of_day, 3600)
        hours.append(hour + (seconds_of_hour // 60) / 60)
    return weekdays, hours
