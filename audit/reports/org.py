"""The org report's view-model: maturity, rankings, risks, on-call load and the trend, for the whole account."""

from __future__ import annotations

import collections
import dataclasses
import statistics
from collections.abc import Callable

from audit.diff import mean_level
from audit.findings import Status
from audit.reports.cells import Link, number
from audit.reports.fixes import holding_back
from audit.reports.model import (
    CoverageRow,
    FindingRow,
    FixRow,
    LevelCount,
    Meta,
    OwnershipRow,
    ReportIndex,
    RuleInfo,
    RuleRow,
    TeamRow,
    Trend,
    WaiverRow,
    distribution,
    fix_order,
)
from audit.reports.people import PersonLoadRow
from audit.reports.practice import Practice
from audit.reports.trend_line import TrendPoint
from audit.scoring import NO_TEAM

TOP_RULES = 10
TOP_PEOPLE = 25
TOP_MOVERS = 5
TOP_FIXES = 5  # the first page's "what to fix first"
FURTHEST_BEHIND = 3  # the first page's teams furthest behind
MAX_LISTED_CHANGES = 100  # new/fixed/teamless findings listed in the org report; the rest are counted
# Hours on call in the window, as the load histogram's bins (lower edge, label).
LOAD_BINS = ((0, "< 1 day"), (24, "1-2 days"), (48, "2-4 days"), (96, "4-7 days"), (168, "1-2 weeks"),
             (336, "> 2 weeks"))


@dataclasses.dataclass(frozen=True)
class LoadBin:
    label: str
    count: int


@dataclasses.dataclass(frozen=True)
class TeamCoverage:
    """A team's 24/7 promises and how many of them level 1 keeps."""

    team: str
    promised: int
    kept: int

    @property
    def kept_pct(self) -> float:
        return 100 * self.kept / self.promised if self.promised else 100.0


@dataclasses.dataclass(frozen=True)
class BehindRow:
    """A team furthest behind, and the one rule that holds most of its services below their next level."""

    team: TeamRow
    rule: RuleInfo | None  # None: nothing fails at any of its services' next level
    held_back: int  # services that rule keeps below their next level


@dataclasses.dataclass(frozen=True)
class TeamPractice:
    """A team's configuration (level, score) beside its practice in the incident window."""

    team: TeamRow
    practice: Practice


@dataclasses.dataclass(frozen=True)
class OrgReport:
    meta: Meta
    distribution: tuple[LevelCount, ...]
    score: float | None
    checks_passing: float | None  # the secondary figure: weighted share of checks passing, 0-100
    mean_level: float | None
    service_count: int
    open_findings: int
    teams: tuple[TeamRow, ...]  # ranked: best score first
    unowned: TeamRow | None  # the services no team owns, as a pseudo-team
    top_rules: tuple[RuleRow, ...]
    ownership: tuple[OwnershipRow, ...]
    coverage: tuple[CoverageRow, ...]  # promised 24/7, not kept: most gap hours first
    coverage_by_team: tuple[TeamCoverage, ...]  # teams with a broken promise, worst first
    people: tuple[PersonLoadRow, ...]  # the busiest on-call people
    people_on_call: int
    median_hours: float | None
    night_hours: float
    load_bins: tuple[LoadBin, ...]
    standards_pct: float | None
    waivers_expired: tuple[WaiverRow, ...]
    waivers_unused: int
    trend: Trend | None
    # Failing findings that reach no team (a schedule no policy uses, the policy of an unowned
    # service, a user in no team): no scorecard shows them, so the org report lists them.
    teamless: tuple[FindingRow, ...] = ()
    teamless_count: int = 0
    top_fixes: tuple[FixRow, ...] = ()  # the fixes that lift most services a level, best first
    furthest_behind: tuple[BehindRow, ...] = ()  # lowest score first
    trend_line: tuple[TrendPoint, ...] = ()  # every audit known, oldest first, this one last
    practice: tuple[TeamPractice, ...] = ()  # every ranked team, in rank order; empty without incidents

    @property
    def leading_and_trailing(self) -> tuple[TeamRow, ...]:
        """The three best and three worst teams (all of them when there are six or fewer)."""
        return self.teams if len(self.teams) <= 6 else self.teams[:3] + self.teams[-3:]

    @property
    def at_level_two_or_more(self) -> float:
        return sum(c.share for c in self.distribution if c.level >= 2)


