"""The scoring benchmark's end-to-end part in miniature: every command runs as a user runs it on a
small generated account, and its figures are computed and agree with what it wrote. No
wall-time assertions (figures are the benchmark's business, not the test's)."""

from __future__ import annotations

import json

import pytest

from audit.outputs.sarif_budget import MAX_RESULTS
from tests.benchmarks import cli_runs
from tests.benchmarks.bench_score import build_snapshot, write_config


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bench-score")
    snapshot = build_snapshot(0.01, directory)  # 100 services, 30 policies, 40 schedules, 150 users, 6 teams
    config = write_config(snapshot, directory)
    work = directory / "work"
    work.mkdir()
    floor, objects = cli_runs.read_floor(snapshot)
    return snapshot, work, floor, objects, cli_runs.run_commands(snapshot, config, work)


def test_every_command_ran_and_was_measured(measured):
    snapshot, work, floor, objects, runs = measured
    assert [run.name.split()[0] for run in runs] == ["score"] * 4 + ["baseline", "check", "report"]
    assert floor > 0 and objects > 100
    for run in runs:
        assert run.wall > 0 and 2**20 < run.peak_rss < 2**31 and run.output_bytes > 0, run


def test_the_figures_are_of_what_the_commands_wrote(measured):
    _, work, _, _, runs = measured
    by_name = {run.name: run for run in runs}
    score = json.loads((work / "score.json").read_text(encoding="utf-8"))
    every = json.loads((work / "score-all.json").read_text(encoding="utf-8"))
    assert by_name["score --format json"].output_bytes == (work / "score.json").stat().st_size
    assert len(every["findings"]) == sum(sum(c.values()) for c in score["finding_counts"].values())
    assert len(score["findings"]) < len(every["findings"])
    sarif = json.loads((work / "check.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    baseline = json.loads((work / "base.json").read_text(encoding="utf-8"))
    assert len(results) == len(baseline["entries"]) <= MAX_RESULTS
    assert f"{len(results):,} results (0 summaries)" in by_name["check --sarif (after baseline create)"].note
    assert (work / "report" / "index.html").exists()


def test_the_printout_names_every_command_ratio_and_target(measured):
    _, _, floor, objects, runs = measured
    text = "\n".join(cli_runs.format_runs(runs, floor, objects))
    assert f"{objects:,} objects" in text
    for run in runs:
        assert run.name in text and f"{run.wall / floor:7.1f}x" in text
    assert text.count("[PASS") + text.count("[FAIL") == 5  # three score formats, the SARIF and the report
    growth = "\n".join(cli_runs.format_growth([(100, floor, runs), (1000, floor * 10, runs)]))
    assert "100 -> 1,000 services (10x)" in growth and "(1.00)" in growth
