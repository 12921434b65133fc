"""A seeded incident history for an emulated account, consistent with its schedules and policies.

An account file may carry ``incident_history`` (format in ``examples/README.md``): a seed, a
period and behaviour knobs, as defaults and per service. :func:`generate_history` turns it into
incidents: each fires on a live service at a seeded moment, pages whoever the service's policy
had on call at level 1 then (the emulator's own /oncalls), and, as the knobs say, is
acknowledged by them, times out to level 2, is taken by another team, is reassigned, or
resolves itself. Each incident is kept once, compactly, and served in both of PagerDuty's shapes,
rendered when asked for: an Analytics API raw incident (``analytics``) and the REST incident with
its log entries (``incident``, ``log_entries``), so a crawler reading either source must compute
the same facts. A large account's 200,000 incidents take seconds and a few hundred bytes each:
who holds a level at a moment is found by bisection in the level's on-call segments.

Interruptions follow PagerDuty's analytics definitions, in the notified user's zone: business
hours 08:00-18:00 on weekdays, sleep hours 22:00-08:00, off hours the rest; only high-urgency
notifications interrupt.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from audit.emulator.account import Account
from audit.emulator.oncalls import HORIZON, OncallQuery, compute_oncalls
from audit.emulator.rendering import ScheduleRenderings
from audit.emulator.timeutil import parse_datetime, zone

KNOBS = {
    "incidents_per_week": 2.0,  # mean incidents a week on the service
    "night_share": 0.15,  # share created 23:00-06:00 in the policy's first schedule's zone
    "owner_ack_share": 1.0,  # share acknowledged by who was paged; the rest by ``acked_by_team``
    "acked_by_team": None,  # team whose members take the rest
    "timeout_share": 0.03,  # share of paged incidents level 1 lets time out to level 2
    "auto_resolve_share": 0.05,  # share the monitoring tool resolves before anyone acknowledges
    "reassign_share": 0.02,  # share reassigned by the first responder to a colleague on the rota
    "ack_median_seconds": 120.0,  # typical time to acknowledge when level 1 answers
}
SLEEP_HOURS = (22, 8)
BUSINESS_HOURS = (8, 18)


@dataclass(frozen=True)
class HistorySpec:
    seed: int
    since: datetime
    until: datetime
    defaults: Mapping[str, object] = field(default_factory=dict)
    services: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def knobs(self, service_id: str) -> dict:
        return {**KNOBS, **self.defaults, **self.services.get(service_id, {})}


def read_spec(raw: object) -> HistorySpec | None:
    """The account file's ``incident_history``; ValueError naming what is wrong."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("incident_history must be an object")
    unknown = {k for part in [raw.get("defaults", {}), *raw.get("services", {}).values()] for k in part} - KNOBS.keys()
    if unknown:
        raise ValueError(f"incident_history: unknown knobs {sorted(unknown)}")
    since, until = parse_datetime(raw["since"]), parse_datetime(raw["until"])
    if until <= since:
        raise ValueError("incident_history: until must be after since")
    return HistorySpec(int(raw.get("seed", 0)), since, until, raw.get("defaults", {}), raw.get("services", {}))


class _Event(NamedTuple):
    """One log entry of an incident, as generated: what, when, by whom, for whom, through what."""

    kind: str
    moment: datetime
    agent: str | None
    users: tuple[str, ...]
    channel: str


