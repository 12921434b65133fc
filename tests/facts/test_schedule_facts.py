"""Schedule facts from the Acme week (see ``test_build``): coverage, rotation, hand-offs, load, health."""

from __future__ import annotations

import pytest

from audit.facts.build import Facts
from tests.facts.test_build import WINDOW_HOURS, build_acme

PP = 0.01  # coverage is asserted to a hundredth of a percentage point


@pytest.fixture(scope="module")
def acme_facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    return build_acme(tmp_path_factory)


def test_v2_coverage_ignores_the_nested_shift_and_counts_the_null_entry_as_a_gap(acme_facts: Facts) -> None:
    primary = acme_facts.tables["schedule"].loc["PSPAY1"]
    # Covered: 168 h minus the 12 h gap (Thu 09:00-21:00Z). Bob's 2 h inside Ada's shift is no gap.
    assert primary["coverage_pct"] == pytest.approx(100 * 156 / WINDOW_HOURS, abs=PP)
    assert primary["gaps"] == [["2027-01-07T09:00:00Z", "2027-01-07T21:00:00Z"]]
    assert primary["covered_hours"] == 156 and primary["gap_hours"] == 12
    assert primary["kind"] == "v2" and primary["time_zone"] == "Europe/London"


def test_v2_hours_per_person_and_fairness(acme_facts: Facts) -> None:
    primary = acme_facts.tables["schedule"].loc["PSPAY1"]
    # Ada 57 h + 16 h; Bob 2 h nested + 75 h; Cy 8 h of override.
    assert primary["hours_by_person"] == {"PUADA": 73.0, "PUBOB": 77.0, "PUCY": 8.0}
    assert primary["mean_hours_per_person"] == pytest.approx(158 / 3)
    assert primary["max_hours_ratio"] == pytest.approx(77 / (158 / 3))
    assert primary["shift_hours_max"] == 75.0


def test_v2_override_share_is_of_covered_hours(acme_facts: Facts) -> None:
    primary = acme_facts.tables["schedule"].loc["PSPAY1"]
    assert primary["override_hours"] == 8.0
    assert primary["override_share_pct"] == pytest.approx(100 * 8 / 156, abs=PP)


def test_handoffs_are_in_the_schedules_zone(acme_facts: Facts) -> None:
    primary = acme_facts.tables["schedule"].loc["PSPAY1"]
    # Ada -> Cy Wed 09:00 and Cy -> Ada Wed 17:00 London (GMT); the shift after the gap is no hand-off.
    assert primary["handoff_weekdays"] == [3, 3]
    assert primary["handoff_hours"] == [9.0, 17.0]
    assert primary["handoff_count"] == 2
    assert primary["weekend_handoffs"] == 0 and primary["off_hours_handoffs"] == 1


def test_rotation_size_and_turns_come_from_the_layers(acme_facts: Facts) -> None:
    schedules = acme_facts.tables["schedule"]
    primary, backup = schedules.loc["PSPAY1"], schedules.loc["PSPAY2"]
    assert primary["member_ids"] == ["PUADA", "PUBOB"] and primary["people_count"] == 2
    assert primary["on_call_people_count"] == 3  # Cy's override puts a third person on call
    assert primary["turn_hours_min"] == 168.0 and primary["turn_hours_max"] == 168.0
    assert primary["back_to_back_turns"] == 0
    # Cy holds the daily backup rotation all week: seven turns in a row, counted as back-to-back.
    assert backup["turn_hours_max"] == 24.0 and backup["back_to_back_turns"] == 1
    assert backup["coverage_pct"] == 100.0 and backup["gaps"] == []


def test_v3_empty_member_is_a_gap_and_overrides_are_measured(acme_facts: Facts) -> None:
    checkout = acme_facts.tables["schedule"].loc["PSCHK"]
    assert checkout["kind"] == "v3" and checkout["time_zone"] == "America/New_York"
    assert checkout["coverage_pct"] == pytest.approx(100 * 156 / WINDOW_HOURS, abs=PP)
    assert checkout["gaps"] == [["2027-01-07T12:00:00Z", "2027-01-08T00:00:00Z"]]
    assert checkout["hours_by_person"] == {"PUDEE": 84.0, "PUEVE": 72.0}
    assert checkout["override_share_pct"] == pytest.approx(100 * 72 / 156, abs=PP)
    # The rotation names Dee and an empty slot; a daily event, 7 shifts per member: a 168 h turn.
    assert checkout["member_ids"] == ["PUDEE"] and checkout["empty_layers"] == 0
    assert checkout["turn_hours_max"] == 168.0
    assert checkout["handoff_count"] == 0  # Eve comes on after the gap, not from Dee


