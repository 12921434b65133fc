"""facts, score and rules from the command line, on a crawl of the example account."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.safe_csv import safe_cell

from .crawl.conftest import ACME, crawl, emulator_app


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    out = tmp_path_factory.mktemp("score") / "snap"
    snap, _ = crawl(emulator_app(ACME), out)
    return snap.path


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_score_json_has_findings_services_teams_and_org(snapshot):
    result = run("score", snapshot, "--format", "json", "--as-of", "2027-01-04")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    account = json.loads(ACME.read_text())
    assert {s["id"] for s in data["services"]} == {s["id"] for s in account["services"]}
    for service in data["services"]:
        assert set(service) >= {"id", "name", "team_ids", "level", "score"}
        assert 0 <= service["level"] <= 4
    for finding in data["findings"]:
        assert set(finding) >= {"rule_id", "entity_type", "entity_id", "status", "severity", "message",
                                "fingerprint", "service_ids"}
        assert finding["fingerprint"].startswith(f"{finding['rule_id']}:{finding['entity_type']}:{finding['entity_id']}")
    assert sum(data["org"]["level_distribution"].values()) == len(account["services"])
    assert {t["id"] for t in data["teams"]} <= {t["id"] for t in account["teams"]} | {""}


def test_score_for_one_team_keeps_only_its_services(snapshot):
    account = json.loads(ACME.read_text())
    team = account["teams"][0]["id"]
    data = json.loads(run("score", snapshot, "--format", "json", "--team", team).stdout)
    owned = {s["id"] for s in account["services"] if team in [t["id"] for t in s.get("teams") or []]}
    assert {s["id"] for s in data["services"]} == owned
    assert all(set(f["service_ids"]) & owned or f["entity_id"] == team for f in data["findings"])


def test_unknown_team_is_exit_2(snapshot):
    result = run("score", snapshot, "--team", "PNOSUCH")
    assert result.exit_code == 2 and "PNOSUCH" in result.stderr


def test_score_table_and_csv_render(snapshot):
    table = run("score", snapshot)
    assert table.exit_code == 0 and "Teams, by score:" in table.stdout and "Payments" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run("score", snapshot, "--format", "csv").stdout)))
    listed = [row for row in rows if row["fingerprint"]]
    assert listed and all(row["fingerprint"].startswith(row["rule_id"]) and row["count"] == "1" for row in listed)
    assert {row["status"] for row in listed} <= {"fail", "warn", "waived"}


@pytest.mark.parametrize("text, expected", [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1", "'+1"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("Payments API", "Payments API"), (None, ""),
])
def test_csv_cells_never_start_a_formula(text, expected):
    assert safe_cell(text) == expected


def test_facts_schedule_rows_carry_coverage_and_gaps(snapshot):
    result = run("facts", snapshot, "--entity", "schedule", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    rows = rows if isinstance(rows, list) else rows.get("rows", rows)
    assert rows and all({"id", "coverage_pct", "gaps"} <= set(row) for row in rows)
    for row in rows:
        assert 0 <= row["coverage_pct"] <= 100
        assert all(len(gap) == 2 and gap[0] < gap[1] for gap in row["gaps"])
    policies = json.loads(run("facts", snapshot, "--entity", "escalation_policy").stdout)
    policies = policies if isinstance(policies, list) else policies.get("rows", policies)
    assert all({"id", "level1_coverage_pct", "any_level_coverage_pct"} <= set(row) for row in policies)


def test_rules_explain_unknown_rule_is_exit_2():
    result = run("rules", "explain", "XYZ-99")
    assert result.exit_code == 2 and "no rule XYZ-99" in result.stderr


def test_malformed_rule_pack_is_one_line_exit_2(tmp_path, snapshot):
    (tmp_path / "broken.yaml").write_text("rules:\n  - id: MY-01\n    title: [unclosed\n")
    result = run("score", snapshot, "--rules", tmp_path)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "broken.yaml" in result.stderr


def test_rules_lists_the_catalog_under_named_columns_and_explains_them():
    result = run("rules")
    assert result.exit_code == 0
    table, legend = result.output.split("\n\n")
    header, *rows = [line.split() for line in table.splitlines()]
    assert header == ["ID", "MODE", "LEVEL", "SEVERITY", "ENTITY", "TITLE"]
    assert len(rows) > 30
    assert {row[1] for row in rows} == {"static", "window", "analytics"}
    assert {row[2] for row in rows} == {"1", "2", "3", "4", "info"}
    # every value the MODE and LEVEL columns hold is explained under the table
    explained = {line[7:].split()[0] for line in legend.splitlines() if line[:7].strip() in ("MODE", "LEVEL", "")}
    assert explained == {"static", "window", "analytics", "1-4", "info"}
