"""v2 schedule rendering against intervals computed by hand, across the 2026-03-08 New York DST change.

Northwind's "Payments primary" (America/New_York), highest-priority layer first:
lunch cover (Farah, 12:00-14:00 daily, layer ends Tue 10 March 13:00), business hours (weekly
from Mon 5 Jan 09:00, Amara/Bram/Chen, weekdays 09:00-17:00 only), after hours (daily from
1 Jan 09:00, Dolores/Emeka); override: Chen from Mon 9 March 20:00 to Tue 08:00.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from audit.emulator.account import build_account
from audit.emulator.render_v2 import layer_shifts, render_schedule
from audit.emulator.timeutil import parse_datetime, zone

NY = zone("America/New_York")
SINCE = parse_datetime("2026-03-06T00:00:00-05:00")  # Friday, still EST
UNTIL = parse_datetime("2026-03-11T00:00:00-04:00")  # Wednesday, EDT
AMARA, CHEN, DOLORES, EMEKA, FARAH = "PUSR001", "PUSR003", "PUSR004", "PUSR005", "PUSR006"


def local(text: str) -> datetime:
    """A New York wall-clock time, 'MM-DD HH:MM', as an aware instant."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=NY)


def entries(shifts) -> list[tuple[str, datetime, datetime]]:
    return [(s.user_id, s.start, s.end) for s in shifts]


def expect(*rows: tuple[str, str, str]) -> list[tuple[str, datetime, datetime]]:
    return [(user, local(start), local(end)) for user, start, end in rows]


@pytest.fixture
def rendered(account):
    return render_schedule(account.get("schedules", "PSCH001"), account.overrides_by_schedule["PSCH001"], SINCE, UNTIL)


def test_final_schedule_stacks_layers_and_override_across_dst(rendered):
    assert entries(rendered.final) == expect(
        (EMEKA, "03-06 00:00", "03-06 09:00"),
        (CHEN, "03-06 09:00", "03-06 12:00"),
        (FARAH, "03-06 12:00", "03-06 14:00"),
        (CHEN, "03-06 14:00", "03-06 17:00"),
        (DOLORES, "03-06 17:00", "03-07 09:00"),
        (EMEKA, "03-07 09:00", "03-07 12:00"),
        (FARAH, "03-07 12:00", "03-07 14:00"),
        (EMEKA, "03-07 14:00", "03-08 09:00"),  # 19 wall hours, 18 real ones: 02:00-03:00 is skipped
        (DOLORES, "03-08 09:00", "03-08 12:00"),
        (FARAH, "03-08 12:00", "03-08 14:00"),
        (DOLORES, "03-08 14:00", "03-09 09:00"),
        (AMARA, "03-09 09:00", "03-09 12:00"),
        (FARAH, "03-09 12:00", "03-09 14:00"),
        (AMARA, "03-09 14:00", "03-09 17:00"),
        (EMEKA, "03-09 17:00", "03-09 20:00"),
        (CHEN, "03-09 20:00", "03-10 08:00"),  # the override
        (EMEKA, "03-10 08:00", "03-10 09:00"),
        (AMARA, "03-10 09:00", "03-10 12:00"),
        (FARAH, "03-10 12:00", "03-10 13:00"),  # the lunch layer ends at 13:00
        (AMARA, "03-10 13:00", "03-10 17:00"),
        (DOLORES, "03-10 17:00", "03-11 00:00"),
    )
    assert rendered.final_coverage == 100.0


def test_handoffs_keep_local_time_so_the_dst_day_is_23_hours(account):
    layer = account.get("schedules", "PSCH001")["schedule_layers"][2]  # after hours, daily at 09:00
    shifts = layer_shifts(layer, NY, local("03-07 00:00"), local("03-10 00:00"))
    assert [(s.start, s.end) for s in shifts][1] == (local("03-07 09:00"), local("03-08 09:00"))
    assert (shifts[1].end - shifts[1].start).total_seconds() == 23 * 3600
    assert [s.user_id for s in shifts] == [DOLORES, EMEKA, DOLORES, EMEKA]


def test_weekday_restriction_keeps_business_hours_in_local_time(rendered):
    business = rendered.layers[1]
    assert business.layer_id == "PLAY002"
    assert entries(business.entries) == expect(
        (CHEN, "03-06 09:00", "03-06 17:00"),  # 14:00Z, EST
        (AMARA, "03-09 09:00", "03-09 17:00"),  # 13:00Z, EDT: the weekly handoff on Monday 09:00
        (AMARA, "03-10 09:00", "03-10 17:00"),
    )
    window_hours = (UNTIL - SINCE).total_seconds() / 3600
    assert window_hours == 119
    assert business.coverage == round(100 * 24 / 119, 2)


def test_layer_that_ends_inside_the_window_stops_at_its_end(rendered):
    lunch = rendered.layers[0]
    assert entries(lunch.entries)[-1] == (FARAH, local("03-10 12:00"), local("03-10 13:00"))
    assert len(lunch.entries) == 5
    assert lunch.coverage == round(100 * 9 / 119, 2)


def test_overrides_subschedule_lists_only_overrides_in_the_window(rendered):
    assert entries(rendered.overrides) == expect((CHEN, "03-09 20:00", "03-10 08:00"))
    assert rendered.overrides_coverage == round(100 * 12 / 119, 2)


def test_later_override_wins_where_two_overlap(account_data):
    account_data["overrides"].append({"id": "POVR009", "schedule_id": "PSCH001", "start": "2026-03-10T06:00:00-04:00",
                                      "end": "2026-03-10T10:00:00-04:00", "user": {"id": "PUSR002", "type": "user_reference"}})
    account = build_account(account_data)
    rendered = render_schedule(account.get("schedules", "PSCH001"), account.overrides_by_schedule["PSCH001"], SINCE, UNTIL)
    around = [e for e in entries(rendered.final) if local("03-09 19:00") <= e[1] < local("03-10 12:00")]
    assert around == expect(
        (CHEN, "03-09 20:00", "03-10 06:00"),
        ("PUSR002", "03-10 06:00", "03-10 10:00"),
        (AMARA, "03-10 10:00", "03-10 12:00"),
    )


def test_uncovered_time_lowers_final_coverage(account_data):
    schedule = account_data["schedules"][0]
    schedule["schedule_layers"] = schedule["schedule_layers"][:2]  # drop the after-hours layer
    account_data["overrides"] = []
    account = build_account(account_data)
    rendered = render_schedule(account.get("schedules", "PSCH001"), [], SINCE, UNTIL)
    # Business hours Fri, Mon, Tue (24 h) plus lunch on Sat and Sun (4 h) inside the layers' reach.
    assert sum((s.end - s.start).total_seconds() for s in rendered.final) == 28 * 3600
    assert rendered.final_coverage == round(100 * 28 / 119, 2)