@dataclass(slots=True)
class Incident:
    """One generated incident, kept compact: PagerDuty's shapes are rendered when served.

    ``analytics`` (the Analytics API raw record), ``incident`` (the REST object) and
    ``log_entries`` are built on each read from these fields, so a 200,000-incident history
    costs a few hundred bytes an incident rather than a dozen dicts.
    """

    created_at: datetime
    id: str
    service: dict
    policy: dict
    team: dict | None
    subdomain: str
    urgency: str
    resolved: datetime
    ack_at: datetime | None
    acker: str | None
    assigned: tuple[str, ...]
    notified: tuple[tuple[datetime, str], ...]
    timeouts: int
    reassignments: int
    auto: bool
    interruptions: tuple[int, int, int]  # sleep, off, business
    events: tuple[_Event, ...]  # every log entry, oldest first as generated
    first_entry: int  # the number of the first log entry generated for it (ids R0000001...)
    number: int = 0  # incident_number, set once the history is sorted

    @property
    def team_ids(self) -> list[str]:
        return [t["id"] for t in self.service.get("teams", [])]

    @property
    def analytics(self) -> dict:
        created, resolved, ack_at = self.created_at, self.resolved, self.ack_at
        sleep, off, business = self.interruptions
        service, policy, team = self.service, self.policy, self.team
        return {
            "id": self.id, "incident_number": self.number, "description": f"{service['name']}: alert",
            "status": "resolved", "service_id": service["id"], "service_name": service["name"],
            "team_id": team["id"] if team else None, "team_name": team["name"] if team else None,
            "escalation_policy_id": policy["id"], "escalation_policy_name": policy["name"],
            "urgency": self.urgency, "created_at": created.strftime("%Y-%m-%dT%H:%M:%S"),
            "resolved_at": resolved.strftime("%Y-%m-%dT%H:%M:%S"),
            "seconds_to_first_ack": None if ack_at is None else int((ack_at - created).total_seconds()),
            "seconds_to_resolve": int((resolved - created).total_seconds()),
            "acknowledged_user_ids": [self.acker] if self.acker else [], "assigned_user_ids": list(self.assigned),
            "resolved_by_user_id": None if self.auto else self.acker,
            "escalation_count": self.timeouts, "timeout_escalation_count": self.timeouts,
            "manual_escalation_count": 0, "reassignment_count": self.reassignments, "auto_resolved": self.auto,
            "sleep_hour_interruptions": sleep, "off_hour_interruptions": off,
            "business_hour_interruptions": business, "total_notifications": len(self.notified),
            "major": False, "priority_id": None, "priority_name": None,
        }

    @property
    def incident(self) -> dict:
        service, policy = self.service, self.policy
        return {
            "id": self.id, "type": "incident", "incident_number": self.number, "title": f"{service['name']}: alert",
            "status": "resolved", "urgency": self.urgency, "created_at": _iso(self.created_at),
            "last_status_change_at": _iso(self.resolved), "resolved_at": _iso(self.resolved),
            "service": _ref("service", service["id"], service["name"]),
            "escalation_policy": _ref("escalation_policy", policy["id"], policy["name"]),
            "teams": [_ref("team", t) for t in self.team_ids], "assignments": [],
            "html_url": f"https://{self.subdomain}.pagerduty.com/incidents/{self.id}",
        }

    @property
    def log_entries(self) -> tuple[dict, ...]:
        return tuple(self.log_entry(position) for position in range(len(self.events)))

    def log_entry(self, position: int) -> dict:
        """The ``position``-th log entry (oldest first as generated)."""
        event = self.events[position]
        entry = {
            "id": f"R{self.entry_number(position):07d}",
            "type": f"{event.kind}_log_entry", "created_at": _iso(event.moment), "channel": {"type": event.channel},
            "agent": _ref("user", event.agent) if event.agent else {"type": "service_reference"},
        }
        if event.kind in ("assign", "escalate"):
            entry["assignees"] = [_ref("user", u) for u in event.users]
        if event.kind == "notify":
            entry["user"] = _ref("user", event.users[0])
        entry["incident"] = _ref("incident", self.id)
        entry["service"] = _ref("service", self.service["id"])
        return entry

    def entry_number(self, position: int) -> int:
        # The generator numbers the escalation, reassignment and acknowledgement entries first
        # (as they happen to it), then trigger, assign, notifications and resolve.
        middle = len(self.events) - 3 - len(self.notified)
        lead = 2 + len(self.notified)  # trigger, assign, notifications precede the middle entries
        if lead <= position < lead + middle:
            return self.first_entry + position - lead
        return self.first_entry + middle + (position if position < lead else position - middle)


def _ref(kind: str, object_id: str, name: str | None = None) -> dict:
    ref = {"id": object_id, "type": f"{kind}_reference"}
    if name is not None:
        ref["summary"] = name
    return ref


