"""Rendering of shift-based (v3) schedules into computed shift assignments.

Each rotation event repeats a window from ``start_time`` to ``end_time`` (ZonedDateTime, read on
the wall clock of their ``time_zone``) by its RFC 5545 ``recurrence`` (one RRULE, optional
EXDATE/RDATE lines in the same local time), only between ``effective_since`` and
``effective_until``. Occurrence ``k`` counts from ``start_time``:

* ``rotating_member_assignment_strategy``: member ``(k // shifts_per_member) % len(members)``;
* ``every_member_assignment_strategy``: every member at once.

``empty_member`` slots are rendered (the API lists them) but cover nothing. Rotations of one
schedule run side by side. An override (account ``overrides`` whose ``schedule_id`` is a v3
schedule) replaces, over its interval, the assignments of its ``rotation_id`` (or of every
rotation when it names none).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from dateutil.rrule import rrulestr

from audit.emulator.intervals import Shift, clip, coverage_percentage, subtract
from audit.emulator.timeutil import from_wall, parse_datetime, to_wall, zone


@dataclass(frozen=True)
class Assignment:
    shift: Shift  # user_id None for an empty_member slot
    rotation_id: str | None
    override_id: str | None = None


@dataclass(frozen=True)
class RenderedV3:
    assignments: list[Assignment]
    coverage: float


def render_v3(schedule: dict, overrides: Sequence[dict], since: datetime, until: datetime) -> RenderedV3:
    """Every assignment overlapping ``[since, until)``, cut to it, sorted by start."""
    assignments = [
        Assignment(shift, rotation["id"])
        for rotation in schedule.get("rotations", [])
        for event in rotation.get("events", [])
        for shift in clip(event_shifts(event, since, until), since, until)
    ]
    for override in overrides:
        assignments = apply_override(assignments, override, since, until)
    assignments.sort(key=lambda a: (a.shift.start, a.rotation_id or "", a.shift.user_id or ""))
    covered = (a.shift.span for a in assignments if a.shift.user_id is not None)
    return RenderedV3(assignments, coverage_percentage(covered, since, until))


def event_shifts(event: dict, since: datetime, until: datetime) -> Iterator[Shift]:
    """The event's shifts that end after ``since`` and start before ``until``."""
    tz = zone(event["start_time"]["time_zone"])
    first_start = to_wall(parse_datetime(event["start_time"]["date_time"]), tz)
    first_end = to_wall(parse_datetime(event["end_time"]["date_time"]), tz)
    length = first_end - first_start
    effective_since = parse_datetime(event["effective_since"])
    effective_until = parse_datetime(event["effective_until"]) if event.get("effective_until") else None
    hi = until if effective_until is None else min(until, effective_until)
    strategy = event["assignment_strategy"]
    members = strategy["members"]
    rotating = strategy["type"] == "rotating_member_assignment_strategy"
    shifts_per_member = strategy.get("shifts_per_member") or 1
    for index, wall_start in enumerate(occurrences(event, first_start)):
        start = from_wall(wall_start, tz)
        if start >= hi:
            return
        end = from_wall(wall_start + length, tz)
        start, end = max(start, effective_since), end if effective_until is None else min(end, effective_until)
        if end <= max(start, since):
            continue
        on_call = [members[(index // shifts_per_member) % len(members)]] if rotating else members
        for member in on_call:
            user_id = member.get("user_id") if member["type"] == "user_member" else None
            yield Shift(start, end, user_id, event["id"])


def occurrences(event: dict, first_start: datetime) -> Iterator[datetime]:
    """The naive wall-clock starts of the event's recurrence, in order."""
    rule = rrulestr("\n".join(event["recurrence"]), dtstart=first_start, forceset=True)
    return iter(rule)


def apply_override(assignments: list[Assignment], override: dict, since: datetime, until: datetime) -> list[Assignment]:
    start, end = parse_datetime(override["start"]), parse_datetime(override["end"])
    rotation_id = override.get("rotation_id")
    kept: list[Assignment] = []
    for assignment in assignments:
        if rotation_id is not None and assignment.rotation_id != rotation_id:
            kept.append(assignment)
            continue
        kept.extend(
            Assignment(Shift(s, e, assignment.shift.user_id, assignment.shift.source), assignment.rotation_id, assignment.override_id)
            for s, e in subtract(assignment.shift.span, [(start, end)])
        )
    kept.extend(
        Assignment(shift, rotation_id, override["id"])
        for shift in clip([Shift(start, end, override["user"]["id"], override["id"])], since, until)
    )
    return kept
