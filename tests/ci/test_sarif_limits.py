"""SARIF within GitHub code scanning's limits: new and fixed results in full, known debt summed
up per rule and team (count and objects in properties) when listing it would pass the limit.

The limit is lowered for the example account (``MAX_RESULTS`` is 25,000 in use): the same code
paths a 12,000-service account takes (``tests/benchmarks/bench_score.py`` shows that one's figures).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator

from audit.baseline import create_baseline
from audit.cli import main
from audit.gate import run_gate
from audit.outputs import sarif, sarif_budget
from audit.outputs.ci import CHECK_FORMATS

from .conftest import SARIF_SCHEMA, TODAY, ci_assess, write_config

KEY = sarif.FINGERPRINT_KEY


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    return Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def waiver_config(tmp_path_factory):
    return write_config(tmp_path_factory.mktemp("waiver") / "pd-audit.toml", [{
        "rule": "CIT-04", "object_id": "PTEAM09", "reason": "Manager starts in March",
        "approved_by": "ops@acme.example", "expires": "2027-03-31"}])


@pytest.fixture(scope="module")
def result(ci_snapshots, waiver_config):
    """The broken account against the base's baseline: new, unchanged and waived findings."""
    baseline = create_baseline(ci_assess(ci_snapshots["base"], waiver_config).findings, TODAY)
    gate = run_gate(ci_assess(ci_snapshots["broken"], waiver_config), baseline)
    assert gate.new and len(gate.unchanged) >= 4 and gate.waived
    return gate


@pytest.fixture(scope="module")
def fixed_result(ci_snapshots, ci_config):
    baseline = create_baseline(ci_assess(ci_snapshots["base"], ci_config).findings, TODAY)
    gate = run_gate(ci_assess(ci_snapshots["fixed"], ci_config), baseline)
    assert gate.absent
    return gate


def _log(gate, validator):
    log = json.loads(CHECK_FORMATS["sarif"](gate))
    validator.validate(log)
    return log["runs"][0]["results"]


def _summaries(results):
    return [r for r in results if r["properties"].get("summary")]


def test_everything_is_listed_while_it_fits(result, validator):
    results = _log(result, validator)
    assert not _summaries(results) and sarif.limit_note(result) is None
    assert len(results) == len(result.new) + len(result.unchanged) + len(result.waived)


def test_known_debt_is_summed_up_per_rule_and_team_when_it_would_pass_the_limit(result, validator, monkeypatch):
    listed_whole = len(result.new) + len(result.unchanged) + len(result.waived)
    monkeypatch.setattr(sarif_budget, "MAX_RESULTS", listed_whole - 1)
    results = _log(result, validator)
    assert len(results) <= listed_whole - 1
    prints = {r["partialFingerprints"][KEY] for r in results}
    assert {f.fingerprint for f in result.new} <= prints  # new ones in full
    summaries = _summaries(results)
    debt = result.unchanged + result.waived
    # Every known violation is counted once, in the summary of its rule, teams and state.
    assert sum(s["properties"]["count"] for s in summaries) == len(debt)
    expected = Counter((f.rule_id, f.team_ids) for f in debt)
    assert Counter({(s["ruleId"], tuple(s["properties"]["teamIds"])): s["properties"]["count"]
                    for s in summaries}) == expected
    listed = [o["fingerprint"] for s in summaries for o in s["properties"]["objects"]]
    assert sorted(listed) == sorted(f.fingerprint for f in debt)
    assert all(s["baselineState"] == "unchanged" and not s["properties"]["blocking"] for s in summaries
               if "suppressions" not in s)
    assert any("suppressions" in s for s in summaries)  # the waived ones stay accepted
    # Each summary says its count in words of the right number ("1 violation", "2 violations").
    for s in summaries:
        count = s["properties"]["count"]
        said = s["message"]["text"].split(" of ", 1)[0]
        assert said == (f"{count:,} violation" if count == 1 else f"{count:,} violations"), said
    assert any(s["properties"]["count"] == 1 for s in summaries)
    note = sarif.limit_note(result)
    assert note and f"{len(debt):,} known violations" in note and "\n" not in note


