"""The check's outputs: SARIF valid against the official schema, JUnit parsed back, Markdown, JSON;
hostile strings from PagerDuty stay inert in all of them."""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import xml.etree.ElementTree as ET

import pytest
from jsonschema import Draft4Validator

from audit.baseline import create_baseline
from audit.findings import Severity, Status
from audit.gate import run_gate
from audit.outputs.ci import CHECK_FORMATS
from audit.outputs.junit import render as render_junit
from audit.outputs.markdown import escape

from .conftest import (
    BROKEN_POLICY,
    SARIF_SCHEMA,
    TODAY,
    acme_account,
    ci_assess,
    crawl_account,
    cut_to_one_level,
    policy,
    write_config,
)

BROKEN = f"CIT-01:escalation_policy:{BROKEN_POLICY}"
HOSTILE = ("<script>alert(1)</script> @acme/everyone [click](javascript:alert(1)) | ![x](https://evil.example/x.png)"
           " **bold** `code`\x1b[31m red\u009b2J\nnext line &amp;")


@pytest.fixture(scope="module")
def sarif_validator() -> Draft4Validator:
    return Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def results(ci_snapshots, ci_config, tmp_path_factory):
    """Gate results: the broken account with a waiver on the Returns team, and the fixed one."""
    config = write_config(tmp_path_factory.mktemp("waiver") / "pd-audit.toml", [{
        "rule": "CIT-04", "object_id": "PTEAM09", "reason": "Manager starts in March",
        "approved_by": "ops@acme.example", "expires": "2027-03-31"}])
    baseline = create_baseline(ci_assess(ci_snapshots["base"], ci_config).findings, TODAY)
    return {
        "broken": run_gate(ci_assess(ci_snapshots["broken"], config), baseline),
        "fixed": run_gate(ci_assess(ci_snapshots["fixed"], ci_config), baseline),
    }


