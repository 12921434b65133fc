"""Writes ``plans/*.json``: plans of the example configurations, in ``terraform show -json`` format.

Terraform cannot run here (no binary, no provider plugin download), so the plans are made by
this script, deterministically, from the same data as the ``.tf`` files beside it: resource
instances in the PagerDuty provider's attribute shapes (``pagerduty/resource_pagerduty_*.go``),
and the configuration's expressions with the references Terraform records. Run
``python examples/terraform/build_plans.py`` to rewrite them; ``tests/plan`` checks that the
plans and the ``.tf`` files agree (addresses, constant values, references).

* ``change.json``: ``pagerduty/`` as it is in the pull request, against the account as it is
  (the state): the Payments policy escalates from level 1 after 2 minutes, the Payments API
  auto-resolves after one hour, and the Search Indexer's description links its runbook.
* ``reverted.json``: the same configuration with the pull request reverted: nothing to change.
* ``new-service.json``: ``new-service/`` on an empty account: a team, its people, a schedule,
  an escalation policy and the service using it, created in one go (every id unknown until apply).
* ``unmodelled.json``: ``unmodelled/``: event rules, a maintenance window and a Slack connection.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TIMESTAMP = "2027-01-04T09:00:00Z"
TERRAFORM_VERSION = "1.9.8"
PROVIDER = "registry.terraform.io/pagerduty/pagerduty"
NY = "America/New_York"
TEAMS = {
    "payments": ("PQ1PAYT", "Payments", "Card payments, refunds and payouts."),
    "search": ("PQ2SRCT", "Search", "Product search and the search index."),
}
PEOPLE = {  # key: id, name, email, team, team role, phone
    "alice": ("PU1ALIC", "Alice Ng", "alice@example.com", "payments", "manager", "2025550101"),
    "bob": ("PU2BOBO", "Bob Okafor", "bob@example.com", "payments", "responder", "2025550102"),
    "carol": ("PU3CARO", "Carol Diaz", "carol@example.com", "payments", "responder", "2025550103"),
    "dave": ("PU4DAVE", "Dave Kim", "dave@example.com", "search", "manager", "2025550104"),
    "erin": ("PU5ERIN", "Erin Wolfe", "erin@example.com", "search", "responder", "2025550105"),
    "frank": ("PU6FRAN", "Frank Osei", "frank@example.com", "search", "responder", "2025550106"),
}
SERVICES = {  # team: resource name, id, name, description (as it is), policy id, integration id
    "payments": ("payments_api", "PS1PAYA", "Payments API",
                 "Charges cards and issues refunds for the web and mobile checkouts. Runbook: "
                 "https://wiki.example.com/runbooks/payments-api", "PE1PAYM", "PI1PAYA"),
    "search": ("search_indexer", "PS2SRCI", "Search Indexer",
               "Builds the product search index from the catalogue feed.", "PE2SRCH", "PI2SRCI"),
}
NEW_PEOPLE = {  # the new team's people: name, email, team role, phone
    "gina": ("Gina Park", "gina@example.com", "manager", "2025550107"),
    "hugo": ("Hugo Lind", "hugo@example.com", "responder", "2025550108"),
    "ines": ("Ines Brandt", "ines@example.com", "responder", "2025550109"),
}
SEARCH_DESCRIPTION_AFTER = ("Builds the product search index from the catalogue feed. Runbook: "
                            "https://wiki.example.com/runbooks/search-indexer")
WEEK = 604800
LAYER_START = "2026-11-02T10:00:00-05:00"


def ref(*names: str) -> dict[str, Any]:
    """An expression made of references, as Terraform records it (the longest form first)."""
    return {"references": list(names)}


def const(value: Any) -> dict[str, Any]:
    return {"constant_value": value}


def each(field: str) -> dict[str, Any]:
    return ref(f"each.value.{field}", "each.value")


def person_ref(key: str) -> list[str]:
    return [f'pagerduty_user.person["{key}"].id', f'pagerduty_user.person["{key}"]', "pagerduty_user.person"]


def team_ref(key: str) -> list[str]:
    return [f'pagerduty_team.team["{key}"].id', f'pagerduty_team.team["{key}"]', "pagerduty_team.team"]


class Resources:
    """Resource instances (address -> record) and the configuration's resource blocks."""

    def __init__(self) -> None:
        self.instances: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, dict[str, Any]] = {}

    def add(self, rtype: str, name: str, values: dict[str, Any], expressions: dict[str, Any],
            key: str | None = None, for_each: list[str] | None = None) -> None:
        address = f"{rtype}.{name}" + (f'["{key}"]' if key is not None else "")
        self.instances[address] = {"type": rtype, "name": name, "index": key, "values": values}
        block = {"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
                 "provider_config_key": "pagerduty", "expressions": expressions, "schema_version": 0}
        if for_each:
            block["for_each_expression"] = ref(*for_each)
        self.blocks[f"{rtype}.{name}"] = block


