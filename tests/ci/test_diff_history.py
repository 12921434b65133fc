"""diff and history on three snapshots of the evolving example account (base, broken, fixed)."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from audit import cli
from audit.diff import diff_assessments
from audit.history import build_history, crawl_date, find_snapshots
from audit.outputs.ci import DIFF_FORMATS, HISTORY_FORMATS

from .conftest import BROKEN_POLICY, CI_PACK, ci_assess

PAYMENTS = "PTEAM01"


def test_diff_reports_levels_and_scores_per_service_team_and_org(ci_snapshots, ci_config):
    base, broken = ci_assess(ci_snapshots["base"], ci_config), ci_assess(ci_snapshots["broken"], ci_config)
    data = json.loads(DIFF_FORMATS["json"](diff_assessments(base, broken)))
    assert [f["fingerprint"] for f in data["new"]] == [f"CIT-01:escalation_policy:{BROKEN_POLICY}"]
    assert data["fixed"] == [] and data["counts"]["unchanged"] == 7
    payments = next(t for t in data["teams"] if t["id"] == PAYMENTS)
    assert payments["level_delta"] < 0 and payments["score_delta"] < 0
    policy_services = {s for f in broken.failing() if f.entity_id == BROKEN_POLICY for s in f.service_ids}
    dropped = {s["id"] for s in data["services"] if s["level_delta"] and s["level_delta"] < 0}
    assert dropped == policy_services and policy_services
    assert all(s["new_level"] == 0 for s in data["services"] if s["id"] in policy_services)
    assert data["org"]["new_score"] < data["org"]["old_score"]


def test_history_rescores_every_snapshot_in_crawl_order(ci_snapshots, ci_config, tmp_path):
    folder = tmp_path / "snapshots"
    # Names sort the other way round: the order must come from the manifests' crawl times.
    for name, label in (("base", "c"), ("broken", "b"), ("fixed", "a")):
        shutil.copytree(ci_snapshots[name], folder / label)
    (folder / "d.partial").mkdir()  # an unfinished crawl is not a point
    seen_dates = []

    def assess_snapshot(snapshot, crawled_on):
        seen_dates.append(crawled_on)
        return ci_assess(snapshot.path, ci_config, today=crawled_on)

    history = build_history(folder, assess_snapshot)
    assert [p.snapshot for p in history.points] == ["c", "b", "a"]
    assert [(p.new, p.fixed) for p in history.points] == [(None, None), (1, 0), (0, 1)]
    assert [p.org.failing for p in history.points] == [7, 8, 7]
    assert [p.teams[PAYMENTS].failing for p in history.points] == [0, 1, 1]
    levels = [p.teams[PAYMENTS].mean_level for p in history.points]
    assert levels[1] < levels[0] and levels[2] == levels[1]
    assert len(seen_dates) == 3 and all(d == crawl_date(p) for d, p in zip(seen_dates, find_snapshots(folder)))

    data = json.loads(HISTORY_FORMATS["json"](history))
    assert [p["org"]["failing"] for p in data["points"]] == [7, 8, 7]
    table = HISTORY_FORMATS["table"](history).splitlines()
    assert table[0].split()[:3] == ["snapshot", "crawled", "group"]
    assert sum(1 for line in table if "Organisation" in line) == 3



def test_report_with_history_draws_every_audit_and_takes_the_previous_from_the_folder(ci_snapshots, ci_config,
                                                                                        tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(CI_PACK, pack)
    folder = tmp_path / "snapshots"
    for name in ("base", "broken", "fixed"):  # the folder holds the reported snapshot too: one point each
        shutil.copytree(ci_snapshots[name], folder / name)
    out = tmp_path / "report"
    result = CliRunner().invoke(cli.main, ["report", str(folder / "fixed"), "--history", str(folder),
                                           "--report-dir", str(out), "--format", "html", "--config", str(ci_config),
                                           "--rules", str(pack), "--mode", "static"],
                               catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    summary = page[page.index('<section class="exec-summary"'):page.index('id="attention"')]
    assert "Trend over 3 audits" in summary
    broken_day = crawl_date(find_snapshots(folder)[1]).isoformat()
    assert f"compared with {broken_day}" in page  # no --previous: the newest snapshot before this one
    assert "then and now" in summary
    alone = tmp_path / "alone"
    result = CliRunner().invoke(cli.main, ["report", str(folder / "base"), "--history", str(folder),
                                           "--report-dir", str(alone), "--format", "html",
                                           "--config", str(ci_config), "--rules", str(pack)],
                               catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first = (alone / "index.html").read_text()
    assert "Only one audit so far" in first and "compared with" not in first  # later snapshots are its future
