"""Rendering of classic (v2) schedules: layers, restrictions, overrides, the final schedule.

The semantics we emulate, as PagerDuty documents and its Terraform provider relies on:

* A layer hands off every ``rotation_turn_length_seconds`` counted from
  ``rotation_virtual_start`` on the schedule's wall clock, so a daily or weekly handoff keeps
  its local time across DST (that turn is then 23 or 25 hours long). Turn ``k`` belongs to
  ``users[k % len(users)]``; the layer only counts between its ``start`` and ``end``.
* Restrictions (``daily_restriction``, ``weekly_restriction`` with ISO ``start_day_of_week``)
  are windows on the schedule's wall clock; a restricted layer is the rotation masked by the
  union of its windows (the rotation keeps turning outside them, as in PagerDuty).
* ``schedule_layers`` are listed highest priority first, the order the API returns them
  (PagerDuty lists the most recently added, top-most layer first): where a higher layer has
  someone on call, lower layers are hidden.
* Overrides sit above every layer; of two overlapping overrides the later one in the account
  file wins. The final schedule joins back-to-back entries of the same person.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from audit.emulator.intervals import (
    Shift,
    Span,
    clip,
    coverage_percentage,
    intersect,
    join_adjacent,
    stack,
    union,
)
from audit.emulator.timeutil import from_wall, parse_datetime, to_wall, zone

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class RenderedLayer:
    layer_id: str
    entries: list[Shift]
    coverage: float


@dataclass(frozen=True)
class RenderedSchedule:
    since: datetime
    until: datetime
    layers: list[RenderedLayer]  # same order as the schedule's schedule_layers
    overrides: list[Shift]
    overrides_coverage: float
    final: list[Shift]
    final_coverage: float


def render_schedule(schedule: dict, overrides: Sequence[dict], since: datetime, until: datetime) -> RenderedSchedule:
    """Render ``schedule`` over ``[since, until)`` (aware datetimes) with its ``overrides``."""
    tz = zone(schedule["time_zone"])
    layers = [
        RenderedLayer(layer["id"], entries, coverage_percentage((e.span for e in entries), since, until))
        for layer in schedule.get("schedule_layers", [])
        for entries in [layer_shifts(layer, tz, since, until)]
    ]
    override_shifts = clip((override_shift(o) for o in overrides), since, until)
    # Each override is its own layer, the later one on top.
    override_layers = [[shift] for shift in reversed(override_shifts)]
    final = join_adjacent(stack([*override_layers, *(layer.entries for layer in layers)]))
    return RenderedSchedule(
        since=since,
        until=until,
        layers=layers,
        overrides=sorted(override_shifts, key=lambda s: s.start),
        overrides_coverage=coverage_percentage((s.span for s in override_shifts), since, until),
        final=final,
        final_coverage=coverage_percentage((s.span for s in final), since, until),
    )


def override_shift(override: dict) -> Shift:
    return Shift(parse_datetime(override["start"]), parse_datetime(override["end"]), override["user"]["id"], override["id"])


def layer_shifts(layer: dict, tz: tzinfo, since: datetime, until: datetime) -> list[Shift]:
    """The layer's on-call entries inside ``[since, until)``, restrictions applied."""
    lo = max(since, parse_datetime(layer["start"]))
    hi = until if layer.get("end") is None else min(until, parse_datetime(layer["end"]))
    users = [member["user"]["id"] for member in layer.get("users") or []]
    if lo >= hi or not users:
        return []
    turn = timedelta(seconds=layer["rotation_turn_length_seconds"])
    origin = to_wall(parse_datetime(layer["rotation_virtual_start"]), tz)
    # Wall-clock distance is within an hour or two of the real one: start one turn early.
    first_turn = math.floor((to_wall(lo, tz) - origin) / turn) - 1
    shifts: list[Shift] = []
    turn_index = first_turn
    while True:
        start = from_wall(origin + turn_index * turn, tz)
        if start >= hi:
            break
        end = from_wall(origin + (turn_index + 1) * turn, tz)
        if end > lo:
            shifts.append(Shift(max(start, lo), min(end, hi), users[turn_index % len(users)], layer["id"]))
        turn_index += 1
    restrictions = layer.get("restrictions") or []
    if not restrictions:
        return shifts
    windows = restriction_windows(restrictions, tz, lo, hi)
    return [
        Shift(start, end, shift.user_id, shift.source)
        for shift in shifts
        for start, end in intersect([shift.span], windows)
    ]


def restriction_windows(restrictions: Sequence[dict], tz: tzinfo, lo: datetime, hi: datetime) -> list[Span]:
    """The union of the restrictions' wall-clock windows that touch ``[lo, hi)``."""
    first_day = to_wall(lo, tz).date() - WEEK
    last_day = to_wall(hi, tz).date() + timedelta(days=1)
    spans: list[Span] = []
    for restriction in restrictions:
        start_of_day = time.fromisoformat(restriction["start_time_of_day"])
        length = timedelta(seconds=restriction["duration_seconds"])
        weekday = restriction.get("start_day_of_week") if restriction["type"] == "weekly_restriction" else None
        day = first_day
        while day <= last_day:
            if weekday is None or day.isoweekday() == weekday:
                wall_start = datetime.combine(day, start_of_day)
                spans.append((from_wall(wall_start, tz), from_wall(wall_start + length, tz)))
            day += timedelta(days=1)
    return intersect(union(spans), [(lo, hi)])