def people_and_teams(r: Resources) -> None:
    for key, (tid, name, description) in TEAMS.items():
        r.add("pagerduty_team", "team", {"id": tid, "name": name, "description": description, "parent": None,
                                         "default_role": "manager",
                                         "html_url": f"https://example.pagerduty.com/teams/{tid}"},
              {"name": each("name"), "description": each("description")}, key, ["local.teams"])
    for key, (uid, name, email, team, role, phone) in PEOPLE.items():
        r.add("pagerduty_user", "person", {
            "id": uid, "name": name, "email": email, "role": "user", "time_zone": NY, "job_title": "",
            "description": "Managed by Terraform", "color": "purple", "license": "PLICENS",
            "invitation_sent": False, "teams": [TEAMS[team][0]],
            "avatar_url": f"https://secure.gravatar.com/avatar/{uid.lower()}.png",
            "html_url": f"https://example.pagerduty.com/users/{uid}",
        }, {"name": each("name"), "email": each("email"), "role": const("user"), "time_zone": const(NY)},
            key, ["local.people"])
        r.add("pagerduty_team_membership", "person",
              {"id": f"{uid}:{TEAMS[team][0]}", "team_id": TEAMS[team][0], "user_id": uid, "role": role},
              {"team_id": ref("pagerduty_team.team[each.value.team].id", "pagerduty_team.team", "each.value.team",
                              "each.value"),
               "user_id": ref("pagerduty_user.person[each.key].id", "pagerduty_user.person", "each.key"),
               "role": each("role")}, key, ["local.people"])
        for kind, label, number in (("phone", "Work phone", 1), ("sms", "Work mobile", 2)):
            r.add("pagerduty_user_contact_method", kind, {
                "id": f"PC{number}{uid[3:]}", "user_id": uid, "type": f"{kind}_contact_method",
                "country_code": 1, "address": phone, "label": label, "send_short_email": False,
                "blacklisted": False, "enabled": True, "device_type": None,
            }, {"user_id": ref("pagerduty_user.person[each.key].id", "pagerduty_user.person", "each.key"),
                "type": const(f"{kind}_contact_method"), "country_code": const(1),
                "address": each("phone"), "label": const(label)}, key, ["local.people"])
        for rule_name, kind, delay, number in (("sms_at_once", "sms", 0, 2), ("phone_after_3", "phone", 3, 1)):
            r.add("pagerduty_user_notification_rule", rule_name, {
                "id": f"PN{number}{uid[3:]}", "user_id": uid, "start_delay_in_minutes": delay, "urgency": "high",
                "contact_method": {"id": f"PC{number}{uid[3:]}", "type": f"{kind}_contact_method"},
            }, {"user_id": ref("pagerduty_user.person[each.key].id", "pagerduty_user.person", "each.key"),
                "start_delay_in_minutes": const(delay), "urgency": const("high"),
                "contact_method": {"type": const(f"{kind}_contact_method"),
                                   "id": ref(f"pagerduty_user_contact_method.{kind}[each.key].id",
                                             f"pagerduty_user_contact_method.{kind}", "each.key")}},
                key, ["local.people"])


