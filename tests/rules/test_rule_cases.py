"""Every built-in rule judged over the fact rows of its cases file (tests/rules/cases/<ID>.yaml).

A case file names its rule, says why the cases matter and lists cases: the fact columns that
differ from a realistic base row (``base_rows``), optional parameter overrides, the expected
status (fail, pass, not_applicable or excluded: a case naming no incident-history column judges a
snapshot without incidents), for failures text the message must contain and, for rules
with a warning threshold, whether the failure is a warning (``warning: true``, with the severity
it is reported at and no hold on the maturity level) or an error (``warning: false``). All
cases of all files are collected into one parametrized test, sqlfluff-style.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from audit.facts.columns import SCHEMA, column_names, frame
from audit.findings import Finding, Mode, Status
from audit.rules import EvaluationContext, RulePack, evaluate, load_packs
from tests.rules.base_rows import ANALYTICS_ROWS, BASE_ROWS

CASES_DIR = Path(__file__).parent / "cases"
EXPECTATIONS = {"fail": Status.FAIL, "warn": Status.WARN, "pass": Status.PASS, "not_applicable": Status.NOT_APPLICABLE,
                "excluded": Status.EXCLUDED}


@functools.cache  # the packs are read-only data; loading them once keeps 140 cases fast
def builtin_pack() -> RulePack:
    return load_packs([], column_names())


def case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.yaml"))


def load_cases() -> list[Any]:
    params = []
    for path in case_files():
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert document["rule"] == path.stem, f"{path.name} names rule {document['rule']}"
        assert document.get("why"), f"{path.name}: say why these cases matter"
        for number, case in enumerate(document["cases"], 1):
            params.append(pytest.param(document["rule"], case, id=f"{path.stem}-{number}-{case['expect']}"))
    return params


def judge(rule_id: str, facts: dict[str, Any], params: dict[str, Any] | None = None) -> Finding:
    """The rule's finding on one object: the base row with ``facts`` laid over it."""
    rule = builtin_pack().resolve(rule_id)
    assert rule is not None, f"{rule_id} is not in the built-in pack"
    rule = rule.configured(params=params or {})
    history = ANALYTICS_ROWS.get(rule.facts_table, {})
    with_history = any(name in history for name in facts)
    row = {**BASE_ROWS[rule.facts_table], **(history if with_history else {}), **facts}
    schema = SCHEMA[rule.facts_table]
    table = frame(rule.facts_table, [{name: value for name, value in row.items() if name in schema}])
    # Incident-history columns (mode A rules): laid beside the table, as the facts stage does with incidents.
    for name, value in row.items():
        if name not in schema:
            table[name] = [value]
    evaluation = evaluate(RulePack(rules=(rule,)), {rule.facts_table: table}, EvaluationContext(modes=frozenset(Mode)))
    (finding,) = evaluation.findings
    return finding


@pytest.mark.parametrize(("rule_id", "case"), load_cases())
def test_rule_case(rule_id: str, case: dict[str, Any]) -> None:
    finding = judge(rule_id, case.get("facts", {}), case.get("params"))
    assert finding.status is EXPECTATIONS[case["expect"]], f"{case['why']}: got {finding.status.value}: {finding.message}"
    for text in case.get("message", []):
        assert text in finding.message, f"{case['why']}: {text!r} not in {finding.message!r}"
    if "warning" in case:
        assert finding.warning is case["warning"], f"{case['why']}: warning is {finding.warning}"
        assert finding.blocks_level is not case["warning"], case["why"]
        assert not finding.message.startswith("warning"), finding.message  # the status says so
    if "severity" in case:
        assert finding.severity.value == case["severity"], f"{case['why']}: severity {finding.severity.value}"


def test_every_builtin_rule_has_a_failing_and_a_passing_case() -> None:
    covered: dict[str, set[str]] = {}
    for param in load_cases():
        rule_id, case = param.values
        covered.setdefault(rule_id, set()).add(case["expect"])
    for rule in builtin_pack():
        verdicts = covered.get(rule.id, set())
        assert "pass" in verdicts and verdicts & {"fail", "warn"}, f"{rule.id}: needs a failing and a passing case"
        if rule.maturity_level is None:
            assert "fail" not in verdicts, f"{rule.id}: an info-only rule warns, it never fails"


def test_rules_with_a_warning_threshold_have_cases_on_both_sides_of_it() -> None:
    sides: dict[str, set[bool]] = {}
    for param in load_cases():
        rule_id, case = param.values
        if case["expect"] in ("fail", "warn") and "warning" in case:
            sides.setdefault(rule_id, set()).add(case["warning"])
    warned = {rule.id for rule in builtin_pack() if rule.warn_when}
    assert warned == {"ESC-03", "OC-03", "PPL-03"}
    for rule_id in warned:
        assert sides.get(rule_id) == {True, False}, f"{rule_id}: needs an error case and a warning case"


def test_failure_messages_name_their_numbers() -> None:
    """Every failing case checks some text of its message, so a message is never left unexplained."""
    for param in load_cases():
        rule_id, case = param.values
        if case["expect"] in ("fail", "warn"):
            assert case.get("message"), f"{rule_id}: failing case {case['why']!r} checks no message text"


@pytest.mark.parametrize("entity", sorted(BASE_ROWS))
def test_base_rows_give_every_documented_column(entity: str) -> None:
    assert set(BASE_ROWS[entity]) == set(SCHEMA[entity])
