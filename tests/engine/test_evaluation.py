"""Evaluating packs over fact tables: statuses, messages, exclusions, modes, roll-ups, fingerprints."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest
import yaml

from audit.errors import UserError
from audit.facts.columns import ANALYTICS_MISSING
from audit.findings import Finding, Mode, RollUp, Severity, Status, Waiver, apply_waivers
from audit.rules import EvaluationContext, evaluate, load_packs

from .conftest import DATA

# The planted failures of account.yaml under core.yaml (see the comment at its top).
PLANTED_FAILURES = {
    "OWN-01:service:PSVC004", "OWN-01:service:PSVC005",
    "OWN-05:service:PSVC004",
    "OWN-06:service:PSVC002", "OWN-06:service:PSVC003", "OWN-06:service:PSVC004", "OWN-06:service:PSVC006",
    "ESC-01:escalation_policy:PEP0003", "ESC-03:escalation_policy:PEP0003", "ESC-07:escalation_policy:PEP0004",
    "OC-01:schedule:PSCH002", "OC-01:schedule:PSCH003", "OC-01:schedule:PSCH004",
    "OC-03:schedule:PSCH003", "OC-03:schedule:PSCH004",
    "OC-06:schedule:PSCH002",
    "RCH-01:user:PUSER04", "RCH-01:user:PUSER05",
    "OWN-02:team:PTEAM03",
}  # fmt: skip
PLANTED_WARNINGS = {"OC-12:team:PTEAM01", "OC-12:team:PTEAM03"}  # info-only: advice, never a failure


def run(pack, account, **context):
    return evaluate(pack, account.facts, EvaluationContext(rollup=account.rollup, **context))


def by_fingerprint(evaluation):
    return {finding.fingerprint: finding for finding in evaluation.findings}


def test_failures_are_exactly_the_planted_problems(core_pack, account):
    findings = run(core_pack, account).findings
    assert {f.fingerprint for f in findings if f.status is Status.FAIL} == PLANTED_FAILURES
    assert {f.fingerprint for f in findings if f.status is Status.WARN} == PLANTED_WARNINGS
    # one finding per rule and row: 13 rules over 6 services, 4 policies, 4 schedules, 5 users, 3 teams
    assert len(findings) == 4 * 6 + 3 * 4 + 3 * 4 + 1 * 5 + 2 * 3


def test_applies_when_false_is_not_applicable(core_pack, account):
    findings = by_fingerprint(run(core_pack, account))
    assert findings["OWN-01:service:PSVC006"].status is Status.NOT_APPLICABLE  # disabled service
    assert findings["OC-06:schedule:PSCH004"].status is Status.NOT_APPLICABLE  # nobody worked it
    assert findings["OWN-01:service:PSVC001"].status is Status.PASS


def test_failure_messages_fill_columns_and_params(core_pack, account):
    findings = by_fingerprint(run(core_pack, account))
    assert findings["OC-01:schedule:PSCH002"].message == (
        "Checkout primary covers level 1 for 97.0% of the window; the promise is 100%"
    )
    assert (
        findings["OWN-01:service:PSVC005"].message == "Shared Cache is owned by 2 teams; exactly one team must own it"
    )
    assert findings["ESC-07:escalation_policy:PEP0004"].message == (
        "Ledger escalates level 1 after 2 min (allowed 5-30)"
    )
    assert findings["OC-03:schedule:PSCH001"].message == "Rotation is big enough to rest people"  # a pass: the title


def test_missing_values_fail_and_read_n_a(core_pack, account):
    account.facts["schedule"].loc[0, "l1_coverage"] = None
    finding = by_fingerprint(run(core_pack, account))["OC-01:schedule:PSCH001"]
    assert finding.status is Status.FAIL
    assert finding.message == "Payments primary covers level 1 for unknown of the window; the promise is 100%"


def test_unavailable_collection_excludes_the_rules_that_need_it(core_pack, account):
    reason = "HTTP 402: the account's plan does not include this feature"
    evaluation = run(core_pack, account, unavailable={"oncalls": reason})
    oc01 = [f for f in evaluation.findings if f.rule_id == "OC-01"]
    assert len(oc01) == 4
    assert {f.status for f in oc01} == {Status.EXCLUDED}
    assert oc01[0].message == f"needs oncalls unavailable ({reason})"
    assert evaluation.not_run["OC-01"] == oc01[0].message
    # rules that do not need on-calls are judged as before
    assert by_fingerprint(evaluation)["OC-03:schedule:PSCH003"].status is Status.FAIL


def test_required_column_absent_from_facts_excludes_until_present(core_pack, account):
    excluded = [f for f in run(core_pack, account).findings if f.rule_id == "SVC-05"]
    assert {f.status for f in excluded} == {Status.EXCLUDED}
    assert excluded[0].message == "needs incidents_per_week not in the service facts"

    account.facts["service"]["incidents_per_week"] = [2.0, 0.5, 42.0, 11.0, 3.0, 0.0]
    judged = {f.entity_id: f for f in run(core_pack, account).findings if f.rule_id == "SVC-05"}
    assert {sid for sid, f in judged.items() if f.status is Status.FAIL} == {"PSVC003", "PSVC004"}
    assert judged["PSVC003"].message == "Checkout Web raised 42 incidents per week"


def test_only_selected_modes_run(core_pack, account):
    evaluation = run(core_pack, account, modes=frozenset({Mode.STATIC}))
    assert {f.mode for f in evaluation.findings} == {Mode.STATIC}
    assert set(evaluation.not_run) == {"OC-01", "OC-06", "SVC-05"}
    assert evaluation.not_run["OC-01"] == "mode W was not selected"


def test_findings_roll_up_to_services_and_their_teams(core_pack, account):
    findings = by_fingerprint(run(core_pack, account))
    policy = findings["ESC-01:escalation_policy:PEP0003"]
    assert policy.service_ids == ("PSVC004", "PSVC005")
    assert policy.team_ids == ("PTEAM02", "PTEAM03")  # PSVC004 is unowned
    team = findings["OWN-02:team:PTEAM03"]
    assert team.service_ids == ("PSVC005",)
    assert team.team_ids == ("PTEAM02", "PTEAM03")
    unused = findings["OC-03:schedule:PSCH004"]
    assert unused.service_ids == () and unused.team_ids == ()
    service = findings["OWN-06:service:PSVC002"]
    assert service.service_ids == ("PSVC002",) and service.team_ids == ("PTEAM01",)
    assert service.html_url == "https://acme.pagerduty.com/service-directory/PSVC002"
    assert service.entity_name == "Ledger Worker"
    assert service.severity is Severity.LOW and service.level == 4


def test_fingerprints_are_stable_and_ignore_names(core_pack, account):
    first = [f.fingerprint for f in run(core_pack, account).findings]
    assert first == [f.fingerprint for f in run(core_pack, account).findings]
    assert len(set(first)) == len(first)
    for table in account.facts.values():
        table["name"] = "Renamed " + table["name"]
    renamed = run(core_pack, account).findings
    assert [f.fingerprint for f in renamed] == first
    assert by_fingerprint(run(core_pack, account))["OWN-01:service:PSVC004"].entity_name == "Renamed Datadog Alerts"


def test_findings_made_by_the_engine_equal_those_the_dataclass_makes(core_pack, account):
    # The engine builds findings with Finding.from_fields (no per-field setattr); each must be the
    # finding Finding(**fields) gives: same fields, same fingerprint, same dict, equal and hashing alike.
    findings = run(core_pack, account).findings
    assert len(findings) > 20
    for made in findings:
        fields = {f.name: getattr(made, f.name) for f in dataclasses.fields(made) if f.init}
        expected = Finding(**fields)
        assert made == expected and hash(made) == hash(expected)
        assert vars(made) == vars(expected) and list(vars(made)) == list(vars(expected))
        assert dataclasses.replace(made, message="changed").fingerprint == made.fingerprint


def test_configured_params_and_severity_change_the_verdict(core_pack, account):
    stricter = core_pack.configured(params={"OC-03": {"min_people": 4}}, severity={"OC-03": Severity.CRITICAL})
    findings = by_fingerprint(run(stricter, account))
    assert findings["OC-03:schedule:PSCH002"].status is Status.FAIL  # 3 people
    assert findings["OC-03:schedule:PSCH002"].message == "Checkout primary rotates 3 people; at least 4 needed"
    assert findings["OC-03:schedule:PSCH001"].status is Status.PASS  # 4 people
    assert findings["OC-03:schedule:PSCH001"].severity is Severity.CRITICAL
    assert core_pack.resolve("OC-03").param_values == {"min_people": 2}  # the original is untouched


LAYER_COLUMNS = ("id", "name", "layer_id", "layer_name", "layer_people")
LAYERS = [
    ("PSCH001", "Payments primary", "PLAYER1", "Weekly", 4),
    ("PSCH001", "Payments primary", "PLAYER2", "Weekend", 0),
    ("PSCH002", "Checkout primary", "PLAYER3", "Follow the sun", 3),
]


@pytest.fixture
def layer_pack():
    columns = {"schedule": {"html_url", *LAYER_COLUMNS}}
    return load_packs([DATA / "packs" / "layers.yaml"], columns, include_builtin=False)


def test_sub_key_makes_one_finding_per_part(account, layer_pack):
    layers = pd.DataFrame(LAYERS, columns=LAYER_COLUMNS)
    context = EvaluationContext(rollup=account.rollup)
    findings = evaluate(layer_pack, {"schedule": layers}, context).findings
    assert {f.fingerprint: f.status for f in findings} == {
        "OC-11:schedule:PSCH001:PLAYER1": Status.PASS,
        "OC-11:schedule:PSCH001:PLAYER2": Status.FAIL,
        "OC-11:schedule:PSCH002:PLAYER3": Status.PASS,
    }
    failing = next(f for f in findings if f.status is Status.FAIL)
    assert failing.sub_key == "PLAYER2" and failing.message == "Payments primary: layer Weekend has nobody in it"
    assert failing.service_ids == ("PSVC001", "PSVC002")

    duplicated = pd.concat([layers, layers.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate rows"):
        evaluate(layer_pack, {"schedule": duplicated}, context)


RUNTIME_RULE = {
    "id": "ACME-07", "title": "Service names are short", "entity": "service", "severity": "low", "level": 4,
    "mode": "S", "rationale": "Short names fit on a phone screen.", "fix": "Rename the service.",
    "message": "{name} is too long", "params": {"max_length": {"default": 30, "source": "T", "description": "chars"}},
}  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("name > @max_length", r"condition: cannot be evaluated over the service facts \(TypeError: "),
        ("team_count + @max_length", "condition: must be true or false for each row, got int64"),
        ("name.str.len()", "condition: must be true or false for each row, got int64"),
    ],
)
def test_expression_errors_over_real_data_are_one_line(account, tmp_path, condition, problem):
    pack_file = tmp_path / "acme.yaml"
    pack_file.write_text(yaml.safe_dump({"rules": [{**RUNTIME_RULE, "condition": condition}]}), encoding="utf-8")
    pack = load_packs([pack_file], account.columns, include_builtin=False)
    with pytest.raises(UserError, match=rf"^{pack_file}: ACME-07: {problem}") as raised:
        run(pack, account)
    assert "\n" not in str(raised.value)


def test_condition_over_parameters_only_applies_to_every_row(account, tmp_path):
    rule = {**RUNTIME_RULE, "condition": "@max_length > 40"}
    pack_file = tmp_path / "acme.yaml"
    pack_file.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    pack = load_packs([pack_file], account.columns, include_builtin=False)
    assert {f.status for f in run(pack, account).findings} == {Status.FAIL}
    relaxed = pack.configured(params={"ACME-07": {"max_length": 50}})
    assert {f.status for f in run(relaxed, account).findings} == {Status.PASS}


def test_string_methods_and_lists_in_conditions(account, tmp_path):
    rule = {
        **RUNTIME_RULE,
        "condition": "~name.str.contains('datadog|nagios', case=False) & (name not in @banned)",
        "params": {"banned": {"default": ["Default Service"], "source": "I", "description": "names"}},
        "message": "{name} is named after a tool or a default ({banned})",
    }
    pack_file = tmp_path / "acme.yaml"
    pack_file.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    pack = load_packs([pack_file], account.columns, include_builtin=False)
    account.facts["service"].loc[0, "name"] = "Default Service"
    failing = {f.entity_id: f.message for f in run(pack, account).findings if f.status is Status.FAIL}
    assert failing == {
        "PSVC001": "Default Service is named after a tool or a default (Default Service)",
        "PSVC004": "Datadog Alerts is named after a tool or a default (Default Service)",
    }


def test_rollup_shape_for_services_is_identity():
    rollup = RollUp(team_ids={"PSVC001": ["PTEAM01"]})
    assert rollup.services_of("service", "PSVC001") == ("PSVC001",)
    assert rollup.teams_of("service", "PSVC001", ("PSVC001",)) == ("PTEAM01",)
    assert rollup.services_of("user", "PUSER09") == ()


def test_waiver_with_sub_key_covers_only_that_part(account, layer_pack):
    layers = pd.DataFrame(LAYERS, columns=LAYER_COLUMNS).assign(layer_people=0)
    findings = evaluate(layer_pack, {"schedule": layers}, EvaluationContext(rollup=account.rollup)).findings
    waiver = Waiver(
        "OC-11", "PSCH001", "Weekend layer is filled in January", "vp@acme.example", dt.date(2027, 1, 31), "PLAYER2"
    )
    outcome = apply_waivers(findings, [waiver], dt.date(2026, 11, 27))
    assert {f.sub_key: f.status for f in outcome.findings} == {
        "PLAYER1": Status.FAIL,
        "PLAYER2": Status.WAIVED,
        "PLAYER3": Status.FAIL,
    }


def test_finding_json_keeps_waiver_and_original_status(core_pack, account):
    waiver = Waiver("OWN-06", "PSVC006", "Retired in Q1", "cto@acme.example", dt.date(2027, 3, 31))
    outcome = apply_waivers(run(core_pack, account).findings, [waiver], dt.date(2026, 11, 27))
    records = json.loads(json.dumps([f.to_json() for f in outcome.findings]))
    legacy = next(r for r in records if r["fingerprint"] == "OWN-06:service:PSVC006")
    assert legacy["status"] == "waived" and legacy["original_status"] == "fail"
    assert legacy["waiver"]["expires"] == "2027-03-31" and legacy["waiver_expired"] is False
    info = next(r for r in records if r["fingerprint"] == "OC-12:team:PTEAM01")
    assert info["level"] == "info" and info["team_ids"] == ["PTEAM01"]


def test_empty_or_missing_tables_judge_nothing(core_pack, account):
    facts = {entity: table for entity, table in account.facts.items() if entity != "team"}
    facts["schedule"] = account.facts["schedule"].iloc[0:0]  # no schedules in this account
    evaluation = run(core_pack, dataclasses.replace(account, facts=facts))
    assert {f.entity_type for f in evaluation.findings} == {"service", "escalation_policy", "user"}
    assert len(evaluation.findings) == 4 * 6 + 3 * 4 + 5
    assert evaluation.not_run["OWN-02"] == "no team facts"
    assert "OC-03" not in evaluation.not_run  # judged, over no schedules


def test_rule_over_another_table_reports_on_its_entity(account):
    pack = load_packs([DATA / "packs" / "levels.yaml"], account.columns, include_builtin=False)
    findings = by_fingerprint(run(pack, account))
    assert {fp: f.status for fp, f in findings.items()} == {
        "ESC-03:escalation_policy:PEP0001:1": Status.PASS,
        "ESC-03:escalation_policy:PEP0001:2": Status.NOT_APPLICABLE,
        "ESC-03:escalation_policy:PEP0001:3": Status.NOT_APPLICABLE,
        "ESC-03:escalation_policy:PEP0003:1": Status.FAIL,
        "ESC-03:escalation_policy:PEP0003:2": Status.NOT_APPLICABLE,
    }
    failing = findings["ESC-03:escalation_policy:PEP0003:1"]
    assert failing.entity_id == "PEP0003" and failing.entity_type == "escalation_policy"
    assert failing.service_ids == ("PSVC004", "PSVC005")
    assert failing.message == "Platform L1 pages PUSER04 directly"


def _rotation_pack(tmp_path, account, **fields):
    """The core pack's OC-03 with a warning threshold: under 2 people fails, under 4 warns."""
    rule = {
        "id": "OC-03", "title": "Rotation is big enough to rest people", "entity": "schedule",
        "condition": "distinct_people >= @recommended_people", "warn_when": "distinct_people >= @min_people",
        "params": {"min_people": {"default": 2, "source": "I", "description": "people below which nobody rests"},
                   "recommended_people": {"default": 4, "source": "T", "description": "our default - people"}},
        "severity": "high", "level": 2, "mode": "S", "rationale": "People need rest.", "fix": "Add people.",
        "message": "{name} rotates {distinct_people} person(s)", **fields,
    }  # fmt: skip
    pack_file = tmp_path / "rotation.yaml"
    pack_file.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    return load_packs([pack_file], account.columns, include_builtin=False)


