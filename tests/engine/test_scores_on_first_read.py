"""Scores made only when an output reads them: the CSV, the baseline and the CI gate read the
findings alone, and scoring a large account is a tenth of a second or more they need not wait for."""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import os
import time

import pytest
from click.testing import CliRunner

import audit.assess
import audit.facts.forked
from audit.assess import ScoresOnFirstRead, assess
from audit.cli import main
from audit.facts.forked import forking_helps
from audit.outputs import json_report
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


def _scores_text(scores: ScoreReport) -> tuple[int, str]:
    """What an output might lay out from the scores, and the process that laid it out."""
    services = sorted((s.service.id, s.level, s.score, s.failing_rules) for s in scores.services.values())
    teams = sorted((t.id, t.score, sorted((r, dict(tally.counts)) for r, tally in t.rules.items()))
                   for t in scores.teams.values())
    return os.getpid(), repr((services, teams, scores.org.score, scores.org.level_distribution))


@pytest.mark.skipif(not forking_helps(), reason="needs os.fork and two cores")
def test_scores_laid_out_beside_are_the_ones_made_in_line(snapshot, monkeypatch):
    in_line = assess(snapshot, today=dt.date(2027, 1, 4))
    here, expected = in_line.scores_beside(_scores_text).result()  # a small account: in line
    assert here == os.getpid() and in_line.scoring.made and "PSVC001" in expected

    monkeypatch.setattr(audit.facts.forked, "FORK_FROM_SERVICES", 1)  # as large accounts are
    beside = assess(snapshot, today=dt.date(2027, 1, 4))
    there, text = beside.scores_beside(_scores_text).result()
    assert there != os.getpid() and text == expected
    assert not beside.scoring.made  # made in the child only: an output that reads no more never waits
    assert beside.scores_beside(_scores_text).result()[0] != os.getpid()
    beside.scores  # noqa: B018 -- once made here, there is nothing to gain from a child
    assert beside.scores_beside(_scores_text).result() == (os.getpid(), expected)


@pytest.mark.skipif(not forking_helps(), reason="needs os.fork and two cores")
def test_an_abandoned_score_child_is_stopped(snapshot, monkeypatch, tmp_path):
    monkeypatch.setattr(audit.facts.forked, "FORK_FROM_SERVICES", 1)
    started = tmp_path / "child"

    def slow(scores: ScoreReport) -> None:
        started.write_text(str(os.getpid()))
        time.sleep(60)

    beside = assess(snapshot, today=dt.date(2027, 1, 4)).scores_beside(slow)
    while not started.exists() or not started.read_text():
        time.sleep(0.01)
    beside.abandon()  # the output failed first: the child is stopped and reaped, not left behind
    with pytest.raises(ProcessLookupError):
        os.kill(int(started.read_text()), 0)


def _json_text(assessment) -> str:
    out = io.StringIO()
    json_report.write(assessment, out)
    return out.getvalue()


@pytest.mark.skipif(not forking_helps(), reason="needs os.fork and two cores")
def test_json_laid_out_with_its_scores_beside_is_the_same_bytes(snapshot, monkeypatch):
    expected = _json_text(assess(snapshot, today=dt.date(2027, 1, 4)))
    monkeypatch.setattr(audit.facts.forked, "FORK_FROM_SERVICES", 1)  # as large accounts are
    beside = assess(snapshot, today=dt.date(2027, 1, 4))
    assert _json_text(beside) == expected and "PSVC001" in expected
    assert not beside.scoring.made  # the scores were made, and their sections laid out, in the child
