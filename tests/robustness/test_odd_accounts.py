"""Odd but legal API data goes through crawl -> facts -> rules -> scores (-> reports) without a crash.

Each named case takes the realistic Northwind account (tests/emulator/conftest.py), gives it one
oddity PagerDuty really returns, crawls it through the in-process emulator, scores the snapshot,
and checks that the facts and findings name what is broken. The last test lets hypothesis build
whole accounts from the OpenAPI subset's optional and nullable fields (tests/robustness/strategies.py)
and drives every one of them through the same pipeline and every output format.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from audit.assess import Assessment, assess
from audit.emulator.account import build_account
from audit.emulator.app import create_app
from audit.facts.columns import SCHEMA, check_table
from audit.findings import Finding, Status
from audit.outputs.score_writers import SCORE_FORMATS
from tests.crawl.conftest import BASE_URL, SINCE, TOKEN, crawl, emulator_app
from tests.emulator.conftest import northwind_account
from tests.reference import OPENAPI_SUBSET
from tests.robustness.strategies import (
    DELETED_SCHEDULE,
    DELETED_SCHEDULE_V3,
    DELETED_USER,
    INJECTED_MARKUP,
    UNKNOWN_TARGET_TYPES,
    ApiSchema,
    accounts,
)

# What a terminal would act on; the table's own line breaks aside.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _judge(account: dict[str, Any], tmp_path: Path) -> Assessment:
    """Serve ``account``, crawl it, score the snapshot with the built-in packs and no config."""
    snapshot, _ = crawl(emulator_app(account, tmp_path), tmp_path / "snapshot")
    return assess(snapshot, cwd=tmp_path, env={})


def _finding(assessment: Assessment, rule_id: str, entity_id: str) -> Finding:
    matches = [f for f in assessment.findings if f.rule_id == rule_id and f.entity_id == entity_id]
    assert len(matches) == 1, f"{rule_id} on {entity_id}: {matches}"
    return matches[0]


def _policy(account: dict[str, Any], policy_id: str) -> dict[str, Any]:
    return next(p for p in account["escalation_policies"] if p["id"] == policy_id)


@pytest.fixture
def northwind() -> dict[str, Any]:
    return copy.deepcopy(northwind_account())


# ---------------------------------------------------------------- named cases


def test_nulls_where_the_api_allows_them(northwind, tmp_path):
    # Nullable per the OpenAPI subset: timeouts (null = off), a layer's end, a user's time
    # zone and bio. (Northwind already has a business service whose team is null and a v3
    # event whose effective_until is null.)
    service = northwind["services"][0]
    service["acknowledgement_timeout"] = None
    service["auto_resolve_timeout"] = None
    for user in northwind["users"]:
        user["description"] = None
    northwind["users"][0]["time_zone"] = None
    for layer in northwind["schedules"][0]["schedule_layers"]:
        layer["end"] = None
    assessment = _judge(northwind, tmp_path)

    facts = assessment.facts.tables["service"].loc[service["id"]]
    assert pd.isna(facts["ack_timeout_minutes"]) and pd.isna(facts["auto_resolve_hours"])
    timeouts = _finding(assessment, "SVC-04", service["id"])
    assert timeouts.status is Status.FAIL
    assert "acknowledgement timeout" in timeouts.message
    # Every layer now runs for ever, the one that had ended (lunch cover) included.
    assert assessment.facts.tables["schedule"].loc["PSCH001", "layer_count"] == 3


def test_empty_lists_everywhere_they_may_be_empty(northwind, tmp_path):
    service = northwind["services"][3]
    service["integrations"] = []
    service["addons"] = []
    user = northwind["users"][8]  # Isla, level 1 of the Mobile policy in person
    user["contact_methods"] = []
    user["notification_rules"] = []
    northwind["overrides"] = []
    northwind["service_dependencies"] = []
    northwind["standards_scores"] = []
    assessment = _judge(northwind, tmp_path)

    assert _finding(assessment, "SVC-01", service["id"]).status is Status.FAIL
    assert "integration" in _finding(assessment, "SVC-01", service["id"]).message
    unreachable = _finding(assessment, "RCH-01", user["id"])
    assert unreachable.status is Status.FAIL
    users = assessment.facts.tables["user"]
    assert users.loc[user["id"], "contact_method_types"] == []
    assert not users.loc[user["id"], "reachable"]
    # A directly targeted user nobody can reach covers nothing.
    assert assessment.facts.tables["policy_level"].loc["PER0031", "unreachable_user_targets"] == [user["id"]]


def test_policy_with_no_rules_is_judged_not_crashed(northwind, tmp_path):
    _policy(northwind, "PEP0003")["escalation_rules"] = []
    assessment = _judge(northwind, tmp_path)

    policy = assessment.facts.tables["escalation_policy"].loc["PEP0003"]
    assert policy["level_count"] == 0
    assert policy["level1_coverage_pct"] == 0
    assert _finding(assessment, "ESC-01", "PEP0003").status is Status.FAIL
    assert _finding(assessment, "ESC-07", "PEP0003").status is Status.NOT_APPLICABLE
    # Its service (Mobile Backend) pages nobody: level 1 covers none of the 24/7 promise.
    coverage = _finding(assessment, "OC-01", "PSVC004")
    assert coverage.status is Status.FAIL
    assert "0.00% of the promised time covered" in coverage.message


def test_schedule_with_no_layers(northwind, tmp_path):
    northwind["schedules"][0]["schedule_layers"] = []
    northwind["overrides"] = [o for o in northwind["overrides"] if o["schedule_id"] != "PSCH001"]
    assessment = _judge(northwind, tmp_path)

    schedule = assessment.facts.tables["schedule"].loc["PSCH001"]
    assert (schedule["layer_count"], schedule["people_count"], schedule["coverage_pct"]) == (0, 0, 0)
    health = _finding(assessment, "OC-11", "PSCH001")
    assert health.status is Status.FAIL
    assert "ended: yes" in health.message


def test_schedule_whose_layers_have_all_ended(northwind, tmp_path):
    for layer in northwind["schedules"][0]["schedule_layers"]:
        layer["end"] = "2026-06-01T00:00:00-04:00"  # months before the 2027 window
    assessment = _judge(northwind, tmp_path)

    schedule = assessment.facts.tables["schedule"].loc["PSCH001"]
    assert schedule["ended"] and schedule["layer_count"] == 0
    assert "ended: yes" in _finding(assessment, "OC-11", "PSCH001").message
    # Rotation rules do not judge an ended schedule; the services it fed lose their cover.
    assert _finding(assessment, "OC-03", "PSCH001").status is Status.NOT_APPLICABLE
    assert _finding(assessment, "OC-01", "PSVC001").status is Status.FAIL


def test_targets_pointing_at_deleted_users_and_schedules(northwind, tmp_path):
    # Isla's account was deleted: the Mobile policy's level 1 still names her (PagerDuty keeps it).
    _policy(northwind, "PEP0003")["escalation_rules"][0]["targets"] = [{"id": DELETED_USER, "type": "user_reference"}]
    _policy(northwind, "PEP0001")["escalation_rules"][0]["targets"].append(
        {"id": DELETED_SCHEDULE, "type": "schedule_reference"})
    _policy(northwind, "PEP0002")["escalation_rules"][0]["targets"].append(
        {"id": DELETED_SCHEDULE_V3, "type": "schedule_v3_reference"})
    assessment = _judge(northwind, tmp_path)

    policies = assessment.facts.tables["escalation_policy"]
    assert policies.loc["PEP0003", "deleted_targets"] == [f"user:{DELETED_USER}"]
    assert policies.loc["PEP0001", "deleted_targets"] == [f"schedule:{DELETED_SCHEDULE}"]
    assert policies.loc["PEP0002", "deleted_targets"] == [f"schedule_v3:{DELETED_SCHEDULE_V3}"]
    assert assessment.facts.tables["policy_level"].loc["PER0031", "coverage_pct"] == 0
    # The live schedule beside the deleted one still covers Payments; Mobile's level 1 covers nothing,
    # and its findings say why: the person level 1 names is gone.
    mobile = _finding(assessment, "OC-01", "PSVC004")
    assert mobile.status is Status.FAIL
    assert mobile.message.endswith(f"; targets that no longer exist: level 1 user {DELETED_USER}")
    assert _finding(assessment, "ESC-01", "PEP0003").message.endswith(
        f"; targets that no longer exist: level 1 user {DELETED_USER}")
    assert "no longer exist" not in _finding(assessment, "OC-01", "PSVC001").message
    assert policies.loc["PEP0001", "level1_coverage_pct"] == 100
    # A deleted user is still a user target in the configuration ESC-03 judges.
    assert "1 user target at level 1" in _finding(assessment, "ESC-03", "PEP0003").message


def test_unknown_target_type(northwind, tmp_path):
    unknown = {"id": "PUNKNWN", "type": UNKNOWN_TARGET_TYPES[0]}
    _policy(northwind, "PEP0002")["escalation_rules"][0]["targets"].append(unknown)
    assessment = _judge(northwind, tmp_path)

    assert assessment.facts.tables["escalation_policy"].loc["PEP0002", "unresolved_targets"] == ["team:PUNKNWN"]
    assert assessment.facts.tables["policy_level"].loc["PER0021", "target_count"] == 2
    assert _finding(assessment, "ESC-01", "PEP0002").status is Status.FAIL


def test_emulator_serves_dangling_targets_as_pagerduty_does(northwind):
    # The emulator must not refuse what PagerDuty returns: the policy lists every target,
    # include[]=targets expands the ones that exist, and /oncalls names only real people.
    targets = [{"id": "PSCH001", "type": "schedule_reference"}, {"id": DELETED_USER, "type": "user_reference"},
               {"id": "PUNKNWN", "type": UNKNOWN_TARGET_TYPES[1]}]
    _policy(northwind, "PEP0003")["escalation_rules"][0]["targets"] = targets
    app = create_app(build_account(northwind, source="northwind.json"), tokens=[TOKEN], clock=lambda: SINCE)
    with httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url=BASE_URL,
                       headers={"Authorization": f"Token token={TOKEN}"}) as http:
        plain = http.get("/escalation_policies/PEP0003").json()["escalation_policy"]
        expanded = http.get("/escalation_policies/PEP0003", params={"include[]": "targets"}).json()
        oncalls = http.get("/oncalls", params={"escalation_policy_ids[]": "PEP0003"}).json()["oncalls"]
    served = plain["escalation_rules"][0]["targets"]
    assert [(t["id"], t["type"]) for t in served] == [
        ("PSCH001", "schedule_reference"), (DELETED_USER, "user_reference"), ("PUNKNWN", UNKNOWN_TARGET_TYPES[1])]
    full = expanded["escalation_policy"]["escalation_rules"][0]["targets"]
    assert full[0]["type"] == "schedule" and full[0]["name"] == "Payments primary"
    assert [t["id"] for t in full[1:]] == [DELETED_USER, "PUNKNWN"]
    assert oncalls and all(entry["user"]["id"] != DELETED_USER for entry in oncalls)


def test_unknown_contact_method_type_is_named_not_dropped(northwind, tmp_path):
    amara = northwind["users"][0]
    amara["contact_methods"].append({"id": "PCMSLCK", "type": "slack_dm_contact_method", "label": "Slack",
                                     "address": "U024BE7LH"})
    amara["notification_rules"] = [{"id": "PNRSLCK", "type": "assignment_notification_rule",
                                    "start_delay_in_minutes": 0, "urgency": "high",
                                    "contact_method": {"id": "PCMSLCK", "type": "slack_dm_contact_method_reference"}}]
    assessment = _judge(northwind, tmp_path)

    user = assessment.facts.tables["user"].loc[amara["id"]]
    assert "slack_dm" in user["contact_method_types"]
    assert user["high_urgency_methods"] == ["slack_dm"]
    assert not user["reachable"]
    email_only = _finding(assessment, "RCH-02", amara["id"])
    assert email_only.status is Status.FAIL
    assert "slack_dm" in email_only.message


def test_users_with_no_time_zone(northwind, tmp_path):
    northwind["users"][0]["time_zone"] = None
    del northwind["users"][6]["time_zone"]  # Greta: left out entirely
    assessment = _judge(northwind, tmp_path)

    users = assessment.facts.tables["user"]
    assert users.loc["PUSR001", "time_zone"] == "UTC" and users.loc["PUSR007", "time_zone"] == "UTC"
    assert users.loc["PUSR002", "time_zone"] == "America/New_York"
    # Night-time load is still measured for Greta's team, in UTC for her.
    assert not pd.isna(assessment.facts.tables["team"].loc["PTEAM02", "max_night_share_pct"])


def test_services_in_maintenance(northwind, tmp_path):
    northwind["services"][1]["status"] = "maintenance"
    northwind["services"][2]["status"] = "disabled"
    assessment = _judge(northwind, tmp_path)

    services = assessment.facts.tables["service"]
    assert services.loc["PSVC002", "in_maintenance"] and not services.loc["PSVC002", "is_disabled"]
    # Maintenance is temporary: the service is still judged like any other.
    assert _finding(assessment, "OC-01", "PSVC002").status is Status.PASS
    assert _finding(assessment, "OC-01", "PSVC003").status is Status.NOT_APPLICABLE
    assert _finding(assessment, "SVC-07", "PSVC003").status is Status.FAIL


def test_csv_output_survives_a_carriage_return_in_a_name(northwind, tmp_path):
    northwind["services"][0]["name"] = "Payments\rAPI"  # pasted from a Windows tool
    rows = list(csv.reader(io.StringIO(SCORE_FORMATS["csv"](_judge(northwind, tmp_path), all_findings=True))))
    assert {len(row) for row in rows} == {len(rows[0])}
    assert any(row[rows[0].index("entity_name")] == "Payments\rAPI" for row in rows[1:])


# ---------------------------------------------------------------- generated accounts


def _report_writer() -> Callable[..., Any] | None:
    """``audit.reports.write_reports`` once it exists; None until then (see the test below)."""
    try:
        from audit.reports import write_reports
    except ImportError:
        return None
    return write_reports


def test_report_stage_is_part_of_the_generated_account_run():
    if _report_writer() is None:
        pytest.skip("audit.reports.write_reports does not exist yet: generated accounts skip the report step")
    assert callable(_report_writer())


def _check_assessment(account: dict[str, Any], assessment: Assessment) -> None:
    tables = assessment.facts.tables
    for entity in SCHEMA:
        check_table(entity, tables[entity])
    assert sorted(tables["service"].index) == sorted(s["id"] for s in account["services"])
    assert sorted(tables["user"].index) == sorted(u["id"] for u in account["users"])
    for policy in account["escalation_policies"]:
        named = tables["escalation_policy"].loc[policy["id"], "deleted_targets"] + \
            tables["escalation_policy"].loc[policy["id"], "unresolved_targets"]
        for target in (t for rule in policy["escalation_rules"] for t in rule["targets"]):
            if target["id"] in (DELETED_USER, DELETED_SCHEDULE, DELETED_SCHEDULE_V3, "PUNKNWN"):
                assert any(label.endswith(f":{target['id']}") for label in named), (policy["id"], target, named)
    for finding in assessment.findings:
        assert finding.status in Status and finding.message
    # Names from PagerDuty may hold any character: every output must still parse, and the
    # terminal table must not pass control characters through.
    assert json.loads(SCORE_FORMATS["json"](assessment))
    rows = list(csv.reader(io.StringIO(SCORE_FORMATS["csv"](assessment, all_findings=True))))
    assert len(rows) == len(assessment.findings) + 1 and {len(row) for row in rows} == {len(rows[0])}
    assert not CONTROL_CHARACTERS.search(SCORE_FORMATS["table"](assessment))


# No shrink phase: each example is a whole crawl (~0.3 s), and shrinking a failure took over five
# minutes; hypothesis still prints the failing account and a seed to reproduce it.
@settings(max_examples=40, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(account=st.deferred(lambda: accounts(ApiSchema.load())))  # drawn after the marker's check
@pytest.mark.reference(OPENAPI_SUBSET)
def test_generated_accounts_crawl_score_and_report(account):
    write_reports = _report_writer()
    with tempfile.TemporaryDirectory() as folder:
        tmp_path = Path(folder)
        assessment = _judge(account, tmp_path)
        _check_assessment(account, assessment)
        if write_reports is not None:
            written = write_reports(assessment, tmp_path / "reports", formats=("html",))
            assert written and all(path.is_file() for path in written)
            for path in written:  # names like "<script>alert(1)</script>" arrive escaped
                assert INJECTED_MARKUP not in path.read_text(encoding="utf-8"), path.name