def team_on_call(r: Resources, team: str, *, changed: bool) -> None:
    """One team's schedules, policy, service and integration; ``changed``: as in the pull request."""
    tid, tname, _ = TEAMS[team]
    members = [key for key, person in PEOPLE.items() if person[3] == team]
    member_ids = [PEOPLE[key][0] for key in members]
    user_refs = [part for key in members for part in person_ref(key)]
    schedule_ids = {}
    for number, (suffix, layer_name, virtual_start) in enumerate(
            (("primary", "Weekly", LAYER_START),
             ("secondary", "Weekly, one week behind", "2026-11-09T10:00:00-05:00")), 1):
        sid = f"PY{number}{tid[3:6]}{suffix[0].upper()}"
        schedule_ids[suffix] = sid
        r.add("pagerduty_schedule", f"{team}_{suffix}", {
            "id": sid, "name": f"{tname} {suffix}", "time_zone": NY, "description": "Managed by Terraform",
            "overflow": None, "teams": [tid],
            "layer": [{"id": f"PL{number}{tid[3:6]}{suffix[0].upper()}", "name": layer_name, "start": LAYER_START,
                       "end": "", "rotation_virtual_start": virtual_start, "rotation_turn_length_seconds": WEEK,
                       "users": member_ids, "restriction": [], "rendered_coverage_percentage": "100.00"}],
            "final_schedule": [{"name": "Final Schedule", "rendered_coverage_percentage": "100.00"}],
        }, {"name": const(f"{tname} {suffix}"), "time_zone": const(NY), "teams": ref(*team_ref(team)),
            "layer": [{"name": const(layer_name), "start": const(LAYER_START),
                       "rotation_virtual_start": const(virtual_start),
                       "rotation_turn_length_seconds": const(WEEK), "users": ref(*user_refs)}]})
    service_name, service_id, service_title, description, policy_id, integration_id = SERVICES[team]
    level_one = [{"type": "schedule_reference", "id": schedule_ids["primary"]}]
    level_one_config = [{"type": const("schedule_reference"),
                         "id": ref(f"pagerduty_schedule.{team}_primary.id", f"pagerduty_schedule.{team}_primary")}]
    first_delay = 2 if changed and team == "payments" else 10  # the pull request: escalate after 2 minutes
    manager = members[0]
    rules = [(first_delay, level_one, level_one_config),
             (10, [{"type": "schedule_reference", "id": schedule_ids["secondary"]}],
              [{"type": const("schedule_reference"), "id": ref(f"pagerduty_schedule.{team}_secondary.id",
                                                                 f"pagerduty_schedule.{team}_secondary")}]),
             (15, [{"type": "user_reference", "id": PEOPLE[manager][0]}],
              [{"type": const("user_reference"), "id": ref(*person_ref(manager))}])]
    r.add("pagerduty_escalation_policy", team, {
        "id": policy_id, "name": tname, "description": "Managed by Terraform", "num_loops": 2, "teams": [tid],
        "rule": [{"id": f"PR{n}{policy_id[3:]}", "escalation_delay_in_minutes": delay,
                  "escalation_rule_assignment_strategy": [{"type": "assign_to_everyone"}], "target": targets}
                 for n, (delay, targets, _) in enumerate(rules, 1)],
    }, {"name": const(tname), "num_loops": const(2), "teams": ref(*team_ref(team)),
        "rule": [{"escalation_delay_in_minutes": const(delay), "target": config} for delay, _, config in rules]})
    if changed and team == "search":  # the pull request links the runbook
        description = SEARCH_DESCRIPTION_AFTER
    auto_resolve = "3600" if changed and team == "payments" else "14400"
    r.add("pagerduty_service", service_name, {
        "id": service_id, "name": service_title, "description": description, "escalation_policy": policy_id,
        "alert_creation": "create_alerts_and_incidents", "acknowledgement_timeout": "1800",
        "auto_resolve_timeout": auto_resolve, "alert_grouping": None, "alert_grouping_timeout": None,
        "alert_grouping_parameters": [], "auto_pause_notifications_parameters": [{"enabled": False, "timeout": 0}],
        "incident_urgency_rule": [{"type": "constant", "urgency": "high", "during_support_hours": [],
                                   "outside_support_hours": []}],
        "support_hours": [], "scheduled_actions": [], "response_play": None, "type": "service",
        "created_at": "2026-10-19T14:02:11Z", "html_url": f"https://example.pagerduty.com/service-directory/{service_id}",
    }, {"name": const(service_title), "description": const(description),
        "escalation_policy": ref(f"pagerduty_escalation_policy.{team}.id", f"pagerduty_escalation_policy.{team}"),
        "alert_creation": const("create_alerts_and_incidents"), "acknowledgement_timeout": const("1800"),
        "auto_resolve_timeout": const(auto_resolve),
        "incident_urgency_rule": [{"type": const("constant"), "urgency": const("high")}]})
    r.add("pagerduty_service_integration", f"{service_name}_events", {
        "id": integration_id, "name": "Events API v2", "type": "events_api_v2_inbound_integration",
        "service": service_id, "vendor": None, "integration_key": f"{integration_id.lower()}0000000000000000000000",
        "integration_email": None, "html_url": f"https://example.pagerduty.com/services/{service_id}/integrations/"
                                               f"{integration_id}",
    }, {"name": const("Events API v2"), "type": const("events_api_v2_inbound_integration"),
        "service": ref(f"pagerduty_service.{service_name}.id", f"pagerduty_service.{service_name}")})