def build_org_report(index: ReportIndex, meta: Meta, team_href: Callable[[str], str],
                     trend_line: tuple[TrendPoint, ...] = ()) -> OrgReport:
    assessment = index.assessment
    scores = assessment.scores
    teams = [index.team_row(t, g, team_href(t)) for t, g in scores.teams.items() if t != NO_TEAM]
    teams.sort(key=lambda t: (t.score is None, -(t.score or 0), -(t.mean_level or 0), t.name.casefold()))
    unowned = (
        index.team_row(NO_TEAM, scores.teams[NO_TEAM], "") if NO_TEAM in scores.teams else None
    )
    services = index.services
    people = index.people.everyone()
    hours = [p.hours for p in people]
    teamless = [f for f in assessment.findings if f.status is Status.FAIL and not f.team_ids]
    return OrgReport(
        meta=meta,
        distribution=distribution(scores.org),
        score=scores.org.score,
        checks_passing=scores.org.checks_passing,
        mean_level=mean_level(scores.org),
        service_count=len(scores.services),
        open_findings=sum(1 for f in assessment.findings if f.status is Status.FAIL),
        teams=tuple(teams),
        unowned=unowned,
        top_rules=_top_rules(index),
        ownership=_ownership(index),
        coverage=_coverage(index),
        coverage_by_team=_coverage_by_team(index, services),
        people=people[:TOP_PEOPLE],
        people_on_call=len(people),
        median_hours=statistics.median(hours) if hours else None,
        night_hours=sum(p.night_hours for p in people),
        load_bins=_load_bins(hours),
        standards_pct=index.standards_pct(scores.services),
        waivers_expired=_expired_waivers(index),
        waivers_unused=len(assessment.waivers.unused),
        trend=_trend(index),
        teamless=_listed(index, teamless),
        teamless_count=len(teamless),
        top_fixes=index.fix_rows(limit=TOP_FIXES),
        furthest_behind=_furthest_behind(index, teams),
        trend_line=trend_line,
        practice=_practice(index, teams),
    )


