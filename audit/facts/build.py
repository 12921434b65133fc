"""Build every fact table from a snapshot: the facts stage's entry point.

``build_facts`` reads the snapshot's collections once, resolves schedules,
people, escalation policies, services and teams in dependency order (each
builder lives in its own module) and returns :class:`Facts`: the tables, the
roll-up of every object to the services it affects, the collections the
snapshot could not hold and the window. ``facts_table`` renders one table as
JSON or CSV for ``pd-audit facts``. Nothing here talks to the network.

On a large account with two cores the work is spread over forked children (``audit.facts.forked``),
each started as soon as what it reads exists: the people side is read beside the schedules
(``audit.facts.roster``); the schedule table is built beside resolving the policies; the service
table beside the user, escalation_policy, team and policy_level tables. Only results travel
back (pickled), and a failure is reported as a build one step after the other would meet it first
(``audit.facts.steps``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from audit.errors import UserError
from audit.facts import escalation, incidents, ownership, people, schedules
from audit.facts.collector import collector_paused
from audit.facts.columns import SCHEMA
from audit.facts.forked import Forked, worth_forking
from audit.facts.intervals import IntervalSet
from audit.facts.on_call_time import Reach
from audit.facts.raw import as_text, by_id, parse_window, ref_id, ref_ids
from audit.facts.roster import READ_ORDER, Roster, read_beside, team_ids_by_user
from audit.facts.steps import first_error, step
from audit.findings import RollUp
from audit.safe_csv import safe_cell, spreadsheet_writer
from audit.safe_text import without_surrogates
from audit.snapshot import COLLECTIONS, Snapshot, load

FORMATS = ("json", "csv")
# Service id -> API object, to service id -> declared tier (a config's mapping: audit.assess).
TiersOf = Callable[[Mapping[str, Mapping[str, Any]]], Mapping[str, int]]
# The order a build one step after the other meets the tables in: the failure it reports first.
TABLE_ORDER = (
    "user table", "service table", "team table", "escalation_policy table", "policy_level table", "schedule table",
)


@dataclass(frozen=True)
class Facts:
    """The fact tables of one snapshot and what scoring needs beside them.

    ``service_ids_by_entity[(entity_type, id)]`` lists the services a finding
    on that object affects: a policy's services, the services whose policies
    target a schedule, the services whose policy levels reach a user in the
    window, a team's services.
    """

    tables: dict[str, pd.DataFrame]
    service_ids_by_entity: dict[tuple[str, str], list[str]]
    unavailable: dict[str, str]
    window: tuple[datetime, datetime]
    team_ids_by_service: dict[str, list[str]] = field(default_factory=dict)
    incidents: pd.DataFrame | None = None  # one line per incident; None without incident history

    def rollup(self) -> RollUp:
        """The same roll-up in the shape the rule engine takes."""
        nested: dict[str, dict[str, list[str]]] = {}
        for (entity_type, entity_id), service_ids in self.service_ids_by_entity.items():
            nested.setdefault(entity_type, {})[entity_id] = service_ids
        return RollUp(service_ids=nested, team_ids=self.team_ids_by_service)


@contextmanager
def _timed(timings: MutableMapping[str, float] | None, phase: str) -> Iterator[None]:
    """Add the wall time of the block to ``timings[phase]`` (when timings are wanted)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if timings is not None:
            timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


def build_facts(
    snapshot: Snapshot,
    *,
    tiers: Mapping[str, int] | TiersOf | None = None,
    now: datetime | None = None,
    timings: MutableMapping[str, float] | None = None,
    people_side: Forked[Roster] | None = None,
) -> Facts:
    """Every fact table of ``snapshot``. ``tiers`` maps service id -> tier, or works that out from the
    services (id -> API object) once they are read (while the people side is still being read); ``now`` (default: the
    window's end) decides which layers and rotations have ended. ``timings``, when given, receives
    the seconds each step took (reading, schedules, policies, then one entry per table), which is
    what the scoring benchmark prints. ``people_side``: the people side, if already started
    (``audit.facts.roster.read_beside``); it is read here otherwise."""
    with collector_paused():  # see audit.facts.collector: a fifth of the stage on large accounts
        return _build(snapshot, tiers or {}, now, timings, people_side)


