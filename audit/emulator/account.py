"""Account files (``pd-audit-account`` v1): load, validate, and index for the emulator.

An account file holds PagerDuty objects in API shape (format in ``examples/README.md``).
Loading checks what the emulator relies on (ids unique per collection, every reference
resolvable but escalation targets, which may name a deleted object or an unknown type as on
PagerDuty, times and time zones readable, recurrences parseable) and fails with one
``UserError`` naming the file, the object and the problem. The ``Account`` it returns is
read-only and indexed (by id, by team, by reference) so every endpoint answers without
scanning a collection; lists are kept in PagerDuty's default order (by name).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any

from dateutil.rrule import rrulestr

from audit.emulator.timeutil import BadTime, parse_datetime, to_wall, zone
from audit.errors import UserError

FORMAT = "pd-audit-account"
FORMAT_VERSION = 1

# Collections holding objects with an "id", in the order they are checked.
ID_COLLECTIONS = (
    "teams", "users", "escalation_policies", "services", "schedules", "schedules_v3", "overrides",
    "business_services", "service_dependencies", "standards", "priorities", "maintenance_windows", "extensions",
)
PLAIN_COLLECTIONS = ("memberships", "standards_scores")
ESCALATION_TARGET_KINDS = {
    "user_reference": "users", "user": "users",
    "schedule_reference": "schedules", "schedule": "schedules",
    "schedule_v3_reference": "schedules_v3",
}
DEPENDENCY_KINDS = {
    "service": "services", "technical_service_reference": "services", "service_reference": "services",
    "business_service": "business_services", "business_service_reference": "business_services",
}
TEAM_SCOPED = ("users", "services", "escalation_policies", "schedules", "schedules_v3")


@dataclass(frozen=True)
class Account:
    """A validated account with the indexes the endpoints need. Treat every part as read-only."""

    source: str
    subdomain: str
    abilities: tuple[str, ...]
    objects: Mapping[str, dict[str, dict]]  # collection -> id -> object, in name order
    memberships_by_team: Mapping[str, list[dict]]
    team_ids_by_user: Mapping[str, list[str]]
    service_ids_by_policy: Mapping[str, list[str]]
    policy_ids_by_schedule: Mapping[str, list[str]]  # v2 and v3 schedule ids alike
    overrides_by_schedule: Mapping[str, list[dict]]
    dependencies_by_service: Mapping[str, list[dict]]
    scores_by_service: Mapping[str, dict]
    ids_by_team: Mapping[str, Mapping[str, list[str]]] = field(repr=False)  # collection -> team -> ids
    # Policy id -> escalation_rules as the file (and PagerDuty) has them, for policies with a
    # target the emulator cannot resolve: a deleted user or schedule, or a target type it does
    # not know. PagerDuty still lists such targets but pages nobody through them, so the
    # policies in ``objects`` keep only resolvable targets (on-calls are computed from those).
    served_rules_by_policy: Mapping[str, list[dict]] = field(default_factory=dict, repr=False)
    # The file's ``incident_history`` as written (audit.emulator.incident_history reads it); None without.
    incident_history: Any = field(default=None, repr=False)

    def escalation_rules_as_served(self, policy: dict) -> list[dict]:
        return self.served_rules_by_policy.get(policy["id"], policy.get("escalation_rules", []))

    def get(self, collection: str, object_id: str) -> dict | None:
        return self.objects[collection].get(object_id)

    def all(self, collection: str) -> list[dict]:
        return list(self.objects[collection].values())

    def team_ids_of(self, collection: str, obj: dict) -> list[str]:
        """The teams an object belongs to (users through memberships; services through their policy if unset)."""
        if collection == "users":
            return self.team_ids_by_user.get(obj["id"], [])
        teams = obj.get("teams")
        if collection == "services" and not teams:
            policy = self.objects["escalation_policies"].get(obj["escalation_policy"]["id"], {})
            teams = policy.get("teams")
        return [team["id"] for team in teams or []]


def load_account(path: str | Path) -> Account:
    """Read and validate the account file at ``path``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: account file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read account file: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    return build_account(data, source=str(path))


def build_account(data: Any, source: str = "<account>") -> Account:
    """Validate an account already parsed from JSON and index it."""
    return _Builder(data, source).build()