def two_teams(*, changed: bool) -> Resources:
    r = Resources()
    people_and_teams(r)
    for team in TEAMS:
        team_on_call(r, team, changed=changed)
    return r


# -- the new service: everything created together ---------------------------------------------

def new_service() -> Resources:
    r = Resources()
    r.add("pagerduty_team", "checkout", {"name": "Checkout", "description": "The checkout pages and cart.",
                                         "parent": None},
          {"name": const("Checkout"), "description": const("The checkout pages and cart.")})
    for key, (name, email, role, phone) in NEW_PEOPLE.items():
        user = ref("pagerduty_user.person[each.key].id", "pagerduty_user.person", "each.key")
        r.add("pagerduty_user", "person", {"name": name, "email": email, "role": "user", "time_zone": NY},
              {"name": each("name"), "email": each("email"), "role": const("user"), "time_zone": const(NY)},
              key, ["local.people"])
        r.add("pagerduty_team_membership", "person", {"role": role},
              {"team_id": ref("pagerduty_team.checkout.id", "pagerduty_team.checkout"), "user_id": user,
               "role": each("role")}, key, ["local.people"])
        for kind, label in (("phone", "Work phone"), ("sms", "Work mobile")):
            r.add("pagerduty_user_contact_method", kind, {
                "type": f"{kind}_contact_method", "country_code": 1, "address": phone, "label": label,
                "send_short_email": False, "device_type": None,
            }, {"user_id": user, "type": const(f"{kind}_contact_method"), "country_code": const(1),
                "address": each("phone"), "label": const(label)}, key, ["local.people"])
        for rule_name, kind, delay in (("sms_at_once", "sms", 0), ("phone_after_3", "phone", 3)):
            r.add("pagerduty_user_notification_rule", rule_name, {
                "start_delay_in_minutes": delay, "urgency": "high",
                "contact_method": {"type": f"{kind}_contact_method"},
            }, {"user_id": user, "start_delay_in_minutes": const(delay), "urgency": const("high"),
                "contact_method": {"type": const(f"{kind}_contact_method"),
                                   "id": ref(f"pagerduty_user_contact_method.{kind}[each.key].id",
                                             f"pagerduty_user_contact_method.{kind}", "each.key")}},
                key, ["local.people"])
    user_refs = [part for key in NEW_PEOPLE for part in person_ref(key)]
    r.add("pagerduty_schedule", "checkout", {
        "name": "Checkout primary", "time_zone": NY, "description": "Managed by Terraform", "overflow": None,
        "teams": [None],
        "layer": [{"name": "Weekly", "start": LAYER_START, "end": None, "rotation_virtual_start": LAYER_START,
                   "rotation_turn_length_seconds": WEEK, "users": [None, None, None], "restriction": []}],
    }, {"name": const("Checkout primary"), "time_zone": const(NY),
        "teams": ref("pagerduty_team.checkout.id", "pagerduty_team.checkout"),
        "layer": [{"name": const("Weekly"), "start": const(LAYER_START),
                   "rotation_virtual_start": const(LAYER_START), "rotation_turn_length_seconds": const(WEEK),
                   "users": ref(*user_refs)}]})
    r.add("pagerduty_escalation_policy", "checkout", {
        "name": "Checkout", "description": "Managed by Terraform", "num_loops": 1, "teams": [None],
        "rule": [{"escalation_delay_in_minutes": 10, "target": [{"type": "schedule_reference"}]},
                 {"escalation_delay_in_minutes": 15, "target": [{"type": "user_reference"}]}],
    }, {"name": const("Checkout"), "num_loops": const(1),
        "teams": ref("pagerduty_team.checkout.id", "pagerduty_team.checkout"),
        "rule": [{"escalation_delay_in_minutes": const(10),
                  "target": [{"type": const("schedule_reference"),
                              "id": ref("pagerduty_schedule.checkout.id", "pagerduty_schedule.checkout")}]},
                 {"escalation_delay_in_minutes": const(15),
                  "target": [{"type": const("user_reference"),
                              "id": ref(*person_ref("gina"))}]}]})
    description = ("The checkout pages, the cart and the order confirmation emails. Runbook: "
                   "https://wiki.example.com/runbooks/checkout-web")
    r.add("pagerduty_service", "checkout_web", {
        "name": "Checkout Web", "description": description, "alert_creation": "create_alerts_and_incidents",
        "acknowledgement_timeout": "1800", "auto_resolve_timeout": "14400", "response_play": None,
        "incident_urgency_rule": [{"type": "constant", "urgency": "high", "during_support_hours": [],
                                   "outside_support_hours": []}],
        "support_hours": [], "scheduled_actions": [],
    }, {"name": const("Checkout Web"), "description": const(description),
        "escalation_policy": ref("pagerduty_escalation_policy.checkout.id", "pagerduty_escalation_policy.checkout"),
        "acknowledgement_timeout": const("1800"), "auto_resolve_timeout": const("14400"),
        "incident_urgency_rule": [{"type": const("constant"), "urgency": const("high")}]})
    r.add("pagerduty_service_integration", "checkout_web_events", {
        "name": "Events API v2", "type": "events_api_v2_inbound_integration", "vendor": None,
    }, {"name": const("Events API v2"), "type": const("events_api_v2_inbound_integration"),
        "service": ref("pagerduty_service.checkout_web.id", "pagerduty_service.checkout_web")})
    return r


