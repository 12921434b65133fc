"""The CI gate: an assessment compared with a baseline, and whether the build passes.

Each failing finding is *new* (its fingerprint is not in the baseline),
*updated* (it is, but its severity rose since, e.g. a rota that shrank from a
warning to an error) or *unchanged*; each baseline entry that no longer fails is
*absent* (fixed, or its object is gone). These are SARIF's ``baselineState``
values, which every CI output reports. The gate fails (exit 1) when a new or
updated failing finding is at or above the ``fail_on`` severity; warnings (status
``warn``) are compared and reported the same way but fail the gate only when
asked (``--fail-on warn``, or ``fail_on = "warn"`` under ``[check]`` in the
config); waived findings never
fail it, and a finding whose waiver expired is failing again, so it is new
unless the baseline already held it.

A baseline entry is only called absent when this run could judge it: its rule
ran and its finding was not excluded for missing data. Entries of rules that did
not run (window rules in a static-only check, a disabled rule, a pack no longer
loaded) are *unjudged*: neither fixed nor failing. Entries recorded under a
rule's retired id (an alias) are matched under the canonical id.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping

from audit.assess import Assessment
from audit.baseline import Baseline, BaselineEntry
from audit.errors import ExitCode, UserError
from audit.finding_table import as_table, with_status
from audit.findings import DEFAULT_FAIL_ON, FAIL_ON_WARN, OPEN_STATUSES, Finding, Severity, Status


def fail_on_threshold(value: str) -> tuple[Severity, bool]:
    """A --fail-on value as (lowest failing severity, whether warnings fail the build)."""
    if value == FAIL_ON_WARN:
        return Severity.INFO, True
    return Severity(value), False


def at_or_above(severity: Severity, threshold: Severity) -> bool:
    return severity.rank >= threshold.rank


class BaselineState(str, enum.Enum):
    """SARIF 2.1.0 ``result.baselineState`` values the gate uses."""

    NEW = "new"
    UPDATED = "updated"  # accepted in the baseline at a lower severity than it has now
    UNCHANGED = "unchanged"
    ABSENT = "absent"


def baseline_state(finding: Finding, entries: Mapping[str, BaselineEntry]) -> BaselineState:
    """New if not in the baseline; updated if its severity rose since it was accepted; else unchanged."""
    entry = entries.get(finding.fingerprint)
    if entry is None:
        return BaselineState.NEW
    worse = finding.severity.rank > entry.severity.rank
    return BaselineState.UPDATED if worse else BaselineState.UNCHANGED


@dataclasses.dataclass(frozen=True)
class Judged:
    """Which baseline entries an assessment could judge (a callable for ``update_baseline``)."""

    findings: Mapping[str, Finding]  # every finding of the run, by fingerprint
    rules_run: frozenset[str]
    assessment: Assessment

    @classmethod
    def of(cls, assessment: Assessment) -> Judged:
        not_run = assessment.evaluation.not_run
        # A rule listed in not_run with findings ran but had its findings excluded; one
        # without findings did not run at all (mode not selected, no facts table).
        findings = as_table(assessment.findings)  # read as columns: only the findings looked up are made
        with_findings = findings.rule_ids_present()
        rules_run = frozenset(r.id for r in assessment.pack if r.id not in not_run or r.id in with_findings)
        return cls(findings.by_fingerprint(), rules_run, assessment)

    def canonical(self, entry: BaselineEntry) -> BaselineEntry:
        """The entry under its rule's current id (baselines outlive rule renames)."""
        rule = self.assessment.pack.resolve(entry.rule_id)
        return entry if rule is None or rule.id == entry.rule_id else dataclasses.replace(entry, rule_id=rule.id)

    def canonical_baseline(self, baseline: Baseline) -> Baseline:
        return dataclasses.replace(baseline, entries=tuple(map(self.canonical, baseline.entries)))

    def __call__(self, entry: BaselineEntry) -> bool:
        entry = self.canonical(entry)
        current = self.findings.get(entry.fingerprint)
        if current is not None:
            return current.status is not Status.EXCLUDED
        return entry.rule_id in self.rules_run  # the rule ran and the object is gone


