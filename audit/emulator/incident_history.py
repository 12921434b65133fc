"""A seeded incident history for an emulated account, consistent with its schedules and policies.

An account file may carry ``incident_history`` (format in ``examples/README.md``): a seed, a
period and behaviour knobs, as defaults and per service. :func:`generate_history` turns it into
incidents: each fires on a live service at a seeded moment, pages whoever the service's policy
had on call at level 1 then (the emulator's own /oncalls), and, as the knobs say, is
acknowledged by them, times out to level 2, is taken by another team, is reassigned, or
resolves itself. Each incident is kept twice, as PagerDuty would serve it: an Analytics API raw
incident (``analytics``) and the REST incident with its log entries (``incident``,
``log_entries``), so a crawler reading either source must compute the same facts.

Interruptions follow PagerDuty's analytics definitions, in the notified user's zone: business
hours 08:00-18:00 on weekdays, sleep hours 22:00-08:00, off hours the rest; only high-urgency
notifications interrupt.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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


@dataclass(frozen=True)
class Incident:
    """One generated incident in both of PagerDuty's shapes."""

    created_at: datetime
    analytics: dict
    incident: dict
    log_entries: tuple[dict, ...]


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

    def holders(self, policy_id: str, level: int, moment: datetime) -> list[str]:
        return sorted({
            e.user_id for e in self.entries.get((policy_id, level), [])
            if e.start is None or e.start <= moment < e.end
        })


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
        self.entry_numbers = itertools.count(1)

    def user_zone(self, user_id: str) -> str:
        return (self.account.get("users", user_id) or {}).get("time_zone") or "UTC"

    def ref(self, kind: str, object_id: str, name: str | None = None) -> dict:
        ref = {"id": object_id, "type": f"{kind}_reference"}
        if name is not None:
            ref["summary"] = name
        return ref

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
        generated.sort(key=lambda incident: (incident.created_at, incident.analytics["id"]))
        for number, incident in enumerate(generated, start=1):
            incident.analytics["incident_number"] = incident.incident["incident_number"] = number
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
        entries: list[dict] = []
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
                entries.append(self.entry("escalate", incident_id, escalated_at, None, [acker], channel="timeout"))
                ack_at = escalated_at + answer
            elif draw() < knobs["reassign_share"]:
                colleagues = [u for u in self.oncall.holders(policy["id"], 2, created) if u != responder]
                if colleagues:
                    reassignments = 1
                    acker = self.random.choice(colleagues)
                    reassigned_at = created + answer / 2
                    assigned.append(acker)
                    notified.append((reassigned_at, acker))
                    entries.append(self.entry("assign", incident_id, reassigned_at, responder, [acker], channel="web"))
            team = knobs["acked_by_team"]
            if team and draw() >= knobs["owner_ack_share"]:
                members = [m["user_id"] for m in self.account.memberships_by_team.get(team, [])]
                if members:
                    acker = self.random.choice(members)
            entries.append(self.entry("acknowledge", incident_id, ack_at, acker, [], channel="mobile"))
            resolved = ack_at + timedelta(seconds=300 + self.random.randrange(5400))
        kinds = {"sleep": 0, "off": 0, "business": 0}
        if urgency == "high":
            for moment, user in notified:
                kinds[_interruption_kind(moment, self.user_zone(user))] += 1
        entries = [
            self.entry("trigger", incident_id, created, None, [], channel="api"),
            self.entry("assign", incident_id, created, None, [responder], channel="auto"),
            *(self.entry("notify", incident_id, moment, None, [user], channel="notification") for moment, user in notified),
            *entries,
            self.entry("resolve", incident_id, resolved, None if auto else acker, [], channel="api" if auto else "mobile"),
        ]
        team_ids = [t["id"] for t in service.get("teams", [])]
        team = self.account.get("teams", team_ids[0]) if team_ids else None
        analytics = {
            "id": incident_id, "incident_number": 0, "description": f"{service['name']}: alert", "status": "resolved",
            "service_id": service["id"], "service_name": service["name"],
            "team_id": team["id"] if team else None, "team_name": team["name"] if team else None,
            "escalation_policy_id": policy["id"], "escalation_policy_name": policy["name"],
            "urgency": urgency, "created_at": created.strftime("%Y-%m-%dT%H:%M:%S"),
            "resolved_at": resolved.strftime("%Y-%m-%dT%H:%M:%S"),
            "seconds_to_first_ack": None if ack_at is None else int((ack_at - created).total_seconds()),
            "seconds_to_resolve": int((resolved - created).total_seconds()),
            "acknowledged_user_ids": [acker] if acker else [], "assigned_user_ids": list(dict.fromkeys(assigned)),
            "resolved_by_user_id": None if auto else acker,
            "escalation_count": timeouts, "timeout_escalation_count": timeouts, "manual_escalation_count": 0,
            "reassignment_count": reassignments, "auto_resolved": auto,
            "sleep_hour_interruptions": kinds["sleep"], "off_hour_interruptions": kinds["off"],
            "business_hour_interruptions": kinds["business"], "total_notifications": len(notified),
            "major": False, "priority_id": None, "priority_name": None,
        }
        rest = {
            "id": incident_id, "type": "incident", "incident_number": 0, "title": analytics["description"],
            "status": "resolved", "urgency": urgency, "created_at": _iso(created),
            "last_status_change_at": _iso(resolved), "resolved_at": _iso(resolved),
            "service": self.ref("service", service["id"], service["name"]),
            "escalation_policy": self.ref("escalation_policy", policy["id"], policy["name"]),
            "teams": [self.ref("team", t) for t in team_ids], "assignments": [],
            "html_url": f"https://{self.account.subdomain}.pagerduty.com/incidents/{incident_id}",
        }
        for entry in entries:
            entry["incident"] = self.ref("incident", incident_id)
            entry["service"] = self.ref("service", service["id"])
        return Incident(created, analytics, rest, tuple(entries))

    def entry(self, kind: str, incident_id: str, moment: datetime, agent: str | None, users: Sequence[str],
              *, channel: str) -> dict:
        entry = {
            "id": f"R{next(self.entry_numbers):07d}",
            "type": f"{kind}_log_entry", "created_at": _iso(moment), "channel": {"type": channel},
            "agent": self.ref("user", agent) if agent else {"type": "service_reference"},
        }
        if kind in ("assign", "escalate"):
            entry["assignees"] = [self.ref("user", u) for u in users]
        if kind == "notify":
            entry["user"] = self.ref("user", users[0])
        return entry


def generate_history(account: Account, spec: HistorySpec) -> list[Incident]:
    """Every incident of the spec's period, oldest first, numbered from 1 (seeded: same spec, same history)."""
    return _Generator(account, spec).incidents()
