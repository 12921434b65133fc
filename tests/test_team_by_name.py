"""--team takes a team's id or its name (case-insensitive) in score, check and report; an ambiguous name is an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import main

from .crawl.conftest import ACME, crawl, emulator_app


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    snap, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("teams") / "snap")
    return snap.path


@pytest.fixture(scope="module")
def twin_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example account with Checkout renamed "payments": two teams answer to that name."""
    account = json.loads(ACME.read_text(encoding="utf-8"))
    for team in account["teams"]:
        if team["id"] == "PTEAM02":
            team["name"] = "payments"
    folder = tmp_path_factory.mktemp("twins")
    snap, _ = crawl(emulator_app(account, folder), folder / "snap")
    return snap.path


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def run(*args: object):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_score_takes_a_team_name_in_any_case(snapshot: Path) -> None:
    by_id = json.loads(run("score", snapshot, "--format", "json", "--team", "PTEAM01").stdout)
    by_name = json.loads(run("score", snapshot, "--format", "json", "--team", "pAyMeNtS").stdout)
    assert by_name["services"] == by_id["services"] and by_name["services"]
    assert [t["id"] for t in by_name["teams"]] == ["PTEAM01"]


def test_score_with_a_team_shows_the_teams_figures(snapshot: Path) -> None:
    org = json.loads(run("score", snapshot, "--format", "json").stdout)
    payments = next(t for t in org["teams"] if t["id"] == "PTEAM01")
    text = run("score", snapshot, "--team", "Payments").stdout
    headline = text.splitlines()[2]
    assert headline.startswith("Team Payments") and f"{payments['score']:5.1f}" in headline
    assert f"({len(payments['service_ids'])} services" in headline
    assert "Org " not in text and "Teams, by score" not in text
    assert f"{org['org']['score']:5.1f}" not in headline


def test_an_ambiguous_name_lists_the_candidates(twin_snapshot: Path) -> None:
    result = run("score", twin_snapshot, "--team", "Payments")
    assert result.exit_code == 2
    assert "2 teams have that name" in result.stderr and "PTEAM01" in result.stderr and "PTEAM02" in result.stderr
    assert run("score", twin_snapshot, "--team", "PTEAM02", "--format", "json").exit_code == 0


def test_an_unknown_team_suggests_close_names(snapshot: Path) -> None:
    result = run("score", snapshot, "--team", "Paymnts")
    assert result.exit_code == 2 and "did you mean 'Payments'" in result.stderr


def test_check_takes_a_team_name(snapshot: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert run("baseline", "create", snapshot, "-o", baseline).exit_code == 0
    by_name = run("check", snapshot, "--baseline", baseline, "--team", "payments", "--json", "-")
    by_id = run("check", snapshot, "--baseline", baseline, "--team", "PTEAM01", "--json", "-")
    assert by_name.exit_code == by_id.exit_code == 0
    assert json.loads(by_name.stdout)["team_id"] == "PTEAM01"
    assert json.loads(by_name.stdout)["counts"] == json.loads(by_id.stdout)["counts"]


def test_report_for_one_team_links_the_org_report_only_when_it_is_there(snapshot: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    assert run("report", snapshot, "--team", "payments", "--format", "html", "--report-dir", alone).exit_code == 0
    (page_path,) = alone.glob("team-*PTEAM01.html")
    page = page_path.read_text(encoding="utf-8")
    assert not (alone / "index.html").exists() and 'href="index.html"' not in page
    full = tmp_path / "full"
    assert run("report", snapshot, "--format", "html", "--report-dir", full).exit_code == 0
    assert run("report", snapshot, "--team", "Payments", "--format", "html", "--report-dir", full).exit_code == 0
    (page_path,) = full.glob("team-*PTEAM01.html")
    assert 'href="index.html"' in page_path.read_text(encoding="utf-8")
