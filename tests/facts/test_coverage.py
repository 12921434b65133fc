"""On-call coverage maths, held to hand-computed figures.

The schedules below are written as PagerDuty renders them (local times with the
offset in force that day), so the expected UTC figures are worked out by hand
here, not by the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from audit.errors import SnapshotError
from audit.facts.coverage import (
    OVERRIDE_SOURCES,
    WEEKDAYS,
    Promise,
    coverage,
    level_covered,
    local_daily_intervals,
    people_of_level,
    policy_coverage,
    promise_window,
    same_person_overlap,
    schedule_intervals,
    support_hours_intervals,
)
from audit.facts.gap_text import describe_gaps, format_duration, format_local_span
from audit.facts.person_load import Handoff, handoffs, person_load, time_zone_spread_hours
from audit.facts.intervals import IntervalSet, clip, contains, format_intervals, measure, to_epoch, union

HOUR = 3600
DAY = 24 * HOUR


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, second, tzinfo=UTC)


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def v2_entry(user_id: str | None, start: str, end: str | None) -> dict:
    user = None if user_id is None else {"id": user_id, "type": "user_reference", "summary": user_id}
    return {"user": user, "start": start, "end": end}


def v3_assignment(user_id: str | None, start: str, end: str, source: str = "schedule_rotation") -> dict:
    member = {"type": "empty_member"} if user_id is None else {"type": "user_member", "user_id": user_id}
    return {
        "type": "computed_shift_assignment",
        "start_time": start,
        "end_time": end,
        "member": member,
        "source": {"type": source, "rotation_id": "01ROTATIONPRIMARY0000000001"},
    }


def new_york_office_hours() -> dict:
    """Weekdays 09:00-17:00 America/New_York, 2027-03-08 .. 2027-03-19, as PagerDuty renders it.

    The clocks go forward on Sunday 2027-03-14: week one is EST (-05:00), week
    two EDT (-04:00). Alice has week one, Bob week two.
    """
    entries = []
    for day in [*range(8, 13), *range(15, 20)]:
        offset = "-05:00" if day < 14 else "-04:00"
        user = "PALICE1" if day < 14 else "PBOB001"
        entries.append(v2_entry(user, f"2027-03-{day:02d}T09:00:00{offset}", f"2027-03-{day:02d}T17:00:00{offset}"))
    return {"name": "Final Schedule", "rendered_schedule_entries": entries, "rendered_coverage_percentage": 23.81}


MARCH_WINDOW = (utc(3, 8), utc(3, 22))  # 14 days, 336 h


class TestRestrictedScheduleAcrossDst:
    def test_coverage_is_eighty_of_three_hundred_thirty_six_hours(self):
        rendered = schedule_intervals(new_york_office_hours(), window=MARCH_WINDOW)
        result = coverage(rendered.covered, MARCH_WINDOW)
        assert result.window_seconds == 336 * HOUR
        assert result.covered_seconds == 80 * HOUR
        assert result.pct == pytest.approx(100 * 80 / 336, abs=1e-9)
        assert round(result.pct, 2) == 23.81

    def test_the_weekend_gap_over_the_clock_change_is_63_hours(self):
        gaps = coverage(schedule_intervals(new_york_office_hours()).covered, MARCH_WINDOW).gaps
        gap_list = format_intervals(gaps)
        assert len(gap_list) == 11
        assert gap_list[0] == ["2027-03-08T00:00:00Z", "2027-03-08T14:00:00Z"]
        assert ["2027-03-12T22:00:00Z", "2027-03-15T13:00:00Z"] in gap_list
        assert gap_list[-1] == ["2027-03-19T21:00:00Z", "2027-03-22T00:00:00Z"]
        assert max(gaps.lengths) == 63 * HOUR
        assert measure(gaps) == 256 * HOUR

    def test_per_user_hours_follow_the_rotation(self):
        rendered = schedule_intervals(new_york_office_hours())
        assert sorted(rendered.by_user) == ["PALICE1", "PBOB001"]
        assert measure(rendered.by_user["PALICE1"]) == 40 * HOUR
        assert format_intervals(rendered.by_user["PBOB001"])[0] == ["2027-03-15T13:00:00Z", "2027-03-15T21:00:00Z"]

    def test_described_as_a_pattern_in_the_schedule_zone(self):
        gaps = coverage(schedule_intervals(new_york_office_hours()).covered, MARCH_WINDOW).gaps
        assert describe_gaps(gaps, "America/New_York", MARCH_WINDOW) == (
            "uncovered 16 h a day on weekdays, all day at weekends; 11 times, 256 h in all, "
            "longest 63 h (Fri 2027-03-12 17:00 – Mon 2027-03-15 09:00 America/New_York)"
        )

    def test_promised_support_hours_match_the_restricted_schedule(self):
        office_hours = {
            "type": "fixed_time_per_day",
            "time_zone": "America/New_York",
            "days_of_week": [1, 2, 3, 4, 5],
            "start_time": "09:00:00",
            "end_time": "17:00:00",
        }
        promised = promise_window(MARCH_WINDOW, Promise.SUPPORT_HOURS, office_hours)
        assert promised == schedule_intervals(new_york_office_hours()).covered
        result = coverage(schedule_intervals(new_york_office_hours()).covered, promised)
        assert result.pct == 100.0
        assert not result.gaps


JANUARY_WEEK = (utc(1, 4), utc(1, 11))  # Monday to Monday, 168 h


def payments_primary() -> dict:
    """A v2 schedule's sub-schedules: the layer ends on Friday noon, two overrides.

    Carol covers two hours of Alice's Wednesday night; Bob's override bridges a
    day after the layer ends; nobody has the weekend after Saturday noon.
    """
    layer = [v2_entry("PALICE1", "2027-01-04T00:00:00Z", "2027-01-08T12:00:00Z")]
    overrides = [
        v2_entry("PCAROL1", "2027-01-06T02:00:00Z", "2027-01-06T04:00:00Z"),
        v2_entry("PBOB001", "2027-01-08T12:00:00Z", "2027-01-09T12:00:00Z"),
    ]
    final = [
        v2_entry("PALICE1", "2027-01-04T00:00:00Z", "2027-01-06T02:00:00Z"),
        v2_entry("PCAROL1", "2027-01-06T02:00:00Z", "2027-01-06T04:00:00Z"),
        v2_entry("PALICE1", "2027-01-06T04:00:00Z", "2027-01-08T12:00:00Z"),
        v2_entry("PBOB001", "2027-01-08T12:00:00Z", "2027-01-09T12:00:00Z"),
        v2_entry(None, "2027-01-09T12:00:00Z", "2027-01-11T00:00:00Z"),
    ]
    return {
        "layer": {"rendered_schedule_entries": layer},
        "overrides_subschedule": {"name": "Overrides", "rendered_schedule_entries": overrides},
        "final_schedule": {"name": "Final Schedule", "rendered_schedule_entries": final},
    }


class TestLayersAndOverrides:
    def test_a_layer_ending_inside_the_window_leaves_a_gap_the_override_partly_fills(self):
        final = schedule_intervals(payments_primary()["final_schedule"], window=JANUARY_WEEK)
        result = coverage(final.covered, JANUARY_WEEK)
        assert result.covered_seconds == 132 * HOUR  # 4.5 days of Alice (and Carol) + 1 day of Bob
        assert result.pct == pytest.approx(100 * 132 / 168, abs=1e-9)
        assert result.gaps_iso() == [["2027-01-09T12:00:00Z", "2027-01-11T00:00:00Z"]]

    def test_final_schedule_is_the_union_of_layer_and_overrides(self):
        schedule = payments_primary()
        layer = schedule_intervals(schedule["layer"]).covered
        overrides = schedule_intervals(schedule["overrides_subschedule"]).covered
        assert union(layer, overrides) == schedule_intervals(schedule["final_schedule"]).covered

    def test_override_share_of_level_one_hours(self):
        schedule = payments_primary()
        overridden = measure(schedule_intervals(schedule["overrides_subschedule"], window=JANUARY_WEEK).covered)
        on_call = measure(schedule_intervals(schedule["final_schedule"], window=JANUARY_WEEK).covered)
        assert overridden == 26 * HOUR
        assert 100 * overridden / on_call == pytest.approx(19.6969696, abs=1e-6)

    def test_handoffs_are_where_one_person_replaces_another(self):
        by_user = schedule_intervals(payments_primary()["final_schedule"]).by_user
        assert handoffs(by_user) == [
            Handoff(utc(1, 6, 2), ("PALICE1",), ("PCAROL1",)),
            Handoff(utc(1, 6, 4), ("PCAROL1",), ("PALICE1",)),
            Handoff(utc(1, 8, 12), ("PALICE1",), ("PBOB001",)),
        ]

    def test_handoffs_in_working_hours_of_the_schedule_zone(self):
        by_user = schedule_intervals(payments_primary()["final_schedule"]).by_user
        working_hours = local_daily_intervals(JANUARY_WEEK, "Europe/London", time(9), time(17), WEEKDAYS)
        in_hours = contains(working_hours, [handoff.at for handoff in handoffs(by_user)])
        assert in_hours == [False, False, True]  # 02:00 and 04:00 Wednesday; 12:00 Friday

    def test_an_open_ended_entry_runs_to_the_window_end(self):
        open_ended = [v2_entry("PALICE1", "2027-01-10T00:00:00+00:00", None)]
        rendered = schedule_intervals(open_ended, window=JANUARY_WEEK)
        assert rendered.covered == IntervalSet.window(utc(1, 10), utc(1, 11))
        with pytest.raises(SnapshotError, match="no end and no window"):
            schedule_intervals(open_ended)

    def test_entries_outside_the_window_are_dropped(self):
        entries = [v2_entry("PDAVE01", "2026-12-20T00:00:00Z", "2026-12-27T00:00:00Z")]
        assert schedule_intervals(entries, window=JANUARY_WEEK).by_user == {}


def payments_v3() -> dict:
    """A v3 day: Alice's night, an intentionally empty day slot, Bob's evening with Carol's override."""
    return {
        "type": "final_schedule",
        "rendered_coverage_percentage": 66.67,
        "computed_shift_assignments": [
            v3_assignment("PALICE1", "2027-01-04T00:00:00Z", "2027-01-04T08:00:00Z"),
            v3_assignment(None, "2027-01-04T08:00:00Z", "2027-01-04T16:00:00Z"),
            v3_assignment("PBOB001", "2027-01-04T16:00:00Z", "2027-01-04T20:00:00Z"),
            v3_assignment("PCAROL1", "2027-01-04T20:00:00Z", "2027-01-04T22:00:00Z", "schedule_rotation_override"),
            v3_assignment("PBOB001", "2027-01-04T22:00:00Z", "2027-01-05T00:00:00Z"),
        ],
    }