def test_per_rule_only_when_per_team_is_still_too_many(result, validator, monkeypatch):
    per_rule = len({(f.rule_id, f.status) for f in result.unchanged + result.waived})
    monkeypatch.setattr(sarif_budget, "MAX_RESULTS", len(result.new) + per_rule)
    results = _log(result, validator)
    summaries = _summaries(results)
    assert len(results) == len(result.new) + per_rule and len(summaries) == per_rule
    assert sum(s["properties"]["count"] for s in summaries) == len(result.unchanged) + len(result.waived)


def test_fixed_results_stay_in_full(fixed_result, validator, monkeypatch):
    per_rule = len({(f.rule_id, f.status) for f in fixed_result.unchanged + fixed_result.waived})
    monkeypatch.setattr(sarif_budget, "MAX_RESULTS", len(fixed_result.new) + len(fixed_result.absent) + per_rule)
    results = _log(fixed_result, validator)
    assert _summaries(results)
    absent = [r for r in results if r["baselineState"] == "absent"]
    assert {r["partialFingerprints"][KEY] for r in absent} == {e.fingerprint for e in fixed_result.absent}


def test_new_results_past_the_limit_keep_the_most_severe_in_full(ci_snapshots, ci_config, validator, monkeypatch):
    # Against an empty baseline every failing finding is new.
    gate = run_gate(ci_assess(ci_snapshots["broken"], ci_config), create_baseline((), TODAY))
    limit = len(gate.new) // 2
    monkeypatch.setattr(sarif_budget, "MAX_RESULTS", limit)
    results = _log(gate, validator)
    assert len(results) <= limit
    full = [r for r in results if not r["properties"].get("summary")]
    assert [r["partialFingerprints"][KEY] for r in full] == [f.fingerprint for f in gate.new[:len(full)]]
    assert len(full) + sum(s["properties"]["count"] for s in _summaries(results)) == len(gate.new)
    assert "least severe new ones" in sarif.limit_note(gate)


def test_the_objects_listed_are_bounded_and_shared_evenly(result, validator, monkeypatch):
    monkeypatch.setattr(sarif_budget, "MAX_RESULTS", len(result.new) + 1)
    monkeypatch.setattr(sarif_budget, "MAX_LISTED_OBJECTS", 3)
    results = _log(result, validator)
    summaries = _summaries(results)
    listed = [len(s["properties"]["objects"]) for s in summaries]
    assert sum(listed) <= 3 and all(s["properties"]["objectsListed"] == len(s["properties"]["objects"])
                                     for s in summaries)
    assert max(listed) - min(listed) <= 1 or min(s["properties"]["count"] for s in summaries) < max(listed)


def test_check_warns_once_on_stderr_and_writes_what_code_scanning_accepts(ci_snapshots, tmp_path, monkeypatch):
    baseline, out = tmp_path / "baseline.json", tmp_path / "check.sarif"
    runner = CliRunner()
    assert runner.invoke(main, ["baseline", "create", str(ci_snapshots["base"]), "-o", str(baseline)]).exit_code == 0
    monkeypatch.setattr(sarif_budget, "MAX_RESULTS", 50)
    plans = []  # the plan is worked out once, for the log and the warning (a fifth of a second at 12,000 services)
    monkeypatch.setattr(sarif, "plan_results",
                        lambda *args: plans.append(sarif_budget.plan_results(*args)) or plans[-1])
    run = runner.invoke(main, ["check", str(ci_snapshots["broken"]), "--baseline", str(baseline), "--sarif", str(out)])
    assert run.exit_code == 1, run.output
    warnings = [line for line in run.stderr.splitlines() if "warning: SARIF" in line]
    assert len(warnings) == 1 and "summed up" in warnings[0]
    results = json.loads(out.read_text())["runs"][0]["results"]
    assert len(results) <= 50 and _summaries(results)
    assert len(plans) == 1 and len(plans[0].summaries) == len(_summaries(results))
    assert warnings[0].endswith(plans[0].note(int(warnings[0].split("SARIF: ")[1].split(" ")[0].replace(",", ""))))
