"""Terraform resources onto API objects: the provider's attribute shapes, references, schedule rendering."""

from __future__ import annotations

from datetime import UTC, datetime

from audit.emulator.render_v2 import render_schedule
from audit.emulator.timeutil import parse_datetime
from audit.plan.account import Account
from audit.plan.mappers import MAPPERS
from audit.plan.reader import ResourceChange, parse_plan
from audit.plan.references import References, Values

from .conftest import change_of, judge, plan_json

START = datetime(2027, 1, 4, 9, tzinfo=UTC)


def change(rtype: str, after: dict, *, unknown: dict | None = None, name: str = "x", actions=("create",)):
    return ResourceChange(f"{rtype}.{name}", "", rtype, name, None, tuple(actions), None, after, unknown or {})


def put(account: Account, rc: ResourceChange, oid: str, references: References | None = None) -> set:
    found: set = set()
    MAPPERS[rc.type].put(account, Values(rc, "after", references, found), oid)
    return found


def test_a_schedules_layers_are_reversed_and_rendered_with_the_emulators_maths():
    account = Account.empty(START)
    bottom = {"name": "Weekdays", "start": "2026-12-07T09:00:00-05:00", "rotation_virtual_start":
              "2026-12-07T09:00:00-05:00", "rotation_turn_length_seconds": 86400, "users": ["PU1", "PU2"],
              "restriction": [{"type": "weekly_restriction", "start_time_of_day": "09:00:00",
                               "start_day_of_week": 1, "duration_seconds": 5 * 86400}]}
    top = {"name": "Holiday cover", "start": "2027-01-10T00:00:00-05:00", "end": "2027-01-12T00:00:00-05:00",
           "rotation_virtual_start": "2027-01-10T00:00:00-05:00", "rotation_turn_length_seconds": 172800,
           "users": ["PU3"], "restriction": []}
    put(account, change("pagerduty_schedule", {"name": "Ops", "time_zone": "America/New_York",
                                               "layer": [bottom, top]}), "PSCH1")
    schedule = account.as_snapshot().objects["schedules"][0]
    assert [layer["name"] for layer in schedule["schedule_layers"]] == ["Holiday cover", "Weekdays"]
    assert schedule["schedule_layers"][1]["restrictions"][0]["start_day_of_week"] == 1
    since, until = parse_datetime("2027-01-04T00:00:00Z"), parse_datetime("2027-02-01T00:00:00Z")
    expected = render_schedule(schedule, [], since, until)
    entries = schedule["final_schedule"]["rendered_schedule_entries"]
    assert [(e["user"]["id"], parse_datetime(e["start"]), parse_datetime(e["end"])) for e in entries] == [
        (s.user_id, s.start, s.end) for s in expected.final]
    assert {e["user"]["id"] for e in entries} == {"PU1", "PU2", "PU3"}  # the top layer shows through its window
    assert schedule["final_schedule"]["rendered_coverage_percentage"] == expected.final_coverage < 100


def test_a_policys_rule_and_target_blocks_become_escalation_rules():
    account = Account.empty(START)
    put(account, change("pagerduty_escalation_policy", {
        "name": "Ops", "num_loops": 2, "teams": ["PT1"],
        "rule": [{"escalation_delay_in_minutes": 10, "target": [{"type": "schedule_reference", "id": "PS1"}]},
                 {"escalation_delay_in_minutes": 20, "target": [{"id": "PU1"}]}]}), "PEP1")
    policy = account.get("escalation_policies", "PEP1")
    assert policy["teams"] == [{"id": "PT1", "type": "team_reference"}]
    assert [r["escalation_delay_in_minutes"] for r in policy["escalation_rules"]] == [10, 20]
    # the provider's default target type is user_reference
    assert [r["targets"] for r in policy["escalation_rules"]] == [[{"id": "PS1", "type": "schedule_reference"}],
                                                                  [{"id": "PU1", "type": "user_reference"}]]


