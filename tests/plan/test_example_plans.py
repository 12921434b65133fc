"""The issue's "done when", on the example plans, through the CLI.

- the pull request's plan exits 1 naming exactly the two violations it introduces (addresses,
  and file:line in SARIF) and the one it fixes; reverted, it exits 0;
- a service and its policy created together are judged through the configuration reference;
- a plan of only resources pd-audit does not model exits 0 and lists them.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator

from audit.cli import main
from audit.findings import Status

from ..ci.conftest import SARIF_SCHEMA
from .conftest import EXAMPLE, PLANS, change_of, config_of, judge, plan_json


INTRODUCED = {"ESC-07:escalation_policy:PE1PAYM": ("pagerduty_escalation_policy.payments", "payments.tf", 39),
              "SVC-04:service:PS1PAYA": ("pagerduty_service.payments_api", "payments.tf", 67)}
FIXED = {"OWN-06:service:PS2SRCI": ("pagerduty_service.search_indexer", "search.tf", 67)}


def run(*args: str):
    """``pd-audit plan ARGS`` from the example folder, as a CI job in that repository would run it."""
    with contextlib.chdir(EXAMPLE):
        return CliRunner().invoke(main, ["plan", *args], catch_exceptions=False)


def test_the_pull_request_introduces_two_violations_and_fixes_one(tmp_path):
    pytest.importorskip("hcl2", reason="python-hcl2 is not installed (pip install -e .)")
    sarif_path, json_path, md_path = tmp_path / "plan.sarif", tmp_path / "plan.json", tmp_path / "plan.md"
    result = run("plans/change.json", "--tf-dir", "pagerduty", "--sarif", str(sarif_path), "--json", str(json_path),
                 "--markdown", str(md_path))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("pd-audit plan FAILED: this plan introduces 2 violations, fixes 1")
    for address, file, line in [*INTRODUCED.values(), *FIXED.values()]:
        assert f"{address} (update, pagerduty/{file}:{line})" in result.output

    log = json.loads(sarif_path.read_text(encoding="utf-8"))
    Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(log)
    by_state = {}
    for record in log["runs"][0]["results"]:
        by_state.setdefault(record["baselineState"], {})[record["properties"]["fingerprint"]] = record
    assert set(by_state["new"]) == set(INTRODUCED)
    assert set(by_state["absent"]) == set(FIXED)
    for fingerprint, (address, file, line) in {**INTRODUCED, **FIXED}.items():
        location = by_state["new" if fingerprint in INTRODUCED else "absent"][fingerprint]["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == f"pagerduty/{file}"
        assert location["physicalLocation"]["region"]["startLine"] == line
        assert location["logicalLocations"][0]["fullyQualifiedName"] == address
    assert all(r["kind"] == "fail" and r["level"] == "warning" for r in by_state["new"].values())

    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert {(f["fingerprint"], f["address"], f["location"]["line"]) for f in data["new"]} == {
        (fp, address, line) for fp, (address, _, line) in INTRODUCED.items()}
    assert [f["address"] for f in data["fixed"]] == ["pagerduty_service.search_indexer"]
    assert {c["address"] for c in data["plan"]["changed"]} == {
        "pagerduty_escalation_policy.payments", "pagerduty_service.payments_api", "pagerduty_service.search_indexer"}

    markdown = md_path.read_text(encoding="utf-8")
    assert markdown.startswith("### ❌ pd-audit plan: this plan introduces 2 violations, fixes 1\n")
    assert "pagerduty\\_service\\.payments\\_api** (update, pagerduty\\/payments\\.tf\\:67)" in markdown


def test_the_pull_request_reverted_changes_nothing_and_passes():
    result = run("plans/reverted.json")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pd-audit plan PASSED: this plan introduces 0 violations, fixes 0 ")


def test_below_the_threshold_the_plan_passes_but_still_names_what_it_introduces():
    result = run("plans/change.json", "--fail-on", "high")
    assert result.exit_code == 0, result.output
    assert "new (below threshold)" in result.output and "pagerduty_service.payments_api" in result.output


def test_an_accepted_baseline_makes_known_debt_non_blocking(tmp_path):
    judged = judge(plan_json("change.json"))
    from audit.baseline import create_baseline, write_baseline

    accepted = write_baseline(create_baseline(judged.gate.assessment.findings, judged.gate.assessment.today),
                              tmp_path / "accepted.json")
    result = run("plans/change.json", "--baseline", str(accepted))
    assert result.exit_code == 0, result.output
    assert "introduces 0 violations, fixes 1" in result.output  # the fix is still the plan's


def test_a_service_created_with_its_policy_is_judged_through_the_reference():
    judged = judge(plan_json("new-service.json"))
    assert not judged.unknowns
    service = judged.gate.assessment.facts.tables["service"].loc["pagerduty_service.checkout_web"]
    assert service["escalation_policy_id"] == "pagerduty_escalation_policy.checkout"
    assert list(service["team_ids"]) == ["pagerduty_team.checkout"]  # from the policy's teams, also unknown
    statuses = {f.rule_id: f.status for f in judged.gate.assessment.findings
                if f.entity_id == "pagerduty_service.checkout_web"}
    assert statuses["OWN-01"] is Status.PASS and statuses["OWN-03"] is Status.PASS
    assert statuses["OWN-04"] is Status.PASS  # level-1 people (through the schedule's users) are team members
    schedule = judged.gate.assessment.facts.tables["schedule"].loc["pagerduty_schedule.checkout"]
    # rendered over the window (four weeks from the plan's day) by the emulator's v2 maths: weekly turns of 3 people
    assert schedule["rendered"] and schedule["people_count"] == 3 and schedule["on_call_people_count"] == 3
    assert schedule["coverage_pct"] == 100.0


def test_without_a_resolvable_reference_the_rules_needing_the_value_report_it_unknown():
    plan = plan_json("new-service.json")
    config_of(plan, "pagerduty_service.checkout_web")["expressions"]["escalation_policy"] = {
        "references": ["module.policies.checkout_id", "module.policies"]}
    judged = judge(plan)
    assert [str(u) for u in judged.unknowns] == ["pagerduty_service.checkout_web.escalation_policy"]
    on_service = {f.rule_id: f for f in judged.gate.assessment.findings
                  if f.entity_id == "pagerduty_service.checkout_web"}
    for rule_id in ("OWN-01", "OWN-03", "OWN-04"):
        assert on_service[rule_id].status is Status.EXCLUDED
        assert on_service[rule_id].message.startswith(
            "unknown until apply: pagerduty_service.checkout_web.escalation_policy")
    assert on_service["OWN-05"].status is Status.PASS  # the description is known: still judged
    assert on_service["SVC-04"].status is Status.PASS
    assert not {f.rule_id for f in judged.introduced if f.entity_id == "pagerduty_service.checkout_web"} & {
        "OWN-01", "OWN-03", "OWN-04"}


def test_a_plan_of_only_unmodelled_resources_passes_and_lists_them():
    result = run("plans/unmodelled.json")
    assert result.exit_code == 0, result.output
    listed = [line.split()[2] for line in result.output.splitlines() if line.startswith("  not modelled")]
    assert listed == ["pagerduty_maintenance_window.db_upgrade", "pagerduty_ruleset.edge",
                      "pagerduty_ruleset_rule.drop_heartbeats", "pagerduty_slack_connection.payments"]
    assert "4 resources not modelled" in result.output.splitlines()[0]


def test_every_example_plan_is_what_build_plans_writes(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_plans", EXAMPLE / "build_plans.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    (tmp_path / "plans").mkdir()
    module.main()
    for written in sorted((tmp_path / "plans").iterdir()):
        assert written.read_bytes() == (PLANS / written.name).read_bytes(), written.name


@pytest.mark.parametrize(("plan_name", "folder"), [("change.json", "pagerduty"), ("new-service.json", "new-service"),
                                                   ("unmodelled.json", "unmodelled")])
def test_the_plans_agree_with_their_tf_files(plan_name, folder):
    """Every resource block is in the plan's configuration and back; constant values and references agree."""
    hcl2 = pytest.importorskip("hcl2", reason="python-hcl2 is not installed (pip install -e .)")
    from hcl2 import SerializationOptions

    blocks = {}
    for file in sorted((EXAMPLE / folder).glob("*.tf")):
        parsed = hcl2.load(file.open(encoding="utf-8"),
                           serialization_options=SerializationOptions(strip_string_quotes=True, with_comments=False))
        for group in parsed.get("resource", []):
            for rtype, named in group.items():
                for name, body in named.items():
                    blocks[f"{rtype}.{name}"] = body
    plan = plan_json(plan_name)
    configured = {r["address"]: r["expressions"] for r in plan["configuration"]["root_module"]["resources"]}
    assert set(blocks) == set(configured)
    for address, body in blocks.items():
        _agree(address, body, configured[address])
    for change in plan["resource_changes"]:
        assert f"{change['type']}.{change['name']}" in blocks


