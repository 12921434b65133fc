"""Scores: each service's maturity level and weighted score, rolled up to teams and the org.

The ladder (see the rules catalog): a service's level is the highest L such that
no rule of levels 1..L fails on it. Waived, not-applicable and excluded findings
do not block (excluded ones are counted so reports can show them); info-only
rules never block. A finding counts for every service in its ``service_ids``, so
a schedule that rotates one person holds back every service it covers.

The weighted score is 100 * (weight of passing findings) / (weight of passing and
failing findings), weights by severity. Waived, excluded and not-applicable
findings are neutral: they neither earn nor cost points. A service with nothing
weighed has no score (None), rather than a flattering 100.

A team's score is the mean of its services' scores; the org's is the mean over all
services (each counted once, even when several teams own it). Pass rates per rule
count each finding once per group; the org's include objects no service uses.
"""

from __future__ import annotations

import collections
import dataclasses
import statistics
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from audit.findings import Finding, RollUp, Severity, Status

MAX_LEVEL = 4
LEVEL_NAMES: Mapping[int, str] = {
    0: "Unowned / at risk",
    1: "Owned and reachable",
    2: "Escalates properly",
    3: "Sustainable on-call",
    4: "Managed lifecycle",
}
# Defaults for [weights] in pd-audit.toml; info findings inform, they do not score.
DEFAULT_WEIGHTS: Mapping[Severity, float] = {
    Severity.CRITICAL: 10,
    Severity.HIGH: 5,
    Severity.MEDIUM: 3,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
NO_TEAM = ""  # the team key under which unowned services are grouped


@dataclasses.dataclass(frozen=True)
class ServiceRef:
    """What scoring needs to know about a service besides its findings."""

    id: str
    name: str
    team_ids: tuple[str, ...] = ()


def service_refs(services: pd.DataFrame, rollup: RollUp) -> tuple[ServiceRef, ...]:
    """The services to score, from the service fact table (``id``, ``name``) and the roll-up's owners."""
    return tuple(
        ServiceRef(id=str(service_id), name=str(name), team_ids=tuple(rollup.team_ids.get(service_id, ())))
        for service_id, name in zip(services["id"], services["name"])
    )


@dataclasses.dataclass(frozen=True)
class RuleTally:
    """How one rule fared over a set of objects (each finding counted once)."""

    rule_id: str
    counts: Mapping[Status, int]

    @property
    def pass_rate(self) -> float | None:
        """Share of judged objects that pass; None when nothing was judged."""
        judged = self.counts.get(Status.PASS, 0) + self.counts.get(Status.FAIL, 0)
        return self.counts.get(Status.PASS, 0) / judged if judged else None


@dataclasses.dataclass(frozen=True)
class ServiceScore:
    service: ServiceRef
    level: int
    score: float | None
    findings: tuple[Finding, ...]  # every finding that counts for this service

    @property
    def next_level_blockers(self) -> tuple[Finding, ...]:
        """The failing rules of the next level: what the service needs to fix to climb one step."""
        return tuple(f for f in self.findings if f.blocks_level and f.level == self.level + 1)

    @property
    def excluded(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status is Status.EXCLUDED)


@dataclasses.dataclass(frozen=True)
class GroupScore:
    """A team's (or the org's) maturity: level distribution, score, pass rate per rule."""

    id: str  # team id; NO_TEAM for unowned services; "org" for the whole account
    service_ids: tuple[str, ...]
    level_distribution: Mapping[int, int]  # level -> number of services, every level 0..4 present
    score: float | None
    rules: Mapping[str, RuleTally]


@dataclasses.dataclass(frozen=True)
class ScoreReport:
    services: Mapping[str, ServiceScore]
    teams: Mapping[str, GroupScore]
    org: GroupScore


def service_level(findings: Iterable[Finding]) -> int:
    """The highest level L such that no finding of levels 1..L blocks."""
    # The same test as Finding.blocks_level, inlined: this loop runs over every finding
    # of every service (about a million on a 10,000-service account).
    lowest = MAX_LEVEL + 1
    for finding in findings:
        level = finding.level
        if level is not None and level < lowest and finding.status is Status.FAIL and not finding.warning:
            lowest = level
    return lowest - 1


def weighted_score(findings: Iterable[Finding], weights: Mapping[Severity, float]) -> float | None:
    earned = possible = 0.0
    for finding in findings:
        if finding.status in (Status.PASS, Status.FAIL):
            weight = weights.get(finding.severity, 0)
            possible += weight
            earned += weight if finding.status is Status.PASS else 0
    return 100 * earned / possible if possible else None


def score(
    findings: Iterable[Finding],
    services: Sequence[ServiceRef],
    weights: Mapping[Severity, float] = DEFAULT_WEIGHTS,
) -> ScoreReport:
    """Levels and scores for every service, each team and the org."""
    findings = tuple(findings)
    by_service: dict[str, list[Finding]] = collections.defaultdict(list)
    for finding in findings:
        for service_id in finding.service_ids:
            by_service[service_id].append(finding)
    service_scores = {
        service.id: ServiceScore(
            service=service,
            level=service_level(by_service[service.id]),
            score=weighted_score(by_service[service.id], weights),
            findings=tuple(by_service[service.id]),
        )
        for service in services
    }
    members: dict[str, list[ServiceScore]] = collections.defaultdict(list)
    for service_score in service_scores.values():
        for team_id in service_score.service.team_ids or (NO_TEAM,):
            members[team_id].append(service_score)
    return ScoreReport(
        services=service_scores,
        teams={team_id: _group(team_id, members[team_id]) for team_id in sorted(members)},
        # The org's rule tallies include objects no service uses (an orphaned schedule still fails).
        org=_group("org", list(service_scores.values()), findings),
    )


def _group(group_id: str, members: Sequence[ServiceScore], tallied: Iterable[Finding] | None = None) -> GroupScore:
    levels = collections.Counter(member.level for member in members)
    scores = [member.score for member in members if member.score is not None]
    if tallied is None:
        tallied = (f for member in members for f in member.findings)
    # A policy finding reaches each of its services; count it once for the group.
    unique = {f.fingerprint: f for f in tallied}
    per_rule: dict[str, collections.Counter[Status]] = collections.defaultdict(collections.Counter)
    for finding in unique.values():
        per_rule[finding.rule_id][finding.status] += 1
    return GroupScore(
        id=group_id,
        service_ids=tuple(sorted(member.service.id for member in members)),
        level_distribution={level: levels.get(level, 0) for level in range(MAX_LEVEL + 1)},
        score=statistics.fmean(scores) if scores else None,
        rules={rule_id: RuleTally(rule_id, dict(counts)) for rule_id, counts in sorted(per_rule.items())},
    )