def _build(
    snapshot: Snapshot,
    tiers_given: Mapping[str, int] | TiersOf,
    now: datetime | None,
    timings: MutableMapping[str, float] | None,
    people_side: Forked[Roster] | None,
) -> Facts:
    """:func:`build_facts`' work, each step timed into ``timings``."""
    timed = functools.partial(_timed, timings)
    since, until = parse_window(snapshot.window)
    window = IntervalSet.window(since, until)
    unavailable = {
        name: snapshot.unavailable_reason(name) or f"{name} was unavailable"
        for name in COLLECTIONS
        if not snapshot.available(name)
    }
    readable = frozenset(name for name in COLLECTIONS if snapshot.available(name))

    # Children stopped if this stage fails before it has their results (see Forked.abandon).
    with contextlib.ExitStack() as children:
        # The people side (users, team members, on-calls: most of the snapshot's bytes) is read in a
        # forked child while this process reads and renders the schedules (see audit.facts.roster).
        people_beside = people_side or read_beside(snapshot)
        children.callback(people_beside.abandon)
        with timed("read snapshot"), step("teams"):
            teams = by_id(snapshot.iter("teams"))
        own_error = None
        try:
            with timed("read snapshot"):
                services = _read_by_id(snapshot, "services")
                raw_v2 = _read_by_id(snapshot, "schedules")
                raw_v3 = _read_by_id(snapshot, "schedules_v3")
                with step("service_dependencies"):
                    dependencies = snapshot.collection("service_dependencies")
                with step("extensions"):
                    extension_counts = _extension_counts(snapshot.iter("extensions"))
                with step("standards_scores"):
                    standards = _standards_scores(snapshot.iter("standards_scores"))
                with step("escalation_policies"):
                    policy_records = list(snapshot.iter("escalation_policies"))
            with timed("render schedules"):
                renderings = schedules.render_schedules(raw_v2.values(), raw_v3.values(), window, now or until)
            raw_schedules = {**raw_v2, **raw_v3}
            # The schedule table reads the schedules alone (the policies using each are filled in below):
            # a child builds it while this process waits for the people side and resolves the policies.
            schedule_beside = Forked(
                _tables({"schedule": lambda: schedules.schedule_table(renderings, raw_schedules, window, {})}),
                fork=worth_forking(len(services)),
            )
            children.callback(schedule_beside.abandon)
            with timed("map tiers"):
                tiers = tiers_given(services) if callable(tiers_given) else tiers_given
        except Exception as error:  # the people side may have met a broken collection first: see roster
            own_error = error
        # Forked, the wait is what reading the people side added to the wall time; in line, it is its time.
        with timed("read people"):
            try:
                roster, roster_error = people_beside.result(), None
            except Exception as error:
                roster_error = error
        failure = first_error(READ_ORDER, own_error, roster_error)
        if failure is not None:
            raise failure
        users, contacts = roster.users, roster.contacts
        team_roles = escalation.Teams(roster.team_roles)
        with timed("resolve policies"):
            policies = escalation.resolve_policies(
                policy_records, escalation.Targets(renderings, contacts, readable), window
            )

        account = ownership.Account(
            teams=teams,
            team_roles=team_roles,
            users=users,
            policies=policies,
            schedules=renderings,
            schedule_team_ids={sid: ref_ids(s.get("teams")) for sid, s in raw_schedules.items()},
            dependencies=dependencies,
            extension_counts=extension_counts,
            standards=standards,
            window=window,
            since=since,
            until=until,
        )
        # From here the tables only read what is built above: the service table, the longest, is made in
        # a forked child (a second core) as soon as it can start, while this process makes the others.
        service_beside = Forked(
            _tables({"service": lambda: ownership.service_table(services, account, tiers)}),
            fork=worth_forking(len(services)),
        )
        children.callback(service_beside.abandon)
        team_ids_by_service = {sid: ref_ids(s.get("teams")) for sid, s in services.items()}
        service_ids_by_policy: dict[str, list[str]] = {}
        for service_id, service in services.items():
            policy_id = ref_id(service.get("escalation_policy"))
            if policy_id:
                service_ids_by_policy.setdefault(policy_id, []).append(service_id)
        policy_ids_by_schedule: dict[str, list[str]] = {}
        for policy in policies.values():
            for schedule_id in dict.fromkeys(s for level in policy.levels for s in level.schedule_ids):
                policy_ids_by_schedule.setdefault(schedule_id, []).append(policy.id)
        reach = escalation.reach_by_user(policies.values())
        sole_level1 = people.sole_level1_services(
            {policy.id: policy.levels[0].members for policy in policies.values() if policy.levels},
            service_ids_by_policy,
            (sid for sid, service in services.items() if as_text(service.get("status")) != ownership.DISABLED),
        )
        tables: dict[str, pd.DataFrame] = {}
        errors: list[BaseException] = []
        try:
            with timed("user table"), step("user table"):
                tables["user"] = people.user_table(
                    users, contacts, reach, roster.oncall_user_ids, service_ids_by_policy,
                    team_ids_by_user(roster.team_roles), roster.handoff_rules, window, sole_level1,
                )
            with timed("escalation_policy table"), step("escalation_policy table"):
                tables["escalation_policy"] = escalation.policy_table(
                    policies, service_ids_by_policy, team_ids_by_service, team_roles, window,
                    _policy_tiers(services, service_ids_by_policy, tiers),
                )
            with timed("team table"), step("team table"):
                tables["team"] = ownership.team_table(account, team_ids_by_service, tables["user"])
            with timed("policy_level table"), step("policy_level table"):
                tables["policy_level"] = escalation.level_table(policies)
        except Exception as error:
            errors.append(error)
        # Forked, each wait is what that child's tables added to the wall time; in line, it is their time.
        # The schedule table (long done) is taken first: nothing reads the raw schedules and policies after
        # it, so they are freed while the service table's child is still working, not as this stage
        # returns (freeing them there cost 0.1-0.2 s of this process's time at 12,000 services).
        for waited, beside in (("waiting for the schedule table", schedule_beside),
                               ("waiting for the service table", service_beside)):
            with timed(waited):
                try:
                    built, built_timings = beside.result()
                except Exception as error:
                    errors.append(error)
                    continue
            tables.update(built)
            if timings is not None:
                timings.update(built_timings)
            if beside is schedule_beside:
                del raw_v2, raw_v3, raw_schedules, policy_records
        failure = first_error(TABLE_ORDER, *errors)
        if failure is not None:
            raise failure
    schedules.fill_policy_columns(tables["schedule"], policy_ids_by_schedule)
    incident_lines = None
    if snapshot.available("incidents"):
        with timed("incident facts"):
            incident_lines = _add_incident_columns(snapshot, tables, services, team_roles, policies)
    return Facts(
        tables={name: tables[name] for name in SCHEMA},
        service_ids_by_entity=_rollup(services, service_ids_by_policy, policy_ids_by_schedule, reach,
                                      team_ids_by_service),
        unavailable=unavailable,
        window=(since, until),
        team_ids_by_service=team_ids_by_service,
        incidents=incident_lines,
    )