def test_a_services_timeouts_urgency_and_owning_teams():
    account = Account.empty(START)
    put(account, change("pagerduty_escalation_policy", {"name": "Ops", "teams": ["PT1"], "rule": []}), "PEP1")
    put(account, change("pagerduty_service", {
        "name": "API", "escalation_policy": "PEP1", "acknowledgement_timeout": "null", "auto_resolve_timeout": "3600",
        "incident_urgency_rule": [{"type": "use_support_hours", "during_support_hours": [{"type": "constant",
                                   "urgency": "high"}], "outside_support_hours": [{"type": "constant",
                                                                                    "urgency": "low"}]}],
        "support_hours": [{"type": "fixed_time_per_day", "time_zone": "Europe/Berlin", "start_time": "09:00:00",
                           "end_time": "17:00:00", "days_of_week": [1, 2, 3, 4, 5]}]}), "PSVC1")
    service = account.as_snapshot().objects["services"][0]
    assert service["acknowledgement_timeout"] is None and service["auto_resolve_timeout"] == 3600
    assert service["incident_urgency_rule"]["outside_support_hours"] == {"type": "constant", "urgency": "low"}
    assert service["support_hours"]["days_of_week"] == [1, 2, 3, 4, 5]
    assert service["teams"] == [{"id": "PT1", "type": "team_reference"}]  # PagerDuty derives them from the policy


def test_people_their_memberships_contact_methods_and_rules():
    account = Account.empty(START)
    put(account, change("pagerduty_user", {"name": "Ann", "email": "ann@example.com", "role": "user"}), "PU1")
    put(account, change("pagerduty_team_membership", {"team_id": "PT1", "user_id": "PU1", "role": "responder"}),
        "PT1:PU1")
    put(account, change("pagerduty_user_contact_method", {"user_id": "PU1", "type": "phone_contact_method",
                                                          "address": "2025550199", "country_code": 1,
                                                          "label": "Work"}), "PC1")
    put(account, change("pagerduty_user_notification_rule", {"user_id": "PU1", "start_delay_in_minutes": 0,
                                                             "urgency": "high", "contact_method": {
                                                                 "id": "PC1", "type": "phone_contact_method"}}), "PN1")
    user = account.get("users", "PU1")
    assert [m["type"] for m in user["contact_methods"]] == ["phone_contact_method"]
    assert user["notification_rules"][0]["contact_method"] == {"id": "PC1", "type": "phone_contact_method"}
    assert user["teams"] == [{"id": "PT1", "type": "team_reference"}]
    assert account.objects("team_members") == [{"team_id": "PT1", "member": {
        "user": {"id": "PU1", "type": "user_reference"}, "role": "responder"}}]
    MAPPERS["pagerduty_user_contact_method"].remove(
        account, Values(change("pagerduty_user_contact_method", {"user_id": "PU1"}), "after", None, set()), "PC1")
    assert user["contact_methods"] == []


def test_deleting_a_service_removes_it_and_counts_its_violations_as_gone():
    plan = plan_json("change.json")
    record = change_of(plan, "pagerduty_service.search_indexer")
    record["change"].update(actions=["delete"], after=None, after_unknown=None)
    judged = judge(plan)
    assert "PS2SRCI" not in judged.gate.assessment.facts.tables["service"].index
    fixed = {e.fingerprint for e in judged.fixed}
    assert "OWN-06:service:PS2SRCI" in fixed
    assert judged.address_of("service", "PS2SRCI").action == "delete"


def test_list_references_resolve_element_by_element_and_unfollowable_ones_are_recorded():
    plan = parse_plan(plan_json("new-service.json"))
    ids = {c.address: c.address for c in plan.changes}
    references = References(plan, ids)
    schedule = next(c for c in plan.changes if c.address == "pagerduty_schedule.checkout")
    found: set = set()
    values = Values(schedule, "after", references, found)
    assert values.items("layer", 0, "users") == [f"pagerduty_user.person[\"{key}\"]" for key in ("gina", "hugo", "ines")]
    assert values.items("teams") == ["pagerduty_team.checkout"] and not found

    two_teams = parse_plan(plan_json("change.json"))
    membership = next(c for c in two_teams.changes if c.address == 'pagerduty_team_membership.person["bob"]')
    unknown = membership.__class__(**{**membership.__dict__, "after": {"role": "responder"},
                                      "after_unknown": {"user_id": True, "team_id": True}})
    values = Values(unknown, "after", References(two_teams, {c.address: c.after["id"] for c in two_teams.changes}),
                    found)
    assert values.get("user_id") == "PU2BOBO"  # pagerduty_user.person[each.key]: the instance's own key
    assert values.get("team_id") is None  # pagerduty_team.team[each.value.team]: not followed, not guessed
    assert [str(u) for u in found] == ['pagerduty_team_membership.person["bob"].team_id']


