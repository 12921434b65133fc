"""Ownership facts: the ``service`` and ``team`` tables.

Owns who owns each service (its teams, its escalation policy's teams, whether
that policy is shared across teams, whether level 1 pages the owners), what the
service says about itself (description, links, name), what it promises (its
urgency rule and support hours, held against level-1 and level-2 coverage over
the window, with the gaps summarised for people in a zone they read), its hygiene
(integrations, add-ons, timeouts, status) and its place in the dependency map
(including cycles); and, per team, its staffing, services, time-zone spread and
night load.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from audit.errors import SnapshotError
from audit.facts.columns import frame
from audit.facts.coverage import Promise, promise_window
from audit.facts.escalation import ResolvedPolicy, Teams, deleted_targets_note, promise_coverage
from audit.facts.gap_text import gap_summary
from audit.facts.intervals import IntervalSet
from audit.facts.person_load import time_zone_spread_hours
from audit.facts.raw import as_list, as_minutes, as_text, base_type, ref_id, ref_ids
from audit.facts.schedules import HOUR, ScheduleRendering, zone_or_utc

URL_PATTERN = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)
ACRONYM_PATTERN = re.compile(r"^(?=.*[A-Z])[A-Z0-9]{2,6}$")
PAGERDUTY_OR_ALERT_PATTERN = re.compile(r"pager\s*duty|\balert(s|ing)?\b", re.IGNORECASE)
# OWN-07's default word list; a rule pack can add its own with name.str.contains.
MONITORING_TOOLS = (
    "datadog", "nagios", "prometheus", "new relic", "newrelic", "cloudwatch", "zabbix", "grafana", "splunk",
    "sentry", "pingdom", "dynatrace", "appdynamics", "icinga", "alertmanager", "sumo logic", "stackdriver",
)
MONITORING_PATTERN = re.compile(r"\b(" + "|".join(re.escape(t) for t in MONITORING_TOOLS) + r")\b", re.IGNORECASE)
DEFAULT_SERVICE_NAME = "default service"
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HIGH_ALWAYS, SUPPORT_HOURS, LOW_ONLY = "high_always", "support_hours", "low_only"
DISABLED, MAINTENANCE = "disabled", "maintenance"


@dataclass(frozen=True)
class Account:
    """What the service and team tables read besides the services themselves."""

    teams: Mapping[str, Mapping[str, Any]]
    team_roles: Teams
    users: Mapping[str, Mapping[str, Any]]
    policies: Mapping[str, ResolvedPolicy]
    schedules: Mapping[str, ScheduleRendering]
    schedule_team_ids: Mapping[str, Sequence[str]]
    dependencies: Sequence[Mapping[str, Any]]
    extension_counts: Mapping[str, int]  # service id -> extensions whose extension_objects name it
    standards: Mapping[str, tuple[int, int]]  # service id -> PagerDuty standards (passing, total), where crawled
    window: IntervalSet
    since: datetime
    until: datetime


# --- services ----------------------------------------------------------------------


def service_table(
    services: Mapping[str, Mapping[str, Any]], account: Account, tiers: Mapping[str, int]
) -> pd.DataFrame:
    """One row per service (see ``columns.SERVICE``)."""
    team_ids_by_service = {sid: ref_ids(s.get("teams")) for sid, s in services.items()}
    policy_by_service = {sid: ref_id(s.get("escalation_policy")) for sid, s in services.items()}
    teams_by_policy: dict[str, set[frozenset[str]]] = {}
    for sid, policy_id in policy_by_service.items():
        if policy_id:
            teams_by_policy.setdefault(policy_id, set()).add(frozenset(team_ids_by_service[sid]))
    services_by_policy: dict[str, list[str]] = {}
    for sid, policy_id in policy_by_service.items():
        if policy_id:
            services_by_policy.setdefault(policy_id, []).append(sid)
    team_sets = {sid: frozenset(team_ids) for sid, team_ids in team_ids_by_service.items()}
    members_by_teams: dict[tuple[str, ...], set[str]] = {}  # services of the same teams share their members
    graph = _dependency_graph(account.dependencies)
    cycles = _cycle_members(graph.depends_on)
    promise_cache: dict[tuple[str | None, str], tuple[Any, Any]] = {}
    summary_cache: dict[tuple[tuple[str | None, str], str], str] = {}
    coverage_by_promise: dict[IntervalSet, dict[Any, Any]] = {}  # services of the same support hours share levels
    rows = []
    for service_id, service in services.items():
        team_ids = team_ids_by_service[service_id]
        policy_id = policy_by_service[service_id]
        policy = account.policies.get(policy_id) if policy_id else None
        tier = tiers.get(service_id)
        urgency, support_hours = _urgency_promise(service)
        promise = _coverage_promise(urgency, tier)
        key = (policy_id, promise if promise != Promise.SUPPORT_HOURS else json.dumps(support_hours, sort_keys=True))
        zone = _gap_zone(support_hours, policy, account.schedules)
        if key not in promise_cache:
            promised = _promised_time(account.window, promise, support_hours, service_id)
            promise_cache[key] = promise_coverage(policy, promised, account.window, coverage_by_promise)
        l1, l2 = promise_cache[key]
        if (key, zone) not in summary_cache:
            of = "the support hours" if promise == Promise.SUPPORT_HOURS else ""
            summary_cache[(key, zone)] = gap_summary(l1, zone, account.window, of)
        other_team_services = [
            other for other in services_by_policy.get(policy_id or "", ()) if team_sets[other] != team_sets[service_id]
        ]
        policy_teams = list(policy.team_ids) if policy else []
        l1_people = sorted(policy.levels[0].members) if policy and policy.levels else []
        team_key = tuple(team_ids)
        if team_key not in members_by_teams:
            members_by_teams[team_key] = {u for t in team_ids for u in account.team_roles.roles.get(t, {})}
        team_members = members_by_teams[team_key]
        name = as_text(service.get("name"))
        description = as_text(service.get("description")).strip()
        standards = account.standards.get(service_id)
        name_flags = _name_flags(name)
        status = as_text(service.get("status")) or "active"
        rows.append({
            "id": service_id,
            "name": name or service_id,
            "html_url": as_text(service.get("html_url")) or None,
            "status": status,
            "is_disabled": status == DISABLED,
            "in_maintenance": status == MAINTENANCE,
            "team_ids": team_ids,
            "team_names": [_team_name(t, service, account.teams) for t in team_ids],
            "team_count": len(team_ids),
            "escalation_policy_id": policy_id,
            "policy_exists": policy is not None,
            "policy_team_ids": policy_teams,
            "policy_in_service_team": bool(policy_teams) and set(policy_teams) <= set(team_ids),
            "policy_shared_with_other_teams": bool(other_team_services),
            "policy_other_team_service_ids": other_team_services,
            "level_count": len(policy.levels) if policy else 0,
            "l1_user_ids": l1_people,
            "l1_deleted_targets_note": deleted_targets_note(policy.levels[:1]) if policy else "",
            "l1_team_member_pct": (
                100.0 * len(team_members.intersection(l1_people)) / len(l1_people) if l1_people else math.nan
            ),
            "description": description,
            "description_length": len(description),
            "description_repeats_name": _normalised(description) in ("", _normalised(name)),
            "description_links": len(URL_PATTERN.findall(description)),
            **name_flags,
            "standards_passing": float(standards[0]) if standards else math.nan,
            "standards_total": float(standards[1]) if standards else math.nan,
            "tier": float(tier) if isinstance(tier, (int, float)) and not isinstance(tier, bool) else math.nan,
            "urgency_promise": urgency,
            "support_hours": _describe_support_hours(support_hours) if urgency == SUPPORT_HOURS else None,
            "coverage_promise": str(promise),
            "l1_promise_coverage_pct": l1.pct,
            "l1_promise_gaps": l1.gaps_iso(),
            "l1_promise_gap_hours": l1.gap_seconds / HOUR,
            "l1_promise_gap_summary": summary_cache[(key, zone)],
            "l2_promise_coverage_pct": l2.pct,
            "l2_promise_gaps": l2.gaps_iso(),
            "integration_count": len(as_list(service.get("integrations"))),
            "addon_count": len(as_list(service.get("addons"))) + account.extension_counts.get(service_id, 0),
            "ack_timeout_minutes": _timeout(service.get("acknowledgement_timeout"), 60),
            "auto_resolve_hours": _timeout(service.get("auto_resolve_timeout"), 3600),
            "dependency_count": len(graph.depends_on.get(service_id, ())),
            "dependent_count": len(graph.dependents.get(service_id, ())),
            "business_service_count": len(graph.business_services.get(service_id, ())),
            "declares_dependencies": service_id in graph.mentioned,
            "in_dependency_cycle": service_id in cycles,
            "dependency_cycle": sorted(cycles.get(service_id, ())),
        })
    return frame("service", rows)


def _team_name(team_id: str, service: Mapping[str, Any], teams: Mapping[str, Mapping[str, Any]]) -> str:
    if team_id in teams:
        return as_text(teams[team_id].get("name")) or team_id
    summary = next((as_text(r.get("summary")) for r in as_list(service.get("teams")) if ref_id(r) == team_id), "")
    return summary or team_id


def _normalised(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _name_flags(name: str) -> dict[str, Any]:
    stripped = name.strip()
    acronym = bool(ACRONYM_PATTERN.match(stripped))
    pagerduty_or_alert = bool(PAGERDUTY_OR_ALERT_PATTERN.search(stripped))
    tool = MONITORING_PATTERN.search(stripped)
    default = " ".join(stripped.casefold().split()) == DEFAULT_SERVICE_NAME
    problems = [
        phrase
        for flagged, phrase in (
            (acronym, "is a bare acronym"),
            (pagerduty_or_alert, "names PagerDuty or an alert"),
            (tool is not None, f"names the monitoring tool {tool.group(0)!r}" if tool else ""),
            (default, "is PagerDuty's 'Default Service'"),
        )
        if flagged
    ]
    return {
        "name_is_acronym": acronym,
        "name_mentions_pagerduty_or_alert": pagerduty_or_alert,
        "name_monitoring_tool": tool.group(0).casefold() if tool else "",
        "name_is_default": default,
        "name_problems": problems,
    }


def _urgency_promise(service: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    """high_always / support_hours / low_only, and the support hours when they matter."""
    rule = service.get("incident_urgency_rule")
    if not isinstance(rule, dict):
        return HIGH_ALWAYS, None  # PagerDuty's default: every incident is high urgency
    if rule.get("type") != "use_support_hours":
        return (LOW_ONLY, None) if rule.get("urgency") == "low" else (HIGH_ALWAYS, None)
    during = _pages_high(rule.get("during_support_hours"))
    outside = _pages_high(rule.get("outside_support_hours"))
    support_hours = service.get("support_hours") if isinstance(service.get("support_hours"), dict) else None
    if outside or (during and support_hours is None):
        return HIGH_ALWAYS, None
    return (SUPPORT_HOURS, support_hours) if during else (LOW_ONLY, None)


def _pages_high(urgency: Any) -> bool:
    # "severity_based" can page at high urgency, so it promises an answer like "high".
    return not isinstance(urgency, dict) or urgency.get("urgency") != "low"


def _coverage_promise(urgency: str, tier: Any) -> Promise:
    if urgency == HIGH_ALWAYS or tier == 1:
        return Promise.ALWAYS
    return Promise.SUPPORT_HOURS if urgency == SUPPORT_HOURS else Promise.NONE


def _promised_time(
    window: IntervalSet, promise: Promise, support_hours: Mapping[str, Any] | None, service_id: str
) -> IntervalSet:
    try:
        return promise_window(window, promise, support_hours)
    except SnapshotError as error:
        raise SnapshotError(f"service {service_id}: {error}") from None


def _gap_zone(
    support_hours: Mapping[str, Any] | None, policy: ResolvedPolicy | None, schedules: Mapping[str, ScheduleRendering]
) -> str:
    """The zone a service's gaps are told in: its support hours', else its policy's first schedule's, else UTC."""
    if support_hours and isinstance(support_hours.get("time_zone"), str):
        return zone_or_utc(support_hours["time_zone"])
    for level in policy.levels if policy else ():
        for schedule_id in level.schedule_ids:
            if schedule_id in schedules:
                return schedules[schedule_id].time_zone
    return "UTC"


def _describe_support_hours(support_hours: Mapping[str, Any] | None) -> str | None:
    if not support_hours:
        return None
    days = sorted(d for d in as_list(support_hours.get("days_of_week")) if isinstance(d, int) and 1 <= d <= 7)
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
        day_text = f"{DAY_NAMES[days[0] - 1]}-{DAY_NAMES[days[-1] - 1]}"
    else:
        day_text = ",".join(DAY_NAMES[d - 1] for d in days) or "no days"
    start, end = as_text(support_hours.get("start_time"))[:5], as_text(support_hours.get("end_time"))[:5]
    return f"{day_text} {start}-{end} {as_text(support_hours.get('time_zone'))}".strip()


def _timeout(seconds: Any, unit: int) -> float:
    value = as_minutes(seconds)  # same validation: a non-negative number, else NaN
    return math.nan if math.isnan(value) or value == 0 else value / unit


# --- dependencies ------------------------------------------------------------------


@dataclass(frozen=True)
class DependencyGraph:
    depends_on: Mapping[str, set[str]]  # technical service -> technical services it depends on
    dependents: Mapping[str, set[str]]
    business_services: Mapping[str, set[str]]  # technical service -> business services it supports
    mentioned: frozenset[str]


def _dependency_graph(relationships: Iterable[Mapping[str, Any]]) -> DependencyGraph:
    depends_on: dict[str, set[str]] = {}
    dependents: dict[str, set[str]] = {}
    business: dict[str, set[str]] = {}
    mentioned: set[str] = set()
    for relationship in relationships:
        if not isinstance(relationship, dict):
            continue
        supporting, dependent = relationship.get("supporting_service"), relationship.get("dependent_service")
        supporting_id, dependent_id = ref_id(supporting), ref_id(dependent)
        if supporting_id is None or dependent_id is None:
            continue
        mentioned.update((supporting_id, dependent_id))
        if isinstance(dependent, dict) and "business" in base_type(dependent.get("type")):
            business.setdefault(supporting_id, set()).add(dependent_id)
        else:
            depends_on.setdefault(dependent_id, set()).add(supporting_id)
            dependents.setdefault(supporting_id, set()).add(dependent_id)
    return DependencyGraph(depends_on, dependents, business, frozenset(mentioned))


def _cycle_members(edges: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    """Each node on a cycle -> its strongly connected component (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    members: dict[str, frozenset[str]] = {}
    counter = 0
    for root in list(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    for member in component:
                        members[member] = frozenset(component)
    return members


# --- teams -------------------------------------------------------------------------


def team_table(
    account: Account, team_ids_by_service: Mapping[str, Sequence[str]], user_table: pd.DataFrame
) -> pd.DataFrame:
    """One row per team (see ``columns.TEAM``)."""
    services_by_team: dict[str, list[str]] = {}
    for service_id, team_ids in team_ids_by_service.items():
        for team_id in team_ids:
            services_by_team.setdefault(team_id, []).append(service_id)
    schedules_by_team: dict[str, list[str]] = {}
    for schedule_id, team_ids in account.schedule_team_ids.items():
        for team_id in team_ids:
            schedules_by_team.setdefault(team_id, []).append(schedule_id)
    zones = user_table["time_zone"].to_dict() if len(user_table) else {}
    on_call_hours = user_table["on_call_hours"].to_dict() if len(user_table) else {}
    night_share = user_table["night_share_pct"].to_dict() if len(user_table) else {}
    moments = [account.since, account.until]
    rows = []
    for team_id, team in account.teams.items():
        roles = account.team_roles.roles.get(team_id, {})
        members = list(roles)
        schedules = schedules_by_team.get(team_id, [])
        nights = {u: night_share[u] for u in members if on_call_hours.get(u, 0) > 0}
        rows.append({
            "id": team_id,
            "name": as_text(team.get("name")) or team_id,
            "html_url": as_text(team.get("html_url")) or None,
            "member_ids": members,
            "member_count": len(members),
            "manager_ids": [u for u, role in roles.items() if role == "manager"],
            "manager_count": sum(1 for role in roles.values() if role == "manager"),
            "responder_count": sum(1 for role in roles.values() if role == "responder"),
            "observer_count": sum(1 for role in roles.values() if role == "observer"),
            "service_ids": services_by_team.get(team_id, []),
            "service_count": len(services_by_team.get(team_id, [])),
            "schedule_ids": schedules,
            "has_shadow_schedule": any(
                "shadow" in account.schedules[s].name.lower() for s in schedules if s in account.schedules
            ),
            "time_zone_spread_hours": time_zone_spread_hours([zones[u] for u in members if u in zones], moments),
            "night_share_by_member": nights,
            "max_night_share_pct": max(nights.values(), default=0.0),
        })
    return frame("team", rows)