class TestV3Schedules:
    def test_an_empty_member_covers_nothing(self):
        rendered = schedule_intervals(payments_v3())
        result = coverage(rendered.covered, (utc(1, 4), utc(1, 5)))
        assert result.pct == pytest.approx(100 * 16 / 24, abs=1e-9)
        assert result.gaps_iso() == [["2027-01-04T08:00:00Z", "2027-01-04T16:00:00Z"]]
        assert sorted(rendered.by_user) == ["PALICE1", "PBOB001", "PCAROL1"]
        assert measure(rendered.by_user["PBOB001"]) == 6 * HOUR

    def test_override_sources_select_the_overridden_time(self):
        overridden = schedule_intervals(payments_v3(), sources=OVERRIDE_SOURCES)
        assert list(overridden.by_user) == ["PCAROL1"]
        assert overridden.covered == IntervalSet.window(utc(1, 4, 20), utc(1, 4, 22))

    def test_sources_are_refused_for_v2_entries(self):
        with pytest.raises(ValueError, match="v3"):
            schedule_intervals(new_york_office_hours(), sources=OVERRIDE_SOURCES)

    def test_an_unknown_member_kind_is_an_error_not_a_gap(self):
        schedule = payments_v3()
        schedule["computed_shift_assignments"][0]["member"] = {"type": "team_member", "team_id": "PTEAM01"}
        with pytest.raises(SnapshotError, match="shift assignment 0: member must be"):
            schedule_intervals(schedule)


