"""/oncalls: who is on call for which policy and level, from policies x rendered schedules.

Behaviour emulated (PagerDuty's documentation of the endpoint):

* ``since`` and ``until`` default to now; ``until`` may not be before ``since`` nor more than
  90 days after it (400); nothing is computed beyond 90 days after now.
* A schedule target gives one entry per final-schedule shift overlapping the window, its
  start and end cut to the window; for an instant query (``since == until``) the entry keeps
  its real end, so "who is on call now, and until when" can be answered.
* A direct user target gives one entry with ``start``, ``end`` and ``schedule`` null.
* Filters ``escalation_policy_ids[]``, ``schedule_ids[]`` (schedule targets only) and
  ``user_ids[]``; ``earliest=true`` keeps the first entry per (policy, level, user).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from audit.emulator.account import ESCALATION_TARGET_KINDS, Account
from audit.emulator.intervals import Shift, join_adjacent
from audit.emulator.rendering import ScheduleRenderings

HORIZON = timedelta(days=90)


@dataclass(frozen=True)
class Oncall:
    policy_id: str
    level: int
    user_id: str
    schedule_collection: str | None  # "schedules" / "schedules_v3"; None for a direct user target
    schedule_id: str | None
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class OncallQuery:
    since: datetime
    until: datetime
    now: datetime
    policy_ids: frozenset[str] = frozenset()
    schedule_ids: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()
    earliest: bool = False


def compute_oncalls(account: Account, renderings: ScheduleRenderings, query: OncallQuery) -> list[Oncall]:
    instant = query.since == query.until
    horizon = query.now + HORIZON
    render_until = min(horizon, query.since + HORIZON if instant else query.until)
    entries: list[Oncall] = []
    for policy in account.all("escalation_policies"):
        if query.policy_ids and policy["id"] not in query.policy_ids:
            continue
        for level, rule in enumerate(policy.get("escalation_rules", []), start=1):
            for target in rule.get("targets", []):
                collection = ESCALATION_TARGET_KINDS[target["type"]]
                if collection == "users":
                    if not query.schedule_ids:
                        entries.append(Oncall(policy["id"], level, target["id"], None, None, None, None))
                    continue
                if query.schedule_ids and target["id"] not in query.schedule_ids:
                    continue
                if render_until <= query.since:
                    continue
                for shift in schedule_shifts(renderings, collection, target["id"], query.since, render_until):
                    if instant and not shift.start <= query.since < shift.end:
                        continue
                    end = shift.end if instant else min(shift.end, query.until)
                    entries.append(Oncall(policy["id"], level, shift.user_id, collection, target["id"], shift.start, end))
    if query.user_ids:
        entries = [e for e in entries if e.user_id in query.user_ids]
    if query.earliest:
        first: dict[tuple, Oncall] = {}
        for entry in entries:
            key = (entry.policy_id, entry.level, entry.user_id)
            if key not in first or _start_key(entry) < _start_key(first[key]):
                first[key] = entry
        entries = list(first.values())
    policy_order = {policy_id: n for n, policy_id in enumerate(account.objects["escalation_policies"])}
    entries.sort(key=lambda e: (policy_order[e.policy_id], e.level, _start_key(e), e.user_id))
    return entries


def _start_key(entry: Oncall) -> float:
    return float("-inf") if entry.start is None else entry.start.timestamp()


def schedule_shifts(renderings: ScheduleRenderings, collection: str, schedule_id: str, since: datetime, until: datetime) -> list[Shift]:
    """The people on call on a v2 or v3 schedule, back-to-back shifts of one person joined."""
    if collection == "schedules":
        return renderings.v2(schedule_id, since, until).final
    rendered = renderings.v3(schedule_id, since, until)
    return join_adjacent([a.shift for a in rendered.assignments if a.shift.user_id is not None])
