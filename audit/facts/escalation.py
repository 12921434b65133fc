"""Escalation facts: each policy's levels resolved to schedules, people and covered time.

Owns what an escalation level *is* for the audit: the union of its targets,
where a schedule target contributes the time its rendered final schedule puts
someone on call, a directly targeted user the whole window but only when they
are reachable (``contacts.Contact.reachable``), and a target naming a user or
schedule missing from the snapshot nothing at all (it is named in
``deleted_targets``). From the resolved levels come the ``escalation_policy``
and ``policy_level`` tables (depth, delays, loops, who the last level reaches,
coverage of each level and of the backup where the primary is covered, the
same person on adjacent levels, the backup being the last primary) and the
per-user reach the user table needs.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from audit.facts.columns import frame
from audit.facts.contacts import Contact
from audit.facts.coverage import (
    Coverage,
    PolicyCoverage,
    coverage,
    people_of_level,
    policy_coverage,
    same_person_overlap,
)
from audit.facts.intervals import IntervalSet, clip, measure, union_all
from audit.facts.on_call_time import Reach
from audit.facts.raw import as_list, as_minutes, as_text, base_type, ref_id, ref_ids
from audit.facts.schedules import ScheduleRendering

# OC-01: "gaps under 1 minute ignored"; every judged coverage (policy, level,
# service promise) uses the same tolerance. Schedule coverage stays exact.
GAP_TOLERANCE_SECONDS = 60
SCHEDULE_TARGET_TYPES = {"schedule": "schedules", "schedule_v3": "schedules_v3"}
USER_TARGET_TYPE = "user"
MANAGER_ROLE = "manager"
H = TypeVar("H")  # whoever holds a level: a user id, or a row number


@dataclass(frozen=True)
class Level:
    """One escalation level (an escalation rule), its targets resolved against the snapshot."""

    id: str
    policy_id: str
    number: int
    delay_minutes: float
    schedule_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    deleted: tuple[str, ...]
    unresolved: tuple[str, ...]
    unreachable: tuple[str, ...]
    target_count: int
    user_target_count: int  # every user-type target, deleted ones too (ESC-03 judges the configuration)
    covered: IntervalSet
    people: Mapping[str, IntervalSet]  # time each person holds the level in the window
    members: frozenset[str]  # everyone the level can page, on call in the window or not

    @property
    def target_key(self) -> frozenset[tuple[str, str]]:
        """The live targets: two levels with the same key add no depth (ESC-01)."""
        return frozenset([("schedule", s) for s in self.schedule_ids] + [("user", u) for u in self.user_ids])


@dataclass(frozen=True)
class ResolvedPolicy:
    id: str
    name: str
    html_url: str | None
    team_ids: tuple[str, ...]
    num_loops: int
    levels: tuple[Level, ...]
    window_coverage: PolicyCoverage | None  # every level over the whole window (None without levels)


@dataclass(frozen=True)
class Targets:
    """What the snapshot can resolve targets against."""

    schedules: Mapping[str, ScheduleRendering]
    contacts: Mapping[str, Contact]
    readable: frozenset[str]  # collections the snapshot holds (targets elsewhere are unresolved, not deleted)


def resolve_policies(
    policies: Iterable[Mapping[str, Any]], targets: Targets, window: IntervalSet
) -> dict[str, ResolvedPolicy]:
    """Every policy with its levels resolved (policies without rules have no levels)."""
    resolved = {}
    window_coverage_of: dict[Any, Any] = {}  # what policy_coverage worked out, shared between policies
    for policy in policies:
        policy_id = ref_id(policy)
        if policy_id is None:
            continue
        rules = [rule for rule in as_list(policy.get("escalation_rules")) if isinstance(rule, dict)]
        loops = policy.get("num_loops")
        levels = tuple(
            _resolve_level(policy_id, number, rule, targets, window) for number, rule in enumerate(rules, 1)
        )
        resolved[policy_id] = ResolvedPolicy(
            id=policy_id,
            name=as_text(policy.get("name")) or policy_id,
            html_url=as_text(policy.get("html_url")) or None,
            team_ids=tuple(ref_ids(policy.get("teams"))),
            num_loops=loops if isinstance(loops, int) and not isinstance(loops, bool) and loops > 0 else 0,
            levels=levels,
            window_coverage=_levels_coverage(levels, window, window_coverage_of) if levels else None,
        )
    return resolved


def _resolve_level(
    policy_id: str, number: int, rule: Mapping[str, Any], targets: Targets, window: IntervalSet
) -> Level:
    schedule_ids: list[str] = []
    user_ids: list[str] = []
    deleted: list[str] = []
    unresolved: list[str] = []
    raw_targets = [t for t in as_list(rule.get("targets")) if isinstance(t, dict)]
    for target in raw_targets:
        kind, target_id = base_type(target.get("type")), ref_id(target)
        label = f"{kind or 'unknown'}:{target_id}"
        if target_id is None:
            unresolved.append(label)
        elif kind in SCHEDULE_TARGET_TYPES:
            if target_id in targets.schedules:
                schedule_ids.append(target_id)
            elif _readable(kind, targets.readable):
                deleted.append(label)
            else:
                unresolved.append(label)
        elif kind == USER_TARGET_TYPE:
            if target_id in targets.contacts:
                user_ids.append(target_id)
            elif "users" in targets.readable:
                deleted.append(label)
            else:
                unresolved.append(label)
        else:
            unresolved.append(label)
    schedule_ids, user_ids = list(dict.fromkeys(schedule_ids)), list(dict.fromkeys(user_ids))
    reachable = [user for user in user_ids if targets.contacts[user].reachable]
    renderings = [targets.schedules[s] for s in schedule_ids]
    covered = union_all([r.covered for r in renderings] + ([window] if reachable else []))
    people = people_of_level([r.by_user for r in renderings] + [{user: window for user in user_ids}])
    members = {m for r in renderings for m in r.members} | set(user_ids) | set(people)
    return Level(
        id=ref_id(rule) or f"{policy_id}:L{number}",
        policy_id=policy_id,
        number=number,
        delay_minutes=as_minutes(rule.get("escalation_delay_in_minutes")),
        schedule_ids=tuple(schedule_ids),
        user_ids=tuple(user_ids),
        deleted=tuple(deleted),
        unresolved=tuple(unresolved),
        unreachable=tuple(user for user in user_ids if user not in reachable),
        target_count=len(raw_targets),
        user_target_count=sum(1 for t in raw_targets if base_type(t.get("type")) == USER_TARGET_TYPE),
        covered=covered,  # schedule renderings are clipped to the window already
        people=people,
        members=frozenset(members),
    )


def _readable(kind: str, readable: frozenset[str]) -> bool:
    # A bare "schedule" target may be v2 or v3: only missing from both is it deleted.
    if kind == "schedule":
        return {"schedules", "schedules_v3"} <= readable
    return SCHEDULE_TARGET_TYPES[kind] in readable


# --- coverage ----------------------------------------------------------------------


def _levels_coverage(
    levels: Sequence[Level], promised: IntervalSet, known: dict[Any, Any] | None = None
) -> PolicyCoverage:
    return policy_coverage(
        [[level.covered] for level in levels], promised, ignore_gaps_shorter_than=GAP_TOLERANCE_SECONDS, known=known
    )


def promise_coverage(
    policy: ResolvedPolicy | None,
    promised: IntervalSet,
    window: IntervalSet,
    known: dict[IntervalSet, dict[Any, Any]] | None = None,
) -> tuple[Coverage, Coverage]:
    """Level 1's coverage of ``promised``, and level 2's of the promised time level 1 covers (OC-01, OC-02).

    A 24/7 promise is the whole ``window``, whose coverage the policy already holds. ``known`` (promised
    time -> what :func:`policy_coverage` remembered over it) shares the coverages between the services
    judged over the same support hours.
    """
    tolerance = {"ignore_gaps_shorter_than": GAP_TOLERANCE_SECONDS}
    levels = policy.levels if policy else ()
    if policy is None or not levels:
        return coverage(IntervalSet.empty(), promised, **tolerance), coverage(IntervalSet.empty(), IntervalSet.empty())
    if promised == window and policy.window_coverage is not None:
        result = policy.window_coverage
    else:
        result = _levels_coverage(levels[:2], promised, None if known is None else known.setdefault(promised, {}))
    if len(levels) >= 2:
        return result.levels[0], result.backups[0]
    return result.levels[0], coverage(IntervalSet.empty(), clip(levels[0].covered, promised), **tolerance)


def reach_by_user(policies: Iterable[ResolvedPolicy]) -> dict[str, Reach]:
    """For each person on call on some level: the policies, level delays and time that reach them."""
    reach: dict[str, Reach] = {}
    for policy in policies:
        for level in policy.levels:
            for user_id, held in level.people.items():
                entry = reach.setdefault(user_id, Reach())
                entry.policy_ids.add(policy.id)
                if not math.isnan(level.delay_minutes):
                    entry.delays.append(level.delay_minutes)
                entry.hold(level.number, held)
    return reach


# --- tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Teams:
    """Team membership as the escalation rules need it: team -> {user id: team role}."""

    roles: Mapping[str, Mapping[str, str]]

    def managers(self, team_ids: Iterable[str]) -> set[str]:
        by_team = self._managers_by_team
        return {user for team in team_ids for user in by_team.get(team, ())}

    @functools.cached_property
    def all_managers(self) -> set[str]:
        """Every team's managers (what a policy of no team, serving no team's service, may reach)."""
        return self.managers(self.roles)

    @functools.cached_property
    def _managers_by_team(self) -> dict[str, tuple[str, ...]]:
        # Read once: a policy of no team asks about every team's members (3,600 policies x 18,000 members).
        return {team: tuple(user for user, role in members.items() if role == MANAGER_ROLE)
                for team, members in self.roles.items()}


def policy_table(
    policies: Mapping[str, ResolvedPolicy],
    service_ids_by_policy: Mapping[str, Sequence[str]],
    team_ids_by_service: Mapping[str, Sequence[str]],
    teams: Teams,
    window: IntervalSet,
    tiers: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """One row per escalation policy (see ``columns.ESCALATION_POLICY``).

    ``tiers`` maps a policy id to its tier (the highest tier of the live services using it).
    """
    tiers = tiers or {}
    rows = []
    for policy in policies.values():
        services = list(service_ids_by_policy.get(policy.id, ()))
        service_teams = list(dict.fromkeys(t for s in services for t in team_ids_by_service.get(s, ())))
        row = _policy_row(policy, services, service_teams, teams, window)
        row["tier"] = float(tiers[policy.id]) if policy.id in tiers else math.nan
        rows.append(row)
    return frame("escalation_policy", rows)


def _policy_row(
    policy: ResolvedPolicy, services: list[str], service_teams: list[str], teams: Teams, window: IntervalSet
) -> dict[str, Any]:
    levels = policy.levels
    result = policy.window_coverage
    # A policy without levels covers nothing: its level 1 and any-level coverage are the empty set's.
    if result:
        level1, any_level = result.levels[0], result.any_level
    else:
        level1 = any_level = coverage(IntervalSet.empty(), window, ignore_gaps_shorter_than=GAP_TOLERANCE_SECONDS)
    backup = result.backups[0] if result and result.backups else None
    last = levels[-1] if levels else None
    relevant_teams = list(dict.fromkeys(policy.team_ids + tuple(service_teams)))
    managers = teams.managers(relevant_teams) if relevant_teams else teams.all_managers
    live_keys = {level.target_key for level in levels if level.target_key}
    window_seconds = measure(window)
    return {
        "id": policy.id,
        "name": policy.name,
        "html_url": policy.html_url,
        "team_ids": list(policy.team_ids),
        "team_count": len(policy.team_ids),
        "service_ids": services,
        "service_count": len(services),
        "service_team_ids": service_teams,
        "level_count": len(levels),
        "distinct_target_levels": len(live_keys),
        "schedule_ids": list(dict.fromkeys(s for level in levels for s in level.schedule_ids)),
        "l1_user_targets": levels[0].user_target_count if levels else 0,
        "later_user_targets": sum(level.user_target_count for level in levels[1:]),
        "l1_delay_minutes": levels[0].delay_minutes if levels else math.nan,
        "minutes_to_last_level": float(sum(level.delay_minutes for level in levels[:-1])) if levels else math.nan,
        "num_loops": policy.num_loops,
        "repeats": policy.num_loops >= 1,
        "last_level_user_ids": sorted(last.members) if last else [],
        "last_level_reaches_manager": bool(last and last.members & managers),
        "last_level_reaches_whole_team": last is not None and any(
            teams.roles.get(team) and set(teams.roles[team]) <= last.members for team in relevant_teams
        ),
        "deleted_targets": [t for level in levels for t in level.deleted],
        "deleted_targets_note": deleted_targets_note(levels),
        "unresolved_targets": [t for level in levels for t in level.unresolved],
        "unreachable_user_targets": list(dict.fromkeys(u for level in levels for u in level.unreachable)),
        "level1_coverage_pct": level1.pct,
        "level1_gaps": level1.gaps_iso(),
        "any_level_coverage_pct": any_level.pct,
        "any_level_gaps": any_level.gaps_iso(),
        "l2_coverage_of_l1_pct": backup.pct if backup else _lone_level_backup_pct(levels),
        "l2_gaps_under_l1": backup.gaps_iso() if backup else [],
        "adjacent_same_person_pct": max(
            (100.0 * measure(same_person_overlap(a.people, b.people)) / window_seconds
             for a, b in itertools.pairwise(levels)),
            default=math.nan,
        ),
        "backup_is_previous_primary_pct": _backup_is_previous_primary(levels),
    }


def deleted_targets_note(levels: Sequence[Level]) -> str:
    """For findings' messages: ``""``, or ``"; targets that no longer exist: level 1 user PDELUSR"``.

    PagerDuty keeps a deleted user or schedule on the policies that named it; such a target pages
    nobody, and a level that looks staffed in the UI is not.
    """
    named = [f"level {level.number} {label.replace(':', ' ', 1)}" for level in levels for label in level.deleted]
    return f"; targets that no longer exist: {', '.join(named)}" if named else ""


def _lone_level_backup_pct(levels: Sequence[Level]) -> float:
    """With no second level, whatever level 1 covers has no backup (nothing to back up: 100)."""
    return 0.0 if levels and measure(levels[0].covered) else 100.0


def _backup_is_previous_primary(levels: Sequence[Level]) -> float:
    """ESC-05: of the time level 1 is on call, the share level 2 includes someone who held level 1
    before the current holder took over (context carries over).

    Level 1 is read as a sequence of holders. A hand-off is a moment someone new comes on while
    someone who held level 1 is gone; the previous holders are then the people who went. A gap does
    not hand anything over (a business-hours holder keeps the pager overnight), nor does a second
    person joining or leaving the current holder. Time before the first hand-off in the window is
    left out: who held level 1 before it is unknown. NaN with one level or no hand-off in the window.
    """
    if len(levels) < 2:
        return math.nan
    primary, backup = levels[0].people, levels[1].people
    # In plain Python: a level holds a handful of people and hand-offs, where numpy's per-call cost
    # was most of the escalation_policy table on a large account.
    held = {user: list(zip(primary[user].starts.tolist(), primary[user].ends.tolist())) for user in sorted(primary)}
    boundaries = sorted({moment for spans in held.values() for span in spans for moment in span})
    if not boundaries:
        return math.nan
    # The elementary segments between consecutive boundaries, and who holds level 1 in each.
    index = {moment: number for number, moment in enumerate(boundaries)}
    holders_of: list[set[str]] = [set() for _ in range(len(boundaries) - 1)]
    for user, spans in held.items():
        for start, end in spans:
            for segment in range(index[start], index[end]):
                holders_of[segment].add(user)
    known = segments_after_handoffs(holders_of)
    if not known:
        return math.nan
    known_seconds = 0
    matched_seconds = 0
    for previous_holders, segments in known.items():
        stretch = [(boundaries[segment], boundaries[segment + 1]) for segment in segments]  # disjoint, in order
        known_seconds += sum(end - start for start, end in stretch)
        backups = [backup[user] for user in previous_holders if user in backup]
        if backups:
            covered = union_all(backups)
            matched_seconds += _overlap_seconds(stretch, covered.starts.tolist(), covered.ends.tolist())
    return 100.0 * matched_seconds / known_seconds


def segments_after_handoffs(holders_of: Sequence[Iterable[H]]) -> dict[frozenset[H], list[int]]:
    """The previous holders -> the segments they precede, given each segment's holders in time order
    (see :func:`_backup_is_previous_primary`: what a hand-off is)."""
    known: dict[frozenset[H], list[int]] = {}
    holders: frozenset[H] = frozenset()
    previous: frozenset[H] = frozenset()
    for segment, holding in enumerate(holders_of):
        current = frozenset(holding)
        if not current:
            continue  # a gap: whoever held level 1 last still counts as the holder
        if current - holders and holders - current:
            previous = holders - current
        holders = current
        if previous:
            known.setdefault(previous, []).append(segment)
    return known


def _overlap_seconds(stretch: Sequence[tuple[int, int]], starts: Sequence[int], ends: Sequence[int]) -> int:
    """Seconds of ``stretch`` (disjoint spans in order) inside the disjoint, ordered ``[starts, ends)``."""
    total = 0
    other = 0
    for start, end in stretch:
        while other < len(ends) and ends[other] <= start:
            other += 1
        scan = other
        while scan < len(starts) and starts[scan] < end:
            total += min(end, ends[scan]) - max(start, starts[scan])
            scan += 1
    return total


def level_table(policies: Mapping[str, ResolvedPolicy]) -> pd.DataFrame:
    """One row per escalation level (see ``columns.POLICY_LEVEL``)."""
    rows = []
    for policy in policies.values():
        previous_key = None
        for level in policy.levels:
            assert policy.window_coverage is not None  # a policy with levels has its coverage worked out
            level_coverage = policy.window_coverage.levels[level.number - 1]
            rows.append({
                "id": level.id,
                "name": f"{policy.name} L{level.number}",
                "html_url": policy.html_url,
                "policy_id": policy.id,
                "level": level.number,
                "escalation_delay_minutes": level.delay_minutes,
                "target_count": level.target_count,
                "schedule_ids": list(level.schedule_ids),
                "user_ids": list(level.user_ids),
                "deleted_targets": list(level.deleted),
                "unresolved_targets": list(level.unresolved),
                "unreachable_user_targets": list(level.unreachable),
                "same_targets_as_previous": previous_key is not None and level.target_key == previous_key,
                "coverage_pct": level_coverage.pct,
                "gaps": level_coverage.gaps_iso(),
                "people_ids": sorted(level.members),
            })
            previous_key = level.target_key
    return frame("policy_level", rows)
