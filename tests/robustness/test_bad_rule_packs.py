"""Malformed rule packs given with ``--rules`` are refused with one line naming the file, rule and field.

The corpus is ``bad_inputs/rule_packs/``: one pack per problem, named for it, each a variation
of ``valid_inputs/acme-channels.yaml`` (a realistic custom rule). Problems found while loading
(bad YAML, wrong types, unknown fields and fact columns, unsafe expressions) and those found
only when the rule meets the facts (a condition comparing text with a number, or not giving
true/false) must both end the run before any output is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import main
from tests.robustness.refusals import (
    BAD_INPUTS,
    VALID_INPUTS,
    assert_accepted,
    assert_refused_cleanly,
    pack_folder,
    run_check,
)

CORPUS = BAD_INPUTS / "rule_packs"
# case file -> what its one line must say besides the file name (the rule, the field, the problem)
EXPECTED: dict[str, tuple[str, ...]] = {
    "invalid-yaml-bad-indentation.yaml": ("invalid YAML at line 4",),
    "invalid-yaml-unclosed-quote.yaml": ("invalid YAML", "end of stream"),
    "invalid-yaml-tab-indent.yaml": ("invalid YAML at line 13", "'\\t'"),
    "duplicate-key-in-rule.yaml": ("invalid YAML", "duplicate key 'severity'"),
    "python-object-tag.yaml": ("invalid YAML", "python/object/apply:os.system"),
    "pack-is-a-list.yaml": ("a rule pack is a mapping with a 'rules' list",),
    "rules-is-a-mapping.yaml": ("rules: Input should be a valid list",),
    "rule-is-a-string.yaml": ("rule #1: a rule is a mapping of fields",),
    "unknown-top-level-field.yaml": ("owner: unknown field",),
    "unknown-rule-field.yaml": ("ACME-01: colour: unknown field",),
    "missing-condition.yaml": ("ACME-01: condition: required field is missing",),
    "missing-message.yaml": ("ACME-01: message: required field is missing",),
    "truncated-pack.yaml": ("ACME-01: fix: required field is missing",),
    "unknown-fact-column.yaml": ("ACME-01: condition: unknown service column 'description_len'",
                                 "did you mean 'description_length'"),
    "unknown-column-in-applies-when.yaml": ("ACME-01: applies_when: unknown service column 'is_retired'",),
    "unknown-column-in-message.yaml": ("ACME-01: message: unknown service column 'descripton'",),
    "unknown-parameter-in-condition.yaml": ("ACME-01: condition: unknown parameter '@min_chars'",),
    "condition-syntax-error.yaml": ("ACME-01: condition: invalid expression",),
    "unsafe-condition-dunder.yaml": ("ACME-01: condition: names starting with '_' are not allowed",),
    "unsafe-condition-lambda.yaml": ("ACME-01: condition: lambda is not allowed",),
    "severity-wrong-type.yaml": ("ACME-01: severity: Input should be 'info', 'low', 'medium', 'high' or 'critical'",),
    "severity-unknown-value.yaml": ("ACME-01: severity: Input should be",),
    "level-wrong-type.yaml": ("ACME-01: level: Input should be 1, 2, 3, 4 or 'info'",),
    "mode-unknown-value.yaml": ("ACME-01: mode: Input should be 'S', 'W' or 'A'",),
    "entity-unknown.yaml": ("ACME-01: entity: Input should be 'service'",),
    "id-badly-formed.yaml": ("acme1: id: String should match pattern",),
    "title-wrong-type.yaml": ("ACME-01: title: Input should be a valid string",),
    "param-default-wrong-type.yaml": ("ACME-01: params.min_length.default: must be true or false, a number",
                                      "a string or a list of strings, got {'chars': 60}"),
    "param-missing-source.yaml": ("ACME-01: params.min_length.source: required field is missing",),
    "requires-unknown-collection.yaml": ("ACME-01: requires: 'incident_notes' is neither a snapshot collection",),
    "duplicate-of-builtin-rule-id.yaml": ("OWN-05: id: duplicate rule id (already defined in",),
    "condition-compares-text-with-number.yaml": ("ACME-01: condition: cannot be evaluated over the service facts",),
    "condition-is-not-boolean.yaml": ("ACME-01: condition: must be true or false for each row",),
    "utf16-encoded.yaml": ("rule pack is not UTF-8 text",),
    "random-bytes.yaml": ("rule pack is not UTF-8 text",),
}


def test_every_corpus_file_has_an_expected_refusal():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)


def test_the_valid_pack_the_cases_vary_is_accepted(workspace, tmp_path):
    run = run_check(workspace, tmp_path / "out", ["--rules", str(pack_folder(VALID_INPUTS / "acme-channels.yaml",
                                                                            tmp_path))])
    assert_accepted(run)
    assert "ACME-01" in run.outputs["findings.sarif"]


@pytest.mark.parametrize("case", sorted(EXPECTED), ids=lambda name: Path(name).stem)
def test_bad_rule_pack_is_refused_cleanly(case, workspace, tmp_path):
    folder = pack_folder(CORPUS / case, tmp_path / "packs")
    run = run_check(workspace, tmp_path / "out", ["--rules", str(folder)])
    assert_refused_cleanly(run, folder / case, EXPECTED[case])


def test_bad_pack_leaves_a_baseline_being_updated_in_place_alone(workspace, tmp_path):
    # `baseline update` rewrites its file in place; a pack that fails only when it meets the
    # facts must still stop it first.
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(workspace.baseline.read_bytes())
    case = CORPUS / "condition-is-not-boolean.yaml"
    folder = pack_folder(case, tmp_path / "packs")
    result = CliRunner().invoke(main, ["baseline", "update", str(workspace.snapshot), "--baseline", str(baseline),
                                       "--mode", "all", "--rules", str(folder)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert str(folder / case.name) in result.stderr and EXPECTED[case.name][0] in result.stderr
    assert baseline.read_bytes() == workspace.baseline.read_bytes()
