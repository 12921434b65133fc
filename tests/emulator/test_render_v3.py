"""v3 (shift-based) rendering: RRULE occurrences, rotating and every-member strategies, effective
dates, empty members and rotation overrides, against intervals computed by hand.

"Platform on-call" (Europe/Berlin, CET = UTC+1 all of March 2026 until the 29th): weekday
08:00-20:00 shifts from Mon 2 March, five shifts per member (Greta, then Hannes); weekend
08:00-20:00 shifts for Greta plus an empty slot, effective until 15 March 00:00Z; an override
gives Amara 08:00-12:00 on Tue 10 March in the weekday rotation.
"""

from __future__ import annotations

from audit.emulator.render_v3 import render_v3
from audit.emulator.timeutil import parse_datetime

GRETA, HANNES, AMARA = "PUSR007", "PUSR008", "PUSR001"


def rows(rendered):
    return [(a.shift.user_id, a.shift.start.strftime("%m-%d %H:%M"), a.shift.end.strftime("%m-%d %H:%M"),
             a.rotation_id, a.override_id) for a in rendered.assignments]


def render(account, since: str, until: str, overrides=None):
    schedule = account.get("schedules_v3", "PSV3001")
    overrides = account.overrides_by_schedule["PSV3001"] if overrides is None else overrides
    return render_v3(schedule, overrides, parse_datetime(since), parse_datetime(until))


def test_second_week_rotates_to_the_next_member_with_override_and_weekend(account):
    rendered = render(account, "2026-03-09T00:00:00Z", "2026-03-16T00:00:00Z")
    assert rows(rendered) == [
        (HANNES, "03-09 07:00", "03-09 19:00", "PROT001", None),
        (AMARA, "03-10 07:00", "03-10 11:00", "PROT001", "POVR002"),
        (HANNES, "03-10 11:00", "03-10 19:00", "PROT001", None),
        (HANNES, "03-11 07:00", "03-11 19:00", "PROT001", None),
        (HANNES, "03-12 07:00", "03-12 19:00", "PROT001", None),
        (HANNES, "03-13 07:00", "03-13 19:00", "PROT001", None),
        # Saturday: every member, the empty slot included; Sunday 15th is past effective_until.
        (None, "03-14 07:00", "03-14 19:00", "PROT002", None),
        (GRETA, "03-14 07:00", "03-14 19:00", "PROT002", None),
    ]
    assert rendered.coverage == round(100 * 72 / 168, 2)


def test_first_week_belongs_to_the_first_member(account):
    rendered = render(account, "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")
    weekday = [r for r in rows(rendered) if r[3] == "PROT001"]
    assert [r[0] for r in weekday] == [GRETA] * 5
    assert [r[1] for r in weekday] == ["03-02 07:00", "03-03 07:00", "03-04 07:00", "03-05 07:00", "03-06 07:00"]
    weekend_people = [r[0] for r in rows(rendered) if r[3] == "PROT002" and r[0]]
    assert weekend_people == [GRETA, GRETA]


def test_window_cuts_shifts_and_empty_slots_do_not_count_as_coverage(account):
    rendered = render(account, "2026-03-14T12:00:00Z", "2026-03-14T13:00:00Z", overrides=[])
    assert rows(rendered) == [(None, "03-14 12:00", "03-14 13:00", "PROT002", None),
                              (GRETA, "03-14 12:00", "03-14 13:00", "PROT002", None)]
    assert rendered.coverage == 100.0
    only_empty = {**account.get("schedules_v3", "PSV3001")}
    only_empty["rotations"] = [{**r, "events": [{**e, "assignment_strategy": {
        "type": "every_member_assignment_strategy", "members": [{"type": "empty_member"}]}} for e in r["events"]]}
        for r in only_empty["rotations"]]
    empty = render_v3(only_empty, [], parse_datetime("2026-03-14T12:00:00Z"), parse_datetime("2026-03-14T13:00:00Z"))
    assert empty.coverage == 0.0 and [a.shift.user_id for a in empty.assignments] == [None]


def test_summer_time_moves_the_utc_hours_not_the_local_ones(account):
    rendered = render(account, "2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z", overrides=[])
    starts = [r[1] for r in rows(rendered)]
    assert starts == ["03-27 07:00", "03-30 06:00"]  # Berlin moves to CEST on 29 March
