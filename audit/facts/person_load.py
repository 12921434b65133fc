"""Per-person on-call load on one rotation: hours, shifts, hand-offs, night hours and turns.

Owns the numbers of the rotation rules that judge people rather than coverage: hand-off
instants (OC-05), hours per person (OC-06), back-to-back turns (OC-07), night hours
00:00-06:00 local and how far apart a team's zones are (OC-08). Built on the interval
sets of ``audit.facts.coverage``. Pure functions over plain data: no snapshot I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from audit.facts.coverage import NIGHT_END, NIGHT_START, local_daily_intervals, time_zone_info
from audit.facts.intervals import (
    IntervalSet,
    Window,
    as_interval_set,
    clip,
    from_epoch,
    intersection,
    measure,
    to_epoch,
    union_all,
)


@dataclass(frozen=True)
class Handoff:
    """An instant the pager changes hands: these people go off and those come on."""

    at: datetime
    from_users: tuple[str, ...]
    to_users: tuple[str, ...]


def handoff_instants(by_user: Mapping[str, IntervalSet]) -> np.ndarray:
    """Epoch seconds of every instant in :func:`handoffs`, without working out who is involved.

    Each person's time is normalised (touching shifts merged), so an instant where some
    shift ends and some shift starts always has two different people at it.
    """
    if not by_user:
        return np.empty(0, np.int64)
    sets = list(by_user.values())
    return np.intersect1d(np.concatenate([s.starts for s in sets]), np.concatenate([s.ends for s in sets]))


def handoffs(by_user: Mapping[str, IntervalSet]) -> list[Handoff]:
    """Every instant where one person's shift ends and another's starts (OC-05).

    A shift that starts after a gap (nobody on before) is not a hand-off.
    """
    users = sorted(by_user)
    if not users:
        return []
    counts = [len(by_user[user]) for user in users]
    owners = np.repeat(np.arange(len(users)), counts)
    start_times = np.concatenate([by_user[user].starts for user in users])
    end_times = np.concatenate([by_user[user].ends for user in users])
    start_order, end_order = np.argsort(start_times, kind="stable"), np.argsort(end_times, kind="stable")
    sorted_starts, sorted_ends = start_times[start_order], end_times[end_order]
    instants = np.intersect1d(start_times, end_times)

    def owners_at(sorted_times: np.ndarray, order: np.ndarray, instant: int) -> tuple[str, ...]:
        first, last = np.searchsorted(sorted_times, [instant, instant + 1])
        return tuple(sorted(users[owner] for owner in owners[order[first:last]].tolist()))

    return [
        Handoff(
            from_epoch(instant),
            owners_at(sorted_ends, end_order, instant),
            owners_at(sorted_starts, start_order, instant),
        )
        for instant in instants.tolist()
    ]


@dataclass(frozen=True)
class Turn:
    """A stretch one person holds the pager with nobody else taking over in between."""

    start: datetime
    end: datetime
    on_call_seconds: int

    @property
    def span_seconds(self) -> int:
        return to_epoch(self.end) - to_epoch(self.start)


# A turn counts as back-to-back once it spans more than a turn and a quarter: a
# single turn stretched by an override of a few hours is not two turns, while two
# turns in a row (even restricted to weekday working hours) always span more.
BACK_TO_BACK_SLACK = 1.25


@dataclass(frozen=True)
class PersonLoad:
    """One person's on-call load over the window."""

    user_id: str
    on_call_seconds: int
    shift_seconds: tuple[int, ...]
    night_seconds: int
    turns: tuple[Turn, ...]
    back_to_back_turns: int | None

    @property
    def night_share(self) -> float:
        return self.night_seconds / self.on_call_seconds if self.on_call_seconds else 0.0


def person_load(
    by_user: Mapping[str, IntervalSet],
    window: Window,
    time_zones: Mapping[str, str],
    *,
    default_time_zone: str = "UTC",
    turn_length_seconds: int | None = None,
) -> dict[str, PersonLoad]:
    """Hours, shifts, night hours (00:00-06:00 local) and turns for each person.

    ``by_user`` is one rotation's time per person (a schedule's rendered
    entries); ``time_zones`` gives each person's zone, falling back to
    ``default_time_zone``. A turn ends when someone else comes on call; with
    ``turn_length_seconds`` (the rotation's turn), turns longer than
    :data:`BACK_TO_BACK_SLACK` turns are counted as back-to-back (OC-07),
    otherwise that count is None (not judged).
    """
    window_set = as_interval_set(window)
    clipped = {user: clip(intervals, window_set) for user, intervals in by_user.items()}
    loads = {}
    for user, intervals in clipped.items():
        if not intervals:
            continue
        zone_name = time_zones.get(user) or default_time_zone
        nights = local_daily_intervals(window_set, zone_name, NIGHT_START, NIGHT_END)
        others = union_all(other for other_user, other in clipped.items() if other_user != user)
        turns = _turns(intervals, others)
        back_to_back = None
        if turn_length_seconds:
            back_to_back = sum(turn.span_seconds > BACK_TO_BACK_SLACK * turn_length_seconds for turn in turns)
        loads[user] = PersonLoad(
            user_id=user,
            on_call_seconds=measure(intervals),
            shift_seconds=tuple(intervals.lengths.tolist()),
            night_seconds=measure(intersection(intervals, nights)),
            turns=turns,
            back_to_back_turns=back_to_back,
        )
    return loads


def _turns(mine: IntervalSet, others: IntervalSet) -> tuple[Turn, ...]:
    # The rest between two of my shifts breaks my turn only if someone else was on
    # call during it: the first other interval ending after the rest starts must
    # begin before the rest ends.
    rest_starts, rest_ends = mine.ends[:-1], mine.starts[1:]
    if len(others):
        first_candidate = np.searchsorted(others.ends, rest_starts, side="right")
        in_range = first_candidate < len(others)
        candidate_starts = others.starts[np.minimum(first_candidate, len(others) - 1)]
        broken = in_range & (candidate_starts < rest_ends)
    else:
        broken = np.zeros(len(rest_starts), bool)
    turn_firsts = np.concatenate([[0], np.flatnonzero(broken) + 1])
    turn_lasts = np.concatenate([turn_firsts[1:] - 1, [len(mine) - 1]])
    cumulative = np.concatenate([[0], np.cumsum(mine.lengths)])
    return tuple(
        Turn(from_epoch(mine.starts[first]), from_epoch(mine.ends[last]), int(cumulative[last + 1] - cumulative[first]))
        for first, last in zip(turn_firsts.tolist(), turn_lasts.tolist(), strict=True)
    )


def time_zone_spread_hours(time_zones: Iterable[str], moments: Iterable[datetime]) -> float:
    """The widest gap between the people's UTC offsets at any of ``moments`` (OC-08).

    Give the window's start and end at least: zones that change clocks on
    different dates are an hour closer or further apart for a few weeks.
    """
    zones = [time_zone_info(name) for name in set(time_zones)]
    if not zones:
        return 0.0
    widest = timedelta(0)
    for moment in moments:
        offsets = [moment.astimezone(zone).utcoffset() or timedelta(0) for zone in zones]
        widest = max(widest, max(offsets) - min(offsets))
    return widest / timedelta(hours=1)
