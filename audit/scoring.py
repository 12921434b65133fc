"""Scores: each service's maturity level and weighted score, rolled up to teams and the org.

The ladder (see the rules catalog): a service's level is the highest L such that
no rule of levels 1..L fails on it. Waived, not-applicable and excluded findings
do not block (excluded ones are counted so reports can show them); info-only
rules never block. A finding counts for every service in its ``service_ids``, so
a schedule that rotates one person holds back every service it covers.

The 0-100 score agrees with the ladder, so a reader can predict it from the level:
a service at level L scores in the band [25·L, 25·L + 25), placed in its band by
the severity-weighted share of the *next* level's findings it already passes
(L4 scores 100: nothing that weighs fails). Every L(n+1) service therefore
outscores every L(n) one, and a service failing a level-1 critical rule can never
score above 25. Waived, warned, excluded and not-applicable findings are neutral
in the band position: they neither earn nor cost points.

"Checks passing" is the secondary figure: the weighted share of all passing
findings among passing and failing ones (what the score used to be). It is None
when nothing was weighed.

A team's score (and checks passing) is the mean over its services; the org's is the
mean over all services (each counted once, even when several teams own it). Pass
rates per rule count each finding once per group; the org's include objects no
service uses.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from audit.finding_table import SEVERITIES, STATUS_CODE, STATUSES, FindingTable, as_table, distinct, fan_out
from audit.findings import Finding, RollUp, Severity, Status

MAX_LEVEL = 4
LEVEL_NAMES: Mapping[int, str] = {
    0: "Unowned / at risk",
    1: "Owned and reachable",
    2: "Escalates properly",
    3: "Sustainable on-call",
    4: "Managed lifecycle",
}
BAND = 100 / MAX_LEVEL  # score points per level
SCORE_EXPLAINED = (
    "A service at level L scores 25·L to 25·L+25, placed in that band by the share of the next level's "
    "checks it already passes (level 4 scores 100); team and org scores are the mean of their services."
)
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
        """Share of judged objects that do not fail (a warning is not a failure); None when nothing was judged."""
        passing = self.counts.get(Status.PASS, 0) + self.counts.get(Status.WARN, 0)
        judged = passing + self.counts.get(Status.FAIL, 0)
        return passing / judged if judged else None


@dataclasses.dataclass(frozen=True)
class ServiceScore:
    service: ServiceRef
    level: int
    score: float | None  # ladder-consistent: see the module docstring
    checks_passing: float | None = None  # weighted share of passing findings, 0-100; None if nothing weighed
    # Which findings count for this service: read (and the findings made) only when asked for.
    counted: _ServiceFindings | None = dataclasses.field(default=None, compare=False, repr=False)
    position: int = dataclasses.field(default=0, compare=False, repr=False)

    @functools.cached_property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding that counts for this service, in fingerprint order."""
        return () if self.counted is None else self.counted.findings(self.position)

    @functools.cached_property
    def failing(self) -> tuple[Finding, ...]:
        """Those of them that fail, in the same order (most pass: outputs read these)."""
        return () if self.counted is None else self.counted.findings(self.position, failing=True)

    # Plain properties: the per-service tuples are worked out (and kept) for every service at once,
    # and a cached_property's first read takes a lock on Python 3.11 (12,000 services: a tenth of a second).
    @property
    def failing_rules(self) -> tuple[str, ...]:
        """The ids of the rules failing on this service, sorted (no finding made)."""
        return () if self.counted is None else self.counted.failing_rules(self.position)

    @property
    def next_level_rules(self) -> tuple[str, ...]:
        """The ids of the rules of ``next_level_blockers``, sorted (no finding made)."""
        return () if self.counted is None else self.counted.failing_rules(self.position, next_level=True)

    @functools.cached_property
    def next_level_blockers(self) -> tuple[Finding, ...]:
        """The failing rules of the next level: what the service needs to fix to climb one step.

        Cached: the reports ask several times per service, and a service shared by many objects
        (a user on call for thousands of services) carries many findings.
        """
        return tuple(f for f in self.failing if f.level is not None and f.level == self.level + 1)

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
    checks_passing: float | None = None  # mean of the services' checks passing


@dataclasses.dataclass(frozen=True)
class ScoreReport:
    services: Mapping[str, ServiceScore]
    teams: Mapping[str, GroupScore]
    org: GroupScore