class TestMalformedEntries:
    @pytest.mark.parametrize(
        ("entries", "message"),
        [
            ([v2_entry("PALICE1", "2027-01-04T09:00:00", "2027-01-04T17:00:00Z")], "has no UTC offset"),
            ([v2_entry("PALICE1", "next tuesday", "2027-01-04T17:00:00Z")], "not an ISO-8601 timestamp"),
            ([v2_entry("PALICE1", "2027-01-04T17:00:00Z", "2027-01-04T09:00:00Z")], "ends before it starts"),
            ([{"user": "PALICE1", "start": "2027-01-04T09:00:00Z", "end": "2027-01-04T17:00:00Z"}], "reference"),
            (["2027-01-04"], "expected an object"),
            ({"name": "Final Schedule"}, "neither rendered_schedule_entries"),
        ],
    )
    def test_one_line_snapshot_errors(self, entries, message):
        with pytest.raises(SnapshotError, match=message) as raised:
            schedule_intervals(entries)
        assert "\n" not in str(raised.value)

    def test_null_entries_mean_an_empty_schedule(self):
        assert not schedule_intervals({"rendered_schedule_entries": None}).covered


class TestCoverageTolerance:
    shifts = IntervalSet.from_pairs(
        [
            (utc(1, 4, 0), utc(1, 4, 9)),
            (utc(1, 4, 9, 0, 30), utc(1, 4, 17)),  # a 30 s hand-off gap
            (utc(1, 4, 17, 1), utc(1, 5, 0)),  # a 1 min gap
        ]
    )
    day = (utc(1, 4), utc(1, 5))

    def test_exact_coverage_counts_every_second(self):
        result = coverage(self.shifts, self.day)
        assert result.covered_seconds == DAY - 90
        assert result.pct == pytest.approx(100 * (DAY - 90) / DAY, abs=1e-12)
        assert len(result.gaps) == 2

    def test_gaps_under_a_minute_are_ignored_when_asked(self):
        result = coverage(self.shifts, self.day, ignore_gaps_shorter_than=60)
        assert result.gaps_iso() == [["2027-01-04T17:00:00Z", "2027-01-04T17:01:00Z"]]
        assert result.ignored_seconds == 30
        assert result.pct == pytest.approx(100 * (DAY - 60) / DAY, abs=1e-12)
        assert result.covered_seconds + result.ignored_seconds + result.gap_seconds == result.window_seconds

    def test_nothing_promised_is_fully_covered(self):
        result = coverage(IntervalSet.empty(), promise_window(self.day, "none"))
        assert (result.pct, result.window_seconds, len(result.gaps)) == (100.0, 0, 0)

    def test_always_promises_the_whole_window(self):
        assert promise_window(self.day, "24/7") == IntervalSet.window(*self.day)
        with pytest.raises(ValueError, match="unknown promise"):
            promise_window(self.day, "business hours")