def _standards_scores(records: Iterator[Any]) -> dict[str, tuple[int, int]]:
    """Service id -> (passing, total) of PagerDuty's own service standards, where crawled."""
    scores = {}
    for record in records:
        score = record.get("score") or {}
        if record.get("resource_id") and isinstance(score.get("total"), int) and score["total"] > 0:
            scores[str(record["resource_id"])] = (int(score.get("passing") or 0), int(score["total"]))
    return scores


def _extension_counts(extensions: Iterator[Any]) -> dict[str, int]:
    """Service id -> how many extensions serve it (an extension names its services in extension_objects)."""
    counts: dict[str, int] = {}
    for extension in extensions:
        if isinstance(extension, dict):
            for service_id in ref_ids(extension.get("extension_objects")):
                counts[service_id] = counts.get(service_id, 0) + 1
    return counts
def _add_incident_columns(
    snapshot: Snapshot,
    tables: dict[str, pd.DataFrame],
    services: Mapping[str, Mapping[str, Any]],
    team_roles: escalation.Teams,
    policies: Mapping[str, escalation.ResolvedPolicy],
) -> pd.DataFrame:
    """Lay the incident-history columns beside the service, policy and user tables (mode A rules).

    Returns the incident lines themselves, which the reports' practice figures read.
    """
    span = snapshot.manifest.get("incidents") or {}
    table = incidents.incident_table(snapshot.iter("incidents"))
    since = pd.Timestamp(span["since"]) if span.get("since") else table["created_at"].min()
    until = pd.Timestamp(span["until"]) if span.get("until") else table["created_at"].max()
    if pd.isna(since) or pd.isna(until):  # no incidents and no window: nothing to measure over
        since = until = pd.Timestamp(0, tz="UTC")
    weeks = (until - since).total_seconds() / incidents.WEEK_SECONDS
    members = {team: set(roles) for team, roles in team_roles.roles.items()}
    delays = {pid: policy.levels[0].delay_minutes for pid, policy in policies.items() if policy.levels}
    extra = {
        "service": incidents.service_columns(table, tables["service"], services, members, delays, weeks),
        "escalation_policy": incidents.policy_columns(table, tables["escalation_policy"], since, until),
        "user": incidents.user_columns(table, tables["user"], weeks),
    }
    days = round((until - since).total_seconds() / 86400)
    for entity, columns in extra.items():
        columns.insert(0, "incidents_window_days", days)
        tables[entity] = pd.concat([tables[entity], columns.astype({"incidents_window_days": "int64"})], axis=1)
    return table