class _OnCall:
    """Who holds each level of each policy at a moment, from the emulator's /oncalls."""

    def __init__(self, account: Account, since: datetime, until: datetime):
        renderings = ScheduleRenderings(account)
        self.entries: dict[tuple[str, int], list] = {}
        start = since
        while start < until:  # /oncalls looks at most 90 days ahead of "now"
            end = min(until, start + HORIZON)
            for entry in compute_oncalls(account, renderings, OncallQuery(start, end, start)):
                self.entries.setdefault((entry.policy_id, entry.level), []).append(entry)
            start = end

        self._segments: dict[tuple[str, int], tuple[list[datetime], list[list[str]], list[str]]] = {}

    def holders(self, policy_id: str, level: int, moment: datetime) -> list[str]:
        """Who holds the level at ``moment``, sorted: found by bisection in the level's segments."""
        key = (policy_id, level)
        if key not in self._segments:
            self._segments[key] = self._segment(self.entries.get(key, []))
        bounds, holders, always = self._segments[key]
        at = bisect.bisect_right(bounds, moment) - 1
        return list(holders[at] if at >= 0 else always)

    @staticmethod
    def _segment(entries: list) -> tuple[list[datetime], list[list[str]], list[str]]:
        """The level's time cut where anyone comes or goes: the holders from each cut to the next."""
        always = {e.user_id for e in entries if e.start is None}  # a user targeted directly
        changes = sorted([(e.start, 1, e.user_id) for e in entries if e.start is not None]
                         + [(e.end, -1, e.user_id) for e in entries if e.start is not None])
        holding: collections.Counter[str] = collections.Counter()
        bounds: list[datetime] = []
        holders: list[list[str]] = []
        for cut, group in itertools.groupby(changes, key=lambda change: change[0]):
            for _, step, user_id in group:
                holding[user_id] += step
            bounds.append(cut)
            holders.append(sorted(always | {user_id for user_id, count in holding.items() if count > 0}))
        return bounds, holders, sorted(always)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _interruption_kind(moment: datetime, time_zone: str) -> str:
    local = moment.astimezone(zone(time_zone))
    if local.hour >= SLEEP_HOURS[0] or local.hour < SLEEP_HOURS[1]:
        return "sleep"
    if local.isoweekday() <= 5 and BUSINESS_HOURS[0] <= local.hour < BUSINESS_HOURS[1]:
        return "business"
    return "off"


