"""The schedule facts' plain-Python paths equal the numpy versions they replaced.

Each hand-off's local weekday and hour (the schedule table's ``handoff_weekdays``/``handoff_hours``),
now found with Python sets, equal what the numpy version found (``numpy_handoff_local_times`` below:
``person_load.handoff_instants`` and array arithmetic) for every schedule of the hostile Acme and a
generated account, told in zones with half- and three-quarter-hour offsets and DST changes; and the
layers' own hand-offs told on the local clock (``_local_times``, now in plain Python with each
moment's LocalTime remembered) equal the numpy arithmetic it replaced; and OC-07's back-to-back turns
(``_back_to_back_turns``, now a walk over each person's shifts) equal the numpy run-length count.
"""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from audit.facts import schedules
from audit.facts.person_load import BACK_TO_BACK_SLACK, handoff_instants
from audit.facts.schedules import DAY, HOUR, LocalTime, ScheduleRendering, _handoff_local_times, _wall_clock
from tests.facts.builder_inputs import captured_calls, crawled_accounts

ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"]


def numpy_handoff_local_times(rendering: ScheduleRendering) -> tuple[list[int], list[float]]:
    zone = ZoneInfo(rendering.time_zone)
    instants = handoff_instants(rendering.by_user).tolist()
    local = np.array([_wall_clock(int(instant), zone) for instant in instants], np.int64)
    days, seconds_of_day = np.divmod(local, DAY)
    weekdays = (days + 3) % 7 + 1
    hours, seconds_of_hour = np.divmod(seconds_of_day, 3600)
    minutes = (seconds_of_hour // 60).tolist()
    return weekdays.tolist(), [hour + minute / 60 for hour, minute in zip(hours.tolist(), minutes, strict=True)]


@pytest.fixture(scope="module")
def account_renderings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[ScheduleRendering]]:
    snapshots = crawled_accounts(tmp_path_factory.mktemp("schedule-handoffs"))
    found = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, snapshot in snapshots.items():
            ((args, kwargs),) = captured_calls(
                snapshot, {"render": (schedules, "render_schedules")}, monkeypatch
            )["render"]
            found[name] = list(schedules.render_schedules(*args, **kwargs).values())
    return found


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_local_hand_offs_equal_the_numpy_version(account_renderings, account: str) -> None:
    checked = 0
    for rendering in account_renderings[account]:
        for zone in ZONES:
            told = dataclasses.replace(rendering, time_zone=zone)
            weekdays, hours = _handoff_local_times(told)
            expected = numpy_handoff_local_times(told)
            assert (weekdays, [repr(h) for h in hours]) == (expected[0], [repr(h) for h in expected[1]]), rendering.id
            checked += len(weekdays)
    assert checked > 100
    # Hand-offs off the hour in some zone, and schedules with none.
    assert any(_handoff_local_times(dataclasses.replace(r, time_zone="Pacific/Chatham"))[1][:1] != [0.0]
               for r in account_renderings[account])
    nobody = dataclasses.replace(account_renderings[account][0], by_user={})
    assert _handoff_local_times(nobody) == numpy_handoff_local_times(nobody) == ([], [])


def numpy_local_times(wall_clock_seconds: np.ndarray) -> list[LocalTime]:
    days = np.floor_divide(wall_clock_seconds, DAY)
    weekdays = (days + 3) % 7 + 1
    hours = (wall_clock_seconds - days * DAY) / HOUR
    return [LocalTime(day, hour) for day, hour in zip(weekdays.tolist(), hours.tolist(), strict=True)]


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_layers_local_hand_offs_equal_the_numpy_version(account_moments, account: str) -> None:
    moments = account_moments[account]
    assert sum(len(array) for array in moments) > 20
    for array in moments:
        assert _told(schedules._local_times(array)) == _told(numpy_local_times(array))


def test_local_times_before_the_epoch_and_off_the_hour() -> None:
    rng = np.random.default_rng(7)
    edges = np.array([-1, 0, 1, DAY - 1, 7 * DAY, -7 * DAY - 61])
    for array in (rng.integers(-400 * DAY, 30_000 * DAY, 500), edges):
        assert _told(schedules._local_times(array.astype(np.int64))) == _told(numpy_local_times(array))


def _told(times: list[LocalTime]) -> list[tuple[int, str]]:
    return [(moment.weekday, repr(moment.hour)) for moment in times]


@pytest.fixture(scope="module")
def account_moments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[np.ndarray]]:
    """Account name -> every array of wall-clock moments rendering the schedules told on the local clock."""
    snapshots = crawled_accounts(tmp_path_factory.mktemp("layer-handoffs"))
    found = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, snapshot in snapshots.items():
            calls = captured_calls(snapshot, {"local times": (schedules, "_local_times")}, monkeypatch)["local times"]
            found[name] = [args[0] for args, _ in calls]
    return found


def numpy_back_to_back_turns(rendering: ScheduleRendering, turn_seconds: int) -> int:
    held = [person for person in rendering.by_user.values() if person]
    if not held:
        return 0
    covered = rendering.covered
    starts = np.concatenate([person.starts for person in held])
    ends = np.concatenate([person.ends for person in held])
    rest_starts, rest_ends = ends[:-1], starts[1:]
    following = np.searchsorted(covered.ends, rest_starts, side="right")
    in_range = following < len(covered)
    broken = in_range & (covered.starts[np.minimum(following, len(covered) - 1)] < rest_ends)
    broken[np.cumsum([len(person) for person in held])[:-1] - 1] = True
    firsts = np.concatenate([[0], np.flatnonzero(broken) + 1])
    lasts = np.concatenate([firsts[1:] - 1, [len(starts) - 1]])
    return int(np.sum(ends[lasts] - starts[firsts] > BACK_TO_BACK_SLACK * turn_seconds))


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_back_to_back_turns_equal_the_numpy_version(account_renderings, account: str) -> None:
    counted = []
    for rendering in account_renderings[account]:
        for turn in (3600, 8 * 3600, 24 * 3600, 7 * 24 * 3600, *rendering.turn_seconds):
            count = schedules._back_to_back_turns(rendering, turn)
            assert count == numpy_back_to_back_turns(rendering, turn), (rendering.id, turn)
            counted.append(count)
    assert any(counted) and not all(counted)