def _agree(where: str, hcl: object, expression: object) -> None:
    """One HCL value against the plan's expression for it (a block list, a constant or references)."""
    if isinstance(expression, list):  # nested blocks
        assert isinstance(hcl, list) and len(hcl) == len(expression), where
        for number, (block, config) in enumerate(zip(hcl, expression)):
            _agree(f"{where}[{number}]", block, config)
        return
    assert isinstance(expression, dict), where
    if "constant_value" in expression:
        value = expression["constant_value"]
        assert str(hcl) == str(value), (where, hcl, value)
        return
    if "references" in expression:
        text = json.dumps(hcl)
        first = expression["references"][0]
        assert first.split("[")[0].replace("each.value.", "each.value.") in text.replace('\\"', '"'), (where, text)
        return
    fields = {k: v for k, v in (hcl or {}).items() if not k.startswith("__")} if isinstance(hcl, dict) else {}
    assert set(fields) - {"for_each"} == set(expression), (where, set(fields), set(expression))
    for key, config in expression.items():
        _agree(f"{where}.{key}", fields[key], config)


def test_change_plan_changes_exactly_what_the_pull_request_says():
    plan = plan_json("change.json")
    changed = {c["address"]: c["change"]["actions"] for c in plan["resource_changes"]
               if c["change"]["actions"] != ["no-op"]}
    assert changed == {"pagerduty_escalation_policy.payments": ["update"], "pagerduty_service.payments_api": ["update"],
                       "pagerduty_service.search_indexer": ["update"]}
    assert change_of(plan, "pagerduty_service.payments_api")["change"]["after"]["auto_resolve_timeout"] == "3600"