class TestSupportHours:
    @staticmethod
    def hours(time_zone: str, days: list[int], start: str, end: str) -> dict:
        return {
            "type": "fixed_time_per_day",
            "time_zone": time_zone,
            "days_of_week": days,
            "start_time": start,
            "end_time": end,
        }

    @pytest.mark.parametrize(
        ("window", "zone", "days", "start", "end", "expected"),
        [
            pytest.param(
                (utc(3, 13), utc(3, 16)),
                "America/Los_Angeles",
                [1, 2, 3, 4, 5, 6, 7],
                "01:00:00",
                "04:00:00",
                [
                    ["2027-03-13T09:00:00Z", "2027-03-13T12:00:00Z"],  # PST
                    ["2027-03-14T09:00:00Z", "2027-03-14T11:00:00Z"],  # 01:00 PST - 04:00 PDT: 2 h
                    ["2027-03-15T08:00:00Z", "2027-03-15T11:00:00Z"],  # PDT
                ],
                id="los-angeles-nights-lose-an-hour-2027-03-14",
            ),
            pytest.param(
                (utc(3, 20), utc(4, 5)),
                "Europe/London",
                [7],
                "00:00:00",
                "03:00:00",
                [
                    ["2027-03-21T00:00:00Z", "2027-03-21T03:00:00Z"],  # GMT
                    ["2027-03-28T00:00:00Z", "2027-03-28T02:00:00Z"],  # 00:00 GMT - 03:00 BST: 2 h
                    ["2027-04-03T23:00:00Z", "2027-04-04T02:00:00Z"],  # BST
                ],
                id="london-sundays-around-2027-03-28",
            ),
            pytest.param(
                # 01:30 does not exist on 2027-03-28 in London: read as 01:30 GMT (02:30 BST).
                (utc(3, 27), utc(3, 29)),
                "Europe/London",
                [7],
                "01:30:00",
                "03:00:00",
                [["2027-03-28T01:30:00Z", "2027-03-28T02:00:00Z"]],
                id="a-skipped-local-time-keeps-the-old-offset",
            ),
            pytest.param(
                # 00:00 EDT to 06:00 EST: the repeated hour makes it 7 h.
                (utc(11, 6), utc(11, 9)),
                "America/New_York",
                [7],
                "00:00:00",
                "06:00:00",
                [["2027-11-07T04:00:00Z", "2027-11-07T11:00:00Z"]],
                id="new-york-night-gains-an-hour-2027-11-07",
            ),
            pytest.param(
                (utc(1, 4), utc(1, 11)),
                "Europe/London",
                [5],
                "22:00:00",
                "06:00:00",
                [["2027-01-08T22:00:00Z", "2027-01-09T06:00:00Z"]],
                id="overnight-hours-run-into-the-next-day",
            ),
            pytest.param(
                (utc(1, 9), utc(1, 10)),
                "Europe/London",
                [5],
                "22:00:00",
                "06:00:00",
                [["2027-01-09T00:00:00Z", "2027-01-09T06:00:00Z"]],
                id="last-nights-hours-reach-into-the-window",
            ),
            pytest.param(
                (utc(1, 4, 12), utc(1, 5, 10)),
                "UTC",
                [1, 2],
                "09:00:00",
                "17:00:00",
                [["2027-01-04T12:00:00Z", "2027-01-04T17:00:00Z"], ["2027-01-05T09:00:00Z", "2027-01-05T10:00:00Z"]],
                id="clipped-to-the-window",
            ),
        ],
    )
    def test_hand_computed_support_hours(self, window, zone, days, start, end, expected):
        assert format_intervals(support_hours_intervals(window, self.hours(zone, days, start, end))) == expected

    def test_los_angeles_office_hours_move_an_hour_earlier_in_utc(self):
        promised = support_hours_intervals(
            (utc(3, 8), utc(3, 22)), self.hours("America/Los_Angeles", [1, 2, 3, 4, 5], "09:00:00", "17:00:00")
        )
        gap_list = format_intervals(promised)
        assert len(gap_list) == 10 and measure(promised) == 80 * HOUR
        assert ["2027-03-12T17:00:00Z", "2027-03-13T01:00:00Z"] in gap_list  # Friday, PST
        assert ["2027-03-15T16:00:00Z", "2027-03-16T00:00:00Z"] in gap_list  # Monday, PDT

    def test_days_of_week_one_is_monday(self):
        promised = support_hours_intervals((utc(1, 4), utc(1, 11)), self.hours("UTC", [1], "09:00:00", "10:00:00"))
        assert [interval.start.date() for interval in promised] == [date(2027, 1, 4)]
        assert date(2027, 1, 4).strftime("%A") == "Monday"

    @pytest.mark.parametrize(
        ("override", "message"),
        [
            ({"time_zone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
            ({"days_of_week": [0, 1]}, "days_of_week"),
            ({"start_time": "9am"}, "start_time"),
            ({"type": "variable"}, "fixed_time_per_day"),
        ],
    )
    def test_malformed_support_hours(self, override, message):
        hours = {**self.hours("America/Lima", [1, 2, 3, 4, 5], "09:00:00", "17:00:00"), **override}
        with pytest.raises(SnapshotError, match=message):
            promise_window(JANUARY_WEEK, "support_hours", hours)

    def test_support_hours_promise_needs_support_hours(self):
        with pytest.raises(SnapshotError, match="declares no support_hours"):
            promise_window(JANUARY_WEEK, Promise.SUPPORT_HOURS, None)


class TestEscalationLevels:
    def test_levels_that_cover_each_others_gaps(self):
        office = schedule_intervals(new_york_office_hours()).covered
        after_hours_entries = [
            v2_entry("PNIGHT1", z(interval.start), z(interval.end)) for interval in coverage(office, MARCH_WINDOW).gaps
        ]
        after_hours = schedule_intervals(after_hours_entries).covered
        result = policy_coverage([[office], [after_hours]], MARCH_WINDOW)
        assert result.levels[0].pct == pytest.approx(100 * 80 / 336, abs=1e-9)
        assert result.levels[1].pct == pytest.approx(100 * 256 / 336, abs=1e-9)
        assert result.any_level.pct == 100.0 and not result.any_level.gaps
        # OC-02: the backup is never there when level 1 is.
        assert result.backups[0].pct == 0.0
        assert result.backups[0].gaps == office

    def test_a_level_is_the_union_of_its_targets(self):
        office = schedule_intervals(new_york_office_hours()).covered
        manager_all_week = IntervalSet.window(*MARCH_WINDOW)
        result = policy_coverage([[office], [office, manager_all_week]], MARCH_WINDOW)
        assert result.levels[1].pct == 100.0
        assert result.backups[0].pct == 100.0
        assert level_covered([office, manager_all_week]) == manager_all_week

    def test_policy_coverage_of_a_support_hours_promise(self):
        office_hours = {
            "type": "fixed_time_per_day",
            "time_zone": "America/New_York",
            "days_of_week": [1, 2, 3, 4, 5],
            "start_time": "08:00:00",
            "end_time": "17:00:00",
        }
        promised = promise_window(MARCH_WINDOW, "support_hours", office_hours)
        result = policy_coverage([[schedule_intervals(new_york_office_hours()).covered]], promised)
        assert result.levels[0].pct == pytest.approx(100 * 8 / 9, abs=1e-9)
        assert len(result.levels[0].gaps) == 10  # 08:00-09:00 every weekday
        assert result.backups == ()

    def test_same_person_on_adjacent_levels(self):
        level_one = people_of_level([schedule_intervals(new_york_office_hours()).by_user])
        level_two = people_of_level(
            [{"PALICE1": IntervalSet.window(utc(3, 8), utc(3, 10))}, {"PCAROL1": IntervalSet.window(*MARCH_WINDOW)}]
        )
        overlap = same_person_overlap(level_one, level_two)
        assert format_intervals(overlap) == [
            ["2027-03-08T14:00:00Z", "2027-03-08T22:00:00Z"],
            ["2027-03-09T14:00:00Z", "2027-03-09T22:00:00Z"],
        ]
        assert not same_person_overlap(level_one, {"PCAROL1": IntervalSet.window(*MARCH_WINDOW)})


FEBRUARY_RUN = (utc(1, 4), utc(2, 1))  # four weeks


class TestPersonLoad:
    weekly = [
        v2_entry("PALICE1", "2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z"),
        v2_entry("PALICE1", "2027-01-11T00:00:00Z", "2027-01-18T00:00:00Z"),  # swapped: two weeks running
        v2_entry("PKENJI1", "2027-01-18T00:00:00Z", "2027-01-25T00:00:00Z"),
        v2_entry("PALICE1", "2027-01-25T00:00:00Z", "2027-02-01T00:00:00Z"),
    ]
    zones = {"PALICE1": "Europe/London", "PKENJI1": "Asia/Tokyo"}

    def test_hours_nights_and_back_to_back_turns(self):
        by_user = schedule_intervals(self.weekly).by_user
        load = person_load(by_user, FEBRUARY_RUN, self.zones, turn_length_seconds=7 * DAY)
        alice, kenji = load["PALICE1"], load["PKENJI1"]
        assert alice.on_call_seconds == 21 * DAY and kenji.on_call_seconds == 7 * DAY
        assert alice.shift_seconds == (14 * DAY, 7 * DAY)
        # London nights are 00:00-06:00 UTC in January; Tokyo nights are 15:00-21:00 UTC.
        assert alice.night_seconds == 21 * 6 * HOUR
        assert kenji.night_seconds == 7 * 6 * HOUR
        assert alice.night_share == pytest.approx(0.25)
        assert alice.back_to_back_turns == 1 and kenji.back_to_back_turns == 0
        assert [turn.span_seconds for turn in alice.turns] == [14 * DAY, 7 * DAY]

    def test_night_hours_follow_the_persons_clock_change(self):
        # London nights over 2027-03-28: 00:00 GMT - 06:00 BST is 5 h, the next one 6 h.
        by_user = {"PALICE1": IntervalSet.window(utc(3, 27, 12), utc(3, 29, 12))}
        load = person_load(by_user, (utc(3, 20), utc(4, 3)), {"PALICE1": "Europe/London"})
        assert load["PALICE1"].night_seconds == 11 * HOUR

    def test_time_zone_spread_is_taken_at_the_widest_moment(self):
        team = ["Europe/London", "America/Los_Angeles", "Europe/London"]
        assert time_zone_spread_hours(team, [utc(1, 4)]) == 8.0
        # Between the US (14 March) and EU (28 March) clock changes they are 7 h apart.
        assert time_zone_spread_hours(team, [utc(3, 20)]) == 7.0
        assert time_zone_spread_hours(team, [utc(3, 20), utc(4, 3)]) == 8.0
        assert time_zone_spread_hours(["Asia/Kolkata", "UTC"], [utc(1, 4)]) == 5.5
        assert time_zone_spread_hours([], [utc(1, 4)]) == 0.0

    def test_without_a_turn_length_back_to_back_is_not_judged(self):
        load = person_load(schedule_intervals(self.weekly).by_user, FEBRUARY_RUN, self.zones)
        assert load["PALICE1"].back_to_back_turns is None

    def test_restricted_shifts_of_one_turn_stay_one_turn(self):
        by_user = schedule_intervals(new_york_office_hours()).by_user
        load = person_load(by_user, MARCH_WINDOW, {}, default_time_zone="America/New_York", turn_length_seconds=7 * DAY)
        alice = load["PALICE1"]
        assert alice.shift_seconds == (8 * HOUR,) * 5
        assert len(alice.turns) == 1
        assert alice.turns[0].span_seconds == 4 * DAY + 8 * HOUR
        assert alice.turns[0].on_call_seconds == 40 * HOUR
        assert alice.back_to_back_turns == 0
        assert alice.night_seconds == 0

    def test_a_colleague_going_off_as_my_rest_begins_does_not_split_my_turn(self):
        # v3 schedules can put two people on call at once: Bob shadows the end of
        # Alice's night and goes off with her; nobody else comes on before she is back.
        by_user = {
            "PALICE1": IntervalSet.from_pairs([(utc(1, 4, 0), utc(1, 4, 8)), (utc(1, 4, 10), utc(1, 4, 12))]),
            "PBOB001": IntervalSet.window(utc(1, 4, 6), utc(1, 4, 8)),
        }
        alice = person_load(by_user, (utc(1, 4), utc(1, 5)), {})["PALICE1"]
        assert len(alice.turns) == 1 and alice.turns[0].on_call_seconds == 10 * HOUR
        by_user["PCAROL1"] = IntervalSet.window(utc(1, 4, 9), utc(1, 4, 9, 30))
        assert len(person_load(by_user, (utc(1, 4), utc(1, 5)), {})["PALICE1"].turns) == 2

    def test_a_person_outside_the_window_has_no_load(self):
        by_user = {"PALICE1": IntervalSet.window(utc(3, 1), utc(3, 2))}
        assert person_load(by_user, MARCH_WINDOW, {}) == {}


class TestDescribingGaps:
    def test_one_gap(self):
        gaps = IntervalSet.window(utc(1, 9, 0), utc(1, 9, 16))
        assert (
            describe_gaps(gaps, "Europe/London") == "uncovered once, 16 h (Sat 2027-01-09 00:00 – 16:00 Europe/London)"
        )

    def test_several_gaps(self):
        gaps = IntervalSet.from_pairs(
            [(utc(1, 9, 0), utc(1, 9, 16)), (utc(1, 10, 8), utc(1, 11)), (utc(1, 13, 9), utc(1, 13, 18))]
        )
        assert describe_gaps(gaps, "Europe/London") == (
            "uncovered 3 times, 41 h in all, longest 16 h (Sat 2027-01-09 00:00 – 16:00 Europe/London)"
        )

    def test_no_gaps(self):
        assert describe_gaps(IntervalSet.empty(), "UTC") == "no gaps"

    def test_weekends_only(self):
        weekdays = support_hours_intervals(
            FEBRUARY_RUN,
            {
                "time_zone": "Europe/London",
                "days_of_week": [1, 2, 3, 4, 5],
                "start_time": "00:00:00",
                "end_time": "00:00:00",
            },
        )
        gaps = coverage(weekdays, FEBRUARY_RUN).gaps
        assert describe_gaps(gaps, "Europe/London", FEBRUARY_RUN).startswith(
            "uncovered all day at weekends, none on weekdays; 4 times, 192 h in all, longest 48 h "
            "(Sat 2027-01-09 00:00 – Mon 2027-01-11 00:00 Europe/London)"
        )

    three_weeks = (utc(1, 4), utc(1, 25))

    def office_days(self, short_days: dict[int, int]) -> IntervalSet:
        """Weekdays 09:00-17:00 UTC for three weeks, some days ending early (day -> end hour)."""
        return IntervalSet.from_pairs(
            (utc(1, day, 9), utc(1, day, short_days.get(day, 17)))
            for day in range(4, 25)
            if date(2027, 1, day).isoweekday() <= 5
        )

    def test_a_pattern_that_holds_on_most_days_says_so(self):
        gaps = coverage(self.office_days({13: 16}), self.three_weeks).gaps
        assert describe_gaps(gaps, "UTC", self.three_weeks).startswith(
            "uncovered 16 h a day on most weekdays, all day at weekends; 16 times, 385 h in all"
        )

    def test_no_pattern_is_claimed_for_irregular_gaps(self):
        gaps = coverage(self.office_days({4: 12, 5: 12, 6: 12, 7: 12, 8: 12, 11: 12}), self.three_weeks).gaps
        assert describe_gaps(gaps, "UTC", self.three_weeks).startswith("uncovered 16 times, 414 h in all")

    def test_no_pattern_from_partial_days(self):
        one_gap = IntervalSet.window(utc(1, 6, 10), utc(1, 6, 13))
        assert describe_gaps(one_gap, "UTC", self.three_weeks) == (
            "uncovered once, 3 h (Wed 2027-01-06 10:00 – 13:00 UTC)"
        )

    def test_local_spans(self):
        assert format_local_span(utc(1, 10, 8), utc(1, 11), "Europe/London") == (
            "Sun 2027-01-10 08:00 – 24:00 Europe/London"
        )
        assert format_local_span(utc(3, 12, 22), utc(3, 15, 13), "America/New_York") == (
            "Fri 2027-03-12 17:00 – Mon 2027-03-15 09:00 America/New_York"
        )

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [(30, "30 s"), (45 * 60, "45 min"), (90 * 60, "1 h 30 min"), (16 * HOUR, "16 h"), (63 * HOUR + 29, "63 h")],
    )
    def test_durations(self, seconds, text):
        assert format_duration(seconds) == text


# --- properties against a minute-grid reference --------------------------------------

GRID_MINUTES = 300
ORIGIN = utc(1, 4)

shift_lists = st.lists(
    st.tuples(st.sampled_from(["PALICE1", "PBOB001", None]), st.integers(0, GRID_MINUTES), st.integers(0, 120)),
    max_size=15,
)


def assignments(shifts: list[tuple[str | None, int, int]]) -> list[dict]:
    return [
        v3_assignment(user, z(ORIGIN + timedelta(minutes=start)), z(ORIGIN + timedelta(minutes=start + length)))
        for user, start, length in shifts
    ]


@settings(max_examples=150, deadline=None)
@given(shift_lists, st.integers(0, GRID_MINUTES), st.integers(1, GRID_MINUTES), st.sampled_from([0, 60, 300]))
def test_coverage_matches_a_minute_grid(shifts, window_start, window_length, tolerance):
    window = (ORIGIN + timedelta(minutes=window_start), ORIGIN + timedelta(minutes=window_start + window_length))
    result = coverage(schedule_intervals(assignments(shifts)).covered, window, ignore_gaps_shorter_than=tolerance)

    held = np.zeros(2 * GRID_MINUTES + 120, bool)
    for user, start, length in shifts:
        if user is not None:
            held[start : start + length] = True
    in_window = held[window_start : window_start + window_length]
    covered_minutes = int(in_window.sum())
    # Gap runs shorter than the tolerance count as covered.
    ignored_minutes = 0
    run = 0
    for minute_held in [*in_window.tolist(), True]:
        if minute_held:
            if 0 < run * 60 < tolerance:
                ignored_minutes += run
            run = 0
        else:
            run += 1
    expected_pct = 100 * (covered_minutes + ignored_minutes) / window_length

    assert 0.0 <= result.pct <= 100.0
    assert result.pct == pytest.approx(expected_pct, abs=1e-9)
    assert result.covered_seconds == 60 * covered_minutes
    assert result.ignored_seconds == 60 * ignored_minutes
    assert result.covered_seconds + result.ignored_seconds + measure(result.gaps) == result.window_seconds
    assert all(length >= tolerance for length in result.gaps.lengths.tolist())


@settings(max_examples=100, deadline=None)
@given(shift_lists)
def test_per_user_time_adds_up_to_at_least_the_covered_time(shifts):
    rendered = schedule_intervals(assignments(shifts))
    assert union(*rendered.by_user.values()) == rendered.covered
    assert sum(measure(intervals) for intervals in rendered.by_user.values()) >= measure(rendered.covered)
    for handoff in handoffs(rendered.by_user):
        assert not set(handoff.from_users) & set(handoff.to_users)
        instant = to_epoch(handoff.at)
        assert all(instant in rendered.by_user[user].ends for user in handoff.from_users)
        assert all(instant in rendered.by_user[user].starts for user in handoff.to_users)


ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute DST change
    "Asia/Kolkata",
    "America/Santiago",  # changes at midnight
    "Pacific/Chatham",  # +12:45 / +13:45
    "UTC",
]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    st.integers(1, 45),
    st.sets(st.integers(1, 7), min_size=1),
    st.integers(0, 47),
    st.integers(1, 47),
)
def test_support_hours_follow_the_local_clock(zone_name, first_day, days, weekdays, start_slot, length):
    """Away from clock changes, an instant is promised exactly when the local clock shows a support hour.

    (On the days the clocks change, the hand-computed cases above pin the behaviour.)
    """
    zone = ZoneInfo(zone_name)
    start = time(start_slot // 2, 30 * (start_slot % 2))
    end_slot = (start_slot + length) % 48
    end = time(end_slot // 2, 30 * (end_slot % 2))
    window_start = datetime.combine(first_day, time(0), tzinfo=UTC)
    window = (window_start, window_start + timedelta(days=days))
    hours = {
        "type": "fixed_time_per_day",
        "time_zone": zone_name,
        "days_of_week": sorted(weekdays),
        "start_time": start.isoformat(),
        "end_time": end.isoformat(),
    }
    promised = support_hours_intervals(window, hours)

    def offset_changes_near(day: date) -> bool:
        offsets = {datetime.combine(day + timedelta(days=k), time(0), tzinfo=zone).utcoffset() for k in range(-1, 3)}
        return len(offsets) > 1

    # Every zone here is a whole number of quarter hours from UTC, so 15-minute
    # steps meet every boundary.
    steps = [window_start + timedelta(minutes=15 * k) for k in range(days * 96)]
    expected = []
    for step in steps:
        local = step.astimezone(zone)
        if start < end:
            opened_on = local.date() if start <= local.time() < end else None
        elif local.time() >= start:
            opened_on = local.date()
        elif local.time() < end:
            opened_on = local.date() - timedelta(days=1)
        else:
            opened_on = None
        expected.append(opened_on is not None and opened_on.isoweekday() in weekdays)
    steady = [not offset_changes_near(step.astimezone(zone).date()) for step in steps]
    actual = contains(promised, steps)
    mismatches = [
        step for step, want, got, keep in zip(steps, expected, actual, steady, strict=True) if keep and want != got
    ]
    assert not mismatches
    assert measure(clip(promised, window)) == measure(promised)


# --- a rendering merged in plain Python equals the numpy path -------------------------------------

_WINDOW_START = datetime(2027, 3, 1, tzinfo=UTC)


@st.composite
def rendered_entries(draw):
    """v2 entries around a two-week window: before, across and after its edges, touching, nested,
    empty, open-ended, gaps (no user); a handful of people."""
    count = draw(st.integers(0, 40))
    entries = []
    for _ in range(count):
        start = draw(st.integers(-3 * DAY, 17 * DAY))
        length = draw(st.sampled_from([0, 1, 59, HOUR, 8 * HOUR, DAY, 7 * DAY]))
        user = draw(st.sampled_from([None, "PUA", "PUB", "PUC", "PUD"]))
        open_ended = draw(st.integers(0, 9)) == 0
        if open_ended:
            start = min(start, 14 * DAY)  # runs to the window's end, so starts by then
        begin = _WINDOW_START + timedelta(seconds=start)
        entries.append({
            "user": {"id": user, "type": "user_reference"} if user else None,
            "start": begin.isoformat(),
            "end": None if open_ended else (begin + timedelta(seconds=length)).isoformat(),
        })
    return entries


@settings(max_examples=300, deadline=None)
@given(rendered_entries())
def test_a_rendering_merged_in_python_equals_the_numpy_path(entries):
    import audit.facts.coverage as coverage_module

    window = (_WINDOW_START, _WINDOW_START + timedelta(days=14))
    in_python = schedule_intervals(entries, window=window)
    few = coverage_module.FEW_ENTRIES
    coverage_module.FEW_ENTRIES = -1  # every rendering through the numpy path
    try:
        with_numpy = schedule_intervals(entries, window=window)
    finally:
        coverage_module.FEW_ENTRIES = few
    assert list(in_python.by_user) == list(with_numpy.by_user)
    assert in_python.by_user == with_numpy.by_user
    assert in_python.covered == with_numpy.covered


@st.composite
def _covered_and_span(draw):
    """A handful of intervals and a span on a 30-second grid, so gaps of exactly the tolerance occur."""
    grid = 30
    pieces = draw(st.lists(st.tuples(st.integers(-100, 3000), st.sampled_from([1, 2, 3, 120])), max_size=30))
    start = to_epoch(_WINDOW_START)
    covered = IntervalSet.from_epoch([start + s * grid for s, _ in pieces], [start + (s + n) * grid for s, n in pieces])
    first = start + draw(st.integers(-50, 1500)) * grid
    last = first + draw(st.integers(1, 3000)) * grid
    return covered, IntervalSet.from_epoch([first], [last])


@settings(max_examples=400, deadline=None)
@given(_covered_and_span(), st.sampled_from([0, 60, 3600]))
@example((IntervalSet.from_epoch([0, 90], [30, 120]), IntervalSet.from_epoch([0], [200])), 60)  # a gap of exactly 60 s
def test_coverage_of_one_span_in_python_equals_the_numpy_path(covered_and_span, tolerance):
    import audit.facts.coverage as coverage_module

    covered, span = covered_and_span
    in_python = coverage(covered, span, ignore_gaps_shorter_than=tolerance)
    few = coverage_module.FEW_ENTRIES
    coverage_module.FEW_ENTRIES = -1
    try:
        with_numpy = coverage(covered, span, ignore_gaps_shorter_than=tolerance)
    finally:
        coverage_module.FEW_ENTRIES = few
    assert in_python == with_numpy
    assert type(in_python.covered_seconds) is type(with_numpy.covered_seconds) is int