# Created attributes Terraform cannot know before apply, by resource type (beside "id").
COMPUTED = {
    "pagerduty_team": ("html_url", "default_role"),
    "pagerduty_user": ("html_url", "invitation_sent", "avatar_url", "color", "license", "job_title", "teams",
                       "description"),
    "pagerduty_team_membership": (),
    "pagerduty_schedule": ("final_schedule",),
    "pagerduty_escalation_policy": (),
    "pagerduty_user_contact_method": ("enabled", "blacklisted"),
    "pagerduty_user_notification_rule": (),
    "pagerduty_service": ("html_url", "created_at", "type", "status", "alert_grouping", "alert_grouping_timeout",
                          "alert_grouping_parameters", "auto_pause_notifications_parameters", "escalation_policy"),
    "pagerduty_service_integration": ("service", "integration_key", "integration_email", "html_url"),
}
# Unknown parts inside blocks: the ids a created resource refers to.
UNKNOWN_INSIDE = {
    "pagerduty_team_membership": {"team_id": True, "user_id": True},
    "pagerduty_user_contact_method": {"user_id": True},
    "pagerduty_user_notification_rule": {"user_id": True, "contact_method": {"id": True}},
    "pagerduty_schedule": {"teams": [True], "layer": [{"id": True, "users": [True, True, True], "rendered_coverage_percentage": True}]},
    "pagerduty_escalation_policy": {"teams": [True], "rule": [{"id": True, "escalation_rule_assignment_strategy": True,
                                              "target": [{"id": True}]},
                                             {"id": True, "escalation_rule_assignment_strategy": True,
                                              "target": [{"id": True}]}]},
}