def test_the_github_actions_job_plans_shows_and_judges_on_pull_requests_touching_tf_files():
    import shlex

    import yaml

    from audit.commands.gating import plan_command

    workflow = yaml.safe_load((EXAMPLE / "github-actions.yml").read_text(encoding="utf-8"))
    assert "**/*.tf" in workflow[True]["pull_request"]["paths"]  # YAML reads the key `on` as True
    scripts = "\n".join(step.get("run", "") for step in workflow["jobs"]["plan"]["steps"])
    assert "terraform plan -input=false -lock=false -out=tfplan" in scripts
    assert "terraform show -json tfplan > plan.json" in scripts
    command = shlex.split(scripts[scripts.index("pd-audit plan"):].split("\ncode=")[0].replace("\\\n", " "))
    known = {opt for param in plan_command.params for opt in param.opts}
    assert command[:3] == ["pd-audit", "plan", "pagerduty/plan.json"]
    assert {word for word in command if word.startswith("--")} <= known


def test_the_plan_outputs_are_written_as_made_and_a_failure_keeps_the_previous_files(tmp_path, monkeypatch):
    import xml.etree.ElementTree as ET

    from audit.plan import outputs

    from ..ci.test_outputs import junit_counts_agree

    junit_path = tmp_path / "plan.xml"
    assert run("plans/change.json", "--junit", str(junit_path)).exit_code == 1
    root = ET.fromstring(junit_path.read_bytes())
    assert root.get("name") == "pd-audit plan" and root.get("failures") == "2"
    assert junit_counts_agree(root)
    # Each rule's passes are one case; plan has no option listing them, so none is named.
    passes = [c.find("system-out").text for c in root.iter("testcase") if c.get("name") == "passes"]
    assert passes and not any("--all" in text for text in passes), passes

    made = []
    json_path = tmp_path / "plan.json"
    json_path.write_text("previous\n", encoding="utf-8")
    real = outputs._with_address

    def one_then_fail(result, record):
        made.append(record["fingerprint"])
        if len(made) > 1:
            raise RuntimeError("the disk went away")
        return real(result, record)

    monkeypatch.setattr(outputs, "_with_address", one_then_fail)
    with contextlib.chdir(EXAMPLE):
        result = CliRunner().invoke(main, ["plan", "plans/change.json", "--json", str(json_path)])
    assert result.exit_code == 2 and "internal error: RuntimeError: the disk went away" in result.stderr
    assert json_path.read_text(encoding="utf-8") == "previous\n" and len(made) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "plan.xml"]