def test_values_the_provider_computes_are_not_unknowns_that_block_rules():
    rc = change("pagerduty_service", {"name": "API", "escalation_policy": "PEP1"},
                unknown={"id": True, "html_url": True, "alert_grouping_parameters": True,
                         "incident_urgency_rule": True})
    plan = parse_plan({"format_version": "1.2", "resource_changes": [], "configuration": {"root_module": {
        "resources": [{"address": "pagerduty_service.x", "expressions": {"name": {"constant_value": "API"}}}]}}})
    found = put(Account.empty(START), rc, "pagerduty_service.x", References(plan, {}))
    assert found == set()


def test_a_resource_inside_a_module_gets_its_address_but_no_root_module_line():
    from pathlib import Path

    from audit.plan.locations import Location

    plan = plan_json("change.json")
    record = change_of(plan, "pagerduty_service.payments_api")
    record.update(address="module.payments.pagerduty_service.payments_api", module_address="module.payments")
    judged = judge(plan)
    located = dict(judged.__dict__, locations={"pagerduty_service.payments_api": Location(Path("main.tf"), 3, 9)})
    judged = judged.__class__(**located)
    assert judged.address_of("service", "PS1PAYA").address == "module.payments.pagerduty_service.payments_api"
    assert judged.location_of("service", "PS1PAYA") is None
    assert "SVC-04:service:PS1PAYA" in {f.fingerprint for f in judged.introduced}


def test_an_extension_serving_a_service_is_listed_under_extensions_and_counts_for_it():
    plan = plan_json("change.json")
    plan["resource_changes"].append({
        "address": "pagerduty_extension.payments_slack", "mode": "managed", "type": "pagerduty_extension",
        "name": "payments_slack", "change": {
            "actions": ["create"], "before": None,
            "after": {"name": "Payments to Slack", "extension_schema": "PJFWPEP",
                      "endpoint_url": "https://hooks.slack.example/T0/B0", "extension_objects": ["PS1PAYA"]},
            "after_unknown": {"id": True, "html_url": True}}})
    judged = judge(plan)
    assert "SVC-02:service:PS1PAYA" in {e.fingerprint for e in judged.fixed}
    assert judged.gate.assessment.facts.tables["service"].loc["PS1PAYA", "addon_count"] == 1
    assert "SVC-02:service:PS2SRCI" in {f.fingerprint for f in judged.gate.unchanged}


def test_a_business_service_and_a_dependency_created_together_map_the_service():
    plan = plan_json("change.json")
    plan["resource_changes"] += [
        {"address": "pagerduty_business_service.checkout", "mode": "managed", "type": "pagerduty_business_service",
         "name": "checkout", "change": {"actions": ["create"], "before": None,
                                        "after": {"name": "Online checkout", "team": "PQ1PAYT"},
                                        "after_unknown": {"id": True, "html_url": True}}},
        {"address": "pagerduty_service_dependency.api_checkout", "mode": "managed",
         "type": "pagerduty_service_dependency", "name": "api_checkout", "change": {
             "actions": ["create"], "before": None,
             "after": {"dependency": [{"type": "service_dependency",
                                       "supporting_service": [{"id": "PS1PAYA", "type": "service"}],
                                       "dependent_service": [{"type": "business_service"}]}]},
             "after_unknown": {"id": True, "dependency": [{"dependent_service": [{"id": True}]}]}}},
    ]
    plan["configuration"]["root_module"]["resources"].append({
        "address": "pagerduty_service_dependency.api_checkout", "mode": "managed",
        "type": "pagerduty_service_dependency", "name": "api_checkout",
        "expressions": {"dependency": [{"supporting_service": [{"id": {"constant_value": "PS1PAYA"}}],
                                        "dependent_service": [{"id": {"references": [
                                            "pagerduty_business_service.checkout.id",
                                            "pagerduty_business_service.checkout"]}}]}]}})
    judged = judge(plan)
    assert not judged.unknowns
    services = judged.gate.assessment.facts.tables["service"]
    assert services.loc["PS1PAYA", "business_service_count"] == 1
    assert services.loc["PS2SRCI", "business_service_count"] == 0