def unmodelled() -> Resources:
    r = Resources()
    r.add("pagerduty_ruleset", "edge", {"name": "Edge routing", "team": [], "routing_keys": None},
          {"name": const("Edge routing")})
    r.add("pagerduty_ruleset_rule", "drop_heartbeats", {"position": 0, "disabled": False},
          {"ruleset": ref("pagerduty_ruleset.edge.id", "pagerduty_ruleset.edge"), "position": const(0),
           "disabled": const(False)})
    r.add("pagerduty_maintenance_window", "db_upgrade", {
        "start_time": "2027-01-09T02:00:00-05:00", "end_time": "2027-01-09T04:00:00-05:00",
        "description": "Database upgrade", "services": ["PS1PAYA"]},
        {"start_time": const("2027-01-09T02:00:00-05:00"), "end_time": const("2027-01-09T04:00:00-05:00"),
         "description": const("Database upgrade"), "services": const(["PS1PAYA"])})
    r.add("pagerduty_slack_connection", "payments", {
        "source_id": "PS1PAYA", "source_type": "service_reference", "workspace_id": "T02A123LV1A",
        "channel_id": "C02CABCDAC9", "notification_type": "responder"},
        {"source_id": const("PS1PAYA"), "source_type": const("service_reference"),
         "workspace_id": const("T02A123LV1A"), "channel_id": const("C02CABCDAC9"),
         "notification_type": const("responder")})
    return r


# -- the plan format ----------------------------------------------------------------------------

def created(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(after, after_unknown) of a resource created by the plan."""
    after = {k: v for k, v in record["values"].items() if k != "id" and k not in COMPUTED.get(record["type"], ())}
    unknown = {"id": True, **{k: True for k in COMPUTED.get(record["type"], ())}}
    unknown.update(copy.deepcopy(UNKNOWN_INSIDE.get(record["type"], {})))
    return after, unknown


def plan(before: Resources | None, after: Resources) -> dict[str, Any]:
    old = before.instances if before else {}
    changes = []
    for address in sorted(set(old) | set(after.instances)):
        was, now = old.get(address), after.instances.get(address)
        record = now or was
        assert record is not None
        if was is None:
            actions = ["create"]
            after_values, after_unknown = created(record)
        else:
            actions = ["no-op"] if now is not None and was["values"] == now["values"] else \
                ["update"] if now is not None else ["delete"]
            after_values, after_unknown = (now["values"] if now else None), ({} if now else None)
        changes.append({
            "address": address, "mode": "managed", "type": record["type"], "name": record["name"],
            **({"index": record["index"]} if record["index"] is not None else {}),
            "provider_name": PROVIDER,
            "change": {"actions": actions, "before": was["values"] if was else None, "after": after_values,
                       "after_unknown": after_unknown, "before_sensitive": {} if was else False,
                       "after_sensitive": {} if now else False},
        })
    return {
        "format_version": "1.2",
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"pagerduty": {"name": "pagerduty", "full_name": PROVIDER,
                                              "version_constraint": "~> 3.15"}},
            "root_module": {"resources": [after.blocks[key] for key in sorted(after.blocks)]},
        },
        "timestamp": TIMESTAMP,
        "applyable": any(c["change"]["actions"] != ["no-op"] for c in changes),
        "complete": True,
        "errored": False,
    }


def main() -> None:
    as_it_is = two_teams(changed=False)
    plans = {
        "change.json": plan(as_it_is, two_teams(changed=True)),
        "reverted.json": plan(as_it_is, two_teams(changed=False)),
        "new-service.json": plan(None, new_service()),
        "unmodelled.json": plan(None, unmodelled()),
    }
    for name, data in plans.items():
        (HERE / "plans" / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