def _furthest_behind(index: ReportIndex, ranked: list[TeamRow]) -> tuple[BehindRow, ...]:
    """The lowest-scoring teams (at most half of them, so that a team is never both leading and behind)."""
    services = index.assessment.scores.services
    rows = []
    for team in reversed(ranked[-min(FURTHEST_BEHIND, len(ranked) // 2 or len(ranked)):]):
        held = holding_back(services, index.assessment.scores.teams[team.id].service_ids, index.fix_rank)
        rows.append(BehindRow(team, index.rule(held[0]) if held else None, held[1] if held else 0))
    return tuple(rows)


def _practice(index: ReportIndex, ranked: list[TeamRow]) -> tuple[TeamPractice, ...]:
    rows = []
    for team in ranked:
        practice = index.practice.for_team(index.assessment.scores.teams[team.id].service_ids,
                                           index.team_members.get(team.id, ()))
        if practice is not None:
            rows.append(TeamPractice(team, practice))
    return tuple(rows)


def _top_rules(index: ReportIndex) -> tuple[RuleRow, ...]:
    affected: dict[str, set[str]] = collections.defaultdict(set)
    for finding in index.assessment.findings:
        if finding.status is Status.FAIL:
            affected[finding.rule_id].update(finding.service_ids)
    rows = []
    for rule_id, tally in index.assessment.scores.org.rules.items():
        failing = tally.counts.get(Status.FAIL, 0)
        rule = index.rule(rule_id)
        if failing and rule.level is not None:  # info-only rules inform; they hold nothing back
            judged = failing + tally.counts.get(Status.PASS, 0)
            rows.append(RuleRow(rule, failing, judged, len(affected[rule_id])))
    rows.sort(key=lambda r: (-r.failing, fix_order(r.rule, r.services_affected)))
    return tuple(rows[:TOP_RULES])


def _ownership(index: ReportIndex) -> tuple[OwnershipRow, ...]:
    services = index.services
    rows = [
        OwnershipRow(
            service=Link(str(row.name), index.service_urls.get(str(row.id))),
            kind="unowned" if row.team_count == 0 else "ambiguous",
            teams=tuple(str(name) for name in row.team_names),
        )
        for row in services[services["team_count"] != 1].itertuples(index=False)
        if not row.is_disabled
    ]
    return tuple(sorted(rows, key=lambda r: (r.kind != "unowned", r.service.name.casefold())))


def _broken_promises(services):
    """Active services promising 24/7 whose level 1 leaves gaps."""
    promised = services[(services["coverage_promise"] == "24/7") & ~services["is_disabled"]]
    return promised, promised[promised["l1_promise_coverage_pct"].fillna(0) < 100]


def _coverage(index: ReportIndex) -> tuple[CoverageRow, ...]:
    _, broken = _broken_promises(index.services)
    rows = [
        CoverageRow(
            service=Link(str(row.name), index.service_urls.get(str(row.id))),
            teams=tuple(str(name) for name in row.team_names),
            promise=str(row.coverage_promise),
            coverage_pct=number(row.l1_promise_coverage_pct) or 0.0,
            gap_hours=number(row.l1_promise_gap_hours) or 0.0,
        )
        for row in broken.itertuples(index=False)
    ]
    return tuple(sorted(rows, key=lambda r: (-r.gap_hours, r.service.name.casefold())))


def _coverage_by_team(index: ReportIndex, services) -> tuple[TeamCoverage, ...]:
    promised, broken = _broken_promises(services)
    broken_ids = set(broken["id"])
    tally: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for service_id, team_ids in zip(promised["id"], promised["team_ids"]):
        for team_id in list(team_ids) or [NO_TEAM]:
            tally[team_id][0] += 1
            tally[team_id][1] += service_id not in broken_ids
    rows = [TeamCoverage(index.team_name(t), p, k) for t, (p, k) in tally.items() if k < p]
    return tuple(sorted(rows, key=lambda r: (r.kept_pct, -r.promised, r.team.casefold())))


def _load_bins(hours: list[float]) -> tuple[LoadBin, ...]:
    counts: collections.Counter[int] = collections.Counter()
    for value in hours:
        counts[max(i for i, (edge, _) in enumerate(LOAD_BINS) if value >= edge)] += 1
    return tuple(LoadBin(label, counts[i]) for i, (_, label) in enumerate(LOAD_BINS))


def _expired_waivers(index: ReportIndex) -> tuple[WaiverRow, ...]:
    reopened = [f for f in index.assessment.findings if f.waiver_expired]
    return index.waiver_rows(reopened)


def _trend(index: ReportIndex) -> Trend | None:
    diff = index.diff
    if diff is None:
        return None
    both = [c for c in diff.teams.values() if c.score_delta is not None and c.id != NO_TEAM]
    both.sort(key=lambda c: (-(c.score_delta or 0), c.name.casefold()))
    previous = index.previous_org
    return Trend(
        org=diff.org,
        old_distribution=distribution(previous),
        teams=tuple(both),
        most_improved=tuple(c for c in both[:TOP_MOVERS] if (c.score_delta or 0) > 0),
        worst_drops=tuple(c for c in reversed(both[-TOP_MOVERS:]) if (c.score_delta or 0) < 0),
        new_findings=_listed(index, diff.new),
        fixed_findings=_listed(index, diff.fixed),
        new_count=len(diff.new),
        fixed_count=len(diff.fixed),
        waived_count=len(diff.waived),
    )


def _listed(index: ReportIndex, findings) -> tuple[FindingRow, ...]:
    """The first ``MAX_LISTED_CHANGES`` findings in the order to fix them, as rows."""
    ordered = sorted(findings, key=lambda f: fix_order(index.rule(f.rule_id), len(f.service_ids)))
    return tuple(index.finding_row(f) for f in ordered[:MAX_LISTED_CHANGES])