class _Generator:
    def __init__(self, account: Account, spec: HistorySpec):
        self.account = account
        self.spec = spec
        self.random = random.Random(spec.seed)
        self.oncall = _OnCall(account, spec.since, spec.until)
        self.number = 0
        self.entry_count = 0  # log entries generated so far (their ids are R0000001...)

    def user_zone(self, user_id: str) -> str:
        return (self.account.get("users", user_id) or {}).get("time_zone") or "UTC"

    def policy_zone(self, policy: dict) -> str:
        for rule in policy.get("escalation_rules", []):
            for target in rule.get("targets", []):
                for collection in ("schedules", "schedules_v3"):
                    schedule = self.account.get(collection, target["id"])
                    if schedule is not None:
                        return schedule.get("time_zone") or "UTC"
        return "UTC"

    def moments(self, knobs: dict, time_zone: str) -> list[datetime]:
        weeks = (self.spec.until - self.spec.since).total_seconds() / (7 * 86400)
        count = max(0, round(self.random.gauss(knobs["incidents_per_week"] * weeks, 1.0)))
        local_zone = zone(time_zone)
        days = (self.spec.until - self.spec.since).days
        moments = []
        while len(moments) < count:
            day = self.spec.since + timedelta(days=self.random.randrange(max(days, 1)))
            local_day = day.astimezone(local_zone).replace(hour=0, minute=0, second=0, microsecond=0)
            if self.random.random() < knobs["night_share"]:
                offset = timedelta(hours=23) + timedelta(seconds=self.random.randrange(7 * 3600))
            else:
                offset = timedelta(hours=6) + timedelta(seconds=self.random.randrange(17 * 3600))
            moment = (local_day + offset).astimezone(self.spec.since.tzinfo)
            if self.spec.since <= moment < self.spec.until:
                moments.append(moment)
        return sorted(moments)

    def urgency(self, service: dict, moment: datetime) -> str:
        rule = service.get("incident_urgency_rule") or {"type": "constant", "urgency": "high"}
        if rule.get("type") != "use_support_hours":
            return rule.get("urgency", "high")
        hours = service.get("support_hours") or {}
        local = moment.astimezone(zone(hours.get("time_zone") or "UTC"))
        start = int(str(hours.get("start_time", "09:00:00"))[:2])
        end = int(str(hours.get("end_time", "17:00:00"))[:2])
        inside = local.isoweekday() in (hours.get("days_of_week") or [1, 2, 3, 4, 5]) and start <= local.hour < end
        part = rule.get("during_support_hours" if inside else "outside_support_hours") or {}
        return part.get("urgency", "high")

    def incidents(self) -> list[Incident]:
        generated = []
        for service in self.account.all("services"):
            if service.get("status") == "disabled":
                continue
            policy = self.account.get("escalation_policies", service["escalation_policy"]["id"])
            if policy is None or not policy.get("escalation_rules"):
                continue
            knobs = self.spec.knobs(service["id"])
            for moment in self.moments(knobs, self.policy_zone(policy)):
                incident = self.incident(service, policy, knobs, moment)
                if incident is not None:
                    generated.append(incident)
        generated.sort(key=lambda incident: (incident.created_at, incident.id))
        for number, incident in enumerate(generated, start=1):
            incident.number = number
        return generated

    def incident(self, service: dict, policy: dict, knobs: dict, created: datetime) -> Incident | None:
        draw = self.random.random
        first = self.oncall.holders(policy["id"], 1, created)
        if not first:
            return None  # nobody to page: PagerDuty would leave it unassigned; not generated
        self.number += 1
        incident_id = f"PQ{self.number:05d}"
        urgency = self.urgency(service, created)
        rules = policy["escalation_rules"]
        delay = float(rules[0].get("escalation_delay_in_minutes", 30)) * 60
        responder = self.random.choice(first)
        notified = [(created, responder)]
        assigned = [responder]
        middle: list[_Event] = []
        timeouts = reassignments = 0
        acker: str | None = None
        ack_at: datetime | None = None
        auto = draw() < knobs["auto_resolve_share"]
        if auto:
            resolved = created + timedelta(seconds=60 + self.random.randrange(600))
        else:
            answer = timedelta(seconds=max(15.0, self.random.lognormvariate(0, 0.5) * knobs["ack_median_seconds"]))
            answer = min(answer, timedelta(seconds=delay * 0.9))
            ack_at = created + answer
            acker = responder
            second = self.oncall.holders(policy["id"], 2, created + timedelta(seconds=delay)) if len(rules) > 1 else []
            if second and draw() < knobs["timeout_share"]:
                timeouts = 1
                escalated_at = created + timedelta(seconds=delay)
                acker = self.random.choice(second)
                assigned.append(acker)
                notified.append((escalated_at, acker))
                middle.append(_Event("escalate", escalated_at, None, (acker,), "timeout"))
                ack_at = escalated_at + answer
            elif draw() < knobs["reassign_share"]:
                colleagues = [u for u in self.oncall.holders(policy["id"], 2, created) if u != responder]
                if colleagues:
                    reassignments = 1
                    acker = self.random.choice(colleagues)
                    reassigned_at = created + answer / 2
                    assigned.append(acker)
                    notified.append((reassigned_at, acker))
                    middle.append(_Event("assign", reassigned_at, responder, (acker,), "web"))
            team = knobs["acked_by_team"]
            if team and draw() >= knobs["owner_ack_share"]:
                members = [m["user_id"] for m in self.account.memberships_by_team.get(team, [])]
                if members:
                    acker = self.random.choice(members)
            middle.append(_Event("acknowledge", ack_at, acker, (), "mobile"))
            resolved = ack_at + timedelta(seconds=300 + self.random.randrange(5400))
        kinds = {"sleep": 0, "off": 0, "business": 0}
        if urgency == "high":
            for moment, user in notified:
                kinds[_interruption_kind(moment, self.user_zone(user))] += 1
        events = (
            _Event("trigger", created, None, (), "api"),
            _Event("assign", created, None, (responder,), "auto"),
            *(_Event("notify", moment, None, (user,), "notification") for moment, user in notified),
            *middle,
            _Event("resolve", resolved, None if auto else acker, (), "api" if auto else "mobile"),
        )
        first_entry = self.entry_count + 1
        self.entry_count += len(events)
        team_ids = [t["id"] for t in service.get("teams", [])]
        owner = self.account.get("teams", team_ids[0]) if team_ids else None
        return Incident(
            created_at=created, id=incident_id, service=service, policy=policy, team=owner,
            subdomain=self.account.subdomain, urgency=urgency, resolved=resolved, ack_at=ack_at, acker=acker,
            assigned=tuple(dict.fromkeys(assigned)), notified=tuple(notified), timeouts=timeouts,
            reassignments=reassignments, auto=auto,
            interruptions=(kinds["sleep"], kinds["off"], kinds["business"]), events=events,
            first_entry=first_entry,
        )


def generate_history(account: Account, spec: HistorySpec) -> list[Incident]:
    """Every incident of the spec's period, oldest first, numbered from 1 (seeded: same spec, same history)."""
    return _Generator(account, spec).incidents()
