"""The report view-model: plain records the templates render, and the indexes they are built from.

Templates never reach into an ``Assessment``: ``org.py`` and ``team.py`` turn it into
these records (names resolved, NaN turned into None, lists ordered the way a reader
wants them). ``ReportIndex`` reads the assessment's tables and findings once, so that
building 600 scorecards does not scan 100,000 findings 600 times.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import itertools
import math
import operator
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from audit.assess import Assessment
from audit.diff import LevelChange, diff_assessments, mean_level
from audit.findings import Finding, Severity, Status
from audit.reports import fixes
from audit.reports.cells import Link, pseudonym, text
from audit.reports.people import OnCallPeople
from audit.reports.practice import PracticeIndex
from audit.rules import Rule
from audit.scoring import LEVEL_NAMES, MAX_LEVEL, NO_TEAM, GroupScore
from audit.teams import team_label, team_names

# --------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True)
class Meta:
    account: str
    audit_date: dt.date
    window_start: dt.datetime
    window_end: dt.datetime
    rule_count: int
    previous_date: dt.date | None = None
    notices: tuple[str, ...] = ()  # said once for the account (e.g. no tier mapping)
    incomplete: tuple[str, ...] = ()  # collections crawled with objects out of reach, as sentences

    @property
    def window_days(self) -> int:
        return round((self.window_end - self.window_start).total_seconds() / 86400)


@dataclasses.dataclass(frozen=True)
class LevelCount:
    level: int
    name: str
    count: int
    share: float  # 0-1 of the group's services


@dataclasses.dataclass(frozen=True)
class TeamRow:
    id: str
    name: str
    href: str  # the scorecard, relative to the org report
    url: str | None
    service_count: int
    distribution: tuple[LevelCount, ...]
    score: float | None
    mean_level: float | None
    open_findings: int
    standards_pct: float | None  # PagerDuty's own standards pass rate over the team's services
    change: LevelChange | None


@dataclasses.dataclass(frozen=True)
class RuleInfo:
    """What a reader needs to know about a rule to act on it."""

    id: str
    title: str
    severity: str
    level: int | None
    rationale: str
    fix: str
    guide: Link | None
    default_threshold: bool  # some parameter is our own default (source T), not the guides'

    @classmethod
    def of(cls, rule: Rule | None, rule_id: str) -> RuleInfo:
        if rule is None:  # a finding from a rule no longer in the pack (an old assessment)
            return cls(rule_id, rule_id, "info", None, "", "", None, False)
        return cls(
            id=rule.id,
            title=rule.title,
            severity=rule.severity.value,
            level=rule.maturity_level,
            rationale=rule.rationale,
            fix=rule.fix,
            guide=Link(rule.guide.name, rule.guide.url) if rule.guide else None,
            default_threshold=any(p.source == "T" for p in rule.params.values()),
        )

    @property
    def pagerduty_path(self) -> str | None:
        """Where the fix is made in PagerDuty's web app: the fix text's leading "A → B → C"; None if it has none."""
        head = self.fix.split(": ", 1)[0]
        if "→" not in head:
            return None
        *steps, last = head.split(" → ")
        if len(steps[0].split()) > 3:  # prose before the first arrow: the text says more than a path
            return None
        # Without a colon the last step runs on into the sentence ("→ Delete, or assign it ..."): keep its start.
        last = re.split(r"[,.;]\s| \(|\.$", last, maxsplit=1)[0] if ": " not in self.fix else last
        return " → ".join([*steps, last])


@dataclasses.dataclass(frozen=True)
class RuleRow:
    """How often one rule fails across a group."""

    rule: RuleInfo
    failing: int
    judged: int
    services_affected: int

    @property
    def pass_rate(self) -> float | None:
        return (self.judged - self.failing) / self.judged if self.judged else None


@dataclasses.dataclass(frozen=True)
class FixRow:
    """One fix that lifts services a level (``audit.reports.fixes``): the rule, its owners, what it lifts."""

    rule: RuleInfo
    teams: tuple[str, ...]  # names of the lifted services' owning teams
    services: tuple[Link, ...]  # the services it lifts, by name
    from_levels: tuple[int, ...]  # each lifted service's level now, in the order of ``services``
    to_levels: tuple[int, ...]  # and after the fix
    held_back: int = 0  # services whose next level this rule blocks (with others, when it lifts none alone)

    @property
    def services_lifted(self) -> int:
        return len(self.services)

    @property
    def steps(self) -> str:
        """"L0 → L1" when every service makes the same step, else the steps joined ("L0 → L1, L1 → L3")."""
        pairs = dict.fromkeys(f"L{a} → L{b}" for a, b in zip(self.from_levels, self.to_levels))
        return ", ".join(pairs)


@dataclasses.dataclass(frozen=True)
class FindingRow:
    rule_id: str
    object: Link
    entity_type: str
    message: str
    severity: str
    services: tuple[str, ...]  # names of the group's services it holds back
    is_new: bool = False
    waiver_expired_on: dt.date | None = None


@dataclasses.dataclass(frozen=True)
class RuleGroup:
    """One failing rule and every object it fails on, in the order to fix them."""

    rule: RuleInfo
    findings: tuple[FindingRow, ...]
    services_affected: int


@dataclasses.dataclass(frozen=True)
class ServiceRow:
    id: str
    name: str
    url: str | None
    description: str
    teams: tuple[str, ...]
    level: int
    score: float | None
    open_findings: int
    blockers: tuple[str, ...]  # rule ids keeping it from the next level
    standards: str | None  # PagerDuty's own standards, "passing/total"
    change: LevelChange | None

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]


@dataclasses.dataclass(frozen=True)
class OwnershipRow:
    service: Link
    kind: str  # "unowned" or "ambiguous"
    teams: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class CoverageRow:
    service: Link
    teams: tuple[str, ...]
    promise: str
    coverage_pct: float
    gap_hours: float


@dataclasses.dataclass(frozen=True)
class Gap:
    start: dt.datetime
    end: dt.datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclasses.dataclass(frozen=True)
class LevelCoverage:
    level: int
    coverage_pct: float | None
    gaps: tuple[Gap, ...]
    targets: tuple[str, ...]  # schedule and user names


@dataclasses.dataclass(frozen=True)
class PolicyCoverageRow:
    policy: Link
    services: tuple[str, ...]
    levels: tuple[LevelCoverage, ...]


@dataclasses.dataclass(frozen=True)
class WaiverRow:
    rule_id: str
    object: Link
    reason: str
    approved_by: str
    expires: dt.date
    days_left: int  # negative once expired

    @property
    def state(self) -> str:
        if self.days_left < 0:
            return "expired"
        return "expiring" if self.days_left <= 30 else "active"


@dataclasses.dataclass(frozen=True)
class NextStep:
    """What one service needs to climb one level."""

    service: Link
    level: int
    rules: tuple[RuleInfo, ...]

    @property
    def target_level(self) -> int:
        return self.level + 1


@dataclasses.dataclass(frozen=True)
class Trend:
    """The org's or a team's movement since the previous assessment."""

    org: LevelChange
    old_distribution: tuple[LevelCount, ...]
    teams: tuple[LevelChange, ...]  # every team present in both, best score change first
    most_improved: tuple[LevelChange, ...]
    worst_drops: tuple[LevelChange, ...]
    new_findings: tuple[FindingRow, ...]
    fixed_findings: tuple[FindingRow, ...]
    new_count: int
    fixed_count: int
    waived_count: int


# --------------------------------------------------------------------------- index


def distribution(group: GroupScore | None) -> tuple[LevelCount, ...]:
    counts = group.level_distribution if group else {}
    total = sum(counts.values())
    return tuple(
        LevelCount(level, LEVEL_NAMES[level], counts.get(level, 0), counts.get(level, 0) / total if total else 0.0)
        for level in range(MAX_LEVEL + 1)
    )


SHOWN = frozenset({Status.FAIL.value, Status.WARN.value, Status.WAIVED.value})
FAILING = frozenset({Status.FAIL.value})
_STATUS_VALUE = operator.attrgetter("status._value_")  # the member's plain value: read without a Python call


def with_status(findings: Sequence[Finding], statuses: frozenset[str]) -> Iterator[Finding]:
    """The findings whose status (by value) is one of ``statuses``, in order.

    Filtered in C (no Python call per finding): a service on a large account carries a hundred
    findings or more, nearly all of them passes, and a run looks at every service's.
    """
    return itertools.compress(findings, map(statuses.__contains__, map(_STATUS_VALUE, findings)))


def fix_order(rule: RuleInfo, services_affected: int) -> tuple[Any, ...]:
    """Lowest level first (it caps the level), then severity, then reach."""
    return (rule.level or MAX_LEVEL + 1, -Severity(rule.severity).rank, -services_affected, rule.id)


class ReportIndex:
    """Lookups over one assessment, each built once."""

    def __init__(self, assessment: Assessment, previous: Assessment | None = None, *,
                 anonymize_people: bool = False):
        self.assessment = assessment
        self.anonymize_people = anonymize_people
        self.practice = PracticeIndex(assessment, previous)
        self.diff = diff_assessments(previous, assessment) if previous else None
        self.previous_org = previous.scores.org if previous else None
        tables = assessment.facts.tables
        self.team_names = team_names(assessment)
        self.services = tables["service"]
        every_rule = (*assessment.pack.rules, *assessment.pack.disabled)
        self.rules = {rule.id: RuleInfo.of(rule, rule.id) for rule in every_rule}
        self.new_prints = {f.fingerprint for f in self.diff.new} if self.diff else set()
        self.service_names = {str(i): str(n) for i, n in zip(self.services["id"], self.services["name"])}
        self.service_urls = {str(i): text(u) for i, u in zip(self.services["id"], self.services["html_url"])}
        self.descriptions = {str(i): str(d) for i, d in zip(self.services["id"], self.services["description"])}
        self.standards = {
            str(i): (int(passing), int(total))
            for i, passing, total in zip(
                self.services["id"], self.services["standards_passing"], self.services["standards_total"]
            )
            if not (math.isnan(passing) or math.isnan(total))
        }
        self.team_urls = _urls(tables.get("team"))
        teams = tables["team"]
        self.team_members: dict[str, list[str]] = (
            {str(t): list(m) for t, m in zip(teams["id"], teams["member_ids"])} if not teams.empty else {}
        )
        self.user_names = _names(tables.get("user"))
        if anonymize_people:
            self.user_names = {user_id: pseudonym(user_id) for user_id in self.user_names}
        self.people = OnCallPeople(tables["user"], self.team_name, anonymize=anonymize_people)
        self.schedule_names = _names(tables.get("schedule"))
        self.team_findings = _team_findings(assessment)
        self._service_sets: dict[int, tuple[Finding, frozenset[str]]] = {}
        self._group_findings: dict[tuple[tuple[str, ...], str | None], tuple[Finding, ...]] = {}
        self._lifts: dict[str, fixes.Lift | None] = {}
        self._shown: dict[str, tuple[Finding, ...]] = {}

    def rule(self, rule_id: str) -> RuleInfo:
        return self.rules.get(rule_id) or RuleInfo.of(None, rule_id)

    def team_name(self, team_id: str) -> str:
        return team_label(team_id, self.team_names)

    def service_link(self, service_id: str) -> Link:
        return Link(self.service_names.get(service_id, service_id), self.service_urls.get(service_id))

    def finding_row(self, finding: Finding, service_ids: Iterable[str] | None = None) -> FindingRow:
        within = finding.service_ids if service_ids is None else sorted(set(service_ids) & self._service_set(finding))
        return FindingRow(
            rule_id=finding.rule_id,
            object=(Link(pseudonym(finding.entity_id), None) if self.anonymize_people and finding.entity_type == "user"
                    else Link(finding.entity_name or finding.entity_id, finding.html_url)),
            entity_type=finding.entity_type.replace("_", " "),
            message=finding.message,
            severity=finding.severity.value,
            services=tuple(self.service_names.get(s, s) for s in within),
            is_new=finding.fingerprint in self.new_prints,
            waiver_expired_on=finding.waiver.expires if finding.waiver_expired and finding.waiver else None,
        )

    def _service_set(self, finding: Finding) -> frozenset[str]:
        # Built once per finding: a finding on a user or policy may name thousands of services, and
        # every team's scorecard intersects it with its own few.
        key = id(finding)
        cached = self._service_sets.get(key)
        if cached is None or cached[0] is not finding:
            cached = self._service_sets[key] = (finding, frozenset(finding.service_ids))
        return cached[1]

    def group_findings(self, service_ids: Sequence[str], team_id: str | None = None) -> list[Finding]:
        """Every failing, warned and waived finding counting for these services (plus the team's own), each once:
        all a report shows of them (only open findings are ever waived, ``apply_waivers``). Passes and the
        rest, most of a service's findings, are left out here rather than by every reader.

        Remembered per (services, team): the org report's team table and the team's scorecard both ask.
        """
        key = (tuple(service_ids), team_id)
        if key not in self._group_findings:
            self._group_findings[key] = self._collect_findings(service_ids, team_id)
        return list(self._group_findings[key])

    def _collect_findings(self, service_ids: Sequence[str], team_id: str | None) -> tuple[Finding, ...]:
        unique: dict[str, Finding] = {}
        own = with_status(self.team_findings.get(team_id or "", ()), SHOWN)
        for findings in [*map(self.shown_findings, service_ids), own]:
            for finding in findings:
                unique.setdefault(finding.fingerprint, finding)
        return tuple(unique.values())

    def shown_findings(self, service_id: str) -> tuple[Finding, ...]:
        """A service's failing, warned and waived findings, picked from all of them once (a pass over memory)."""
        shown = self._shown.get(service_id)
        if shown is None:
            shown = self._shown[service_id] = tuple(with_status(self.assessment.scores.services[service_id].findings,
                                                                SHOWN))
        return shown

    def rule_groups(self, findings: Iterable[Finding], service_ids: Iterable[str],
                    status: Status = Status.FAIL) -> tuple[RuleGroup, ...]:
        """The failing (or, with ``status=WARN``, the warned) findings grouped by rule, most urgent rule first."""
        scope = set(service_ids)
        by_rule: dict[str, list[Finding]] = collections.defaultdict(list)
        for finding in findings:
            if finding.status is status:
                by_rule[finding.rule_id].append(finding)
        groups = []
        for rule_id, failing in by_rule.items():
            affected = len(scope.intersection(s for f in failing for s in f.service_ids))
            rows = sorted(
                (self.finding_row(f, scope) for f in failing),
                key=lambda row: (-len(row.services), row.object.name.casefold()),
            )
            groups.append(RuleGroup(self.rule(rule_id), tuple(rows), affected))
        return tuple(sorted(groups, key=lambda g: fix_order(g.rule, g.services_affected)))

    def fix_rows(self, service_ids: Sequence[str] | None = None, limit: int | None = None, *,
                 per_team: bool = True) -> tuple[FixRow, ...]:
        """The fixes that lift most of these services (all services when None) a level, best first.

        ``per_team``: one fix per rule and owning teams (the org's list); else one per rule (a team's).
        """
        services = self.assessment.scores.services
        chosen = list(services) if service_ids is None else service_ids
        owners = (lambda service_id: services[service_id].service.team_ids) if per_team else (lambda _: ())
        found = [lift for lift in map(self.lift, chosen) if lift is not None]
        ranked = fixes.rank_fixes(found, owners, self.fix_rank)
        blocked = fixes.blocked_counts(services, chosen)
        return tuple(
            FixRow(
                rule=self.rule(fix.rule_id),
                teams=tuple(self.team_name(t) for t in fix.team_ids) or (self.team_name(NO_TEAM),),
                services=tuple(self.service_link(lift.service_id) for lift in fix.lifts),
                from_levels=tuple(lift.from_level for lift in fix.lifts),
                to_levels=tuple(lift.to_level for lift in fix.lifts),
                held_back=blocked[fix.rule_id],
            )
            for fix in ranked[:limit]
        )

    def lift(self, service_id: str) -> fixes.Lift | None:
        """``fixes.lift_of`` the service, worked out once: the org's fixes and its team's both ask."""
        if service_id not in self._lifts:
            self._lifts[service_id] = fixes.lift_of(self.assessment.scores.services[service_id])
        return self._lifts[service_id]

    def blocker_rows(self, service_ids: Sequence[str]) -> tuple[FixRow, ...]:
        """Rules blocking these services' next level, most services first, as fixes that lift none alone."""
        blocked = fixes.blocked_counts(self.assessment.scores.services, service_ids)
        return tuple(FixRow(self.rule(rule_id), (), (), (), (), held_back=blocked[rule_id])
                     for rule_id in sorted(blocked, key=lambda r: (-blocked[r], self.fix_rank(r))))

    def fix_rank(self, rule_id: str) -> tuple[Any, ...]:
        """How equal fixes are ordered: the rule's level, then its severity (``fix_order`` without reach)."""
        return fix_order(self.rule(rule_id), 0)

    def team_row(self, team_id: str, group: GroupScore, href: str) -> TeamRow:
        findings = self.group_findings(group.service_ids, team_id)
        return TeamRow(
            id=team_id,
            name=self.team_name(team_id),
            href=href,
            url=self.team_urls.get(team_id),
            service_count=len(group.service_ids),
            distribution=distribution(group),
            score=group.score,
            mean_level=mean_level(group),
            open_findings=sum(1 for f in findings if f.status is Status.FAIL),
            standards_pct=self.standards_pct(group.service_ids),
            change=self.diff.teams.get(team_id) if self.diff else None,
        )

    def standards_pct(self, service_ids: Iterable[str]) -> float | None:
        passing = total = 0
        for service_id in service_ids:
            if service_id in self.standards:
                passing += self.standards[service_id][0]
                total += self.standards[service_id][1]
        return 100 * passing / total if total else None

    def service_row(self, service_id: str) -> ServiceRow:
        scored = self.assessment.scores.services[service_id]
        standards = self.standards.get(service_id)
        return ServiceRow(
            id=service_id,
            name=scored.service.name,
            url=self.service_urls.get(service_id),
            description=self.descriptions.get(service_id, ""),
            teams=tuple(self.team_name(t) for t in scored.service.team_ids),
            level=scored.level,
            score=scored.score,
            open_findings=len({f.fingerprint for f in with_status(self.shown_findings(service_id), FAILING)}),
            blockers=tuple(sorted({f.rule_id for f in scored.next_level_blockers})),
            standards=f"{standards[0]}/{standards[1]}" if standards else None,
            change=self.diff.services.get(service_id) if self.diff else None,
        )

    def waiver_rows(self, findings: Iterable[Finding]) -> tuple[WaiverRow, ...]:
        today = self.assessment.today
        rows = {
            (f.fingerprint, f.waiver.expires): WaiverRow(
                rule_id=f.rule_id,
                object=Link(f.entity_name or f.entity_id, f.html_url),
                reason=f.waiver.reason,
                approved_by=f.waiver.approved_by,
                expires=f.waiver.expires,
                days_left=(f.waiver.expires - today).days,
            )
            for f in findings
            if f.waiver is not None
        }
        return tuple(sorted(rows.values(), key=lambda w: (w.expires, w.rule_id, w.object.name)))



def _names(table: Any) -> dict[str, str]:
    if table is None or table.empty:
        return {}
    return {str(i): str(n) for i, n in zip(table["id"], table["name"])}


def _urls(table: Any) -> dict[str, str | None]:
    if table is None or table.empty:
        return {}
    return {str(i): text(u) for i, u in zip(table["id"], table["html_url"])}


def _team_findings(assessment: Assessment) -> Mapping[str, list[Finding]]:
    by_team: dict[str, list[Finding]] = collections.defaultdict(list)
    for finding in assessment.findings:
        if finding.entity_type == "team":
            by_team[finding.entity_id].append(finding)
    return by_team


def meta(assessment: Assessment, previous: Assessment | None = None) -> Meta:
    manifest = assessment.snapshot.manifest
    since, until = assessment.facts.window
    audit_date = assessment.today  # the audit's one "as of" date: waiver expiry is judged on it too
    subdomain = text(manifest.get("subdomain"))
    host = urllib.parse.urlsplit(text(manifest.get("api_base")) or "").hostname
    return Meta(
        account=f"{subdomain}.pagerduty.com" if subdomain else host or "PagerDuty account",
        audit_date=audit_date,
        window_start=since,
        window_end=until,
        rule_count=len(assessment.pack.rules),
        previous_date=meta(previous).audit_date if previous else None,
        notices=tuple(notice.message for notice in assessment.notices),
        incomplete=tuple(f"The {name} collection is incomplete: {what}. Findings on them are missing."
                         for name, what in assessment.snapshot.incomplete().items()),
    )
