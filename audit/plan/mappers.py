"""Terraform PagerDuty resources mapped onto the raw API objects a snapshot holds.

One small function per resource type puts a planned resource into the account (create, or
update merging into the object as it is) and one removes it; ``MAPPERS`` lists them in the order
changes are applied (a contact method after its user, an integration after its service).
Attribute names are the PagerDuty provider's (``pagerduty/resource_pagerduty_*.go``), which
differ from the API's: a policy's ``rule``/``target`` blocks are ``escalation_rules``/``targets``;
a schedule's ``layer`` blocks (listed lowest layer first, the reverse of the API's
``schedule_layers``) hold ``users`` as ids and ``restriction`` blocks; a service's timeouts are
strings where ``"null"`` means off; blocks are lists of one. Each function returns the objects it
touched, as (entity type, id) pairs, so values unknown until apply can be pinned on them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from audit.facts.raw import ref_id
from audit.plan.account import Account, membership_key
from audit.plan.references import Values

Touched = list[tuple[str, str]]
MapperFunction = Callable[[Account, Values, str], Touched]


@dataclasses.dataclass(frozen=True)
class Mapper:
    put: MapperFunction
    remove: MapperFunction


def _ref(object_id: Any, kind: str) -> dict[str, Any] | None:
    return {"id": object_id, "type": kind} if isinstance(object_id, str) and object_id else None


def _refs(ids: list[Any], kind: str) -> list[dict[str, Any]]:
    return [ref for ref in (_ref(i, kind) for i in ids) if ref is not None]


def _seconds(text: Any) -> int | None:
    """A service timeout: the provider's strings ("14400"; "null" = off) as the API's number or null."""
    try:
        return None if text in (None, "", "null") else int(text)
    except (TypeError, ValueError):
        return None


def _without(items: Any, object_id: str) -> list[Any]:
    return [item for item in (items if isinstance(items, list) else []) if ref_id(item) != object_id]


# -- teams and people ----------------------------------------------------------------------------


def put_team(account: Account, v: Values, oid: str) -> Touched:
    team = account.get("teams", oid) or {}
    account.put("teams", oid, {**team, "id": oid, "type": "team", "name": v.get("name"), "summary": v.get("name"),
                               "description": v.get("description"), "parent": _ref(v.get("parent"), "team_reference")})
    return [("team", oid)]


def remove_team(account: Account, v: Values, oid: str) -> Touched:
    account.remove("teams", oid)
    for key, line in list(account.collections["team_members"].items()):
        if line.get("team_id") == oid:
            account.remove("team_members", key)
    return [("team", oid)]


def put_team_membership(account: Account, v: Values, oid: str) -> Touched:
    team_id, user_id = v.get("team_id"), v.get("user_id")
    if not (isinstance(team_id, str) and isinstance(user_id, str)):
        return []
    account.put("team_members", membership_key(team_id, user_id), {
        "team_id": team_id,
        "member": {"user": _ref(user_id, "user_reference"), "role": v.get("role") or "manager"},
    })
    user = account.get("users", user_id)
    if user is not None:
        user["teams"] = _without(user.get("teams"), team_id) + [_ref(team_id, "team_reference")]
    return [("team", team_id), ("user", user_id)]


def remove_team_membership(account: Account, v: Values, oid: str) -> Touched:
    team_id, user_id = str(v.get("team_id")), str(v.get("user_id"))
    account.remove("team_members", membership_key(team_id, user_id))
    user = account.get("users", user_id)
    if user is not None:
        user["teams"] = _without(user.get("teams"), team_id)
    return [("team", team_id), ("user", user_id)]


def put_user(account: Account, v: Values, oid: str) -> Touched:
    user = account.get("users", oid) or {"contact_methods": [], "notification_rules": [], "teams": []}
    fields = {name: v.get(name) for name in ("name", "email", "role", "job_title", "time_zone", "description")}
    if isinstance(v.get("invitation_sent"), bool):
        fields["invitation_sent"] = v.get("invitation_sent")
    if v.items("teams"):  # deprecated in favour of pagerduty_team_membership, still honoured
        fields["teams"] = _refs(v.items("teams"), "team_reference")
    account.put("users", oid, {**user, **{k: val for k, val in fields.items() if val is not None},
                               "id": oid, "type": "user", "summary": fields["name"]})
    return [("user", oid)]


def remove_user(account: Account, v: Values, oid: str) -> Touched:
    account.remove("users", oid)
    for key, line in list(account.collections["team_members"].items()):
        if ref_id((line.get("member") or {}).get("user")) == oid:
            account.remove("team_members", key)
    return [("user", oid)]


def _user_part(field: str, build: Callable[[Values, str], dict[str, Any]]) -> Mapper:
    """A mapper for an object listed inside its user (contact methods, notification rules)."""

    def put(account: Account, v: Values, oid: str) -> Touched:
        user = account.get("users", str(v.get("user_id")))
        if user is None:
            return []
        user[field] = _without(user.get(field), oid) + [build(v, oid)]
        return [("user", user["id"])]

    def remove(account: Account, v: Values, oid: str) -> Touched:
        user = account.get("users", str(v.get("user_id")))
        if user is None:
            return []
        user[field] = _without(user.get(field), oid)
        return [("user", user["id"])]

    return Mapper(put, remove)


def contact_method(v: Values, oid: str) -> dict[str, Any]:
    method = {"id": oid, "type": v.get("type"), "label": v.get("label"), "address": v.get("address"),
              "summary": v.get("label")}
    for optional in ("country_code", "device_type", "send_short_email"):
        if v.get(optional) is not None:
            method[optional] = v.get(optional)
    return method


def notification_rule(v: Values, oid: str) -> dict[str, Any]:
    return {"id": oid, "type": "assignment_notification_rule", "urgency": v.get("urgency") or "high",
            "start_delay_in_minutes": v.get("start_delay_in_minutes"),
            "contact_method": {"id": v.get("contact_method", 0, "id") or v.get("contact_method", "id"),
                               "type": v.get("contact_method", 0, "type") or v.get("contact_method", "type")}}


# -- escalation policies and schedules ----------------------------------------------------------


def put_escalation_policy(account: Account, v: Values, oid: str) -> Touched:
    rules = []
    for number, _ in enumerate(v.list("rule")):
        targets = [_ref(v.get("rule", number, "target", t, "id"), v.get("rule", number, "target", t, "type")
                        or "user_reference") for t, _ in enumerate(v.list("rule", number, "target"))]
        rules.append({"id": v.get("rule", number, "id") or f"{oid}:rule{number}",
                      "escalation_delay_in_minutes": v.get("rule", number, "escalation_delay_in_minutes"),
                      "targets": [t for t in targets if t is not None]})
    policy = account.get("escalation_policies", oid) or {}
    account.put("escalation_policies", oid, {
        **policy, "id": oid, "type": "escalation_policy", "name": v.get("name"), "summary": v.get("name"),
        "description": v.get("description"), "num_loops": v.get("num_loops") or 0,
        "teams": _refs(v.items("teams"), "team_reference"), "escalation_rules": rules,
    })
    return [("escalation_policy", oid)]


def put_schedule(account: Account, v: Values, oid: str) -> Touched:
    layers = []
    for number, _ in enumerate(v.list("layer")):
        def field(*path: str | int, n: int = number) -> Any:
            return v.get("layer", n, *path)

        restrictions = []
        for r, _ in enumerate(v.list("layer", number, "restriction")):
            restriction = {"type": field("restriction", r, "type"),
                           "start_time_of_day": field("restriction", r, "start_time_of_day"),
                           "duration_seconds": field("restriction", r, "duration_seconds")}
            if field("restriction", r, "start_day_of_week"):
                restriction["start_day_of_week"] = field("restriction", r, "start_day_of_week")
            restrictions.append(restriction)
        layers.append({
            "id": field("id") or f"{oid}:layer{number}", "name": field("name") or f"Layer {number + 1}",
            "start": field("start"), "end": field("end") or None,
            "rotation_virtual_start": field("rotation_virtual_start"),
            "rotation_turn_length_seconds": field("rotation_turn_length_seconds"),
            "users": [{"user": _ref(u, "user_reference")} for u in v.items("layer", number, "users") if u],
            "restrictions": restrictions,
        })
    layers.reverse()  # the API lists the top layer first; the provider lists it last
    schedule = account.get("schedules", oid) or {}
    user_ids = list(dict.fromkeys(m["user"]["id"] for layer in layers for m in layer["users"]))
    account.put("schedules", oid, {
        **schedule, "id": oid, "type": "schedule", "name": v.get("name"), "summary": v.get("name"),
        "description": v.get("description"), "time_zone": v.get("time_zone"),
        "teams": _refs(v.items("teams"), "team_reference"), "users": _refs(user_ids, "user_reference"),
        "schedule_layers": layers,
    })
    if all(layer["start"] and layer["rotation_virtual_start"] and layer["rotation_turn_length_seconds"]
           for layer in layers):
        account.to_render[oid] = v.address
    else:  # unknown until apply: no rendering is better than a wrong one
        account.get("schedules", oid).pop("final_schedule", None)  # type: ignore[union-attr]
    return [("schedule", oid)]


# -- services ----------------------------------------------------------------------------------


def _urgency_type(v: Values, *path: str | int) -> dict[str, Any] | None:
    if not v.list(*path):
        return None
    return {"type": v.get(*path, 0, "type"), "urgency": v.get(*path, 0, "urgency")}


def put_service(account: Account, v: Values, oid: str) -> Touched:
    service = account.get("services", oid) or {"status": "active", "integrations": [], "teams": []}
    urgency = {"type": "constant", "urgency": "high"}  # PagerDuty's default when none is configured
    if v.list("incident_urgency_rule"):
        urgency = {"type": v.get("incident_urgency_rule", 0, "type"),
                   "urgency": v.get("incident_urgency_rule", 0, "urgency")}
        for part in ("during_support_hours", "outside_support_hours"):
            value = _urgency_type(v, "incident_urgency_rule", 0, part)
            if value is not None:
                urgency[part] = value
    support_hours = None
    if v.list("support_hours"):
        support_hours = {key: v.get("support_hours", 0, key)
                         for key in ("type", "time_zone", "start_time", "end_time", "days_of_week")}
    account.put("services", oid, {
        **service, "id": oid, "type": "service", "name": v.get("name"), "summary": v.get("name"),
        "description": v.get("description"),
        "escalation_policy": _ref(v.get("escalation_policy"), "escalation_policy_reference"),
        "incident_urgency_rule": urgency, "support_hours": support_hours,
        "auto_resolve_timeout": _seconds(v.get("auto_resolve_timeout", default="14400")),
        "acknowledgement_timeout": _seconds(v.get("acknowledgement_timeout", default="1800")),
        "alert_creation": v.get("alert_creation") or "create_alerts_and_incidents",
    })
    return [("service", oid)]


def remove_service(account: Account, v: Values, oid: str) -> Touched:
    account.remove("services", oid)
    for key, relation in list(account.collections["service_dependencies"].items()):
        if oid in (ref_id(relation.get("supporting_service")), ref_id(relation.get("dependent_service"))):
            account.remove("service_dependencies", key)
    return [("service", oid)]


def put_service_integration(account: Account, v: Values, oid: str) -> Touched:
    service = account.get("services", str(v.get("service")))
    if service is None:
        return []
    vendor = _ref(v.get("vendor"), "vendor_reference")
    integration = {"id": oid, "type": v.get("type") or "generic_events_api_inbound_integration",
                   "name": v.get("name"), "summary": v.get("name"), "vendor": vendor}
    service["integrations"] = _without(service.get("integrations"), oid) + [integration]
    return [("service", service["id"])]


def remove_service_integration(account: Account, v: Values, oid: str) -> Touched:
    service = account.get("services", str(v.get("service")))
    if service is None:
        return []
    service["integrations"] = _without(service.get("integrations"), oid)
    return [("service", service["id"])]


def put_extension(account: Account, v: Values, oid: str) -> Touched:
    """An extension names the services it serves (PagerDuty lists them at /extensions, not on the service)."""
    service_ids = [s for s in v.items("extension_objects") if isinstance(s, str)]
    account.put("extensions", oid, {
        "id": oid, "type": "extension", "name": v.get("name"), "summary": v.get("name"),
        "endpoint_url": v.get("endpoint_url"),
        "extension_schema": _ref(v.get("extension_schema"), "extension_schema_reference"),
        "extension_objects": _refs(service_ids, "service_reference"),
    })
    return [("service", s) for s in service_ids]


def remove_extension(account: Account, v: Values, oid: str) -> Touched:
    extension = account.get("extensions", oid) or {}
    account.remove("extensions", oid)
    return [("service", ref_id(s)) for s in extension.get("extension_objects") or [] if ref_id(s)]  # type: ignore[misc]


def put_business_service(account: Account, v: Values, oid: str) -> Touched:
    account.put("business_services", oid, {
        **(account.get("business_services", oid) or {}), "id": oid, "type": "business_service",
        "name": v.get("name"), "summary": v.get("name"), "description": v.get("description"),
        "point_of_contact": v.get("point_of_contact"), "team": _ref(v.get("team"), "team_reference"),
    })
    return []


def _service_end(v: Values, side: str) -> dict[str, Any] | None:
    kind = v.get("dependency", 0, side, 0, "type") or "service"
    api_type = "business_service_reference" if "business" in kind else "technical_service_reference"
    return _ref(v.get("dependency", 0, side, 0, "id"), api_type)


def put_service_dependency(account: Account, v: Values, oid: str) -> Touched:
    supporting, dependent = _service_end(v, "supporting_service"), _service_end(v, "dependent_service")
    if supporting is None or dependent is None:
        return []
    account.put("service_dependencies", oid, {"id": oid, "type": "service_dependency",
                                              "supporting_service": supporting, "dependent_service": dependent})
    return [("service", end["id"]) for end in (supporting, dependent) if "technical" in end["type"]]


def _removes(collection: str, entity_type: str | None) -> MapperFunction:
    def remove(account: Account, v: Values, oid: str) -> Touched:
        account.remove(collection, oid)
        return [(entity_type, oid)] if entity_type else []

    return remove


# In the order changes are applied: an object before the objects listed inside it.
MAPPERS: dict[str, Mapper] = {
    "pagerduty_team": Mapper(put_team, remove_team),
    "pagerduty_user": Mapper(put_user, remove_user),
    "pagerduty_team_membership": Mapper(put_team_membership, remove_team_membership),
    "pagerduty_user_contact_method": _user_part("contact_methods", contact_method),
    "pagerduty_user_notification_rule": _user_part("notification_rules", notification_rule),
    "pagerduty_schedule": Mapper(put_schedule, _removes("schedules", "schedule")),
    "pagerduty_escalation_policy": Mapper(put_escalation_policy, _removes("escalation_policies", "escalation_policy")),
    "pagerduty_service": Mapper(put_service, remove_service),
    "pagerduty_service_integration": Mapper(put_service_integration, remove_service_integration),
    "pagerduty_extension": Mapper(put_extension, remove_extension),
    "pagerduty_business_service": Mapper(put_business_service, _removes("business_services", None)),
    "pagerduty_service_dependency": Mapper(put_service_dependency, _removes("service_dependencies", None)),
}

# The finding entity a resource's own object is judged as (for addresses and code locations).
ENTITY_OF_TYPE = {"pagerduty_team": "team", "pagerduty_user": "user", "pagerduty_schedule": "schedule",
                  "pagerduty_escalation_policy": "escalation_policy", "pagerduty_service": "service"}
