"""Malformed ``pd-audit.toml`` files given with ``--config`` are refused with one line naming the file and key.

The corpus is ``bad_inputs/configs/``: one config per problem, named for it, each a variation
of ``valid_inputs/pd-audit.toml`` (thresholds, a severity, a tier and a waiver). Waivers get
the most cases: a waiver that silently fails to apply, or applies for ever, hides a finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.robustness.refusals import (
    BAD_INPUTS,
    VALID_INPUTS,
    assert_accepted,
    assert_refused_cleanly,
    run_check,
)

CORPUS = BAD_INPUTS / "configs"
# case file -> what its one line must say besides the file name (the key and the problem)
EXPECTED: dict[str, tuple[str, ...]] = {
    "invalid-toml-unclosed-table.toml": ("invalid TOML", "line 6"),
    "invalid-toml-missing-value.toml": ("invalid TOML: Invalid value (at line 13",),
    "truncated-config.toml": ("invalid TOML", "at end of document"),
    "utf16-encoded.toml": ("config is not UTF-8 text",),
    "random-bytes.toml": ("config is not UTF-8 text",),
    "unknown-top-level-key.toml": ("disable: unknown key",),
    "waiver-unknown-rule.toml": ("waivers[1].rule: unknown rule 'OC-99'",),
    "waiver-unparseable-expiry.toml": ("waivers[1].expires: Input should be a valid date",),
    "waiver-impossible-expiry-date.toml": ("invalid TOML: Invalid date or datetime (at line 18",),
    "waiver-expiry-as-number.toml": ("waivers[1].expires: Input should be a valid date like 2026-09-30",
                                     "not the number 20270930"),
    "waiver-missing-expiry.toml": ("waivers[1].expires: required key is missing",),
    "waiver-missing-reason.toml": ("waivers[1].reason: required key is missing",),
    "waiver-blank-approver.toml": ("waivers[1].approved_by:",),
    "waiver-object-id-pattern.toml": ("waivers[1].object_id: String should match pattern",),
    "waiver-unknown-field.toml": ("waivers[1].ticket: unknown key",),
    "waivers-not-a-list.toml": ("waivers: Input should be a valid list",),
    "threshold-unknown-rule.toml": ("thresholds.OC-98: unknown rule 'OC-98'",),
    "threshold-unknown-parameter.toml": ("thresholds.OC-03: unknown parameter 'min_persons'",),
    "threshold-wrong-type.toml": ("thresholds.OC-03: min_people: expected an integer, got 'three'",),
    "severity-unknown-value.toml": ("severity.OWN-06: Input should be 'info', 'low', 'medium', 'high' or 'critical'",),
    "severity-unknown-rule.toml": ("severity.OWN-66: unknown rule 'OWN-66'",),
    "disabled-unknown-rule.toml": ("disabled[2]: unknown rule 'OC-1'",),
    "disabled-not-a-list.toml": ("disabled: Input should be a valid list",),
    "weights-negative.toml": ("weights: high: a weight cannot be negative",),
    "weights-wrong-type.toml": ("weights.high: Input should be a valid number",),
    "weights-nan.toml": ("weights: critical: a weight must be a finite number, not nan",),
    "weights-infinite.toml": ("weights: high: a weight must be a finite number, not inf",),
    "threshold-negative.toml": ("thresholds.OC-03: min_people: must be a finite number of zero or more, got -2",),
    "threshold-nan.toml": ("thresholds.OC-03: recommended_people: expected an integer, got nan",),
    "nested-too-deeply.toml": ("invalid TOML: nested too deeply",),
    "tier-bad-regex.toml": ("tiers[2].name_pattern: invalid regular expression",),
    "tier-out-of-range.toml": ("tiers[1].tier: Input should be less than or equal to 5",),
    "tier-selects-nothing.toml": ("tiers[2]: give service_ids, name_pattern or team_ids",),
}


def test_every_corpus_file_has_an_expected_refusal():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


def test_the_valid_config_the_cases_vary_is_accepted(workspace, tmp_path):
    run = run_check(workspace, tmp_path / "out", ["--config", str(VALID_INPUTS / "pd-audit.toml")])
    assert_accepted(run)


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=lambda name: Path(name).stem)
def test_bad_config_is_refused_cleanly(case, workspace, tmp_path):
    run = run_check(workspace, tmp_path / "out", ["--config", str(CORPUS / case)])
    assert_refused_cleanly(run, CORPUS / case, EXPECTED[case])


def test_bad_config_named_by_the_environment_is_refused_cleanly(workspace, tmp_path, monkeypatch):
    # $PD_AUDIT_CONFIG takes the place of --config; the error still names the file.
    case = CORPUS / "waiver-missing-expiry.toml"
    monkeypatch.setenv("PD_AUDIT_CONFIG", str(case))
    run = run_check(workspace, tmp_path / "out", [])
    assert_refused_cleanly(run, case, EXPECTED[case.name])


def test_config_found_in_the_working_directory_is_refused_cleanly(workspace, tmp_path, monkeypatch):
    config = tmp_path / "pd-audit.toml"
    config.write_bytes((CORPUS / "waiver-unknown-rule.toml").read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PD_AUDIT_CONFIG", raising=False)
    run = run_check(workspace, tmp_path / "out", [])
    assert_refused_cleanly(run, config, EXPECTED["waiver-unknown-rule.toml"])