def test_warn_when_reports_a_warning_at_the_warning_severity_that_does_not_block(account, tmp_path):
    account.facts["schedule"]["distinct_people"] = [5, 3, 1, 4]  # PSCH001..PSCH004
    findings = by_fingerprint(run(_rotation_pack(tmp_path, account), account))
    warned, failed = findings["OC-03:schedule:PSCH002"], findings["OC-03:schedule:PSCH003"]
    assert (warned.status, warned.severity, warned.warning) == (Status.WARN, Severity.LOW, True)
    assert warned.message == "Checkout primary rotates 3 people"
    assert not warned.blocks_level
    assert (failed.status, failed.severity, failed.warning) == (Status.FAIL, Severity.HIGH, False)
    assert not failed.message.startswith("warning") and failed.blocks_level
    assert findings["OC-03:schedule:PSCH001"].status is Status.PASS
    assert findings["OC-03:schedule:PSCH004"].status is Status.PASS  # exactly the recommended 4
    assert not findings["OC-03:schedule:PSCH001"].warning


def test_warning_severity_and_thresholds_are_configurable(account, tmp_path):
    account.facts["schedule"]["distinct_people"] = [5, 3, 1, 4]
    pack = _rotation_pack(tmp_path, account, warn_severity="medium").configured(
        params={"OC-03": {"min_people": 4}}, severity={"OC-03": Severity.CRITICAL}
    )
    findings = by_fingerprint(run(pack, account))
    # With min_people 4 nothing under 4 is a mere warning any more.
    assert findings["OC-03:schedule:PSCH002"].severity is Severity.CRITICAL
    assert not findings["OC-03:schedule:PSCH002"].warning
    pack = _rotation_pack(tmp_path, account, warn_severity="medium")
    assert by_fingerprint(run(pack, account))["OC-03:schedule:PSCH002"].severity is Severity.MEDIUM


