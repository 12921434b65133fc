"""The report view-model: what the org report and the scorecards say, checked against the assessment."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from audit.findings import Status
from audit.reports.model import Gap, LevelCount, ReportIndex, meta
from audit.reports.org import build_org_report
from audit.reports.svg import level_columns, level_strip, timeline
from audit.reports.team import ScorecardBuilder
from audit.scoring import MAX_LEVEL


def href(team_id: str) -> str:
    return f"team-{team_id}.html"  # the model links to whatever the writer names the files


@pytest.fixture(scope="module")
def org(acme, acme_previous):
    return build_org_report(ReportIndex(acme, acme_previous), meta(acme, acme_previous), href)


@pytest.fixture(scope="module")
def cards(acme, acme_previous):
    builder = ScorecardBuilder(ReportIndex(acme, acme_previous), meta(acme, acme_previous), href)
    return {card.team.id: card for card in builder.build_all(["PTEAM01", "PTEAM02", "PTEAM08", "PTEAM09"])}


def test_teams_are_ranked_by_score(org, acme):
    scores = [t.score for t in org.teams]
    assert scores == sorted(scores, reverse=True)
    assert {t.id for t in org.teams} == set(acme.scores.teams) - {""}
    assert org.unowned is not None and org.unowned.service_count == len(acme.scores.teams[""].service_ids)
    payments = next(t for t in org.teams if t.id == "PTEAM01")
    assert payments.name == "Payments" and payments.href == "team-PTEAM01.html"
    assert sum(c.count for c in payments.distribution) == payments.service_count == 7


def test_org_distribution_and_top_rules(org, acme):
    assert [c.count for c in org.distribution] == [acme.scores.org.level_distribution[lv] for lv in range(5)]
    assert sum(c.share for c in org.distribution) == pytest.approx(1.0)
    failing = [r.failing for r in org.top_rules]
    assert failing == sorted(failing, reverse=True)
    top = org.top_rules[0]
    open_for_rule = {f.fingerprint for f in acme.findings if f.rule_id == top.rule.id and f.status is Status.FAIL}
    assert top.failing == len(open_for_rule)
    assert top.rule.rationale and top.rule.fix
    assert all(r.rule.level is not None for r in org.top_rules)  # info-only rules hold nothing back


def test_ownership_lists_unowned_and_ambiguous(org):
    kinds = {row.service.name: (row.kind, row.teams) for row in org.ownership}
    assert kinds["Legacy Reporting Export"] == ("unowned", ())
    assert kinds["Gift Cards"][0] == "ambiguous" and set(kinds["Gift Cards"][1]) == {"Checkout", "Payments"}


def test_findings_no_team_sees_are_listed_in_the_org_report(org, acme):
    # The orphaned Search shadow rotation and the unowned Legacy Reporting Export's policy reach no team.
    listed = {(row.rule_id, row.object.name) for row in org.teamless}
    assert ("OC-11", "Search shadow rotation") in listed
    assert ("ESC-01", "Legacy reporting (Robert)") in listed
    expected = [f for f in acme.findings if f.status is Status.FAIL and not f.team_ids]
    assert org.teamless_count == len(expected) == len(org.teamless)
    # Everything a team sees is on its scorecard, not here.
    assert not any(row.rule_id == "OWN-02" for row in org.teamless)


def test_coverage_lists_broken_24_7_promises(org, acme):
    services = acme.facts.tables["service"]
    broken = services[(services["coverage_promise"] == "24/7") & (services["l1_promise_coverage_pct"] < 100)
                      & ~services["is_disabled"]]
    assert {row.service.name for row in org.coverage} == set(broken["name"])
    assert org.coverage, "Acme has planted 24/7 gaps"
    gaps = [row.gap_hours for row in org.coverage]
    assert gaps == sorted(gaps, reverse=True)
    assert all(row.coverage_pct < 100 for row in org.coverage)


def test_load_picture_matches_the_user_table(org, acme):
    users = acme.facts.tables["user"]
    on_call = users[users["on_call"]]
    assert org.people_on_call == len(on_call)
    busiest = org.people[0]
    row = on_call.loc[on_call["on_call_hours"].idxmax()]
    assert busiest.hours == pytest.approx(row["on_call_hours"])
    assert busiest.night_hours == pytest.approx(row["on_call_hours"] * row["night_share_pct"] / 100)
    assert sum(b.count for b in org.load_bins) == org.people_on_call


def test_trend_names_movers_and_counts(org, acme, acme_previous):
    trend = org.trend
    assert trend is not None
    assert trend.org.new_score == acme.scores.org.score and trend.org.old_score == acme_previous.scores.org.score
    assert trend.new_count >= 2 and trend.fixed_count >= 1
    assert all(c.score_delta > 0 for c in trend.most_improved)
    assert all(c.score_delta < 0 for c in trend.worst_drops)
    checkout = next(c for c in trend.teams if c.id == "PTEAM02")
    assert checkout.score_delta < 0  # Gift Cards and Promotions regressed
    assert [c.count for c in trend.old_distribution] == [acme_previous.scores.org.level_distribution[lv]
                                                         for lv in range(5)]


def test_scorecard_lists_every_open_finding_once(cards, acme):
    for team_id, card in cards.items():
        expected = {f.fingerprint for f in acme.for_team(team_id).findings if f.status is Status.FAIL}
        shown = [(g.rule.id, row.object.name, row.message) for g in card.rule_groups for row in g.findings]
        assert len(shown) == len(set(shown)) == len(expected), team_id
        assert {g.rule.id for g in card.rule_groups} == {fp.split(":")[0] for fp in expected}


def test_rule_groups_put_what_caps_the_level_first(cards):
    card = cards["PTEAM08"]
    levels = [g.rule.level or MAX_LEVEL + 1 for g in card.rule_groups]
    assert levels == sorted(levels)
    first = card.rule_groups[0]
    assert first.rule.level == 1 and first.services_affected >= 1


def test_services_sorted_worst_first_with_blockers(cards, acme):
    card = cards["PTEAM02"]
    assert [s.level for s in card.services] == sorted(s.level for s in card.services)
    gift = next(s for s in card.services if s.id == "PSVC013")
    assert gift.level == 0 and "XOWN-01" in gift.blockers
    assert gift.change is not None and gift.change.new_level == 0
    assert gift.standards is not None  # Acme crawls PagerDuty's standards scores


def test_next_steps_name_the_rules_of_the_next_level(cards, acme):
    card = cards["PTEAM02"]
    for step in card.next_steps:
        service = next(s for s in acme.scores.services.values() if s.service.name == step.service.name)
        assert step.level == service.level < MAX_LEVEL
        assert {r.id for r in step.rules} == {f.rule_id for f in service.next_level_blockers}
        assert all(r.level == step.target_level for r in step.rules)


def test_waivers_show_expiry(cards):
    by_rule = {w.rule_id: w for w in cards["PTEAM01"].waivers}
    active = by_rule["XOWN-06"]
    assert active.object.name == "Payout Scheduler" and active.expires == dt.date(2027, 3, 31)
    assert active.days_left == (dt.date(2027, 3, 31) - dt.date(2027, 2, 2)).days and active.state == "active"


def test_expired_waiver_reopens_in_org_report(org):
    expired = {(w.rule_id, w.object.name): w for w in org.waivers_expired}
    waiver = expired[("XESC-01", "Legacy reporting (Robert)")]
    assert waiver.state == "expired" and waiver.days_left == -18


def test_coverage_timeline_per_policy_level(cards, acme):
    card = cards["PTEAM08"]
    levels = acme.facts.tables["policy_level"]
    for policy in card.coverage:
        assert [lv.level for lv in policy.levels] == sorted(lv.level for lv in policy.levels)
    gappy = [lv for p in card.coverage for lv in p.levels if lv.gaps]
    assert gappy, "Warehouse Ops has planted level-1 gaps"
    row = levels[levels["coverage_pct"] == gappy[0].coverage_pct].iloc[0]
    assert len(gappy[0].gaps) == len(row["gaps"])


def test_people_load_of_a_team(cards, acme):
    users = acme.facts.tables["user"]
    team_services = set(acme.scores.teams["PTEAM01"].service_ids)
    expected = {name for name, on, services in zip(users["name"], users["on_call"], users["service_ids"])
                if on and team_services.intersection(services)}
    assert {p.person.name for p in cards["PTEAM01"].people} == expected


def test_timeline_places_gaps_on_the_window():
    start = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=28)
    gap = Gap(start + dt.timedelta(days=7), start + dt.timedelta(days=7, hours=12))
    chart = timeline(start, end, [gap], title="L1", width=700)
    gap_rect = next(r for r in chart.rects if r.css == "gap")
    assert gap_rect.x == pytest.approx(175.0) and gap_rect.width == pytest.approx(12.5)
    assert "12.0 h" in gap_rect.title
    assert [label.text for label in chart.labels] == ["04 Jan", "11 Jan", "18 Jan", "25 Jan", "01 Feb"]


def test_level_charts_scale_to_the_largest_level():
    counts = [LevelCount(lv, f"L{lv}", n, n / 10) for lv, n in enumerate([4, 2, 0, 3, 1])]
    columns = level_columns(counts)
    heights = [r.height for r in columns.rects]
    assert heights[0] == max(heights) and heights[2] == 0
    assert heights[1] == pytest.approx(heights[0] / 2, abs=0.1)
    strip = level_strip(counts, width=100)
    assert [r.width for r in strip.rects] == [40.0, 20.0, 30.0, 10.0]


def test_summary_names_best_and_worst_three_teams(org):
    assert org.leading_and_trailing == org.teams[:3] + org.teams[-3:]
    few = dataclasses.replace(org, teams=org.teams[:2])
    assert few.leading_and_trailing == org.teams[:2]