def score(
    findings: Iterable[Finding],
    services: Sequence[ServiceRef],
    weights: Mapping[Severity, float] = DEFAULT_WEIGHTS,
) -> ScoreReport:
    """Levels and scores for every service, each team and the org.

    ``findings`` may be the engine's ``FindingTable``: then its columns are read and no finding made."""
    table = as_table(findings)
    services = tuple({service.id: service for service in services}.values())
    columns = _FindingColumns.of(table, weights)
    counted = _Incidence.of(table, services)
    levels = counted.per_service_min(columns.blocked_at, MAX_LEVEL + 1) - 1
    possible = counted.per_service_sum(columns.possible)
    earned = counted.per_service_sum(columns.earned)
    ladder = ladder_scores(levels, *counted.next_level_weights(columns, levels))
    by_service = _ServiceFindings(table, counted, columns, levels)
    service_scores = {
        service.id: ServiceScore(
            service=service,
            level=int(levels[position]),
            score=float(ladder[position]),
            checks_passing=100 * float(earned[position]) / float(possible[position]) if possible[position] else None,
            counted=by_service,
            position=position,
        )
        for position, service in enumerate(services)
    }
    teams = _Teams.of(services)

    @functools.cache
    def team_tallies() -> list[dict[str, RuleTally]]:
        if columns.unique:  # a finding reaches a team when its object does: worked out per object
            return columns.subject_tallies(table.subject, *teams.pairs(*counted.by_subject), len(table.subjects),
                                           len(teams.ids))
        return columns.tallies(*teams.pairs(*counted.every_pair), len(teams.ids))

    @functools.cache
    def org_tallies() -> list[dict[str, RuleTally]]:
        # The org's rule tallies include objects no service uses (an orphaned schedule still fails).
        if columns.unique:
            objects = np.arange(len(table.subjects))
            return columns.subject_tallies(table.subject, objects, np.zeros_like(objects), len(objects), 1)
        everything = np.arange(len(table))
        return columns.tallies(everything, np.zeros_like(everything), 1)

    return ScoreReport(
        services=service_scores,
        teams={
            team_id: _group(team_id, [service_scores[services[p].id] for p in teams.members[code]],
                            _TalliesOnRead(team_tallies, code))
            for code, team_id in sorted(enumerate(teams.ids), key=lambda item: item[1])
        },
        org=_group("org", list(service_scores.values()), _TalliesOnRead(org_tallies, 0)),
    )


class _TalliesOnRead(Mapping[str, RuleTally]):
    """A group's rule tallies, counted for every group at once the first time any group's are read: the
    terminal table reads none of them (720 teams' at 12,000 services: 0.06 s)."""

    def __init__(self, every_group: Callable[[], list[dict[str, RuleTally]]], code: int) -> None:
        self._every_group, self._code = every_group, code

    def _tallies(self) -> dict[str, RuleTally]:
        return self._every_group()[self._code]

    def __getitem__(self, rule_id: str) -> RuleTally:
        return self._tallies()[rule_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tallies())

    def __len__(self) -> int:
        return len(self._tallies())

    def __repr__(self) -> str:
        return repr(self._tallies())