@dataclasses.dataclass(frozen=True)
class GateResult:
    """The check's verdict and everything the CI outputs render."""

    assessment: Assessment  # scoped to the team when the check was
    baseline: Baseline
    baseline_name: str  # the baseline file as the user named it (SARIF anchors results on it)
    fail_on: Severity
    new: tuple[Finding, ...]  # not in the baseline, or in it at a lower severity (see ``state_of``)
    unchanged: tuple[Finding, ...]
    absent: tuple[BaselineEntry, ...]  # in the baseline, judged, no longer failing: fixed
    unjudged: tuple[BaselineEntry, ...]  # in the baseline, not judged by this run
    waived: tuple[Finding, ...]
    team_id: str | None = None
    fail_on_warnings: bool = False

    @property
    def threshold(self) -> str:
        """The --fail-on value as the user gave it (``warn``, ``low``, ...), for the outputs to name."""
        return FAIL_ON_WARN if self.fail_on_warnings else self.fail_on.value

    def is_blocking(self, finding: Finding) -> bool:
        """Whether this finding fails the build: new, and failing at or above the threshold (or warned, if asked)."""
        if self.state_of(finding) is BaselineState.UNCHANGED:
            return False
        if finding.status is Status.WARN:
            return self.fail_on_warnings
        return finding.status is Status.FAIL and at_or_above(finding.severity, self.fail_on)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        """The new findings at or above the threshold: the ones that fail the build."""
        return tuple(f for f in self.new if self.is_blocking(f))

    @property
    def passed(self) -> bool:
        return not self.blocking

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.passed else ExitCode.NEW_VIOLATIONS

    def state_of(self, finding: Finding) -> BaselineState:
        """A current finding's baseline state (waived findings are judged the same way)."""
        return baseline_state(finding, self.baseline.by_fingerprint)

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "worsened": sum(1 for f in self.new if self.state_of(f) is BaselineState.UPDATED),
            "blocking": len(self.blocking),
            "warnings": sum(1 for f in self.new if f.status is Status.WARN),
            "unchanged": len(self.unchanged),
            "absent": len(self.absent),
            "unjudged": len(self.unjudged),
            "waived": len(self.waived),
            "expired_waivers": len(self.assessment.waivers.expired),
        }


def run_gate(
    assessment: Assessment,
    baseline: Baseline,
    *,
    fail_on: Severity = DEFAULT_FAIL_ON,
    team_id: str | None = None,
    baseline_name: str = "pd-audit-baseline.json",
    fail_on_warnings: bool = False,
) -> GateResult:
    """Compare the assessment's failing findings with the baseline (optionally for one team)."""
    judged = Judged.of(assessment)
    baseline = judged.canonical_baseline(baseline)
    entries = baseline.by_fingerprint
    scoped = assessment
    if team_id is not None:
        if team_id not in assessment.scores.teams:
            raise UserError(f"--team {team_id}: no service of this snapshot belongs to that team")
        scoped = assessment.for_team(team_id)
    in_scope = as_table(scoped.findings).by_fingerprint() if team_id is not None else {}

    def ours(entry: BaselineEntry) -> bool:
        if team_id is None or entry.fingerprint in in_scope:
            return True
        # The object is gone (or outside the team now): trust the teams recorded with the entry.
        return entry.fingerprint not in judged.findings and team_id in entry.team_ids

    failing = with_status(scoped.findings, OPEN_STATUSES)
    accepted = {f.fingerprint for f in failing if baseline_state(f, entries) is BaselineState.UNCHANGED}
    still_failing = {f.fingerprint for f in with_status(assessment.findings, OPEN_STATUSES)}
    mine = [e for e in entries.values() if ours(e) and e.fingerprint not in still_failing]
    return GateResult(
        assessment=scoped,
        baseline=baseline,
        baseline_name=baseline_name,
        fail_on=fail_on,
        new=_sorted(f for f in failing if f.fingerprint not in accepted),
        unchanged=_sorted(f for f in failing if f.fingerprint in accepted),
        absent=tuple(e for e in mine if judged(e)),
        unjudged=tuple(e for e in mine if not judged(e)),
        waived=_sorted(with_status(scoped.findings, (Status.WAIVED,))),
        team_id=team_id,
        fail_on_warnings=fail_on_warnings,
    )


def _sorted(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Most severe first, then by fingerprint: the order every output lists findings in."""
    return tuple(sorted(findings, key=lambda f: (-f.severity.rank, f.fingerprint)))