def _policy_tiers(
    services: Mapping[str, Mapping[str, Any]], service_ids_by_policy: Mapping[str, list[str]], tiers: Mapping[str, int]
) -> dict[str, int]:
    """Policy id -> the highest tier (lowest number) of the non-disabled services using it.

    A disabled service pages nobody, so it does not raise its old policy's bar (ESC-02, ESC-07).
    """
    policy_tiers = {}
    for policy_id, service_ids in service_ids_by_policy.items():
        declared = [
            tiers[s] for s in service_ids
            if s in tiers and as_text(services[s].get("status")) != ownership.DISABLED
        ]
        if declared:
            policy_tiers[policy_id] = min(declared)
    return policy_tiers


def _tables(
    builders: Mapping[str, Callable[[], pd.DataFrame]],
) -> Callable[[], tuple[dict[str, pd.DataFrame], dict[str, float]]]:
    """Work that builds each entity's table in turn and times it: what a forked child sends back."""
    def build() -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
        built: dict[str, pd.DataFrame] = {}
        seconds: dict[str, float] = {}
        for entity, make in builders.items():
            with _timed(seconds, f"{entity} table"), step(f"{entity} table"):
                built[entity] = make()
        return built, seconds
    return build


def _read_by_id(snapshot: Snapshot, name: str) -> dict[str, dict[str, Any]]:
    with step(name):
        return by_id(snapshot.iter(name))


def _rollup(
    services: Mapping[str, Any],
    service_ids_by_policy: Mapping[str, list[str]],
    policy_ids_by_schedule: Mapping[str, list[str]],
    reach: Mapping[str, Reach],
    team_ids_by_service: Mapping[str, list[str]],
) -> dict[tuple[str, str], list[str]]:
    rollup: dict[tuple[str, str], list[str]] = {}
    for policy_id, service_ids in service_ids_by_policy.items():
        rollup[("escalation_policy", policy_id)] = sorted(service_ids)
    for schedule_id, policy_ids in policy_ids_by_schedule.items():
        rollup[("schedule", schedule_id)] = sorted({s for p in policy_ids for s in service_ids_by_policy.get(p, ())})
    for user_id, user_reach in reach.items():
        rollup[("user", user_id)] = sorted(
            {s for p in user_reach.policy_ids for s in service_ids_by_policy.get(p, ())}
        )
    for service_id in services:
        for team_id in team_ids_by_service.get(service_id, ()):
            rollup.setdefault(("team", team_id), []).append(service_id)
    return rollup


def facts_table(snapshot_path: str | os.PathLike[str], entity: str, fmt: str) -> str:
    """One fact table of a snapshot as JSON (records) or CSV (lists and dicts as JSON text)."""
    if entity not in SCHEMA:
        raise UserError(f"unknown entity {entity!r}; choose one of {', '.join(SCHEMA)}")
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    table = build_facts(load(snapshot_path)).tables[entity].copy()
    for name in table.columns:
        if pd.api.types.is_object_dtype(table[name]) or pd.api.types.is_string_dtype(table[name]):
            # names may hold lone surrogates, which have no UTF-8 form
            table[name] = [_without_surrogates(value) for value in table[name]]
    if fmt == "json":
        return table.to_json(orient="records", indent=2, force_ascii=False) + "\n"
    for name, column in SCHEMA[entity].items():
        if column.dtype == "object":
            table[name] = [json.dumps(value, ensure_ascii=False) for value in table[name]]
    # The same spreadsheet-safe writer as the findings' CSV: names come from PagerDuty.
    out = io.StringIO()
    writer = spreadsheet_writer(out)
    writer.writerow(table.columns)
    for row in table.itertuples(index=False):
        writer.writerow([safe_cell(_csv_text(value)) for value in row])
    return out.getvalue()


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, (list, tuple)):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_surrogates(item) for key, item in value.items()}
    return value


def _csv_text(value: Any) -> str:
    """A cell as pandas' CSV writes it: missing values empty."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