def ladder_scores(levels: np.ndarray, next_possible: np.ndarray, next_earned: np.ndarray) -> np.ndarray:
    """Each service's score: its level's band, plus the share of the next level it passes.

    ``levels`` are 0..MAX_LEVEL; ``next_possible``/``next_earned`` the weight of the level-(L+1)
    findings judged and passed. A service below L4 fails at least one rule of level L+1, so its
    share is below 1 whenever that rule weighs anything; the clip keeps it inside the band even
    when weights are set to 0 (then the service sits at the bottom of its band).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(next_possible > 0, next_earned / np.where(next_possible > 0, next_possible, 1), 0.0)
    share = np.clip(share, 0.0, np.nextafter(1.0, 0.0))
    return np.where(levels >= MAX_LEVEL, 100.0, BAND * (levels + share))


_FAIL = STATUS_CODE[Status.FAIL]
_PASS = STATUS_CODE[Status.PASS]


@dataclasses.dataclass(frozen=True)
class _FindingColumns:
    """What scoring reads of each finding, as one array per field (from the table's columns).

    A large account has hundreds of thousands of findings and a million (finding, service)
    pairs: working on arrays keeps scoring to a couple of passes in Python instead of one per
    service and one per team.
    """

    level: np.ndarray  # the rule's maturity level; NaN for info-only rules
    blocked_at: np.ndarray  # the level a finding blocks (see ``Finding.blocks_level``), else MAX_LEVEL + 1
    possible: np.ndarray  # the weight a finding is judged on: its severity's, if it passed or failed
    earned: np.ndarray  # that weight if it passed
    fingerprint: np.ndarray  # codes: equal fingerprints, equal codes
    rule: np.ndarray  # codes into ``rule_ids``
    rule_ids: pd.Index
    status: np.ndarray  # codes into ``STATUSES``
    unique: bool  # no fingerprint repeats: each finding is its own code

    @classmethod
    def of(cls, table: FindingTable, weights: Mapping[Severity, float]) -> _FindingColumns:
        status = table.status.astype(np.int64)
        level = table.levels()
        blocks = (status == _FAIL) & ~np.isnan(level)
        weight = np.array([weights.get(severity, 0) for severity in SEVERITIES], dtype=np.float64)[table.severity]
        judged = (status == _PASS) | (status == _FAIL)
        rule, rule_ids = table.rule_ids()
        return cls(
            level=level,
            blocked_at=np.where(blocks, np.nan_to_num(level), MAX_LEVEL + 1).astype(np.int64),
            possible=np.where(judged, weight, 0.0),
            earned=np.where(status == _PASS, weight, 0.0),
            fingerprint=table.fingerprint_codes(),
            rule=rule,
            rule_ids=rule_ids,
            status=status,
            unique=table.unique,
        )

    def tallies(self, finding: np.ndarray, group: np.ndarray, group_count: int) -> list[dict[str, RuleTally]]:
        """Per group, each rule's findings among the (finding, group) pairs, each fingerprint counted once.

        A policy's finding reaches every service that uses it: it counts once for the team.
        """
        if self.unique:  # a finding per fingerprint: the pairs once each, as numbers
            once, _ = distinct(group.astype(np.int64) * len(self.fingerprint) + finding)
            group, chosen = np.divmod(once, max(len(self.fingerprint), 1))
        else:
            pairs = pd.DataFrame({"group": group, "fingerprint": self.fingerprint[finding], "finding": finding})
            pairs = pairs.drop_duplicates(["group", "fingerprint"], keep="last")
            group, chosen = pairs["group"].to_numpy(), pairs["finding"].to_numpy()
        sizes = (group_count, len(self.rule_ids), len(STATUSES))
        keys, counts = distinct(np.ravel_multi_index((group, self.rule[chosen], self.status[chosen]), sizes))
        return self._by_group(keys, counts, group_count)

    def subject_tallies(self, subject_of: np.ndarray, subject: np.ndarray, group: np.ndarray, subject_count: int,
                        group_count: int) -> list[dict[str, RuleTally]]:
        """``tallies`` of a table whose fingerprints do not repeat, from (subject, group) pairs: a finding
        counts once for each group its subject (``subject_of`` it) reaches.

        The findings of one object reach the same groups, and so do those of many objects (the
        services of one team): each distinct set of groups is a code, the findings are counted per
        (set, rule, status), and each count is added to the set's groups. A million (finding, team)
        pairs become tens of thousands of (object, team) pairs and a few thousand counts.
        """
        once, _ = distinct(subject.astype(np.int64) * group_count + group)
        subject, group = np.divmod(once, max(group_count, 1))  # by subject, then group
        bounds = np.searchsorted(subject, np.arange(subject_count + 1))
        reached = np.diff(bounds)
        # A set of one group is coded as that group; the few larger sets (an object shared by teams) after them.
        set_of = np.full(subject_count, -1, dtype=np.int64)
        alone = reached == 1
        set_of[alone] = group[bounds[:-1][alone]]
        groups, starts = group.tolist(), bounds.tolist()
        code: dict[tuple[int, ...], int] = {}
        for shared in np.flatnonzero(reached > 1).tolist():
            set_of[shared] = code.setdefault(tuple(groups[starts[shared]:starts[shared + 1]]), group_count + len(code))
        sets = [(g,) for g in range(group_count)] + list(code)  # code -> its groups
        reaching = set_of[subject_of]
        counted = reaching >= 0
        per_set = len(self.rule_ids) * len(STATUSES)
        keys, counts = distinct(reaching[counted] * per_set + self.rule[counted] * len(STATUSES)
                                + self.status[counted])
        set_code, rule_status = np.divmod(keys, per_set)
        sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
        members = np.fromiter((g for groups_of_set in sets for g in groups_of_set), dtype=np.int64,
                              count=int(sizes.sum()))
        count_of, member = fan_out(np.arange(len(set_code)), set_code, members, sizes)  # each count, per group
        total = np.bincount(member * per_set + rule_status[count_of], weights=counts[count_of],
                            minlength=group_count * per_set)
        keys = np.flatnonzero(total)
        return self._by_group(keys, total[keys].astype(np.int64), group_count)

    def _by_group(self, keys: np.ndarray, counts: np.ndarray, group_count: int) -> list[dict[str, RuleTally]]:
        """Per group, its rules' tallies, from the counts of distinct (group, rule, status) codes, ascending."""
        sizes = (group_count, len(self.rule_ids), len(STATUSES))
        per_group: list[dict[str, dict[Status, int]]] = [{} for _ in range(group_count)]
        rule_ids = self.rule_ids.tolist()
        groups, rules, statuses = (codes.tolist() for codes in np.unravel_index(keys, sizes))
        for group_code, rule, status, count in zip(groups, rules, statuses, counts.tolist(), strict=True):
            per_group[group_code].setdefault(rule_ids[rule], {})[STATUSES[status]] = count
        return [
            {rule_id: RuleTally(rule_id, by_status) for rule_id, by_status in sorted(per_rule.items())}
            for per_rule in per_group
        ]


@dataclasses.dataclass(frozen=True)
class _Incidence:
    """Which finding counts for which service, worked out per subject (an object every rule on its table
    judges): each (subject, service it names) pair. A finding counts for its subject's services, so the
    per-service figures are summed per subject first: 155,000 pairs rather than the 1.46 million
    (finding, service) pairs of a 12,000-service account, which are made only when asked for."""

    subject: np.ndarray  # per finding: its subject
    service_count: int
    by_subject: tuple[np.ndarray, np.ndarray]  # (subject, service) pairs, by subject
    per_subject: np.ndarray  # per subject: how many pairs

    @classmethod
    def of(cls, table: FindingTable, services: Sequence[ServiceRef]) -> _Incidence:
        named = table.subjects.service_ids
        per_subject = np.fromiter(map(len, named), dtype=np.int64, count=len(named))
        position = {service.id: n for n, service in enumerate(services)}.get
        flat = np.array([position(service_id, -1) for service_ids in named for service_id in service_ids],
                        dtype=np.int64)
        scored = flat >= 0  # a finding may name a service that is not being scored
        subject_of = np.repeat(np.arange(len(named)), per_subject)[scored]
        flat = flat[scored]
        per_subject = np.bincount(subject_of, minlength=len(named))
        return cls(subject=table.subject, service_count=len(services), by_subject=(subject_of, flat),
                   per_subject=per_subject)

    def pairs(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The (finding, service) pairs of the findings ``rows`` (all, by default), by finding."""
        if rows is None:
            rows = np.arange(len(self.subject))
        return fan_out(rows, self.subject[rows], self.by_subject[1], self.per_subject)

    @functools.cached_property
    def every_pair(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (finding, service) pair, by finding: for a service's own findings (reports) and for
        tallies where fingerprints repeat."""
        return self.pairs()

    def per_service_min(self, values: np.ndarray, default: int) -> np.ndarray:
        lowest_per_subject = np.full(len(self.per_subject), default, dtype=values.dtype)
        np.minimum.at(lowest_per_subject, self.subject, values)
        subject, service = self.by_subject
        lowest = np.full(self.service_count, default, dtype=values.dtype)
        np.minimum.at(lowest, service, lowest_per_subject[subject])
        return lowest

    def per_service_sum(self, values: np.ndarray) -> np.ndarray:
        subject, service = self.by_subject
        per_subject = np.bincount(self.subject, weights=values, minlength=len(self.per_subject))
        return np.bincount(service, weights=per_subject[subject], minlength=self.service_count)

    def next_level_weights(self, columns: _FindingColumns, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per service, the weight judged and the weight passed among its findings of level L+1: summed
        per subject and level first (an info-only rule's findings under level 0, which is no one's next)."""
        width = MAX_LEVEL + 2  # levels 0..MAX_LEVEL, and MAX_LEVEL + 1: the next level of a service at the top
        level = np.nan_to_num(columns.level, nan=0).astype(np.int64)
        subject, service = self.by_subject
        cell = subject * width + levels[service] + 1  # each pair's subject at its service's next level

        def at_next(values: np.ndarray) -> np.ndarray:
            per_subject_level = np.bincount(self.subject * width + level, weights=values,
                                            minlength=len(self.per_subject) * width)
            return np.bincount(service, weights=per_subject_level[cell], minlength=self.service_count)

        return at_next(columns.possible), at_next(columns.earned)


class _ServiceFindings:
    """Each service's findings (all, or the failing ones), made from the table when first asked for,
    and the rules failing on it (of any level, of its next level), read from the columns."""

    def __init__(self, table: FindingTable, counted: _Incidence, columns: _FindingColumns, levels: np.ndarray) -> None:
        self.table, self.counted, self.columns, self.levels = table, counted, columns, levels
        self.failing = columns.status == _FAIL
        self.rules_failing: dict[bool, list[tuple[str, ...]]] = {}  # next level only? -> per service

    @functools.cached_property
    def by_service(self) -> tuple[np.ndarray, np.ndarray]:
        """The findings of the pairs ordered by service (each service's in table order), and where each
        service's begin: sorted only once some service's findings are asked for."""
        finding, service = self.counted.every_pair
        order = np.argsort(service, kind="stable")
        bounds = np.searchsorted(service[order], np.arange(self.counted.service_count + 1))
        return finding[order], bounds

    def rows(self, position: int, failing: bool = False) -> np.ndarray:
        finding, bounds = self.by_service
        rows = finding[bounds[position]:bounds[position + 1]]
        return rows[self.failing[rows]] if failing else rows

    def findings(self, position: int, failing: bool = False) -> tuple[Finding, ...]:
        return tuple(self.table.rows(self.rows(position, failing).tolist()))

    def failing_rules(self, position: int, next_level: bool = False) -> tuple[str, ...]:
        """The ids of the rules failing on the service (of its next level only, if asked), sorted;
        worked out for every service at once when first asked for."""
        if next_level not in self.rules_failing:
            self.rules_failing[next_level] = self._failing_rules(next_level)
        return self.rules_failing[next_level][position]

    def _failing_rules(self, next_level: bool) -> list[tuple[str, ...]]:
        finding, service = self.counted.pairs(np.flatnonzero(self.failing))  # the failing findings' pairs only
        if next_level:
            at_next = self.columns.level[finding] == self.levels[service] + 1
            finding, service = finding[at_next], service[at_next]
        rule_ids = self.columns.rule_ids
        rank = np.argsort(np.argsort(np.asarray(rule_ids, dtype=object), kind="stable"))  # code -> place by id
        pairs, _ = distinct(service * max(len(rule_ids), 1) + rank[self.columns.rule[finding]])
        by_place = sorted(rule_ids)
        positions, places = np.divmod(pairs, max(len(rule_ids), 1))
        ids = [by_place[place] for place in places.tolist()]  # by service, then rule id
        bounds = np.searchsorted(positions, np.arange(self.counted.service_count + 1)).tolist()
        return [tuple(ids[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


@dataclasses.dataclass(frozen=True)
class _Teams:
    """The teams that own the scored services (unowned services under ``NO_TEAM``)."""

    ids: list[str]
    members: list[list[int]]  # per team: positions of its services
    of_service: list[list[int]]  # per service: its teams' positions in ``ids``

    @classmethod
    def of(cls, services: Sequence[ServiceRef]) -> _Teams:
        code: dict[str, int] = {}
        members: list[list[int]] = []
        of_service = []
        for position, service in enumerate(services):
            owners = []
            for team_id in dict.fromkeys(service.team_ids or (NO_TEAM,)):
                if team_id not in code:
                    code[team_id] = len(members)
                    members.append([])
                members[code[team_id]].append(position)
                owners.append(code[team_id])
            of_service.append(owners)
        return cls(ids=list(code), members=members, of_service=of_service)

    def pairs(self, item: np.ndarray, service: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(item, team) pairs: each (item, service) pair (a finding's, or a subject's) once per team of the service."""
        owners_per_service = np.array([len(owners) for owners in self.of_service], dtype=np.int64)
        owner_codes = np.array([code for owners in self.of_service for code in owners], dtype=np.int64)
        return fan_out(item, service, owner_codes, owners_per_service)


def _group(group_id: str, members: Sequence[ServiceScore], rules: Mapping[str, RuleTally]) -> GroupScore:
    levels = collections.Counter(member.level for member in members)
    scores = [member.score for member in members if member.score is not None]
    passing = [member.checks_passing for member in members if member.checks_passing is not None]
    return GroupScore(
        id=group_id,
        service_ids=tuple(sorted(member.service.id for member in members)),
        level_distribution={level: levels.get(level, 0) for level in range(MAX_LEVEL + 1)},
        score=statistics.fmean(scores) if scores else None,
        rules=rules,
        checks_passing=statistics.fmean(passing) if passing else None,
    )
