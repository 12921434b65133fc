"""People-risk facts: who is all that level 1 can page (PPL-02), which rotations cover 24/7 alone (PPL-03)."""

from __future__ import annotations

import pytest

from audit.facts.people import sole_level1_services
from audit.facts.schedules import event_fills_the_week


def test_sole_responders_are_counted_per_live_service() -> None:
    sole = sole_level1_services(
        {"PEP1": {"PUSR1"}, "PEP2": {"PUSR1"}, "PEP3": {"PUSR1", "PUSR2"}, "PEP4": {"PUSR3"}},
        {"PEP1": ["PSVC1", "PSVC2"], "PEP2": ["PSVC3"], "PEP3": ["PSVC4"], "PEP4": ["PSVC5"]},
        ["PSVC1", "PSVC2", "PSVC4"],  # PSVC3 and PSVC5 are disabled
    )
    assert sole == {"PUSR1": ["PSVC1", "PSVC2"]}


def event(start: str, end: str, rule: str) -> dict:
    return {"start_time": {"date_time": start}, "end_time": {"date_time": end}, "recurrence": [rule]}


@pytest.mark.parametrize(("start", "end", "rule", "fills"), [
    ("2026-12-07T10:00:00-08:00", "2026-12-14T10:00:00-08:00", "RRULE:FREQ=WEEKLY;BYDAY=MO", True),
    ("2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z", "RRULE:FREQ=DAILY", True),
    ("2026-12-07T09:00:00Z", "2026-12-07T17:00:00Z", "RRULE:FREQ=DAILY", False),
    ("2026-12-07T09:00:00Z", "2026-12-08T09:00:00Z", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", False),
    ("2026-12-07T09:00:00Z", "2026-12-07T09:00:00Z", "RRULE:FREQ=MONTHLY", False),
])  # fmt: skip
def test_a_v3_event_covers_the_week_when_its_occurrences_fill_it(start: str, end: str, rule: str, fills: bool) -> None:
    assert event_fills_the_week(event(start, end, rule)) is fills