def test_health_empty_layer_ended_and_unused(acme_facts: Facts) -> None:
    schedules = acme_facts.tables["schedule"]
    old, shadow = schedules.loc["PSOLD"], schedules.loc["PSSHADOW"]
    assert old["ended"] and old["layer_count"] == 0 and not old["used_by_policy"]
    assert old["coverage_pct"] == 0.0
    assert shadow["empty_layers"] == 1 and not shadow["ended"] and shadow["is_shadow"]
    assert schedules.loc["PSPAY1", "policy_ids"] == ["PEPAY"]
    assert schedules.loc["PSCHK", "policy_count"] == 1 and schedules.loc["PSCHK", "used_by_policy"]


def test_rules_can_query_the_table(acme_facts: Facts) -> None:
    schedules = acme_facts.tables["schedule"]
    failing = schedules[~schedules.eval("(empty_layers == 0) & ~ended & used_by_policy")]
    assert sorted(failing["id"]) == ["PSOLD", "PSSHADOW"]
    unfair = schedules[schedules.eval("max_hours_ratio > 1.25")]
    assert list(unfair["id"]) == ["PSPAY1"]


def test_back_to_back_turns_agree_with_the_coverage_modules_person_load(tmp_path) -> None:
    """The schedule table counts turns with a local helper (person_load also measures night hours,
    which costs too much per schedule); both must read turns the same way."""
    from datetime import UTC, datetime

    from audit.facts.person_load import person_load
    from audit.facts.intervals import IntervalSet
    from audit.facts.schedules import _back_to_back_turns, render_schedules
    from tests.facts.test_build import acme_account

    window = IntervalSet.window(datetime(2027, 1, 4, tzinfo=UTC), datetime(2027, 1, 11, tzinfo=UTC))
    account = acme_account()
    renderings = render_schedules(account["schedules"], account["schedules_v3"], window, datetime(2027, 1, 11, tzinfo=UTC))
    checked = 0
    for rendering in renderings.values():
        for turn in (6 * 3600, 24 * 3600, 7 * 24 * 3600):
            loads = person_load(rendering.by_user, window, {}, turn_length_seconds=turn)
            assert _back_to_back_turns(rendering, turn) == sum(load.back_to_back_turns for load in loads.values())
            checked += bool(loads)
    assert checked == 9  # three rendered schedules with people, three turn lengths each


def test_each_layer_hands_off_on_its_own_turns_in_the_schedules_zone(acme_facts: Facts) -> None:
    """OC-05 judges the layers' hand-offs, not the merged final schedule's."""
    schedules = acme_facts.tables["schedule"]
    primary, backup, checkout = schedules.loc["PSPAY1"], schedules.loc["PSPAY2"], schedules.loc["PSCHK"]
    # Weekly turns from 2026-06-07 00:00Z, a Sunday at 01:00 London summer time: Sunday 01:00 on
    # London's wall clock in January too, once in the week (the final schedule's Wed hand-offs are Cy's override).
    assert primary["rotation_handoff_times"] == ["Sun 01:00"]
    assert primary["rotation_weekend_handoffs"] == 1 and primary["rotation_off_hours_handoffs"] == 0
    assert primary["handoff_weekdays"] == [3, 3]
    # Daily turns: seven hand-offs at 01:00, two at the weekend, five on weekdays before 09:00.
    assert len(backup["rotation_handoff_times"]) == 7
    assert backup["rotation_weekend_handoffs"] == 2 and backup["rotation_off_hours_handoffs"] == 5
    # v3: the event's start, Monday 09:00 New York.
    assert checkout["rotation_handoff_times"] == ["Mon 09:00"]
    assert checkout["rotation_weekend_handoffs"] == 0 and checkout["rotation_off_hours_handoffs"] == 0
    # Layers with nobody (or one person) to hand over to have no hand-offs.
    assert schedules.loc["PSSHADOW", "rotation_handoff_times"] == []


