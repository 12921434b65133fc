"""Each person's time on call over every escalation level that reaches them, for everyone at once.

Per person: the seconds on call at any level (levels held at once count once: PPL-01's share),
the seconds at each level (``on_call_hours_by_level``) and the seconds falling 00:00-06:00 in
their own zone (OC-08). These are the numbers :attr:`Reach.any_level` and
:meth:`Reach.hours_by_level` give one person at a time; on a large account
that was tens of thousands of small unions, a third of the user table.

How: every held interval goes into one array, each tagged with its group (a person, or a person
at one level). Shifting each group's times by ``group * span`` (``span`` longer than all the
held time) keeps the groups apart on one line, so one sort and one running maximum of the ends
merge every group's overlapping and touching intervals at once (exactly what a union does), and
the merged lengths summed per group are the measures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from audit.facts.coverage import NIGHT_END, NIGHT_START, local_daily_intervals
from audit.facts.intervals import IntervalSet, measure, measure_before, union_all
from audit.facts.schedules import HOUR


@dataclass
class Reach:
    """The levels that reach one user, gathered while escalation policies are resolved.

    ``any_level`` and ``hours_by_level`` define the user table's numbers for one person;
    :func:`on_call_time` computes the same for everyone at once.
    """

    policy_ids: set[str] = field(default_factory=set)
    delays: list[float] = field(default_factory=list)
    time: dict[int, list[IntervalSet]] = field(default_factory=dict)  # level number -> time held there

    def hold(self, level: int, held: IntervalSet) -> None:
        self.time.setdefault(level, []).append(held)

    @property
    def any_level(self) -> IntervalSet:
        """The time held at some level: overlaps (two policies, two levels at once) count once."""
        return union_all([held for by_level in self.time.values() for held in by_level])

    def hours_by_level(self) -> list[str]:
        """'N h at level L' for each level held, lowest level first (PPL-01's message)."""
        return [
            f"{measure(union_all(held)) / HOUR:.0f} h at level {level}" for level, held in sorted(self.time.items())
        ]


@dataclass(frozen=True)
class OnCallTime:
    """Seconds on call per person (only people some level reaches are listed)."""

    seconds: dict[str, int]  # at any level
    seconds_by_level: dict[str, list[tuple[int, int]]]  # (level, seconds), lowest level first
    night_seconds: dict[str, int]  # of ``seconds``, 00:00-06:00 in the person's zone


def on_call_time(
    reach: Mapping[str, Reach], user_ids: Iterable[str], zones: Mapping[str, str], window: IntervalSet
) -> OnCallTime:
    """The on-call time of each of ``user_ids`` some level reaches; ``zones`` gives each one's zone."""
    wanted = set(user_ids)
    people = [user for user in reach if user in wanted]
    levels: list[tuple[int, int]] = []  # group -> (person, level)
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    counts: list[int] = []
    groups: list[int] = []
    for person, user in enumerate(people):
        for level, held_sets in sorted(reach[user].time.items()):
            levels.append((person, level))
            for held in held_sets:
                starts.append(held.starts)
                ends.append(held.ends)
                counts.append(len(held))
                groups.append(len(levels) - 1)
    if not people:
        return OnCallTime({}, {}, {})
    all_starts = np.concatenate(starts) if starts else np.empty(0, np.int64)
    all_ends = np.concatenate(ends) if ends else np.empty(0, np.int64)
    level_of = np.repeat(np.array(groups, np.int64), counts)
    person_of_level = np.array([person for person, _ in levels], np.int64)

    by_level = _union_seconds(*_merge(all_starts, all_ends, level_of), len(levels))
    merged_starts, merged_ends, person_of = _merge(all_starts, all_ends, person_of_level[level_of])
    seconds = _union_seconds(merged_starts, merged_ends, person_of, len(people))
    nights = _night_seconds(merged_starts, merged_ends, person_of, [zones[user] for user in people], window)

    seconds_by_level: dict[str, list[tuple[int, int]]] = {user: [] for user in people}
    for (person, level), level_seconds in zip(levels, by_level.tolist(), strict=True):
        seconds_by_level[people[person]].append((level, level_seconds))
    return OnCallTime(
        seconds=dict(zip(people, seconds.tolist(), strict=True)),
        seconds_by_level=seconds_by_level,
        night_seconds=dict(zip(people, nights.tolist(), strict=True)),
    )


def _merge(starts: np.ndarray, ends: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each group's intervals merged (overlapping and touching ones joined): starts, ends and groups,
    sorted by group, then time. Empty intervals are dropped, as a union drops them."""
    keep = ends > starts
    starts, ends, groups = starts[keep], ends[keep], groups[keep]
    if not len(starts):
        return starts, ends, groups
    base = int(starts.min())
    span = int(ends.max()) - base + 1  # every group's shifted times lie in [group * span, (group + 1) * span)
    if (int(groups.max()) + 1) * span >= 2**62:
        raise ValueError("on-call time spans too long a stretch to measure")  # years: no window is that long
    shift = groups * span - base
    shifted_starts, shifted_ends = starts + shift, ends + shift
    order = np.argsort(shifted_starts, kind="stable")
    shifted_starts, shifted_ends, groups = shifted_starts[order], shifted_ends[order], groups[order]
    reached = np.maximum.accumulate(shifted_ends)
    # A merged interval begins where a start lies beyond everything before it has ended.
    begins = np.flatnonzero(shifted_starts[1:] > reached[:-1]) + 1
    firsts = np.concatenate([[0], begins])
    lasts = np.concatenate([begins - 1, [len(shifted_starts) - 1]])
    merged_groups = groups[firsts]
    unshift = merged_groups * span - base
    return shifted_starts[firsts] - unshift, reached[lasts] - unshift, merged_groups


def _union_seconds(starts: np.ndarray, ends: np.ndarray, groups: np.ndarray, group_count: int) -> np.ndarray:
    """Seconds of merged intervals per group (0 for a group with none)."""
    totals = np.zeros(group_count, np.int64)
    np.add.at(totals, groups, ends - starts)
    return totals


def _night_seconds(
    starts: np.ndarray, ends: np.ndarray, people: np.ndarray, zones: list[str], window: IntervalSet
) -> np.ndarray:
    """Seconds of each person's merged intervals falling 00:00-06:00 in their zone (one calendar per zone)."""
    totals = np.zeros(len(zones), np.int64)
    zone_names = sorted(set(zones))
    zone_index = {zone: index for index, zone in enumerate(zone_names)}
    zone_of_person = np.array([zone_index[zone] for zone in zones], np.int64)
    zone_of = zone_of_person[people] if len(people) else np.empty(0, np.int64)
    for index, zone in enumerate(zone_names):
        chosen = zone_of == index
        if not chosen.any():
            continue
        nights = local_daily_intervals(window, zone, NIGHT_START, NIGHT_END)
        held = measure_before(nights, ends[chosen]) - measure_before(nights, starts[chosen])
        np.add.at(totals, people[chosen], held)
    return totals
