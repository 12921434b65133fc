"""The gate: new, unchanged and fixed findings against a baseline; thresholds, waivers, teams, modes."""

from __future__ import annotations

import dataclasses

import pytest

from audit.baseline import create_baseline
from audit.errors import ExitCode, UserError
from audit.findings import Severity, Status
from audit.gate import BaselineState, run_gate

from .conftest import BROKEN_POLICY, TODAY, ci_assess, write_config

BROKEN = f"CIT-01:escalation_policy:{BROKEN_POLICY}"


@pytest.fixture(scope="module")
def base_baseline(ci_snapshots, ci_config):
    return create_baseline(ci_assess(ci_snapshots["base"], ci_config).findings, TODAY)


def test_unchanged_account_passes(ci_snapshots, ci_config, base_baseline):
    result = run_gate(ci_assess(ci_snapshots["base"], ci_config), base_baseline)
    assert result.passed and result.exit_code is ExitCode.OK
    assert result.new == () and result.absent == ()
    assert {f.fingerprint for f in result.unchanged} == {e.fingerprint for e in base_baseline.entries}


def test_breaking_one_policy_is_the_only_new_violation(ci_snapshots, ci_config, base_baseline):
    result = run_gate(ci_assess(ci_snapshots["broken"], ci_config), base_baseline)
    assert [f.fingerprint for f in result.new] == [BROKEN]
    assert result.blocking == result.new and result.exit_code is ExitCode.NEW_VIOLATIONS
    assert result.state_of(result.new[0]) is BaselineState.NEW
    assert all(result.state_of(f) is BaselineState.UNCHANGED for f in result.unchanged)
    assert len(result.unchanged) == len(base_baseline)


def test_a_fixed_finding_is_reported_absent(ci_snapshots, ci_config, base_baseline):
    result = run_gate(ci_assess(ci_snapshots["fixed"], ci_config), base_baseline)
    assert [e.fingerprint for e in result.absent] == ["CIT-01:escalation_policy:PEP0013"]
    assert [f.fingerprint for f in result.new] == [BROKEN]
    assert result.unjudged == ()


@pytest.mark.parametrize("fail_on, fails", [(Severity.LOW, True), (Severity.HIGH, True), (Severity.CRITICAL, False)])
def test_threshold_decides_but_new_findings_are_always_listed(ci_snapshots, ci_config, base_baseline, fail_on, fails):
    result = run_gate(ci_assess(ci_snapshots["broken"], ci_config), base_baseline, fail_on=fail_on)
    assert [f.fingerprint for f in result.new] == [BROKEN]  # a high finding
    assert result.passed is not fails
    assert len(result.blocking) == (1 if fails else 0)


def _waiver(expires: str) -> dict[str, str]:
    return {"rule": "CIT-01", "object_id": BROKEN_POLICY, "reason": "Backup rota being rebuilt after re-org",
            "approved_by": "cto@acme.example", "expires": expires}


def test_a_valid_waiver_never_fails_the_gate(ci_snapshots, base_baseline, tmp_path):
    config = write_config(tmp_path / "pd-audit.toml", [_waiver("2027-03-31")])
    result = run_gate(ci_assess(ci_snapshots["broken"], config), base_baseline, fail_on=Severity.LOW)
    assert result.passed and result.new == ()
    assert [f.fingerprint for f in result.waived] == [BROKEN]
    assert result.waived[0].status is Status.WAIVED


def test_an_expired_waiver_reopens_the_finding_as_new(ci_snapshots, base_baseline, tmp_path):
    config = write_config(tmp_path / "pd-audit.toml", [_waiver("2027-01-03")])  # the day before TODAY
    result = run_gate(ci_assess(ci_snapshots["broken"], config), base_baseline)
    assert [f.fingerprint for f in result.new] == [BROKEN] and not result.passed
    assert result.new[0].waiver_expired
    assert [w.object_id for w in result.assessment.waivers.expired] == [BROKEN_POLICY]


def test_static_check_leaves_window_debt_unjudged_not_fixed(ci_snapshots, ci_config):
    baseline = create_baseline(ci_assess(ci_snapshots["base"], ci_config, static=False).findings, TODAY)
    result = run_gate(ci_assess(ci_snapshots["base"], ci_config, static=True), baseline)
    assert result.passed and result.absent == ()
    assert {e.fingerprint for e in result.unjudged} == {"CIT-05:escalation_policy:PEP0017",
                                                        "CIT-05:escalation_policy:PEP0018"}
    everything = run_gate(ci_assess(ci_snapshots["base"], ci_config, static=False), baseline)
    assert everything.unjudged == () and everything.passed


def test_team_scope_sees_only_its_own_findings(ci_snapshots, ci_config, base_baseline):
    assessment = ci_assess(ci_snapshots["fixed"], ci_config)
    payments = run_gate(assessment, base_baseline, team_id="PTEAM01")
    assert [f.fingerprint for f in payments.new] == [BROKEN] and payments.absent == ()
    returns = run_gate(assessment, base_baseline, team_id="PTEAM09")
    assert returns.passed and [f.fingerprint for f in returns.unchanged] == ["CIT-04:team:PTEAM09"]
    with pytest.raises(UserError, match="PNOSUCH"):
        run_gate(assessment, base_baseline, team_id="PNOSUCH")


def test_entries_under_a_retired_rule_id_still_match(ci_snapshots, ci_config, base_baseline):
    renamed = dataclasses.replace(base_baseline, entries=tuple(
        dataclasses.replace(e, rule_id="CIT-91") if e.rule_id == "CIT-01" else e for e in base_baseline.entries))
    assert "CIT-91:escalation_policy:PEP0013" in renamed.by_fingerprint
    result = run_gate(ci_assess(ci_snapshots["base"], ci_config), renamed)
    assert result.passed and result.absent == ()
    assert "CIT-01:escalation_policy:PEP0013" in {f.fingerprint for f in result.unchanged}


def test_accepted_debt_that_got_more_severe_fails_again(ci_snapshots, ci_config, base_baseline):
    # The Returns team's missing manager was accepted when the rule said "low"; it is critical now.
    lowered = dataclasses.replace(base_baseline, entries=tuple(
        dataclasses.replace(e, severity=Severity.LOW) if e.rule_id == "CIT-04" else e for e in base_baseline.entries))
    result = run_gate(ci_assess(ci_snapshots["base"], ci_config), lowered, fail_on=Severity.HIGH)
    assert [f.fingerprint for f in result.new] == ["CIT-04:team:PTEAM09"] and not result.passed
    assert result.state_of(result.new[0]) is BaselineState.UPDATED
    assert result.counts()["worsened"] == 1
    same = run_gate(ci_assess(ci_snapshots["base"], ci_config), base_baseline, fail_on=Severity.HIGH)
    assert same.passed and same.new == ()
