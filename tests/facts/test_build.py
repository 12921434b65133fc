"""The facts stage end to end: a small, realistic account written as a snapshot and built.

``acme_account()`` is shared with the per-entity tests (``test_*_facts.py``).
It is a week (Mon 2027-01-04 00:00Z .. Mon 2027-01-11 00:00Z, 168 h, London on
GMT and New York on EST throughout) of a three-team account:

* Payments (Ada manager, Bob, Cy): primary v2 schedule with a 2 h shift of Bob
  nested in Ada's, an 8 h override by Cy and a 12 h gap (Thu 09:00-21:00Z);
  a backup v2 schedule held by Cy all week; policy PEPAY: L1 primary, L2
  backup, L3 Ada directly; services Payments API (tier 1), Ledger Worker
  (maintenance, in a dependency cycle with Payments API) and CRM (disabled,
  owned by Payments and Checkout).
* Checkout (Dee manager, Eve): a v3 schedule with Dee, then an empty member
  for 12 h (Thu 12:00Z-Fri 00:00Z), then Eve by override; policy PECHK puts
  that schedule on both levels (depth 1); Checkout Web promises Mon-Fri
  09:00-17:00 New York.
* Observability (Fay, team observer): an empty shadow schedule; policy PEDIRECT
  pages Cy (email only: unreachable) and a deleted user, then a deleted
  schedule and a target of unknown type; "Datadog Alerts" is unowned and low
  urgency.

The hand-computed figures each test asserts are worked out in its comments.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from audit.errors import UserError
from audit.facts.build import Facts, build_facts, facts_table
from audit.facts.columns import SCHEMA, check_table, column_names
from audit.facts.raw import by_id
from audit.snapshot import SnapshotWriter, load

SINCE = "2027-01-04T00:00:00Z"
UNTIL = "2027-01-11T00:00:00Z"
WINDOW_HOURS = 168


def ref(kind: str, object_id: str, summary: str | None = None) -> dict[str, Any]:
    return {"id": object_id, "type": f"{kind}_reference", "summary": summary or object_id}


def contact(method_id: str, kind: str, address: str) -> dict[str, Any]:
    return {"id": method_id, "type": f"{kind}_contact_method", "label": kind.title(), "address": address}


def rule(rule_id: str, method_id: str, kind: str, delay: int, urgency: str = "high") -> dict[str, Any]:
    return {
        "id": rule_id,
        "type": "assignment_notification_rule",
        "start_delay_in_minutes": delay,
        "urgency": urgency,
        "contact_method": ref(f"{kind}_contact_method", method_id),
    }


def user(user_id: str, name: str, zone: str, role: str, methods: list, rules: list, **extra: Any) -> dict:
    return {
        "id": user_id, "type": "user", "name": name, "email": f"{name.split()[0].lower()}@acme.example",
        "time_zone": zone, "role": role, "invitation_sent": False, "html_url": f"https://acme.pagerduty.com/users/{user_id}",
        "contact_methods": methods, "notification_rules": rules, **extra,
    }


def entry(user_id: str | None, start: str, end: str) -> dict[str, Any]:
    return {"user": None if user_id is None else ref("user", user_id), "start": start, "end": end}


def layer(layer_id: str, users: list[str], turn_seconds: int, end: str | None = None) -> dict[str, Any]:
    return {
        "id": layer_id, "name": layer_id, "start": "2026-06-07T00:00:00+00:00", "end": end,
        "rotation_virtual_start": "2026-06-07T00:00:00+00:00", "rotation_turn_length_seconds": turn_seconds,
        "users": [{"user": ref("user", u)} for u in users], "restrictions": [],
    }


def v2_schedule(schedule_id: str, name: str, team: str | None, layers: list, entries: list,
                overrides: list | None = None) -> dict[str, Any]:
    return {
        "id": schedule_id, "type": "schedule", "name": name, "time_zone": "Europe/London",
        "html_url": f"https://acme.pagerduty.com/schedules/{schedule_id}",
        "teams": [ref("team", team)] if team else [], "schedule_layers": layers,
        "final_schedule": {"name": "Final Schedule", "rendered_schedule_entries": entries},
        "overrides_subschedule": {"name": "Overrides", "rendered_schedule_entries": overrides or []},
    }


def assignment(user_id: str | None, start: str, end: str, source: str = "schedule_rotation") -> dict[str, Any]:
    member = {"type": "empty_member"} if user_id is None else {"type": "user_member", "user_id": user_id}
    return {"type": "computed_shift_assignment", "start_time": start, "end_time": end, "member": member,
            "source": {"type": source, "rotation_id": "ROT1"}}


def level(rule_id: str, delay: int, *targets: dict[str, Any]) -> dict[str, Any]:
    return {"id": rule_id, "escalation_delay_in_minutes": delay, "targets": list(targets)}


def policy(policy_id: str, name: str, team: str | None, rules: list, loops: int = 0) -> dict[str, Any]:
    return {"id": policy_id, "type": "escalation_policy", "name": name, "num_loops": loops,
            "html_url": f"https://acme.pagerduty.com/escalation_policies/{policy_id}",
            "teams": [ref("team", team)] if team else [], "escalation_rules": rules}


def service(service_id: str, name: str, teams: list[str], policy_id: str, description: str, **extra: Any) -> dict:
    return {
        "id": service_id, "type": "service", "name": name, "description": description, "status": "active",
        "html_url": f"https://acme.pagerduty.com/service-directory/{service_id}",
        "escalation_policy": ref("escalation_policy", policy_id), "teams": [ref("team", t) for t in teams],
        "incident_urgency_rule": {"type": "constant", "urgency": "high"}, "support_hours": None,
        "acknowledgement_timeout": 1800, "auto_resolve_timeout": None, "integrations": [], "addons": [], **extra,
    }


def acme_account() -> dict[str, list[Any]]:
    """The collections of the account described in the module docstring."""
    users = [
        user("PUADA", "Ada Lovelace", "Europe/London", "user",
             [contact("CA1", "push_notification", "ada-phone"), contact("CA2", "phone", "447700900001"),
              contact("CA3", "email", "ada@acme.example")],
             [rule("RA1", "CA1", "push_notification", 0), rule("RA2", "CA2", "phone", 5),
              rule("RA3", "CA3", "email", 0, "low")],
             ),
        user("PUBOB", "Bob Babbage", "Europe/London", "limited_user",
             [contact("CB1", "sms", "447700900002"), contact("CB2", "phone", "447700900002")],
             [rule("RB1", "CB1", "sms", 0), rule("RB2", "CB2", "phone", 3)]),
        user("PUCY", "Cy Shannon", "America/New_York", "user",
             [contact("CC1", "email", "cy@acme.example")], [rule("RC1", "CC1", "email", 0)]),
        user("PUDEE", "Dee Hopper", "America/New_York", "admin",
             [contact("CD1", "push_notification", "dee-phone"), contact("CD2", "phone", "12025550101")],
             [rule("RD1", "CD1", "push_notification", 0), rule("RD2", "CD2", "phone", 10)]),
        {**user("PUEVE", "Eve Tanaka", "Asia/Tokyo", "observer",
                [contact("CE1", "phone", "81312345678")], [rule("RE1", "CE1", "phone", 0)]),
         "invitation_sent": True},
        user("PUFAY", "Fay Noether", "UTC", "user", [], []),
    ]
    teams = [
        {"id": "PTPAY", "type": "team", "name": "Payments", "html_url": "https://acme.pagerduty.com/teams/PTPAY"},
        {"id": "PTCHK", "type": "team", "name": "Checkout", "html_url": "https://acme.pagerduty.com/teams/PTCHK"},
        {"id": "PTOBS", "type": "team", "name": "Observability", "html_url": None},
    ]
    memberships = [("PTPAY", "PUADA", "manager"), ("PTPAY", "PUBOB", "responder"), ("PTPAY", "PUCY", "responder"),
                   ("PTCHK", "PUDEE", "manager"), ("PTCHK", "PUEVE", "responder"), ("PTOBS", "PUFAY", "observer")]
    schedules = [
        v2_schedule(
            "PSPAY1", "Payments primary", "PTPAY", [layer("L1", ["PUADA", "PUBOB"], 604800)],
            [entry("PUADA", "2027-01-04T00:00:00Z", "2027-01-06T09:00:00Z"),
             entry("PUBOB", "2027-01-05T10:00:00Z", "2027-01-05T12:00:00Z"),  # nested in Ada's shift
             entry("PUCY", "2027-01-06T09:00:00Z", "2027-01-06T17:00:00Z"),  # Cy's override
             entry("PUADA", "2027-01-06T17:00:00Z", "2027-01-07T09:00:00Z"),
             entry(None, "2027-01-07T09:00:00Z", "2027-01-07T21:00:00Z"),  # the gap
             entry("PUBOB", "2027-01-07T21:00:00Z", "2027-01-11T00:00:00Z")],
            overrides=[entry("PUCY", "2027-01-06T09:00:00Z", "2027-01-06T17:00:00Z")],
        ),
        v2_schedule("PSPAY2", "Payments backup", "PTPAY", [layer("L2", ["PUCY", "PUADA"], 86400)],
                    [entry("PUCY", "2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z")]),
        v2_schedule("PSOLD", "Old rota", "PTPAY", [layer("L3", [], 86400, end="2026-12-01T00:00:00Z")], []),
        v2_schedule("PSSHADOW", "Platform shadow", "PTOBS", [layer("L4", [], 604800)], []),
    ]
    schedules_v3 = [{
        "id": "PSCHK", "type": "schedule_v3", "name": "Checkout rota", "time_zone": "America/New_York",
        "html_url": "https://acme.pagerduty.com/schedules/PSCHK", "teams": [ref("team", "PTCHK")],
        "rotations": [{"id": "ROT1", "type": "schedule_rotation", "events": [{
            "id": "EV1", "type": "schedule_event", "name": "Weekly",
            "start_time": {"date_time": "2026-12-28T09:00:00-05:00", "time_zone": "America/New_York"},
            "end_time": {"date_time": "2026-12-29T09:00:00-05:00", "time_zone": "America/New_York"},
            "effective_since": "2026-12-28T14:00:00Z", "effective_until": None, "recurrence": ["RRULE:FREQ=DAILY"],
            "assignment_strategy": {"type": "rotating_member_assignment_strategy", "shifts_per_member": 7,
                                    "members": [{"type": "user_member", "user_id": "PUDEE"},
                                                {"type": "empty_member"}]},
        }]}],
        "final_schedule": {"type": "final_schedule", "rendered_coverage_percentage": 92.857, "computed_shift_assignments": [
            assignment("PUDEE", "2027-01-04T00:00:00Z", "2027-01-07T12:00:00Z"),
            assignment(None, "2027-01-07T12:00:00Z", "2027-01-08T00:00:00Z"),
            assignment("PUEVE", "2027-01-08T00:00:00Z", "2027-01-11T00:00:00Z", "schedule_rotation_override"),
        ]},
    }]
    policies = [
        policy("PEPAY", "Payments EP", "PTPAY", [
            level("R-PAY-1", 10, ref("schedule", "PSPAY1")),
            level("R-PAY-2", 15, ref("schedule", "PSPAY2")),
            level("R-PAY-3", 20, ref("user", "PUADA")),
        ], loops=1),
        policy("PECHK", "Checkout EP", "PTCHK", [
            level("R-CHK-1", 3, ref("schedule_v3", "PSCHK")),
            level("R-CHK-2", 30, ref("schedule_v3", "PSCHK")),
        ]),
        policy("PEDIRECT", "Ops direct", "PTOBS", [
            level("R-DIR-1", 5, ref("user", "PUCY"), ref("user", "PUGONE")),
            level("R-DIR-2", 30, ref("schedule", "PSGONE"), {"id": "PTOBS", "type": "team_reference"}),
        ]),
        {"id": "PEEMPTY", "type": "escalation_policy", "name": "Unused EP", "escalation_rules": None, "teams": None},
    ]
    services = [
        service("PSVC1", "Payments API", ["PTPAY"], "PEPAY",
                "Authorises and captures card payments for checkout. Runbook: https://wiki.acme.example/pay "
                "(code: https://git.acme.example/payments-api).",
                integrations=[{"id": "I1", "type": "generic_events_api_inbound_integration_reference"},
                              {"id": "I2", "type": "generic_email_inbound_integration_reference"}],
                addons=[{"id": "A1", "type": "full_page_addon_reference"}]),
        service("PSVC2", "Checkout Web", ["PTCHK"], "PECHK", "Checkout Web",
                incident_urgency_rule={"type": "use_support_hours",
                                       "during_support_hours": {"type": "constant", "urgency": "high"},
                                       "outside_support_hours": {"type": "constant", "urgency": "low"}},
                support_hours={"type": "fixed_time_per_day", "time_zone": "America/New_York",
                               "days_of_week": [1, 2, 3, 4, 5], "start_time": "09:00:00", "end_time": "17:00:00"},
                acknowledgement_timeout=None, auto_resolve_timeout=14400,
                integrations=[{"id": "I3", "type": "generic_events_api_inbound_integration_reference"}]),
        service("PSVC3", "Datadog Alerts", [], "PEDIRECT", "",
                incident_urgency_rule={"type": "constant", "urgency": "low"}),
        {**service("PSVC4", "CRM", ["PTPAY", "PTCHK"], "PEPAY", "Customer records"), "status": "disabled"},
        {**service("PSVC5", "Ledger Worker", ["PTPAY"], "PEPAY", "Posts captured payments to the ledger."),
         "status": "maintenance"},
    ]
    dependencies = [
        {"id": "D1", "supporting_service": ref("technical_service", "PSVC1"),
         "dependent_service": ref("technical_service", "PSVC5")},
        {"id": "D2", "supporting_service": ref("technical_service", "PSVC5"),
         "dependent_service": ref("technical_service", "PSVC1")},
        {"id": "D3", "supporting_service": ref("technical_service", "PSVC1"),
         "dependent_service": ref("business_service", "PBS1")},
    ]
    oncalls = [{"user": ref("user", "PUBOB"), "schedule": ref("schedule", "PSPAY1"),
                "escalation_policy": ref("escalation_policy", "PEPAY"), "escalation_level": 1,
                "start": "2027-01-07T21:00:00Z", "end": "2027-01-14T21:00:00Z"}]
    return {
        "teams": teams,
        "team_members": [{"team_id": t, "member": {"user": ref("user", u), "role": r}} for t, u, r in memberships],
        "users": users,
        "services": services,
        "escalation_policies": policies,
        "schedules": schedules,
        "schedules_v3": schedules_v3,
        "oncalls": oncalls,
        "business_services": [{"id": "PBS1", "type": "business_service", "name": "Online checkout"}],
        # Crawled for users on call; Bob's came back empty, Cy's was not fetched.
        "handoff_rules": [
            {"user_id": "PUADA", "oncall_handoff_notification_rules": [
                {"id": "HA1", "type": "oncall_handoff_notification_rule", "handoff_type": "both",
                 "notify_advance_in_minutes": 60, "contact_method": ref("push_notification_contact_method", "CA1")}]},
            {"user_id": "PUBOB", "oncall_handoff_notification_rules": []},
        ],
        "service_dependencies": dependencies,
        # Listed apart from the services (GET /extensions): Checkout's chat channel, and a webhook on both.
        "extensions": [
            {"id": "PX1", "type": "extension", "name": "#checkout", "extension_objects": [ref("service", "PSVC2")],
             "extension_schema": {"id": "PSLACK", "type": "extension_schema_reference"}},
            {"id": "PX2", "type": "extension", "name": "Change log", "extension_schema": {"id": "PHOOK"},
             "extension_objects": [ref("service", "PSVC1"), ref("service", "PSVC2"), ref("service", "PSVC2")]},
        ],
    }


def write_snapshot(path: Path, collections: dict[str, list[Any]], unavailable: dict[str, str] | None = None) -> Path:
    """Write ``collections`` as a finished snapshot, the way the crawler does (one unit each)."""
    writer = SnapshotWriter(path)
    statuses: dict[str, dict[str, Any]] = {}
    for name, objects in collections.items():
        if unavailable and name in unavailable:
            continue
        writer.write_unit(f"{name}:all", name, objects)
        statuses[name] = {"status": "complete", "count": len(objects)}
    for name, reason in (unavailable or {}).items():
        statuses[name] = {"status": "unavailable", "count": 0, "http_status": 402, "reason": reason}
    return writer.finish({"window": {"since": SINCE, "until": UNTIL, "days": 7}, "collections": statuses})


def build(tmp_path: Path, collections: dict[str, list[Any]] | None = None, **kwargs: Any) -> Facts:
    unavailable = kwargs.pop("unavailable", None)
    path = write_snapshot(tmp_path / "snap", collections or acme_account(), unavailable)
    return build_facts(load(path), **kwargs)


def build_acme(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    """The Acme facts with Payments API declared tier 1 and Checkout Web tier 2."""
    return build(tmp_path_factory.mktemp("acme"), tiers={"PSVC1": 1, "PSVC2": 2})


@pytest.fixture(scope="module")
def acme_facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    return build_acme(tmp_path_factory)


# --- the stage as a whole -------------------------------------------------------------


def test_every_table_matches_its_documented_schema(acme_facts: Facts) -> None:
    assert set(acme_facts.tables) == set(SCHEMA)
    for entity, table in acme_facts.tables.items():
        check_table(entity, table)
        assert list(table.index) == list(table["id"]), entity
        assert all(column.description for column in SCHEMA[entity].values())


def test_rows_are_one_per_object(acme_facts: Facts) -> None:
    tables = acme_facts.tables
    assert sorted(tables["service"].index) == ["PSVC1", "PSVC2", "PSVC3", "PSVC4", "PSVC5"]
    assert sorted(tables["schedule"].index) == ["PSCHK", "PSOLD", "PSPAY1", "PSPAY2", "PSSHADOW"]
    assert sorted(tables["escalation_policy"].index) == ["PECHK", "PEDIRECT", "PEEMPTY", "PEPAY"]
    assert list(tables["policy_level"]["id"]) == ["R-PAY-1", "R-PAY-2", "R-PAY-3", "R-CHK-1", "R-CHK-2",
                                                  "R-DIR-1", "R-DIR-2"]
    assert len(tables["user"]) == 6 and len(tables["team"]) == 3


def test_window_is_aware_and_from_the_manifest(acme_facts: Facts) -> None:
    assert acme_facts.window == (datetime(2027, 1, 4, tzinfo=UTC), datetime(2027, 1, 11, tzinfo=UTC))
    assert acme_facts.unavailable == {
        name: f"the snapshot has no {name} collection"
        for name in ("abilities", "standards", "standards_scores", "incidents")
    }


def test_rollup_reaches_the_services_each_object_affects(acme_facts: Facts) -> None:
    rollup = acme_facts.service_ids_by_entity
    assert rollup[("escalation_policy", "PEPAY")] == ["PSVC1", "PSVC4", "PSVC5"]
    assert rollup[("schedule", "PSPAY2")] == ["PSVC1", "PSVC4", "PSVC5"]
    assert rollup[("schedule", "PSCHK")] == ["PSVC2"]
    # Cy is on call through PEPAY (override on L1, all week on L2) and PEDIRECT (direct target).
    assert rollup[("user", "PUCY")] == ["PSVC1", "PSVC3", "PSVC4", "PSVC5"]
    assert rollup[("user", "PUEVE")] == ["PSVC2"]
    assert ("user", "PUFAY") not in rollup  # on call nowhere
    assert ("schedule", "PSOLD") not in rollup  # no policy targets it
    assert rollup[("team", "PTCHK")] == ["PSVC2", "PSVC4"]
    engine_rollup = acme_facts.rollup()
    assert engine_rollup.services_of("schedule", "PSCHK") == ("PSVC2",)
    assert engine_rollup.teams_of("user", "PUEVE", ("PSVC2",)) == ("PTCHK",)
    assert engine_rollup.team_ids["PSVC3"] == []


def test_column_names_are_what_the_rule_engine_validates_against() -> None:
    names = column_names()
    assert {"team_count", "description_length", "l1_promise_coverage_pct"} <= names["service"]
    assert {"distinct_target_levels", "l1_user_targets", "l1_delay_minutes"} <= names["escalation_policy"]
    assert "coverage_pct" in names["schedule"] and "reachable" in names["user"]


def test_unavailable_collections_are_reported_and_their_targets_unresolved(tmp_path: Path) -> None:
    facts = build(tmp_path, unavailable={"schedules_v3": "HTTP 402: the plan lacks shift-based schedules"})
    assert facts.unavailable["schedules_v3"] == "HTTP 402: the plan lacks shift-based schedules"
    checkout = facts.tables["escalation_policy"].loc["PECHK"]
    # The v3 schedule cannot be read, so it is not "deleted": it is unresolved, and covers nothing.
    assert checkout["unresolved_targets"] == ["schedule_v3:PSCHK", "schedule_v3:PSCHK"]
    assert checkout["deleted_targets"] == []
    assert checkout["level1_coverage_pct"] == 0.0
    assert "PSCHK" not in facts.tables["schedule"].index


def test_odd_but_legal_data_builds_without_errors(tmp_path: Path) -> None:
    account = {
        "users": [{"id": "PU1", "type": "user", "name": None, "contact_methods": None, "notification_rules": None,
                   "teams": None, "time_zone": None, "role": None}],
        "teams": [{"id": "PT1", "type": "team", "name": "Lonely"}],
        "team_members": [],
        "services": [{"id": "PS1", "type": "service", "name": "Bare", "escalation_policy": None, "teams": None,
                      "incident_urgency_rule": None, "integrations": None, "description": None, "status": None}],
        "escalation_policies": [
            {"id": "PE1", "type": "escalation_policy", "name": "Odd", "num_loops": None, "escalation_rules": [
                {"id": "R1", "escalation_delay_in_minutes": None, "targets": None},
                {"id": "R2", "escalation_delay_in_minutes": 10, "targets": [{"type": "user_reference"},
                                                                           {"id": "X", "type": "mystery"}]},
            ]},
        ],
        "schedules": [{"id": "PSC1", "type": "schedule", "name": "No layers", "time_zone": "Mars/Olympus",
                       "schedule_layers": None, "final_schedule": None}],
        "schedules_v3": [{"id": "PSC2", "type": "schedule_v3", "name": "No rotations", "time_zone": "UTC"}],
        "oncalls": [{"user": None, "start": None, "end": None}],
        "service_dependencies": [{"id": "D", "supporting_service": None, "dependent_service": None}],
    }
    facts = build(tmp_path, account)
    for entity, table in facts.tables.items():
        check_table(entity, table)
    service = facts.tables["service"].loc["PS1"]
    assert service["team_count"] == 0 and not service["policy_exists"] and service["level_count"] == 0
    assert service["l1_promise_coverage_pct"] == 0.0  # promises 24/7, nobody to page
    odd = facts.tables["escalation_policy"].loc["PE1"]
    assert odd["num_loops"] == 0 and odd["distinct_target_levels"] == 0
    assert odd["unresolved_targets"] == ["user:None", "mystery:X"]
    schedule = facts.tables["schedule"].loc["PSC1"]
    assert schedule["time_zone"] == "UTC" and not schedule["rendered"] and schedule["ended"]
    assert facts.tables["user"].loc["PU1"]["name"] == "PU1"


def test_facts_table_renders_json_and_csv(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path / "snap", acme_account())
    records = json.loads(facts_table(path, "schedule", "json"))
    primary = next(r for r in records if r["id"] == "PSPAY1")
    assert primary["gaps"] == [["2027-01-07T09:00:00Z", "2027-01-07T21:00:00Z"]]
    assert primary["kind"] == "v2"
    csv_text = facts_table(path, "schedule", "csv")
    table = pd.read_csv(__import__("io").StringIO(csv_text))
    row = table.set_index("id").loc["PSPAY1"]
    assert json.loads(row["gaps"]) == [["2027-01-07T09:00:00Z", "2027-01-07T21:00:00Z"]]
    assert list(table.columns) == list(SCHEMA["schedule"])


@pytest.mark.parametrize(("entity", "fmt", "message"), [
    ("widget", "json", "unknown entity 'widget'"),
    ("service", "xml", "unknown format 'xml'"),
])
def test_facts_table_refuses_unknown_entities_and_formats(tmp_path: Path, entity: str, fmt: str,
                                                          message: str) -> None:
    path = write_snapshot(tmp_path / "snap", acme_account())
    with pytest.raises(UserError, match=message):
        facts_table(path, entity, fmt)


# --- the tables as the rule engine sees them ----------------------------------------

RULES_OVER_FACTS = """
rules:
  - id: OWN-01
    title: Service has exactly one owning team
    entity: service
    applies_when: ~is_disabled
    condition: team_count == 1
    severity: high
    level: 1
    mode: S
    rationale: A service is wholly owned by one team.
    fix: Keep exactly one team on the service.
    message: "{name} is owned by {team_count} teams"
  - id: OC-01
    title: Level 1 keeps the service's promise
    entity: service
    applies_when: ~is_disabled
    condition: l1_promise_coverage_pct >= @min_pct
    params:
      min_pct: {default: 100.0, source: G, description: promised time level 1 must cover}
    severity: high
    level: 1
    mode: W
    rationale: Someone must answer when the service promises it.
    fix: Fill the gaps in the level-1 schedule.
    message: "{name} level 1 covers {l1_promise_coverage_pct:.2f}% of its promise"
  - id: ESC-01
    title: Policy has two distinct levels
    entity: escalation_policy
    condition: distinct_target_levels >= 2
    severity: high
    level: 1
    mode: S
    rationale: A second, different level catches what the first misses.
    fix: Add a level with a backup schedule.
    message: "{name} has {distinct_target_levels} distinct level(s)"
  - id: RCH-04
    title: Responders are called before the level escalates
    entity: user
    applies_when: on_call
    condition: first_phone_sms_delay < min_level_delay_minutes
    severity: high
    level: 1
    mode: S
    rationale: A call must come before the incident moves on.
    fix: Add an earlier phone or SMS rule.
    message: "{name} is first called after {first_phone_sms_delay} min"