def test_sarif_is_valid_and_names_the_pagerduty_objects(results, sarif_validator):
    log = json.loads(CHECK_FORMATS["sarif"](results["broken"]))
    sarif_validator.validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["CIT-01", "CIT-02", "CIT-03", "CIT-04", "CIT-05"]
    cit01 = rules[0]
    assert cit01["shortDescription"]["text"] == "Policy has at least two levels"
    assert "backup level" in cit01["help"]["text"] and cit01["helpUri"].startswith("https://")
    assert cit01["deprecatedIds"] == ["CIT-91"]

    new = [r for r in run["results"] if r["baselineState"] == "new"]
    assert [r["partialFingerprints"]["pdAuditFingerprint/v1"] for r in new] == [BROKEN]
    (location,) = new[0]["locations"]
    (logical,) = location["logicalLocations"]
    assert logical["name"] == "Payments" and logical["fullyQualifiedName"] == f"escalation_policy:{BROKEN_POLICY}"
    assert logical["properties"]["url"].endswith(f"/escalation_policies/{BROKEN_POLICY}")
    assert new[0]["level"] == "error" and rules[new[0]["ruleIndex"]]["id"] == new[0]["ruleId"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "pd-audit-baseline.json"

    waived = [r for r in run["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in waived] == ["CIT-04"]
    assert waived[0]["suppressions"][0]["status"] == "accepted"
    unchanged = [r for r in run["results"] if r["baselineState"] == "unchanged" and "suppressions" not in r]
    assert len(unchanged) == len(results["broken"].unchanged) == 6


def test_sarif_reports_fixed_findings_as_absent(results, sarif_validator):
    log = json.loads(CHECK_FORMATS["sarif"](results["fixed"]))
    sarif_validator.validate(log)
    absent = [r for r in log["runs"][0]["results"] if r["baselineState"] == "absent"]
    assert [(r["ruleId"], r["kind"]) for r in absent] == [("CIT-01", "pass")]
    assert absent[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "escalation_policy:PEP0013"


def junit_counts_agree(root: ET.Element) -> list[ET.Element]:
    """Every suite's tests/failures/errors/skipped are its cases', and the root's are the suites' sums, as
    the CI systems reading JUnit (GitLab, Jenkins) take them; the cases, for the test to look at."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counts = {"tests": len(cases), "failures": sum(c.find("failure") is not None for c in cases),
                  "errors": sum(c.find("error") is not None for c in cases),
                  "skipped": sum(c.find("skipped") is not None for c in cases)}
        assert {key: int(suite.get(key)) for key in counts} == counts, suite.get("name")
        totals = {key: totals[key] + counts[key] for key in totals}
    assert {key: int(root.get(key)) for key in totals} == totals
    assert set(root.iter()) - {root} <= {*root.findall("testsuite"), *root.iter("testcase"), *root.iter("failure"),
                                         *root.iter("skipped"), *root.iter("system-out")}
    return root.findall("./testsuite/testcase")


def test_junit_lists_what_to_act_on_and_counts_passes_per_rule(results):
    result = results["broken"]
    root = ET.fromstring(CHECK_FORMATS["junit"](result))
    cases = junit_counts_agree(root)
    listed = [f for f in result.assessment.findings if f.status in (Status.FAIL, Status.WARN, Status.WAIVED)]
    per_object = [c for c in cases if c.get("name") not in ("passes", "not judged")]
    assert len(per_object) == len(listed) and len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases)
    failed = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [
        ("pd-audit.CIT-01", f"escalation_policy {BROKEN_POLICY} (Payments)")]
    assert root.get("failures") == "1"
    skipped = {c.get("name"): c.find("skipped").get("message") for c in cases if c.find("skipped") is not None}
    assert skipped["team PTEAM09 (Returns)"].startswith("waived until 2027-03-31")
    assert skipped["escalation_policy PEP0013 (Legacy reporting (Robert))"].startswith(
        "known violation, in the baseline since 2027-01-04")
    assert int(root.get("skipped")) == len(skipped) == 7
    passing = collections.Counter(f.rule_id for f in result.assessment.findings if f.status is Status.PASS)
    passes = {c.get("classname"): c.find("system-out").text for c in cases if c.get("name") == "passes"}
    assert passes.keys() == {f"pd-audit.{rule}" for rule in passing}
    assert passes["pd-audit.CIT-02"].startswith(f"{passing['CIT-02']:,} services pass CIT-02")
    assert all("`pd-audit check --all` lists each" in text for text in passes.values())


def test_junit_with_every_object_has_one_case_per_rule_and_object(results):
    result = results["broken"]
    root = ET.fromstring(render_junit(result, every_object=True))
    cases = junit_counts_agree(root)
    judged = [f for f in result.assessment.findings if f.status is not Status.NOT_APPLICABLE]
    assert len(cases) == len(judged) == int(root.get("tests"))
    assert not {"passes", "not judged"} & {c.get("name") for c in cases}
    assert root.get("failures") == "1" and root.get("skipped") == "7"


def test_markdown_lists_new_then_fixed_then_one_summary_line(results):
    text = CHECK_FORMATS["markdown"](results["fixed"])
    new_at, fixed_at, summary_at = (text.index("#### New violations (1)"), text.index("#### Fixed since the baseline (1)"),
                                    text.index("**Summary:**"))
    assert new_at < fixed_at < summary_at
    new_rows = [line for line in text[new_at:fixed_at].splitlines() if line.startswith("| **")]
    assert len(new_rows) == 1 and f"({BROKEN_POLICY})" in new_rows[0] and "Payments" in new_rows[0]
    fixed_rows = [line for line in text[fixed_at:summary_at].splitlines() if line.startswith("| **CIT")]
    assert len(fixed_rows) == 1 and "(PEP0013)" in fixed_rows[0]
    assert text.rstrip().splitlines()[-1].startswith("**Summary:** 1 new (1 at or above low) · 1 fixed")
    assert text.startswith("### ❌ pd-audit check failed")


def test_json_holds_every_category(results):
    data = json.loads(CHECK_FORMATS["json"](results["fixed"]))
    assert data["result"] == "fail" and data["exit_code"] == 1
    assert [f["fingerprint"] for f in data["new"]] == [BROKEN] and data["new"][0]["baseline_state"] == "new"
    assert [f["fingerprint"] for f in data["fixed"]] == ["CIT-01:escalation_policy:PEP0013"]
    assert data["counts"] == {"new": 1, "worsened": 0, "blocking": 1, "unchanged": 6, "absent": 1, "unjudged": 0, "waived": 0,
                              "expired_waivers": 0, "warnings": 0}


@pytest.fixture(scope="module")
def hostile_result(ci_snapshots, ci_config, tmp_path_factory):
    """The broken policy renamed by someone who can edit PagerDuty objects."""
    account = cut_to_one_level(acme_account())
    policy(account, BROKEN_POLICY)["name"] = HOSTILE
    snapshot = crawl_account(account, tmp_path_factory.mktemp("hostile"))
    baseline = create_baseline(ci_assess(ci_snapshots["base"], ci_config).findings, TODAY)
    result = run_gate(ci_assess(snapshot, ci_config), baseline)
    assert [f.entity_name for f in result.new] == [HOSTILE]
    return result


def test_markdown_keeps_hostile_names_inert(hostile_result):
    text = CHECK_FORMATS["markdown"](hostile_result)
    row = next(line for line in text.splitlines() if f"({BROKEN_POLICY})" in line)
    # The only link in the cell is ours, to the policy's PagerDuty page; the name inside it is inert text.
    label = re.search(r"escalation policy \[(.*)\]\(https://acme\.pagerduty\.com/escalation_policies/PEP0001\)",
                      row).group(1)
    assert not re.search(r"(?<!\\)[<>\[\]()!*`&|@]", label)  # no markup: every punctuation mark escaped
    assert "\\@\u200bacme" in label  # and no @mention
    for control in ("\x1b", "\u009b", "\n"):
        assert control not in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # four cells: the name cannot open a fifth
    assert "next line" in row  # the line break became a space, inside the same row


@pytest.mark.parametrize("text", ["a|b", "[x](y)", "<b>", "*_`#!~>", "@team", "1. list"])
def test_markdown_escape_leaves_no_unescaped_punctuation(text):
    escaped = escape(text)
    assert not re.search(r"(?<!\\)[|\[\]()<>*_`#!~.]", escaped)
    assert escaped.replace("\\", "").replace("\u200b", "") == text


def test_junit_and_sarif_carry_hostile_names_as_plain_text(hostile_result, sarif_validator):
    root = ET.fromstring(CHECK_FORMATS["junit"](hostile_result))
    (failed,) = [c for c in root.iter("testcase") if c.find("failure") is not None]
    name = failed.get("name")
    assert "<script>alert(1)</script>" in name and not re.search(r"[\x00-\x1f\x7f-\x9f]", name)
    log = json.loads(CHECK_FORMATS["sarif"](hostile_result))
    sarif_validator.validate(log)
    new = [r for r in log["runs"][0]["results"] if r["baselineState"] == "new"]
    logical_name = new[0]["locations"][0]["logicalLocations"][0]["name"]
    assert logical_name.startswith("<script>") and not re.search(r"[\x00-\x1f\x7f-\x9f]", logical_name)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", new[0]["message"]["text"])


def test_worsened_debt_is_updated_in_sarif_failed_in_junit_and_flagged_in_markdown(
        ci_snapshots, ci_config, sarif_validator):
    baseline = create_baseline(ci_assess(ci_snapshots["base"], ci_config).findings, TODAY)
    lowered = dataclasses.replace(baseline, entries=tuple(
        dataclasses.replace(e, severity=Severity.LOW) if e.rule_id == "CIT-04" else e for e in baseline.entries))
    result = run_gate(ci_assess(ci_snapshots["base"], ci_config), lowered)
    log = json.loads(CHECK_FORMATS["sarif"](result))
    sarif_validator.validate(log)
    assert [(r["ruleId"], r["baselineState"]) for r in log["runs"][0]["results"]
            if r["baselineState"] != "unchanged"] == [("CIT-04", "updated")]
    failures = [f for f in ET.fromstring(CHECK_FORMATS["junit"](result)).iter("failure")]
    assert [f.get("type") for f in failures] == ["updated-critical"]
    assert "| **critical** (was low) |" in CHECK_FORMATS["markdown"](result)