class _Builder:
    def __init__(self, data: Any, source: str):
        self.data = data
        self.source = source

    def fail(self, where: str, problem: str) -> UserError:
        return UserError(f"{self.source}: {where}: {problem}")

    # Over the complexity limit (one step per collection of the account file); split it when next changed.
    def build(self) -> Account:  # noqa: C901
        data = self.data
        if not isinstance(data, dict):
            raise self.fail("top level", "an account file must be a JSON object")
        if data.get("format") != FORMAT:
            raise self.fail("format", f"expected {FORMAT!r}, found {data.get('format')!r}")
        if data.get("format_version") != FORMAT_VERSION:
            raise self.fail("format_version", f"this version reads version {FORMAT_VERSION}, found {data.get('format_version')!r}")
        subdomain = data.get("subdomain")
        if not isinstance(subdomain, str) or not subdomain:
            raise self.fail("subdomain", "must be a non-empty string")
        abilities = data.get("abilities", [])
        if not isinstance(abilities, list) or not all(isinstance(a, str) for a in abilities):
            raise self.fail("abilities", "must be a list of ability names")
        objects = {name: self.index_collection(name) for name in ID_COLLECTIONS}
        plain = {name: self.plain_collection(name) for name in PLAIN_COLLECTIONS}
        self.objects = objects
        self.check_references(objects, plain)
        self.check_times(objects)
        served_rules_by_policy = self.drop_dangling_targets(objects["escalation_policies"])

        memberships_by_team: dict[str, list[dict]] = defaultdict(list)
        team_ids_by_user: dict[str, list[str]] = defaultdict(list)
        for membership in plain["memberships"]:
            memberships_by_team[membership["team_id"]].append(membership)
            team_ids_by_user[membership["user_id"]].append(membership["team_id"])
        service_ids_by_policy: dict[str, list[str]] = defaultdict(list)
        for service in objects["services"].values():
            service_ids_by_policy[service["escalation_policy"]["id"]].append(service["id"])
        policy_ids_by_schedule: dict[str, list[str]] = defaultdict(list)
        for policy in objects["escalation_policies"].values():
            for rule in policy.get("escalation_rules", []):
                for target in rule.get("targets", []):
                    if ESCALATION_TARGET_KINDS[target["type"]] != "users" and policy["id"] not in policy_ids_by_schedule[target["id"]]:
                        policy_ids_by_schedule[target["id"]].append(policy["id"])
        overrides_by_schedule: dict[str, list[dict]] = defaultdict(list)
        for override in objects["overrides"].values():
            overrides_by_schedule[override["schedule_id"]].append(override)
        dependencies_by_service: dict[str, list[dict]] = defaultdict(list)
        for dependency in objects["service_dependencies"].values():
            for end in ("supporting_service", "dependent_service"):
                dependencies_by_service[dependency[end]["id"]].append(dependency)

        account = Account(
            source=self.source,
            subdomain=subdomain,
            abilities=tuple(abilities),
            objects=objects,
            memberships_by_team=dict(memberships_by_team),
            team_ids_by_user=dict(team_ids_by_user),
            service_ids_by_policy=dict(service_ids_by_policy),
            policy_ids_by_schedule=dict(policy_ids_by_schedule),
            overrides_by_schedule=dict(overrides_by_schedule),
            dependencies_by_service=dict(dependencies_by_service),
            scores_by_service={score["resource_id"]: score for score in plain["standards_scores"]},
            ids_by_team={},  # filled below: team membership of services goes through account lookups
            served_rules_by_policy=served_rules_by_policy,
            incident_history=data.get("incident_history"),
        )
        ids_by_team: dict[str, dict[str, list[str]]] = {}
        for collection in TEAM_SCOPED:
            by_team: dict[str, list[str]] = defaultdict(list)
            for obj in objects[collection].values():
                for team_id in account.team_ids_of(collection, obj):
                    by_team[team_id].append(obj["id"])
            ids_by_team[collection] = dict(by_team)
        return replace(account, ids_by_team=ids_by_team)

    def drop_dangling_targets(self, policies: dict[str, dict]) -> dict[str, list[dict]]:
        """Keep only resolvable targets in ``policies`` (in place); return the full rules of those changed."""
        served: dict[str, list[dict]] = {}
        for policy_id, policy in policies.items():
            rules = policy["escalation_rules"]
            resolvable = [{**rule, "targets": [t for t in rule.get("targets", []) if self.resolvable(t)]} for rule in rules]
            if resolvable != rules:
                served[policy_id] = rules
                policies[policy_id] = {**policy, "escalation_rules": resolvable}
        return served

    def resolvable(self, target: dict) -> bool:
        kind = ESCALATION_TARGET_KINDS.get(target["type"])
        return kind is not None and target["id"] in self.objects[kind]

    def items(self, name: str) -> list:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            raise self.fail(name, "must be a list")
        for position, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{name}[{position}]", "must be a JSON object")
        return value

    def index_collection(self, name: str) -> dict[str, dict]:
        by_id: dict[str, dict] = {}
        for position, item in enumerate(self.items(name)):
            object_id = item.get("id")
            if not isinstance(object_id, str) or not object_id:
                raise self.fail(f"{name}[{position}]", "has no string 'id'")
            if object_id in by_id:
                raise self.fail(f"{name}[{position}]", f"duplicate id {object_id}")
            by_id[object_id] = item
        if name in ("overrides", "service_dependencies"):
            return by_id  # no names: keep file order (it decides which override wins)
        return dict(sorted(by_id.items(), key=lambda kv: (str(kv[1].get("name", kv[1].get("label", ""))).casefold(), kv[0])))

    def plain_collection(self, name: str) -> list[dict]:
        return self.items(name)

    def ref(self, where: str, reference: Any, collection: str) -> None:
        if not isinstance(reference, dict) or not isinstance(reference.get("id"), str):
            raise self.fail(where, f"expected a reference object with an 'id', found {reference!r}")
        if reference["id"] not in self.objects[collection]:
            raise self.fail(where, f"refers to {collection} {reference['id']}, which is not in the account")

    # Over the complexity limit (one check per kind of reference); split it when next changed.
    def check_references(  # noqa: C901
        self, objects: dict[str, dict[str, dict]], plain: dict[str, list[dict]]
    ) -> None:
        for position, membership in enumerate(plain["memberships"]):
            where = f"memberships[{position}]"
            self.ref(where, {"id": membership.get("team_id")}, "teams")
            self.ref(where, {"id": membership.get("user_id")}, "users")
        for user in objects["users"].values():
            where = f"users {user['id']}"
            methods = {m.get("id") for m in user.get("contact_methods", [])}
            for rule in [*user.get("notification_rules", []), *user.get("oncall_handoff_notification_rules", [])]:
                if rule.get("contact_method", {}).get("id") not in methods:
                    raise self.fail(where, f"notification rule {rule.get('id')} uses a contact method the user does not have")
        for service in objects["services"].values():
            where = f"services {service['id']}"
            self.ref(f"{where} escalation_policy", service.get("escalation_policy"), "escalation_policies")
            for team in service.get("teams") or []:
                self.ref(f"{where} teams", team, "teams")
        for policy in objects["escalation_policies"].values():
            where = f"escalation_policies {policy['id']}"
            for team in policy.get("teams") or []:
                self.ref(f"{where} teams", team, "teams")
            rules = policy.get("escalation_rules")
            if not isinstance(rules, list):
                raise self.fail(where, "needs a list of escalation_rules")
            for level, rule in enumerate(rules, start=1):
                for target in rule.get("targets", []):
                    # A target may name a deleted object or an unknown type (PagerDuty serves both).
                    if not isinstance(target, dict) or not all(isinstance(target.get(k), str) for k in ("id", "type")):
                        raise self.fail(f"{where} level {level}", f"expected a target with an 'id' and a 'type', found {target!r}")
        for collection in ("schedules", "schedules_v3"):
            for schedule in objects[collection].values():
                for team in schedule.get("teams") or []:
                    self.ref(f"{collection} {schedule['id']} teams", team, "teams")
        for schedule in objects["schedules"].values():
            for layer in schedule.get("schedule_layers", []):
                where = f"schedules {schedule['id']} layer {layer.get('id')}"
                # A layer may be empty (everyone on it deactivated): it then renders nothing.
                for member in layer.get("users") or []:
                    self.ref(where, member.get("user"), "users")
        for schedule in objects["schedules_v3"].values():
            for rotation in schedule.get("rotations", []):
                for event in rotation.get("events", []):
                    where = f"schedules_v3 {schedule['id']} event {event.get('id')}"
                    members = event.get("assignment_strategy", {}).get("members") or []
                    if not members:
                        raise self.fail(where, "assignment_strategy has no members")
                    for member in members:
                        if member.get("type") == "user_member":
                            self.ref(where, {"id": member.get("user_id")}, "users")
                        elif member.get("type") != "empty_member":
                            raise self.fail(where, f"unknown member type {member.get('type')!r}")
        for override in objects["overrides"].values():
            where = f"overrides {override['id']}"
            if override.get("schedule_id") not in objects["schedules"] and override.get("schedule_id") not in objects["schedules_v3"]:
                raise self.fail(where, f"refers to schedule {override.get('schedule_id')}, which is not in the account")
            self.ref(where, override.get("user"), "users")
        for dependency in objects["service_dependencies"].values():
            for end in ("supporting_service", "dependent_service"):
                reference = dependency.get(end) or {}
                kind = DEPENDENCY_KINDS.get(reference.get("type"))
                if kind is None:
                    raise self.fail(f"service_dependencies {dependency['id']} {end}", f"unknown type {reference.get('type')!r}")
                self.ref(f"service_dependencies {dependency['id']} {end}", reference, kind)
        for extension in objects["extensions"].values():
            where = f"extensions {extension['id']}"
            if not isinstance(extension.get("extension_schema"), dict):
                raise self.fail(where, "needs an extension_schema reference")
            served = extension.get("extension_objects")
            if not isinstance(served, list):
                raise self.fail(where, "needs a list of extension_objects (the services it serves)")
            for service in served:
                self.ref(f"{where} extension_objects", service, "services")
        for window in objects["maintenance_windows"].values():
            for service in window.get("services") or []:
                self.ref(f"maintenance_windows {window['id']} services", service, "services")
        for position, score in enumerate(plain["standards_scores"]):
            if not isinstance(score.get("resource_id"), str):
                raise self.fail(f"standards_scores[{position}]", "has no string 'resource_id'")

    def check_times(self, objects: dict[str, dict[str, dict]]) -> None:
        where = "schedules"
        try:
            for schedule in objects["schedules"].values():
                where = f"schedules {schedule['id']}"
                zone(schedule.get("time_zone"))
                for layer in schedule.get("schedule_layers", []):
                    where = f"schedules {schedule['id']} layer {layer.get('id')}"
                    for key in ("start", "rotation_virtual_start"):
                        parse_datetime(layer.get(key))
                    if layer.get("end") is not None:
                        parse_datetime(layer["end"])
                    turn = layer.get("rotation_turn_length_seconds")
                    if not isinstance(turn, int) or turn <= 0:
                        raise self.fail(where, "rotation_turn_length_seconds must be a positive integer")
                    for restriction in layer.get("restrictions") or []:
                        self.check_restriction(where, restriction)
            for schedule in objects["schedules_v3"].values():
                where = f"schedules_v3 {schedule['id']}"
                zone(schedule.get("time_zone"))
                for rotation in schedule.get("rotations", []):
                    for event in rotation.get("events", []):
                        where = f"schedules_v3 {schedule['id']} event {event.get('id')}"
                        self.check_event(where, event)
            for override in objects["overrides"].values():
                where = f"overrides {override['id']}"
                if parse_datetime(override.get("start")) >= parse_datetime(override.get("end")):
                    raise self.fail(where, "ends before it starts")
            for user in objects["users"].values():
                where = f"users {user['id']}"
                if user.get("time_zone") is not None:
                    zone(user["time_zone"])
        except BadTime as exc:
            raise self.fail(where, str(exc)) from None

    def check_restriction(self, where: str, restriction: dict) -> None:
        kind = restriction.get("type")
        if kind not in ("daily_restriction", "weekly_restriction"):
            raise self.fail(where, f"unknown restriction type {kind!r}")
        try:
            time.fromisoformat(restriction.get("start_time_of_day", ""))
        except (TypeError, ValueError):
            raise self.fail(where, f"start_time_of_day {restriction.get('start_time_of_day')!r} is not HH:MM:SS") from None
        if not isinstance(restriction.get("duration_seconds"), int) or restriction["duration_seconds"] <= 0:
            raise self.fail(where, "restriction duration_seconds must be a positive integer")
        if kind == "weekly_restriction" and restriction.get("start_day_of_week") not in range(1, 8):
            raise self.fail(where, "weekly_restriction needs start_day_of_week 1 (Monday) to 7")

    def check_event(self, where: str, event: dict) -> None:
        tz = zone(event.get("start_time", {}).get("time_zone"))
        start = parse_datetime(event.get("start_time", {}).get("date_time"))
        end = parse_datetime(event.get("end_time", {}).get("date_time"))
        parse_datetime(event.get("effective_since"))
        if event.get("effective_until") is not None:
            parse_datetime(event["effective_until"])
        if end <= start:
            raise self.fail(where, "end_time must be after start_time")
        strategy = event.get("assignment_strategy", {})
        if strategy.get("type") not in ("rotating_member_assignment_strategy", "every_member_assignment_strategy"):
            raise self.fail(where, f"unknown assignment strategy {strategy.get('type')!r}")
        recurrence = event.get("recurrence")
        if not isinstance(recurrence, list) or sum(1 for line in recurrence if str(line).startswith("RRULE:")) != 1:
            raise self.fail(where, "recurrence must hold exactly one RRULE line")
        try:
            rule = rrulestr("\n".join(recurrence), dtstart=to_wall(start, tz), forceset=True)
            next(iter(rule), None)
        except (ValueError, TypeError) as exc:
            raise self.fail(where, f"recurrence {recurrence!r} cannot be read: {exc}") from None
