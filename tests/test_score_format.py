"""The score's JSON and CSV (``pd-audit/score-v2``): open and waived findings listed, the rest
counted per rule and team, ``--all`` for every finding; the counts agree with the full list, and
the listed findings are the ones the CI gate judges."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.outputs.summary import FORMAT

from .crawl.conftest import ACME, crawl, emulator_app

LISTED = {"fail", "warn", "waived"}
COUNTED = {"pass", "not_applicable", "excluded"}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    snap, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("format") / "snap")
    return snap.path


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


@pytest.fixture(scope="module")
def scored(snapshot):
    """The default JSON and the --all JSON of the same snapshot, judged the same day."""
    default = run("score", snapshot, "--format", "json", "--as-of", "2027-01-04")
    every = run("score", snapshot, "--format", "json", "--as-of", "2027-01-04", "--all")
    assert default.exit_code == 0 and every.exit_code == 0, default.output + every.output
    return json.loads(default.stdout), json.loads(every.stdout)


def test_the_shape_is_versioned_and_lists_only_open_and_waived_findings(scored):
    default, every = scored
    assert default["format"] == every["format"] == FORMAT == "pd-audit/score-v2"
    assert default["findings_listed"] == "open and waived" and every["findings_listed"] == "all"
    assert {f["status"] for f in default["findings"]} <= LISTED and default["findings"]
    assert {f["status"] for f in every["findings"]} >= {"fail", "pass", "not_applicable"}
    assert every["counted_findings"] == []
    for row in default["counted_findings"]:
        assert set(row) == {"rule_id", "team_id"} | COUNTED and sum(row[s] for s in COUNTED) > 0
    # Everything but the findings is the same either way.
    strip = ("findings", "findings_listed", "counted_findings")
    assert {k: v for k, v in default.items() if k not in strip} == {k: v for k, v in every.items() if k not in strip}


def test_the_listed_findings_are_the_full_lists_open_and_waived_ones(scored):
    default, every = scored
    assert default["findings"] == [f for f in every["findings"] if f["status"] in LISTED]


def test_counts_agree_with_the_full_list(scored):
    default, every = scored
    per_rule = Counter((f["rule_id"], f["status"]) for f in every["findings"])
    assert {(rule, status): n for rule, counts in default["finding_counts"].items()
            for status, n in counts.items() if n} == dict(per_rule)
    # Per rule and team: each finding under every team it affects, or team null.
    per_team = Counter((f["rule_id"], team, f["status"]) for f in every["findings"] if f["status"] in COUNTED
                       for team in f["team_ids"] or [None])
    shown = {(row["rule_id"], row["team_id"], status): row[status]
             for row in default["counted_findings"] for status in COUNTED if row[status]}
    assert shown == dict(per_team) and any(team is None for _, team, _ in shown)


def test_csv_counts_agree_with_its_every_finding_rows(snapshot):
    rows = list(csv.DictReader(io.StringIO(run("score", snapshot, "--format", "csv", "--as-of", "2027-01-04").stdout)))
    every = list(csv.DictReader(io.StringIO(
        run("score", snapshot, "--format", "csv", "--as-of", "2027-01-04", "--all").stdout)))
    assert {row["count"] for row in every} == {"1"} and all(row["fingerprint"] for row in every)
    listed = [row for row in rows if row["fingerprint"]]
    assert listed == [row for row in every if row["status"] in LISTED]
    counted = Counter()
    for row in rows:
        if not row["fingerprint"]:
            assert row["status"] in COUNTED and row["team_ids"].count(" ") == 0
            counted[(row["rule_id"], row["team_ids"], row["status"])] += int(row["count"])
    expected = Counter((row["rule_id"], team, row["status"]) for row in every if row["status"] in COUNTED
                       for team in row["team_ids"].split() or [""])
    assert counted == expected


def test_the_listed_failing_findings_are_what_baseline_and_check_record(snapshot, tmp_path):
    # The gate's commands judge static rules by default: the score in the same mode lists the
    # same open findings that `baseline create` records and `check` then finds unchanged.
    data = json.loads(run("score", snapshot, "--format", "json", "--mode", "static").stdout)
    baseline = tmp_path / "baseline.json"
    assert run("baseline", "create", snapshot, "-o", baseline).exit_code == 0
    recorded = {entry["fingerprint"] for entry in json.loads(baseline.read_text())["entries"]}
    listed_open = {f["fingerprint"] for f in data["findings"] if f["status"] in {"fail", "warn"}}
    assert recorded == listed_open and recorded
    result = run("check", snapshot, "--baseline", baseline, "--json", tmp_path / "check.json")
    checked = json.loads((tmp_path / "check.json").read_text())
    assert result.exit_code == 0 and {f["fingerprint"] for f in checked["unchanged"]} == listed_open
    assert checked["format"] == "pd-audit/check-v1"


def test_a_reader_that_stops_early_ends_the_output_quietly(snapshot):
    # `pd-audit score SNAP --format json --all | head -1`: more than a pipe holds, read one line.
    command = [str(Path(sys.executable).with_name("pd-audit")), "score", str(snapshot), "--format", "json", "--all"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline() == b"{\n"
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0 and "error" not in stderr, stderr


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_stdout_redirected_to_a_file_holds_what_the_command_writes(snapshot, tmp_path, fmt):
    # `pd-audit score SNAP --format json --all > file`: stdout is a file, written through its own 1 MiB
    # buffer (audit.outputs.destination); the bytes are the ones the command writes anywhere else.
    written = tmp_path / f"score.{fmt}"
    command = [str(Path(sys.executable).with_name("pd-audit")), "score", str(snapshot), "--format", fmt, "--all",
               "--as-of", "2027-01-04"]
    with open(written, "wb") as out:
        finished = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr.decode()
    expected = run("score", snapshot, "--format", fmt, "--all", "--as-of", "2027-01-04").stdout_bytes
    assert len(expected) > 2**20 // 8 and written.read_bytes() == expected
