"""The CI commands end to end: baseline, check (every output at once, --live), diff, history.

The issue's acceptance run: a baseline of the account, one policy broken, ``check``
exits 1 with exactly that one new violation in every format; restored, it passes.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner

from audit import cli
from audit.client import ApiClient
from audit.commands import crawling

from ..crawl.conftest import BASE_URL, TOKEN
from .conftest import (
    BROKEN_POLICY,
    CI_PACK,
    ROOT,
    acme_account,
    crawl_account,
    cut_to_one_level,
    emulator_app,
)

ACME_CONFIG = ROOT / "examples" / "acme" / "pd-audit.toml"
AS_OF = ("--as-of", "2027-01-04")


def run(*args: object):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


def check_all_formats(snapshot, baseline, out, *extra):
    result = run("check", snapshot, "--baseline", baseline, "--sarif", out / "check.sarif", "--junit",
                 out / "junit.xml", "--markdown", out / "summary.md", "--json", out / "check.json", *extra)
    sarif = json.loads((out / "check.sarif").read_text())
    junit = ET.fromstring((out / "junit.xml").read_text())
    markdown = (out / "summary.md").read_text()
    data = json.loads((out / "check.json").read_text())
    new = {
        "sarif": sorted(r["partialFingerprints"]["pdAuditFingerprint/v1"] for r in sarif["runs"][0]["results"]
                        if r["baselineState"] == "new" and "suppressions" not in r),  # waived: accepted
        "junit": sorted(c.find("failure").text.split(": ", 1)[0] for c in junit.iter("testcase")
                        if c.find("failure") is not None),
        "json": sorted(f["fingerprint"] for f in data["new"]),
    }
    section = markdown[markdown.index("#### New violations"):markdown.index("#### Fixed")]
    new_rows = [line for line in section.splitlines() if line.startswith("| **")]
    return result, new, new_rows


def test_acceptance_with_the_ci_pack_exactly_one_new_violation_everywhere(ci_snapshots, ci_config, tmp_path):
    rules = ("--rules", CI_PACK.parent, "--config", ci_config, *AS_OF)
    baseline = tmp_path / "pd-audit-baseline.json"
    created = run("baseline", "create", ci_snapshots["base"], "-o", baseline, *rules)
    assert created.exit_code == 0 and "7 failing findings recorded" in created.stdout

    broken, new, rows = check_all_formats(ci_snapshots["broken"], baseline, tmp_path / "broken", *rules)
    assert broken.exit_code == 1, broken.output
    expected = [f"CIT-01:escalation_policy:{BROKEN_POLICY}"]
    assert new == {"sarif": expected, "junit": expected, "json": expected}
    assert len(rows) == 1 and f"({BROKEN_POLICY})" in rows[0]
    assert "FAILED" in broken.stdout and f"({BROKEN_POLICY})" in broken.stdout

    restored, new, rows = check_all_formats(ci_snapshots["base"], baseline, tmp_path / "restored", *rules)
    assert restored.exit_code == 0, restored.output
    assert new == {"sarif": [], "junit": [], "json": []} and rows == []


def test_a_reader_that_stops_early_keeps_the_verdict_in_the_exit_code(ci_snapshots, ci_config, tmp_path):
    # `pd-audit check SNAP --baseline B | head -1`: the reader is gone before the verdict is printed.
    # The command must still end with its verdict (1: a new violation), not "internal error".
    rules = ("--rules", CI_PACK.parent, "--config", ci_config, *AS_OF)
    baseline = tmp_path / "pd-audit-baseline.json"
    assert run("baseline", "create", ci_snapshots["base"], "-o", baseline, *rules).exit_code == 0
    command = [str(Path(sys.executable).with_name("pd-audit")), "check", str(ci_snapshots["broken"]),
               "--baseline", str(baseline), *(str(a) for a in rules)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # before the command has printed anything: every write meets a closed pipe
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1 and stderr == "", stderr


def test_acceptance_with_the_builtin_pack_only_the_broken_policy_is_new(tmp_path):
    account = acme_account()
    base = crawl_account(account, tmp_path / "base")
    baseline = tmp_path / "pd-audit-baseline.json"
    config = ("--config", ACME_CONFIG, *AS_OF)
    assert run("baseline", "create", base, "-o", baseline, *config).exit_code == 0

    broken = crawl_account(cut_to_one_level(account), tmp_path / "broken")
    result, new, rows = check_all_formats(broken, baseline, tmp_path / "out", *config)
    assert result.exit_code == 1
    assert new["sarif"] == new["junit"] == new["json"] and new["json"]
    assert all(fp.split(":")[1:3] == ["escalation_policy", BROKEN_POLICY] for fp in new["json"])
    assert len(rows) == len(new["json"])

    shutil.rmtree(base.parent / "emulator", ignore_errors=True)
    restored = crawl_account(account, tmp_path / "restored")
    assert run("check", restored, "--baseline", baseline, *config).exit_code == 0


def test_baseline_update_accepts_the_new_debt(ci_snapshots, ci_config, tmp_path):
    rules = ("--rules", CI_PACK.parent, "--config", ci_config, *AS_OF)
    baseline = tmp_path / "pd-audit-baseline.json"
    run("baseline", "create", ci_snapshots["base"], "-o", baseline, *rules)
    again = run("baseline", "create", ci_snapshots["base"], "-o", baseline, *rules)
    assert again.exit_code == 2 and "baseline update" in again.stderr
    updated = run("baseline", "update", ci_snapshots["fixed"], "--baseline", baseline, *rules)
    assert updated.exit_code == 0 and "1 added, 1 dropped, 6 kept" in updated.stdout
    assert run("check", ci_snapshots["fixed"], "--baseline", baseline, *rules).exit_code == 0


@pytest.mark.parametrize("problem, args", [
    ("no such baseline", ("--baseline", "missing.json")),
    ("PNOSUCH", ("--team", "PNOSUCH")),
])
def test_bad_input_is_exit_2_with_one_line(ci_snapshots, ci_config, tmp_path, monkeypatch, problem, args):
    monkeypatch.chdir(tmp_path)
    rules = ("--rules", CI_PACK.parent, "--config", ci_config, *AS_OF)
    run("baseline", "create", ci_snapshots["base"], *rules)
    result = run("check", ci_snapshots["base"], "--baseline", "pd-audit-baseline.json", *rules, *args)
    assert result.exit_code == 2 and problem in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _in_process_client(app, token=TOKEN):
    def build(opts, _token, transport=None):
        return ApiClient(token, base_url=BASE_URL, transport=httpx2.WSGITransport(app=app),
                         max_rate_per_minute=1_000_000)
    return build


def test_live_check_crawls_then_gates(ci_snapshots, ci_config, tmp_path, monkeypatch):
    rules = ("--rules", CI_PACK.parent, "--config", ci_config, *AS_OF)
    baseline = tmp_path / "pd-audit-baseline.json"
    run("baseline", "create", ci_snapshots["base"], "-o", baseline, *rules)
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    app = emulator_app(cut_to_one_level(acme_account()), tmp_path)
    monkeypatch.setattr(crawling, "api_client", _in_process_client(app))
    live = tmp_path / "live-snapshot"
    result = run("check", live, "--live", "--since", "2027-01-04T00:00:00Z", "--quiet", "--baseline", baseline,
                 "--json", "-", *rules)
    assert result.exit_code == 1
    assert [f["fingerprint"] for f in json.loads(result.stdout)["new"]] == [
        f"CIT-01:escalation_policy:{BROKEN_POLICY}"]
    assert "FAILED" in result.stderr  # the verdict moved to stderr: stdout is the JSON
    assert (live / "manifest.json").is_file()


def test_live_check_with_a_crawl_error_is_exit_3(ci_config, tmp_path, monkeypatch):
    (tmp_path / "pd-audit-baseline.json").write_text(json.dumps(
        {"format": "pd-audit-baseline", "format_version": 1, "updated": "2027-01-04", "entries": []}))
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    app = emulator_app(acme_account(), tmp_path)
    monkeypatch.setattr(crawling, "api_client", _in_process_client(app, token="a_revoked_token_value"))
    result = run("check", tmp_path / "live", "--live", "--quiet", "--baseline", tmp_path / "pd-audit-baseline.json",
                 "--config", ci_config)
    assert result.exit_code == 3, result.output


def test_live_check_onto_an_existing_snapshot_names_only_options_check_has(ci_snapshots, ci_config, tmp_path,
                                                                         monkeypatch):
    (tmp_path / "pd-audit-baseline.json").write_text(json.dumps(
        {"format": "pd-audit-baseline", "format_version": 1, "updated": "2027-01-04", "entries": []}))
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    monkeypatch.setattr(crawling, "api_client", _in_process_client(emulator_app(acme_account(), tmp_path)))
    existing = ci_snapshots["base"]
    result = run("check", existing, "--live", "--quiet", "--baseline", tmp_path / "pd-audit-baseline.json",
                 "--config", ci_config)
    assert result.exit_code == 2, result.output
    assert f"{existing} already exists; choose another snapshot path or pass --force" in result.stderr
    assert "--output" not in result.stderr  # check takes the snapshot as its argument, not --output


def test_diff_command_formats(ci_snapshots, ci_config):
    rules = ("--rules", CI_PACK.parent, "--config", ci_config, "--mode", "static", *AS_OF)
    table = run("diff", ci_snapshots["base"], ci_snapshots["fixed"], *rules)
    assert table.exit_code == 0 and "New (1):" in table.stdout and "Fixed (1):" in table.stdout
    data = json.loads(run("diff", ci_snapshots["base"], ci_snapshots["fixed"], "--format", "json", *rules).stdout)
    assert [f["fingerprint"] for f in data["new"]] == [f"CIT-01:escalation_policy:{BROKEN_POLICY}"]
    markdown = run("diff", ci_snapshots["base"], ci_snapshots["fixed"], "--format", "markdown", *rules).stdout
    assert markdown.index("#### New (1)") < markdown.index("#### Fixed (1)") < markdown.index("**Summary:**")
    team = json.loads(run("diff", ci_snapshots["base"], ci_snapshots["fixed"], "--format", "json", "--team",
                          "PTEAM09", *rules).stdout)
    assert team["new"] == [] and [t["id"] for t in team["teams"]] == ["PTEAM09"]


def test_history_command_formats(ci_snapshots, ci_config, tmp_path):
    folder = tmp_path / "snapshots"
    for name in ("base", "broken", "fixed"):
        shutil.copytree(ci_snapshots[name], folder / f"2027-{name}")
    rules = ("--rules", CI_PACK.parent, "--config", ci_config, "--mode", "static")
    rows = list(csv.DictReader(io.StringIO(run("history", folder, "--format", "csv", *rules).stdout)))
    org = [row for row in rows if row["group_id"] == "org"]
    assert [row["snapshot"] for row in org] == ["2027-base", "2027-broken", "2027-fixed"]
    assert [(row["new"], row["fixed"]) for row in org] == [("", ""), ("1", "0"), ("0", "1")]
    assert [row["failing"] for row in org] == ["7", "8", "7"]
    table = run("history", folder, "--team", "PTEAM01", *rules)
    assert table.exit_code == 0 and "Payments" in table.stdout and "Returns" not in table.stdout
    empty = run("history", tmp_path / "nothing-here", *rules)
    assert empty.exit_code == 2 and "not a folder of snapshots" in empty.stderr


def test_sample_config_is_valid_and_its_waiver_applies(ci_snapshots):
    result = run("score", ci_snapshots["base"], "--config", ROOT / "examples" / "pd-audit.toml", "--format", "json",
                 *AS_OF)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    waived = [f for f in data["findings"] if f["status"] == "waived"]
    assert [(f["rule_id"], f["entity_id"]) for f in waived] == [("OC-03", "PSCH018")]
    assert not any(f["rule_id"] == "SVC-02" for f in data["findings"])
