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


WARNED_PACK = """\
description: a rule with a softer warning threshold, for fail -> warn
rules:
  - id: CIW-01
    title: Policy has three levels
    entity: escalation_policy
    condition: level_count >= 3
    warn_when: level_count >= 2
    severity: high
    level: 1
    mode: S
    rationale: Two levels page a backup; a third reaches a manager.
    fix: People → Escalation Policies → <policy> → Edit, add levels.
    message: "{level_count} level(s); 3 recommended, fewer than 2 is an error"
"""


def test_a_failure_that_became_a_warning_is_downgraded_not_fixed(ci_snapshots, ci_config, tmp_path):
    from audit.assess import STATIC_ONLY, assess
    from audit.baseline import create_baseline
    from audit.gate import BaselineState, run_gate

    from .conftest import TODAY

    pack = tmp_path / "warned.yaml"
    pack.write_text(WARNED_PACK, encoding="utf-8")

    def judged(name):
        return assess(ci_snapshots[name], rules_dirs=[pack], config_path=ci_config, modes=STATIC_ONLY, today=TODAY)

    base, fixed = judged("base"), judged("fixed")  # PEP0013: 1 level (fails), then 2 (a warning)
    legacy = "CIW-01:escalation_policy:PEP0013"
    assert {f.fingerprint: f.status.value for f in base.findings}[legacy] == "fail"
    assert {f.fingerprint: f.status.value for f in fixed.findings}[legacy] == "warn"

    diff = diff_assessments(base, fixed)
    assert [f.fingerprint for f in diff.downgraded] == [legacy] and diff.downgraded[0].status.value == "warn"
    assert legacy not in {f.fingerprint for f in (*diff.fixed, *diff.new, *diff.unchanged, *diff.waived)}
    assert [f.fingerprint for f in diff.new] == [f"CIW-01:escalation_policy:{BROKEN_POLICY}"]  # 3 levels -> 1

    data = json.loads(DIFF_FORMATS["json"](diff))
    assert data["format"] == "pd-audit/diff-v1"
    assert data["counts"]["downgraded"] == 1 and [f["fingerprint"] for f in data["downgraded"]] == [legacy]
    assert legacy not in {f["fingerprint"] for f in data["fixed"]}
    assert "Failing before, a warning now (1):" in DIFF_FORMATS["table"](diff)
    markdown = DIFF_FORMATS["markdown"](diff)
    assert "#### Failing before, a warning now (1)" in markdown and " 1 now warnings · " in markdown

    # The gate agrees: a warning is still open debt, so the baseline's entry is unchanged, not absent.
    gate = run_gate(fixed, create_baseline(base.findings, TODAY))
    assert legacy not in {e.fingerprint for e in gate.absent}
    (warned,) = [f for f in gate.unchanged if f.fingerprint == legacy]
    assert gate.state_of(warned) is BaselineState.UNCHANGED and not gate.is_blocking(warned)

    # The other way round, a warning that became a failure is a new violation.
    back = diff_assessments(fixed, base)
    assert legacy in {f.fingerprint for f in back.new} and not back.downgraded


def test_history_json_gives_each_snapshot_its_own_teams(ci_snapshots, ci_config, tmp_path):
    folder = tmp_path / "snapshots"
    for name in ("base", "broken"):
        shutil.copytree(ci_snapshots[name], folder / name)
    history = build_history(folder, lambda snapshot, day: ci_assess(snapshot.path, ci_config, today=day))
    data = json.loads(HISTORY_FORMATS["json"](history))
    assert data["format"] == "pd-audit/history-v1"
    failing = [{t["id"]: t["failing"] for t in point["teams"]} for point in data["points"]]
    assert failing == [{tid: g.failing for tid, g in point.teams.items()} for point in history.points]
    assert failing[0][PAYMENTS] != failing[1][PAYMENTS]  # the points differ, and each shows its own
