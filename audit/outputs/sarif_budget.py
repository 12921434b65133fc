"""Which of the check's results a SARIF run lists one by one, and which it sums up.

GitHub code scanning rejects a run of more than 25,000 results (and a file over 10 MB gzipped)
and shows only 5,000 of a run. New violations and fixed ones are what a reviewer acts on: they
are listed in full. Known debt (findings the baseline accepts, and waived ones) is listed in
full while everything fits; otherwise it is summed up as one result per rule, team and state,
carrying the count and the objects in its properties; if even that is too many results, per rule
and state. Only an account whose new and fixed violations alone pass the limit (a first check
against an empty baseline) has its least severe new ones summed up too, per rule.

The objects a summary lists are bounded too (``MAX_LISTED_OBJECTS`` in all, shared out evenly),
so that the file stays far below the size limit; the baseline file holds every one of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from audit.baseline import BaselineEntry
from audit.findings import Finding, Status
from audit.gate import GateResult

MAX_RESULTS = 25_000  # GitHub code scanning: results per run
MAX_LISTED_OBJECTS = 100_000  # object references across every summary: some 6 MB of JSON, under 1 MB gzipped


@dataclasses.dataclass(frozen=True)
class Summary:
    """Many findings of one rule (and team) in one baseline state, as one result."""

    rule_id: str
    state: str  # the SARIF baselineState: unchanged, new, updated
    team_ids: tuple[str, ...] | None  # None: summed up across teams
    findings: tuple[Finding, ...]
    waived: bool
    listed: int = 0  # how many of ``findings`` the result names in its properties

    @property
    def known_debt(self) -> bool:
        return self.waived or self.state == "unchanged"

    @property
    def key(self) -> str:
        teams = "*" if self.team_ids is None else ",".join(self.team_ids)
        return f"{self.rule_id}:{teams}:{self.state}{':waived' if self.waived else ''}"


@dataclasses.dataclass(frozen=True)
class SarifPlan:
    listed: tuple[Finding, ...]  # in full: new (most severe first), then known debt when it fits
    fixed: tuple[BaselineEntry, ...]
    summaries: tuple[Summary, ...]

    @property
    def results(self) -> int:
        return len(self.listed) + len(self.fixed) + len(self.summaries)

    def note(self, total: int) -> str | None:
        """The one-line warning when results were summed up, else None."""
        if not self.summaries:
            return None
        known = sum(len(s.findings) for s in self.summaries if s.known_debt)
        new = sum(len(s.findings) for s in self.summaries if not s.known_debt)
        what = f"{known:,} known violations (accepted by the baseline or waived)"
        if new:
            what += f" and {new:,} of the least severe new ones"
        listed = "the other new and fixed violations are listed" if new else "new and fixed violations are listed"
        return (f"SARIF: {total:,} results pass code scanning's limit of {MAX_RESULTS:,} per run: {what} are "
                f"summed up in {len(self.summaries):,} results (count and objects in their properties); {listed} "
                "in full")


def plan_results(result: GateResult, state_of: Callable[[Finding], str]) -> SarifPlan:
    """What the SARIF run of ``result`` lists and sums up (see the module)."""
    debt = result.unchanged + result.waived
    total = len(result.new) + len(result.absent) + len(debt)
    if total <= MAX_RESULTS:
        return SarifPlan(listed=result.new + debt, fixed=result.absent, summaries=())
    for by_team in (True, False):
        summaries = _summaries(debt, state_of, by_team)
        if len(result.new) + len(result.absent) + len(summaries) <= MAX_RESULTS:
            return SarifPlan(listed=result.new, fixed=result.absent, summaries=_with_objects(summaries))
    # New and fixed alone pass the limit: the least severe new ones are summed up per rule too.
    debt_summaries = _summaries(debt, state_of, by_team=False)
    fixed = result.absent[:MAX_RESULTS // 2]  # half the run at most: a baseline of a deleted account
    room = MAX_RESULTS - len(fixed) - len(debt_summaries)
    while True:  # the new ones sorted most severe first: the tail is summed up, as little of it as fits
        kept, rest = result.new[:max(room, 0)], result.new[max(room, 0):]
        summaries = debt_summaries + _summaries(rest, state_of, by_team=False)
        excess = len(kept) + len(fixed) + len(summaries) - MAX_RESULTS
        if excess <= 0 or not kept:
            return SarifPlan(listed=kept, fixed=fixed, summaries=_with_objects(summaries))
        room -= excess


def _summaries(findings: Iterable[Finding], state_of: Callable[[Finding], str], by_team: bool) -> list[Summary]:
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    for finding in findings:
        waived = finding.status is Status.WAIVED
        groups.setdefault((finding.rule_id, finding.team_ids if by_team else None, state_of(finding), waived),
                          []).append(finding)
    return [Summary(rule_id=rule_id, state=state, team_ids=teams, findings=tuple(members), waived=waived)
            for (rule_id, teams, state, waived), members in sorted(groups.items(), key=lambda item: _order(item[0]))]


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    rule_id, teams, state, waived = key
    return rule_id, teams or (), state, waived


def _with_objects(summaries: Sequence[Summary]) -> tuple[Summary, ...]:
    """Each summary with how many objects it lists: as many as it has, up to an even share."""
    sizes = sorted(len(s.findings) for s in summaries)
    budget, cap = MAX_LISTED_OBJECTS, 0
    for index, size in enumerate(sizes):
        share = budget // (len(sizes) - index)
        if size > share:
            cap = share
            break
        budget -= size
    else:
        cap = sizes[-1] if sizes else 0
    return tuple(dataclasses.replace(s, listed=min(len(s.findings), cap)) for s in summaries)
