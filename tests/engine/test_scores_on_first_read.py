"""Scores made only when an output reads them: the CSV, the baseline and the CI gate read the
findings alone, and scoring a large account is a tenth of a second or more they need not wait for."""

from __future__ import annotations

import gc
import json

import pytest
from click.testing import CliRunner

import audit.assess
from audit.assess import ScoresOnFirstRead
from audit.cli import main
from audit.scoring import ScoreReport, score

from ..crawl.conftest import ACME, crawl, emulator_app


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    snap, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("lazy") / "snap")
    return snap.path


@pytest.fixture
def scorings(monkeypatch):
    """Each scoring of a run, as it happens."""
    made: list[ScoreReport] = []

    def counted(*args, **kwargs):
        made.append(score(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(audit.assess, "score", counted)
    return made


def run(*args):
    result = CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return result


def test_outputs_that_read_no_score_never_make_one(snapshot, tmp_path, scorings):
    run("score", snapshot, "--format", "csv")
    baseline = tmp_path / "baseline.json"
    run("baseline", "create", snapshot, "-o", baseline)
    run("check", snapshot, "--baseline", baseline, "--sarif", tmp_path / "check.sarif", "--junit", tmp_path / "j.xml")
    assert scorings == [] and json.loads(baseline.read_text())["entries"]


@pytest.mark.parametrize(("fmt", "one_team"), [("json", False), ("table", False), ("csv", True)])
def test_outputs_that_read_the_scores_make_them_once(snapshot, scorings, fmt, one_team):
    team = ("--team", json.loads(ACME.read_text())["teams"][0]["id"]) if one_team else ()
    result = run("score", snapshot, "--format", fmt, *team)  # --team: its services come from the scores
    assert len(scorings) == 1 and result.stdout
    if fmt == "json":
        assert len(json.loads(result.stdout)["services"]) == len(scorings[0].services)


def test_the_scores_are_made_once_with_the_collector_paused():
    made: list[bool] = []
    report = ScoreReport(services={}, teams={}, org=None)  # type: ignore[arg-type]

    def make():
        made.append(gc.isenabled())
        return report

    scoring = ScoresOnFirstRead(make)
    assert not scoring.made
    assert scoring.report() is report and scoring.report() is report
    assert made == [False] and scoring.made and gc.isenabled()
    assert ScoresOnFirstRead(report=report).report() is report
    for wrong in ({}, {"make": make, "report": report}):
        with pytest.raises(ValueError):
            ScoresOnFirstRead(**wrong)
