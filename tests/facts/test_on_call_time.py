"""Everyone's on-call time at once (``audit.facts.on_call_time``) equals each person's worked out on
their own: the union of their levels, each level's union, and the night part of the union in their
zone, measured with the interval algebra.

The people are generated: several policies and levels each, shifts that overlap, nest, touch and
repeat across levels, zones with DST changes in the window and half-hour offsets, people reached
at no level, people reached but not in the user list.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from audit.facts.coverage import NIGHT_END, NIGHT_START, local_daily_intervals
from audit.facts.intervals import IntervalSet, intersection, measure, to_epoch
from audit.facts.on_call_time import Reach, on_call_time

# Four weeks over the end of European summer time (2027-10-31) and of US daylight time (2027-11-07).
SINCE, UNTIL = datetime(2027, 10, 25, tzinfo=UTC), datetime(2027, 11, 22, tzinfo=UTC)
WINDOW = IntervalSet.window(SINCE, UNTIL)
ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC", "Pacific/Chatham"]
HOUR = 3600


def _held(rng: random.Random) -> IntervalSet:
    start, end = to_epoch(SINCE), to_epoch(UNTIL)
    shape = rng.random()
    if shape < 0.1:
        return WINDOW  # a directly targeted user holds the whole window
    pieces = []
    moment = start + rng.randrange(0, 3 * 24) * HOUR
    while moment < end and len(pieces) < 12:
        length = rng.choice([HOUR, 8 * HOUR, 12 * HOUR, 24 * HOUR, 7 * 24 * HOUR, 1800, 61])
        pieces.append((moment, min(moment + length, end)))
        moment += length + rng.choice([0, 0, HOUR, 12 * HOUR, 3 * 24 * HOUR])  # touching shifts merge
    return IntervalSet.from_epoch([s for s, _ in pieces], [e for _, e in pieces])


def generated_reach(seed: int, people: int = 400) -> tuple[dict[str, Reach], dict[str, str], list[str]]:
    rng = random.Random(seed)
    reach: dict[str, Reach] = {}
    for n in range(people):
        if n % 9 == 0:
            continue  # reached at no level
        user = reach.setdefault(f"PU{n:04d}", Reach())
        for _ in range(rng.choice([1, 1, 2, 3, 5])):  # policies and levels reaching them
            level = rng.choice([1, 1, 2, 3, 4])
            held = _held(rng)
            user.hold(level, held)
            if rng.random() < 0.2:
                user.hold(level, held)  # the same rotation through two policies at the same level
    zones = {f"PU{n:04d}": ZONES[n % len(ZONES)] for n in range(people) if n % 13}
    return reach, zones, list(zones)  # every 13th person is reached but not a user of the account


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_everyone_at_once_equals_each_person_alone(seed: int) -> None:
    reach, zones, user_ids = generated_reach(seed)
    held = on_call_time(reach, user_ids, zones, WINDOW)
    expected_people = [user for user in reach if user in zones]
    assert list(held.seconds) == expected_people
    assert len(expected_people) > 250
    for user in expected_people:
        any_level = reach[user].any_level
        assert held.seconds[user] == measure(any_level), user
        hours = [f"{seconds / HOUR:.0f} h at level {level}" for level, seconds in held.seconds_by_level[user]]
        assert hours == reach[user].hours_by_level(), user
        nights = local_daily_intervals(WINDOW, zones[user], NIGHT_START, NIGHT_END)
        assert held.night_seconds[user] == measure(intersection(any_level, nights)), user
    # The generated shifts do overlap across levels, so the union is not the sum.
    assert any(held.seconds[u] < sum(s for _, s in held.seconds_by_level[u]) for u in expected_people)


def test_people_at_no_level_or_with_no_time_are_left_out_or_zero() -> None:
    lone = Reach()
    lone.hold(2, IntervalSet.empty())
    reach = {"PUNONE": lone}
    held = on_call_time(reach, ["PUNONE", "PUOTHER"], {"PUNONE": "UTC", "PUOTHER": "UTC"}, WINDOW)
    assert held.seconds == {"PUNONE": 0} and held.night_seconds == {"PUNONE": 0}
    assert held.seconds_by_level == {"PUNONE": [(2, 0)]}
    assert on_call_time({}, ["PUOTHER"], {"PUOTHER": "UTC"}, WINDOW).seconds == {}