"""


def test_the_rule_engine_loads_and_evaluates_rules_over_these_tables(acme_facts: Facts, tmp_path: Path) -> None:
    from audit.findings import Status
    from audit.rules import EvaluationContext, evaluate, load_packs

    pack_file = tmp_path / "facts-pack.yaml"
    pack_file.write_text(RULES_OVER_FACTS, encoding="utf-8")
    pack = load_packs([pack_file], column_names(), include_builtin=False)
    evaluation = evaluate(pack, acme_facts.tables, EvaluationContext(rollup=acme_facts.rollup()))
    failing = {(f.rule_id, f.entity_id) for f in evaluation.findings if f.status is Status.FAIL}
    not_applicable = {(f.rule_id, f.entity_id) for f in evaluation.findings if f.status is Status.NOT_APPLICABLE}
    assert failing == {
        ("OWN-01", "PSVC3"),  # unowned
        ("OC-01", "PSVC1"), ("OC-01", "PSVC2"), ("OC-01", "PSVC5"),  # gaps in the promise
        ("ESC-01", "PECHK"), ("ESC-01", "PEDIRECT"), ("ESC-01", "PEEMPTY"),
        ("RCH-04", "PUCY"), ("RCH-04", "PUDEE"),  # no call at all; a call after 10 min on a 3-min level
    }
    # The disabled CRM is listed, never judged on ownership or coverage; Fay is on call nowhere.
    assert {("OWN-01", "PSVC4"), ("OC-01", "PSVC4"), ("RCH-04", "PUFAY")} <= not_applicable
    checkout_finding = next(f for f in evaluation.findings if f.rule_id == "ESC-01" and f.entity_id == "PECHK")
    assert checkout_finding.service_ids == ("PSVC2",) and checkout_finding.team_ids == ("PTCHK",)


def test_timings_name_every_step_and_the_collector_is_restored(tmp_path: Path) -> None:
    import gc

    timings: dict[str, float] = {}
    path = write_snapshot(tmp_path / "snap", acme_account(), None)
    assert gc.isenabled()
    build_facts(load(path), timings=timings)
    assert gc.isenabled()  # paused while building, running again afterwards
    assert set(timings) == {
        "read snapshot", "render schedules", "map tiers", "read people", "resolve policies", "user table", "service table",
        "escalation_policy table", "policy_level table", "schedule table", "team table",
        "waiting for the service table", "waiting for the schedule table",
    }  # fmt: skip
    assert all(seconds >= 0 for seconds in timings.values())
    gc.disable()
    try:
        build_facts(load(path))
        assert not gc.isenabled()  # a caller's choice to run without the collector is kept
    finally:
        gc.enable()


def test_the_facts_do_not_depend_on_the_order_the_crawl_wrote_team_members(tmp_path: Path) -> None:
    # The crawler writes each team's members as its pages arrive, so two crawls of one account can
    # hold the same lines in another order. Cy also responds for Checkout here: a person in two teams.
    account = acme_account()
    account["team_members"].append({"team_id": "PTCHK", "member": {"user": ref("user", "PUCY"), "role": "responder"}})
    first = build(tmp_path / "first", account)
    account["team_members"].reverse()
    second = build(tmp_path / "second", account)
    assert sorted(first.tables["user"].loc["PUCY", "team_ids"]) == ["PTCHK", "PTPAY"]
    for entity, table in first.tables.items():
        pd.testing.assert_frame_equal(table, second.tables[entity], obj=entity)


def test_tiers_worked_out_from_the_services_read_match_tiers_given(tmp_path: Path) -> None:
    # assess maps the tiers from the services the stage reads (one read of services.jsonl): the
    # function sees every service by id and its tiers reach the service and policy tables as a mapping's do.
    path = write_snapshot(tmp_path / "snap", acme_account(), None)
    seen: list[list[str]] = []

    def by_name(services):
        seen.append(sorted(services))
        return {sid: 1 if "pay" in str(s.get("name", "")).lower() else 2 for sid, s in services.items()}

    mapped = build_facts(load(path), tiers=by_name)
    given = build_facts(load(path), tiers=by_name(by_id(load(path).iter("services"))))
    assert seen[0] == seen[1] and len(seen[0]) >= 5
    assert set(mapped.tables["service"]["tier"]) == {1.0, 2.0}
    for entity in ("service", "escalation_policy"):
        assert mapped.tables[entity].equals(given.tables[entity]), entity