def test_warnings_survive_waivers_and_keep_services_levels(account, tmp_path):
    account.facts["schedule"]["distinct_people"] = [5, 3, 5, 5]  # Checkout primary warns, nothing else fails
    findings = run(_rotation_pack(tmp_path, account), account).findings
    waiver = Waiver("OC-03", "PSCH002", "hiring", "lead@acme.example", dt.date(2030, 1, 1))
    outcome = apply_waivers(findings, [waiver], dt.date(2027, 1, 4))
    (waived,) = [f for f in outcome.findings if f.entity_id == "PSCH002"]
    assert waived.status is Status.WAIVED and waived.original_status is Status.WARN
    (open_warning,) = [f for f in findings if f.entity_id == "PSCH002"]
    assert open_warning.service_ids and not open_warning.blocks_level


def test_evaluation_leaves_the_garbage_collector_as_it_found_it(core_pack, account):
    import gc

    assert gc.isenabled()
    run(core_pack, account)
    assert gc.isenabled()


def test_rules_over_incident_analytics_are_excluded_where_they_apply(account, tmp_path):
    # A mode A rule names columns only incident history gives; these facts have none.
    rule = {**RUNTIME_RULE, "id": "ACME-09", "mode": "A", "requires": ["incident_analytics"],
            "applies_when": "team_count >= 1", "condition": "auto_resolved_pct <= @max_length",
            "message": "{auto_resolved_pct:.0f}% resolved themselves"}  # fmt: skip
    pack_file = tmp_path / "acme.yaml"
    pack_file.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    findings = run(load_packs([pack_file], account.columns, include_builtin=False), account).findings
    statuses = {f.entity_id: f.status for f in findings}
    # PSVC004 has no team: the rule does not apply to it, analytics or not.
    assert statuses.pop("PSVC004") is Status.NOT_APPLICABLE
    assert set(statuses.values()) == {Status.EXCLUDED}
    assert {f.message for f in findings if f.status is Status.EXCLUDED} == {f"needs {ANALYTICS_MISSING}"}

    # Without the requirement the analytics column is just an unknown column.
    pack_file.write_text(yaml.safe_dump({"rules": [{**rule, "requires": []}]}), encoding="utf-8")
    with pytest.raises(UserError, match=r"ACME-09: condition: unknown service column 'auto_resolved_pct'"):
        load_packs([pack_file], account.columns, include_builtin=False)


def test_expressions_are_parsed_at_load_only(core_pack, account, monkeypatch):
    # The loader stores the names each expression and message uses on the rule; evaluating
    # (hundreds of rules over large tables) must not parse any of them again.
    def no_parsing(*args, **kwargs):
        raise AssertionError("an expression was parsed again during evaluation")

    for module in ("audit.rules.model", "audit.rules.loader"):
        monkeypatch.setattr(f"{module}.check_expression", no_parsing)
        monkeypatch.setattr(f"{module}.template_fields", no_parsing)
    findings = run(core_pack.configured(), account).findings  # configured copies keep the names
    assert {f.fingerprint for f in findings if f.status is Status.FAIL} == PLANTED_FAILURES
    assert core_pack.resolve("OC-06").names.columns("applies_when")  # what the evaluator reads instead
