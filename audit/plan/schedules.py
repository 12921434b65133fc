"""On-call of a planned v2 schedule, rendered as ``GET /schedules/{id}?since&until`` would answer.

A schedule in a plan has layers, users, restrictions and turn lengths but no rendering: that
is computed by PagerDuty once it exists. The facts read the rendering (``final_schedule`` and
each layer's ``rendered_schedule_entries``), so it is made here by the same maths the emulator
serves v2 schedules with (``audit.emulator.render_v2``), over the audit window; nothing here
computes on-call time itself. A planned schedule has no overrides yet.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from audit.emulator.intervals import Shift
from audit.emulator.render_v2 import render_schedule
from audit.emulator.timeutil import BadTime, format_in, zone
from audit.errors import UserError


def with_rendering(schedule: dict[str, Any], since: datetime, until: datetime, address: str) -> dict[str, Any]:
    """``schedule`` (API shape) with its layers' and final schedule's entries over [since, until)."""
    try:
        tz = zone(schedule.get("time_zone") or "UTC")
        rendered = render_schedule(schedule, [], since, until)
    except (BadTime, KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{address}: the planned schedule cannot be rendered ({exc})") from None
    layers = [
        {**layer, "rendered_schedule_entries": _entries(r.entries, tz), "rendered_coverage_percentage": r.coverage}
        for layer, r in zip(schedule.get("schedule_layers") or [], rendered.layers)
    ]
    return {
        **schedule,
        "schedule_layers": layers,
        "overrides_subschedule": {"name": "Overrides", "rendered_schedule_entries": [],
                                  "rendered_coverage_percentage": 0.0},
        "final_schedule": {"name": "Final Schedule", "rendered_schedule_entries": _entries(rendered.final, tz),
                           "rendered_coverage_percentage": rendered.final_coverage},
    }


def _entries(shifts: list[Shift], tz: tzinfo) -> list[dict[str, Any]]:
    return [{"user": {"id": s.user_id, "type": "user_reference"}, "start": format_in(s.start, tz),
             "end": format_in(s.end, tz)} for s in shifts]
