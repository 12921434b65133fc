"""Compare two assessments: which findings are new, fixed or still open, and how levels and scores moved.

Findings are matched by fingerprint (rule id + object type + PagerDuty id + sub-key),
never by name, so renaming a service or a team does not make its findings "new".
A finding is *open* when its status is ``fail`` (an expired waiver leaves it open).

- new: open now, not open before (a new object, a regression, a warning that became a
  failure, or a waiver that expired)
- fixed: open before, not open now, neither waived nor warned (it passes, no longer
  applies, or the object is gone)
- downgraded: open before, a warning now. Warnings are not violations (they block no
  level, cost nothing in the score, and the CI gate fails on them only with
  ``--fail-on warn``), so it is no longer open; but the object still misses the rule's
  recommended threshold, so it is not fixed either
- waived: open before, waived now (accepted, not fixed)
- unchanged: open in both

Levels and scores are compared per service, per team and for the org. A group's
level is the mean of its services' levels (there is no single level for a team).
This is a standalone stage: the reports, ``pd-audit diff`` and CI baselines read it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections.abc import Mapping

from audit.assess import Assessment
from audit.findings import Finding, Status
from audit.scoring import GroupScore, ServiceScore
from audit.teams import team_names


@dataclasses.dataclass(frozen=True)
class LevelChange:
    """One service's, team's or the org's level and score, before and after.

    ``old_*`` is None when the object did not exist in the old assessment, ``new_*``
    when it is gone; a score is also None when nothing was weighed.
    """

    id: str
    name: str
    old_level: float | None
    new_level: float | None
    old_score: float | None
    new_score: float | None

    @property
    def level_delta(self) -> float | None:
        if self.old_level is None or self.new_level is None:
            return None
        return self.new_level - self.old_level

    @property
    def score_delta(self) -> float | None:
        if self.old_score is None or self.new_score is None:
            return None
        return self.new_score - self.old_score


@dataclasses.dataclass(frozen=True)
class AssessmentDiff:
    new: tuple[Finding, ...]  # as they are in the new assessment
    fixed: tuple[Finding, ...]  # as they were in the old assessment
    waived: tuple[Finding, ...]  # as they are in the new assessment (carrying the waiver)
    downgraded: tuple[Finding, ...]  # failing before, warned now: as they are in the new assessment
    unchanged: tuple[Finding, ...]  # as they are in the new assessment
    services: Mapping[str, LevelChange]
    teams: Mapping[str, LevelChange]
    org: LevelChange
    old_today: dt.date | None = None  # the old assessment's date, for "since ..." captions

    def new_for(self, service_ids: set[str]) -> tuple[Finding, ...]:
        """New findings that count for any of these services."""
        return tuple(f for f in self.new if service_ids.intersection(f.service_ids))

    def fixed_for(self, service_ids: set[str]) -> tuple[Finding, ...]:
        return tuple(f for f in self.fixed if service_ids.intersection(f.service_ids))


def diff_assessments(old: Assessment, new: Assessment) -> AssessmentDiff:
    """What changed from ``old`` to ``new`` (see the module docstring for the categories)."""
    old_by_print = {f.fingerprint: f for f in old.findings}
    new_by_print = {f.fingerprint: f for f in new.findings}
    old_open = {fp for fp, f in old_by_print.items() if f.status is Status.FAIL}
    new_open = {fp for fp, f in new_by_print.items() if f.status is Status.FAIL}
    now_waived = {fp for fp, f in new_by_print.items() if f.status is Status.WAIVED}
    now_warned = {fp for fp, f in new_by_print.items() if f.status is Status.WARN}

    def pick(prints: set[str], source: dict[str, Finding]) -> tuple[Finding, ...]:
        return tuple(source[fp] for fp in sorted(prints))

    return AssessmentDiff(
        new=pick(new_open - old_open, new_by_print),
        fixed=pick(old_open - new_open - now_waived - now_warned, old_by_print),
        waived=pick(old_open & now_waived, new_by_print),
        downgraded=pick(old_open & now_warned, new_by_print),
        unchanged=pick(old_open & new_open, new_by_print),
        services=_service_changes(old.scores.services, new.scores.services),
        teams=_group_changes(old, new),
        org=_group_change("org", "Organisation", old.scores.org, new.scores.org),
        old_today=old.today,
    )


def _service_changes(old: Mapping[str, ServiceScore], new: Mapping[str, ServiceScore]) -> dict[str, LevelChange]:
    changes = {}
    for service_id in sorted(old.keys() | new.keys()):
        before, after = old.get(service_id), new.get(service_id)
        changes[service_id] = LevelChange(
            id=service_id,
            name=(after or before).service.name,  # type: ignore[union-attr]
            old_level=before.level if before else None,
            new_level=after.level if after else None,
            old_score=before.score if before else None,
            new_score=after.score if after else None,
        )
    return changes


def mean_level(group: GroupScore) -> float | None:
    """The mean level of a group's services; None for a group without services."""
    counts = group.level_distribution
    total = sum(counts.values())
    if not total:
        return None
    return statistics.fmean(level for level, count in counts.items() for _ in range(count))


def _group_changes(old: Assessment, new: Assessment) -> dict[str, LevelChange]:
    old_names, new_names = team_names(old), team_names(new)
    return {
        team_id: _group_change(
            team_id,
            new_names.get(team_id) or old_names.get(team_id) or team_id,
            old.scores.teams.get(team_id),
            new.scores.teams.get(team_id),
        )
        for team_id in sorted(old.scores.teams.keys() | new.scores.teams.keys())
    }


def _group_change(group_id: str, name: str, before: GroupScore | None, after: GroupScore | None) -> LevelChange:
    return LevelChange(
        id=group_id,
        name=name,
        old_level=mean_level(before) if before else None,
        new_level=mean_level(after) if after else None,
        old_score=before.score if before else None,
        new_score=after.score if after else None,
    )