def test_layer_handoffs_keep_the_wall_clock_across_dst_and_respect_the_layers_span() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from audit.facts.intervals import IntervalSet
    from audit.facts.schedules import layer_handoffs

    berlin = ZoneInfo("Europe/Berlin")
    # Berlin moves to summer time on Sunday 2027-03-28; the window is the four weeks around it.
    window = IntervalSet.window(datetime(2027, 3, 15, tzinfo=UTC), datetime(2027, 4, 12, tzinfo=UTC))
    weekly = {"start": "2027-01-04T09:00:00+01:00", "end": None, "rotation_virtual_start": "2027-01-04T09:00:00+01:00",
              "rotation_turn_length_seconds": 7 * 86400, "users": [{"user": {"id": "PU1"}}, {"user": {"id": "PU2"}}]}
    moments = layer_handoffs(weekly, berlin, window, "layer")
    assert [str(moment) for moment in moments] == ["Mon 09:00"] * 4  # 15, 22, 29 March and 5 April
    # A layer starting inside the window: its start is no hand-off; one ending inside stops there.
    late = {**weekly, "start": "2027-03-22T09:00:00+01:00", "end": "2027-04-05T09:00:00+02:00"}
    assert [str(moment) for moment in layer_handoffs(late, berlin, window, "layer")] == ["Mon 09:00"]  # 29 March
    # Eight-hour turns from 06:00: 06:00, 14:00 and 22:00 every day.
    shifts = {**weekly, "rotation_virtual_start": "2027-01-04T06:00:00+01:00", "rotation_turn_length_seconds": 8 * 3600}
    hours = {moment.hour for moment in layer_handoffs(shifts, berlin, window, "layer")}
    assert hours == {6.0, 14.0, 22.0}
    # Nobody to hand over to.
    assert layer_handoffs({**weekly, "users": [{"user": {"id": "PU1"}}]}, berlin, window, "layer") == []
    # A time without an offset (as some exports give it) is already the schedule's wall clock.
    local = {**weekly, "start": "2027-01-04T10:00:00", "rotation_virtual_start": "2027-01-04T10:00:00"}
    assert {str(moment) for moment in layer_handoffs(local, berlin, window, "layer")} == {"Mon 10:00"}


def test_gap_summary_describes_the_gaps_in_the_schedules_zone(acme_facts: Facts) -> None:
    schedules = acme_facts.tables["schedule"]
    assert schedules.loc["PSPAY1", "gap_summary"] == (
        "uncovered once, 12 h (Thu 2027-01-07 09:00 – 21:00 Europe/London); 7.1% of the 7-day window"
    )
    assert schedules.loc["PSCHK", "gap_summary"].startswith("uncovered once, 12 h (Thu 2027-01-07 07:00 – 19:00 America/New_York)")
    assert schedules.loc["PSPAY2", "gap_summary"] == "no gaps"


# --- back-to-back turns for a whole schedule at once equal each person's turns (OC-07) ---------------

from datetime import timedelta  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from audit.facts.coverage import schedule_intervals  # noqa: E402
from audit.facts.intervals import IntervalSet  # noqa: E402
from audit.facts.person_load import person_load  # noqa: E402
from audit.facts.schedules import ScheduleRendering, _back_to_back_turns  # noqa: E402
from tests.facts.test_coverage import _WINDOW_START, rendered_entries  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(rendered_entries(), st.sampled_from([3600, 8 * 3600, 86400, 7 * 86400]))
def test_back_to_back_turns_of_everyone_at_once_equal_each_persons(entries, turn):
    window = (_WINDOW_START, _WINDOW_START + timedelta(days=14))
    rendered = schedule_intervals(entries, window=window)
    rendering = ScheduleRendering(
        id="PS1", kind="v2", name="Primary", time_zone="UTC", by_user=rendered.by_user, covered=rendered.covered,
        override_time=IntervalSet.empty(), rendered=True, members=tuple(rendered.by_user), turn_seconds=(turn,),
        layer_count=1, empty_layers=0, ended=False,
    )
    loads = person_load(rendered.by_user, window, {}, turn_length_seconds=turn)
    assert _back_to_back_turns(rendering, turn) == sum(load.back_to_back_turns for load in loads.values())
