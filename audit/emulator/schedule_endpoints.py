"""Endpoints about time: v2 schedules, v3 schedules, overrides and /oncalls.

Windows follow PagerDuty: ``GET /schedules/{id}`` renders layers, overrides and the final
schedule only when ``since`` or ``until`` is given (the other defaults two weeks away); a v3
schedule id answers 400 there and lives under ``/v3/schedules``, whose list has no ``total``
and takes ``limit`` up to 1000. Times are written in the ``time_zone`` asked for, else the
schedule's (v2) or UTC (v3 and /oncalls).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from werkzeug.datastructures import MultiDict

from audit.emulator.account import Account
from audit.emulator.cache import LruCache
from audit.emulator.directory import FilteredIds
from audit.emulator.intervals import Shift
from audit.emulator.oncalls import HORIZON, OncallQuery, compute_oncalls
from audit.emulator.present import Presenter, schedule_user_ids
from audit.emulator.protocol import (
    bool_param,
    classic_page,
    include_param,
    int_param,
    invalid,
    list_param,
    not_found,
    paginate,
    time_param,
)
from audit.emulator.rendering import ScheduleRenderings
from audit.emulator.timeutil import BadTime, format_in, format_utc, parse_datetime, zone

DEFAULT_SPAN = timedelta(weeks=2)
V3_DEFAULT_LIMIT = 100
V3_MAX_LIMIT = 1000
ONCALL_CACHE_SIZE = 64


class ScheduleEndpoints:
    def __init__(self, account: Account, presenter: Presenter, renderings: ScheduleRenderings,
                 filtered: FilteredIds, now: Callable[[], datetime]):
        self.account = account
        self.present = presenter
        self.renderings = renderings
        self.filtered = filtered
        self.now = now
        # Paging through /oncalls must not recompute every policy x schedule for each page.
        self._oncalls: LruCache[list] = LruCache(ONCALL_CACHE_SIZE)

    def _zone(self, args: MultiDict, default: str) -> tzinfo:
        try:
            return zone(args.get("time_zone") or default)
        except BadTime:
            raise invalid("time_zone is not a known time zone") from None

    def _v2(self, schedule_id: str) -> dict:
        schedule = self.account.get("schedules", schedule_id)
        if schedule is None:
            if self.account.get("schedules_v3", schedule_id) is not None:
                raise invalid("This is a shift-based schedule: read it with GET /v3/schedules/{id}.")
            raise not_found()
        return schedule

    def _entries(self, shifts: list[Shift], tz: tzinfo) -> list[dict]:
        return [{"user": self.present.ref("users", s.user_id), "start": format_in(s.start, tz), "end": format_in(s.end, tz)}
                for s in shifts]

    # -- v2 ------------------------------------------------------------------------------------
    def schedules(self, args: MultiDict) -> dict:
        page = classic_page(args)
        ids = self.filtered.get("schedules", tuple(sorted(list_param(args, "team_ids"))), args.get("query", ""))
        return paginate("schedules", ids, page, lambda object_id: self.present.full("schedules", object_id))

    def schedule(self, args: MultiDict, id: str) -> dict:
        schedule = self._v2(id)
        tz = self._zone(args, schedule["time_zone"])
        window = render_window(time_param(args, "since"), time_param(args, "until"))
        body = dict(self.present.full("schedules", id))
        body["time_zone"] = args.get("time_zone") or schedule["time_zone"]
        layers = [
            {**layer, "users": [{"user": self.present.ref("users", m["user"]["id"])} for m in layer.get("users") or []],
             "restrictions": layer.get("restrictions") or []}
            for layer in schedule.get("schedule_layers", [])
        ]
        if window is None:
            body["schedule_layers"] = layers
            body["overrides_subschedule"] = {"name": "Overrides"}
            body["final_schedule"] = {"name": "Final Schedule"}
            return {"schedule": body}
        rendered = self.renderings.v2(id, *window)
        body["schedule_layers"] = [
            {**layer, "rendered_schedule_entries": self._entries(r.entries, tz), "rendered_coverage_percentage": r.coverage}
            for layer, r in zip(layers, rendered.layers)
        ]
        body["overrides_subschedule"] = {"name": "Overrides", "rendered_schedule_entries": self._entries(rendered.overrides, tz),
                                         "rendered_coverage_percentage": rendered.overrides_coverage}
        body["final_schedule"] = {"name": "Final Schedule", "rendered_schedule_entries": self._entries(rendered.final, tz),
                                  "rendered_coverage_percentage": rendered.final_coverage}
        return {"schedule": body}

    def overrides(self, args: MultiDict, id: str) -> dict:
        schedule = self._v2(id)
        since, until = time_param(args, "since"), time_param(args, "until")
        if since is None or until is None:
            raise invalid("since and until are required")
        tz = self._zone(args, schedule["time_zone"])
        return {"overrides": [
            {"id": o["id"], "start": format_in(parse_datetime(o["start"]), tz), "end": format_in(parse_datetime(o["end"]), tz),
             "user": self.present.ref("users", o["user"]["id"])}
            for o in self.account.overrides_by_schedule.get(id, [])
            if parse_datetime(o["start"]) < until and parse_datetime(o["end"]) > since
        ]}

    def schedule_users(self, args: MultiDict, id: str) -> dict:
        schedule = self._v2(id)
        window = render_window(time_param(args, "since"), time_param(args, "until"))
        if window is None:
            user_ids = [*schedule_user_ids(schedule), *(o["user"]["id"] for o in self.account.overrides_by_schedule.get(id, []))]
        else:
            user_ids = [s.user_id for s in self.renderings.v2(id, *window).final]
        return {"users": [self.present.full("users", user_id) for user_id in dict.fromkeys(user_ids)]}

    # -- v3 ------------------------------------------------------------------------------------
    def v3_schedules(self, args: MultiDict) -> dict:
        limit = int_param(args, "limit", V3_DEFAULT_LIMIT)
        offset = int_param(args, "offset", 0)
        if not 1 <= limit <= V3_MAX_LIMIT or offset < 0:
            raise invalid(f"limit must be between 1 and {V3_MAX_LIMIT}, offset not negative")
        ids = self.filtered.get("schedules_v3", tuple(sorted(list_param(args, "team_ids"))), args.get("query", ""))
        return {
            "schedules": [self.present.ref("schedules_v3", i) for i in ids[offset: offset + limit]],
            "limit": limit, "offset": offset, "more": offset + limit < len(ids),
        }

    def v3_schedule(self, args: MultiDict, id: str) -> dict:
        if self.account.get("schedules_v3", id) is None:
            if self.account.get("schedules", id) is not None:  # PagerDuty answers 400, not 404, for a v2 id
                raise invalid("This is a legacy schedule: read it with GET /schedules/{id}.")
            raise not_found()
        includes = include_param(args)
        body = dict(self.present.full("schedules_v3", id))
        if "users" in includes:
            body["users"] = self.present.refs("users", v3_user_ids(self.account.get("schedules_v3", id)))
        if "final_schedule" in includes:
            since, until = time_param(args, "since"), time_param(args, "until")
            if since is None or until is None or until <= since:
                raise invalid("include[]=final_schedule needs since and until, since before until")
            rendered = self.renderings.v3(id, since, until)
            body["final_schedule"] = {
                "type": "final_schedule",
                "rendered_coverage_percentage": rendered.coverage,
                "computed_shift_assignments": [computed_assignment(a) for a in rendered.assignments],
            }
        return {"schedule": body}

    # -- /oncalls ------------------------------------------------------------------------------
    def oncalls(self, args: MultiDict) -> dict:
        page = classic_page(args)
        now = self.now()
        since = time_param(args, "since") or now
        until = time_param(args, "until") or since
        if until < since:
            raise invalid("until cannot be before since")
        if until - since > HORIZON:
            raise invalid("until cannot be more than 90 days after since")
        tz = self._zone(args, "UTC")
        query = OncallQuery(
            # "now" only sets the 90-day horizon; to the minute, so pages of one query share a cache entry.
            since=since, until=until, now=now.replace(second=0, microsecond=0),
            policy_ids=frozenset(list_param(args, "escalation_policy_ids")),
            schedule_ids=frozenset(list_param(args, "schedule_ids")),
            user_ids=frozenset(list_param(args, "user_ids")),
            earliest=bool_param(args, "earliest"),
        )
        includes = include_param(args)
        entries = self._oncalls.get_or_compute(query, lambda: compute_oncalls(self.account, self.renderings, query))

        def render(entry) -> dict:
            user = self.present.full("users", entry.user_id) if "users" in includes else self.present.ref("users", entry.user_id)
            policy = (self.present.full if "escalation_policies" in includes else self.present.ref)("escalation_policies", entry.policy_id)
            schedule = None
            if entry.schedule_id is not None:
                schedule = (self.present.full if "schedules" in includes else self.present.ref)(entry.schedule_collection, entry.schedule_id)
            return {
                "escalation_policy": policy, "escalation_level": entry.level, "schedule": schedule, "user": user,
                "start": None if entry.start is None else format_in(entry.start, tz),
                "end": None if entry.end is None else format_in(entry.end, tz),
            }

        return paginate("oncalls", entries, page, render)


def render_window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime] | None:
    """The rendering window PagerDuty uses: nothing without either bound, two weeks from the one given."""
    if since is None and until is None:
        return None
    since = since or until - DEFAULT_SPAN
    until = until or since + DEFAULT_SPAN
    if until <= since:
        raise invalid("until must be after since")
    return since, until


def v3_user_ids(schedule: dict) -> list[str]:
    return list(dict.fromkeys(
        member["user_id"]
        for rotation in schedule.get("rotations", []) for event in rotation.get("events", [])
        for member in event["assignment_strategy"]["members"] if member["type"] == "user_member"
    ))


def computed_assignment(assignment) -> dict:
    shift = assignment.shift
    member = {"type": "user_member", "user_id": shift.user_id} if shift.user_id else {"type": "empty_member"}
    source: dict = {"type": "schedule_rotation_override" if assignment.override_id else "schedule_rotation"}
    if assignment.rotation_id:
        source["rotation_id"] = assignment.rotation_id
    if assignment.override_id:
        source["override_id"] = assignment.override_id
    return {"type": "computed_shift_assignment", "start_time": format_utc(shift.start), "end_time": format_utc(shift.end),
            "member": member, "source": source}
