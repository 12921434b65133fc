"""What to fix first: the fixes that lift services a level, computed from the ladder.

A service at level L stays there because rules of level L+1 fail on it (its next-level
blockers). When every one of those failures belongs to one rule, fixing that rule, and
only it, lifts the service: to the level below its next lowest failing rule. When two or
more rules fail at level L+1, no single fix lifts the service, and it counts for none of
them. A *fix* is one rule for one owner: the services it lifts, grouped by the rule and the
teams that own those services, and ranked by how many services it lifts.

Everything here reads the scores only (``ServiceScore.findings``), so the org report's top
fixes, a team's three fixes and a test's hand-built account agree by construction.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from audit.scoring import MAX_LEVEL, ServiceScore


@dataclasses.dataclass(frozen=True)
class Lift:
    """Fixing ``rule_id`` alone takes ``service_id`` from ``from_level`` to ``to_level``."""

    service_id: str
    rule_id: str
    from_level: int
    to_level: int


@dataclasses.dataclass(frozen=True)
class Fix:
    """One rule, fixed for the services of one owner: every service it lifts a level."""

    rule_id: str
    team_ids: tuple[str, ...]  # the owning teams of the lifted services (empty: no team)
    lifts: tuple[Lift, ...]

    @property
    def services_lifted(self) -> int:
        return len(self.lifts)

    @property
    def levels_gained(self) -> int:
        return sum(lift.to_level - lift.from_level for lift in self.lifts)


def lift_of(scored: ServiceScore) -> Lift | None:
    """The one rule whose fix lifts this service a level, or None (top level, or several rules block it)."""
    if scored.level >= MAX_LEVEL:
        return None
    blocking = {f.rule_id for f in scored.next_level_blockers}
    if len(blocking) != 1:  # none: the next level's rules are waived or excluded; several: no single fix
        return None
    (rule_id,) = blocking
    still_failing = [f.level for f in scored.findings if f.blocks_level and f.rule_id != rule_id]
    to_level = min((level for level in still_failing if level is not None), default=MAX_LEVEL + 1) - 1
    return Lift(scored.service.id, rule_id, scored.level, to_level)


def lifts(services: Mapping[str, ServiceScore], service_ids: Iterable[str] | None = None) -> list[Lift]:
    """Every service (of ``service_ids``, else all) that one fix lifts, with that fix."""
    chosen = services.keys() if service_ids is None else service_ids
    found = (lift_of(services[service_id]) for service_id in chosen)
    return [lift for lift in found if lift is not None]


def rank_fixes(found: Iterable[Lift], owners: Callable[[str], Sequence[str]],
               tie_break: Callable[[str], Any] = str) -> list[Fix]:
    """The lifts grouped by rule and owning teams, most services lifted first.

    ``owners(service_id)`` names a service's teams; ``tie_break(rule_id)`` orders equal fixes
    (the report passes its fix order: lowest level, then severity). Equal counts next prefer the
    fix that gains more levels, then the lower starting level (a level-0 service is at risk).
    """
    grouped: dict[tuple[str, tuple[str, ...]], list[Lift]] = collections.defaultdict(list)
    for lift in found:
        grouped[(lift.rule_id, tuple(sorted(owners(lift.service_id))))].append(lift)
    fixes = [Fix(rule_id, team_ids, tuple(sorted(group, key=lambda lift: lift.service_id)))
             for (rule_id, team_ids), group in grouped.items()]
    return sorted(fixes, key=lambda fix: (-fix.services_lifted, -fix.levels_gained,
                                          min(lift.from_level for lift in fix.lifts),
                                          tie_break(fix.rule_id), fix.team_ids))


def blocked_counts(services: Mapping[str, ServiceScore], service_ids: Iterable[str]) -> collections.Counter[str]:
    """Per rule, how many of these services it keeps below their next level (alone or with other rules)."""
    counts: collections.Counter[str] = collections.Counter()
    for service_id in service_ids:
        counts.update({f.rule_id for f in services[service_id].next_level_blockers})
    return counts


def holding_back(services: Mapping[str, ServiceScore], service_ids: Iterable[str],
                 tie_break: Callable[[str], Any] = str) -> tuple[str, int] | None:
    """The rule that keeps most of these services below their next level, and on how many; None if none."""
    counts = blocked_counts(services, service_ids)
    if not counts:
        return None
    rule_id = min(counts, key=lambda rule: (-counts[rule], tie_break(rule)))
    return rule_id, counts[rule_id]
