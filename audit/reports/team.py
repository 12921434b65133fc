"""A team's scorecard view-model: its services, what fails and how to fix it, coverage, load, waivers, next level."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence

import pandas as pd

from audit.findings import Status
from audit.reports.cells import Link, number, text
from audit.reports.model import (
    FindingRow,
    FixRow,
    Gap,
    LevelCoverage,
    Meta,
    NextStep,
    PolicyCoverageRow,
    ReportIndex,
    RuleGroup,
    ServiceRow,
    TeamRow,
    WaiverRow,
)
from audit.reports.people import PersonLoadRow
from audit.reports.practice import Practice
from audit.scoring import MAX_LEVEL, GroupScore

FIX_FIRST = 3  # the first page's fixes
ON_CALL_LISTED = 8  # people on the first page; the People section lists them all


@dataclasses.dataclass(frozen=True)
class TeamScorecard:
    meta: Meta
    team: TeamRow
    services: tuple[ServiceRow, ...]  # lowest level first
    rule_groups: tuple[RuleGroup, ...]  # most urgent first
    warning_groups: tuple[RuleGroup, ...]  # warnings: shown apart, they never block a level
    coverage: tuple[PolicyCoverageRow, ...]
    people: tuple[PersonLoadRow, ...]
    practice: Practice | None  # None when the snapshot has no incident history
    waivers: tuple[WaiverRow, ...]
    next_steps: tuple[NextStep, ...]
    new_findings: tuple[FindingRow, ...]
    fixed_findings: tuple[FindingRow, ...]
    # The first page: the fixes that lift most services a level (topped up, when fewer than three
    # rules lift a service alone, with the rules that hold most services back together with others).
    fix_first: tuple[FixRow, ...] = ()
    needs_several: int = 0  # services below the top level that no single fix lifts

    @property
    def on_call_listed(self) -> tuple[PersonLoadRow, ...]:
        return self.people[:ON_CALL_LISTED]

    @functools.cached_property
    def fix_first_rules(self) -> frozenset[str]:
        """The ids of the first page's fixes (their rule groups are marked)."""
        return frozenset(row.rule.id for row in self.fix_first)

    @property
    def open_findings(self) -> int:
        return sum(len(g.findings) for g in self.rule_groups)


class ScorecardBuilder:
    """Builds every team's scorecard from one index; the per-policy and per-service lookups are built once."""

    def __init__(self, index: ReportIndex, meta: Meta, team_href: Callable[[str], str]):
        self.index = index
        self.meta = meta
        self.team_href = team_href
        tables = index.assessment.facts.tables
        self.policy_of_service = {
            str(i): text(p) for i, p in zip(index.services["id"], index.services["escalation_policy_id"])
        }
        policies = tables["escalation_policy"]
        self.policies = {str(row.id): row for row in policies.itertuples(index=False)}
        levels = tables["policy_level"].sort_values(["policy_id", "level"])
        self.levels_by_policy: dict[str, list] = collections.defaultdict(list)
        for row in levels.itertuples(index=False):
            self.levels_by_policy[str(row.policy_id)].append(row)

    def build(self, team_id: str, group: GroupScore) -> TeamScorecard:
        index = self.index
        service_ids = group.service_ids
        findings = index.group_findings(service_ids, team_id)
        diff = index.diff
        scope = set(service_ids)
        services = sorted(
            (index.service_row(s) for s in service_ids),
            key=lambda s: (s.level, s.score if s.score is not None else 101, s.name.casefold()),
        )
        return TeamScorecard(
            meta=self.meta,
            team=index.team_row(team_id, group, self.team_href(team_id)),
            services=tuple(services),
            rule_groups=index.rule_groups(findings, service_ids),
            warning_groups=index.rule_groups(findings, service_ids, Status.WARN),
            coverage=self._coverage(service_ids),
            people=index.people.for_services(service_ids),
            practice=index.practice.for_team(service_ids, index.team_members.get(team_id, ())),
            waivers=index.waiver_rows(findings),
            next_steps=self._next_steps(service_ids),
            new_findings=tuple(index.finding_row(f, scope) for f in diff.new_for(scope)) if diff else (),
            fixed_findings=tuple(index.finding_row(f, scope) for f in diff.fixed_for(scope)) if diff else (),
            fix_first=self._fix_first(service_ids),
            needs_several=sum(1 for s in service_ids if index.lift(s) is None
                              and index.assessment.scores.services[s].level < MAX_LEVEL),
        )

    def build_all(self, team_ids: Sequence[str]) -> Iterator[TeamScorecard]:
        teams = self.index.assessment.scores.teams
        for team_id in team_ids:
            yield self.build(team_id, teams[team_id])

    def _fix_first(self, service_ids: Sequence[str]) -> tuple[FixRow, ...]:
        lifting = self.index.fix_rows(service_ids, FIX_FIRST, per_team=False)
        listed = {row.rule.id for row in lifting}
        return lifting + tuple(row for row in self.index.blocker_rows(service_ids)
                               if row.rule.id not in listed)[: FIX_FIRST - len(lifting)]

    def _coverage(self, service_ids: Sequence[str]) -> tuple[PolicyCoverageRow, ...]:
        index = self.index
        services_by_policy: dict[str, list[str]] = collections.defaultdict(list)
        for service_id in service_ids:
            policy_id = self.policy_of_service.get(service_id)
            if policy_id:
                services_by_policy[policy_id].append(index.service_names.get(service_id, service_id))
        result = []
        for policy_id, names in sorted(services_by_policy.items()):
            policy = self.policies.get(policy_id)
            if policy is None:
                continue
            levels = tuple(
                LevelCoverage(
                    level=int(row.level),
                    coverage_pct=number(row.coverage_pct),
                    gaps=_gaps(row.gaps),
                    targets=tuple(
                        [index.schedule_names.get(str(s), str(s)) for s in row.schedule_ids]
                        + [index.user_names.get(str(u), str(u)) for u in row.user_ids]
                    ),
                )
                for row in self.levels_by_policy.get(policy_id, ())
            )
            link = Link(str(policy.name), text(policy.html_url))
            result.append(PolicyCoverageRow(link, tuple(sorted(names)), levels))
        # Policies with gaps first: that is where pages reach nobody.
        return tuple(sorted(result, key=lambda p: (-sum(g.hours for lv in p.levels[:1] for g in lv.gaps),
                                                   p.policy.name.casefold())))

    def _next_steps(self, service_ids: Sequence[str]) -> tuple[NextStep, ...]:
        index = self.index
        steps = []
        for service_id in service_ids:
            scored = index.assessment.scores.services[service_id]
            if scored.level >= MAX_LEVEL:
                continue
            rules = sorted({f.rule_id for f in scored.next_level_blockers})
            steps.append(NextStep(index.service_link(service_id), scored.level, tuple(index.rule(r) for r in rules)))
        return tuple(sorted(steps, key=lambda s: (s.level, len(s.rules), s.service.name.casefold())))


def _gaps(cell: object) -> tuple[Gap, ...]:
    if not isinstance(cell, (list, tuple)):
        return ()
    gaps = []
    for start, end in cell:
        gaps.append(Gap(_instant(start), _instant(end)))
    return tuple(gaps)


def _instant(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    try:  # the facts' ISO 8601 with a Z: parsed by the standard library, ten times faster than pandas
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return pd.Timestamp(str(value)).to_pydatetime()
