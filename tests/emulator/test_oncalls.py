"""/oncalls: policies x rendered schedules, direct user targets, filters, windows and limits.

"Now" is pinned to Monday 9 March 2026 15:00Z (11:00 in New York, 16:00 in Berlin).
"""

from __future__ import annotations

import pytest

AMARA, CHEN, DOLORES, EMEKA, FARAH, HANNES, ISLA = "PUSR001", "PUSR003", "PUSR004", "PUSR005", "PUSR006", "PUSR008", "PUSR009"


def summary(oncalls: list[dict]) -> list[tuple]:
    return [(o["escalation_policy"]["id"], o["escalation_level"], o["user"]["id"],
             o["schedule"]["id"] if o["schedule"] else None, o["start"], o["end"]) for o in oncalls]


def test_who_is_on_call_now(http):
    body = http.get("/oncalls").json()
    assert summary(body["oncalls"]) == [
        # Mobile (policies come in name order): Isla directly, then the Payments schedule.
        ("PEP0003", 1, ISLA, None, None, None),
        ("PEP0003", 2, AMARA, "PSCH001", "2026-03-09T15:00:00+00:00", "2026-03-09T16:00:00+00:00"),
        ("PEP0001", 1, AMARA, "PSCH001", "2026-03-09T15:00:00+00:00", "2026-03-09T16:00:00+00:00"),
        ("PEP0001", 2, EMEKA, None, None, None),
        ("PEP0002", 1, HANNES, "PSV3001", "2026-03-09T15:00:00+00:00", "2026-03-09T19:00:00+00:00"),
    ]
    v3_entry = body["oncalls"][-1]
    assert v3_entry["schedule"]["type"] == "schedule_v3_reference"
    assert body["oncalls"][0]["schedule"] is None


def test_window_entries_are_cut_to_the_window_and_filtered_by_schedule(http):
    body = http.get("/oncalls", params={"since": "2026-03-09T12:00:00Z", "until": "2026-03-10T02:00:00Z",
                                        "schedule_ids[]": "PSCH001", "escalation_policy_ids[]": "PEP0001",
                                        "time_zone": "America/New_York"}).json()
    assert summary(body["oncalls"]) == [
        ("PEP0001", 1, DOLORES, "PSCH001", "2026-03-09T08:00:00-04:00", "2026-03-09T09:00:00-04:00"),
        ("PEP0001", 1, AMARA, "PSCH001", "2026-03-09T09:00:00-04:00", "2026-03-09T12:00:00-04:00"),
        ("PEP0001", 1, FARAH, "PSCH001", "2026-03-09T12:00:00-04:00", "2026-03-09T14:00:00-04:00"),
        ("PEP0001", 1, AMARA, "PSCH001", "2026-03-09T14:00:00-04:00", "2026-03-09T17:00:00-04:00"),
        ("PEP0001", 1, EMEKA, "PSCH001", "2026-03-09T17:00:00-04:00", "2026-03-09T20:00:00-04:00"),
        ("PEP0001", 1, CHEN, "PSCH001", "2026-03-09T20:00:00-04:00", "2026-03-09T22:00:00-04:00"),
    ]


def test_user_filter_and_earliest(http):
    params = {"since": "2026-03-09T00:00:00Z", "until": "2026-03-11T00:00:00Z", "user_ids[]": [AMARA, ISLA]}
    every = summary(http.get("/oncalls", params=params).json()["oncalls"])
    assert {row[2] for row in every} == {AMARA, ISLA}
    amara_on_payments = [row for row in every if row[0] == "PEP0001" and row[2] == AMARA]
    assert len(amara_on_payments) == 4  # two business days, each split by lunch cover
    earliest = summary(http.get("/oncalls", params={**params, "earliest": "true"}).json()["oncalls"])
    # Amara is also on Platform, through the v3 override on Tuesday morning.
    assert [row[:3] for row in earliest] == [("PEP0003", 1, ISLA), ("PEP0003", 2, AMARA), ("PEP0001", 1, AMARA),
                                             ("PEP0002", 1, AMARA)]
    assert [row[4] for row in earliest[2:]] == ["2026-03-09T13:00:00+00:00", "2026-03-10T07:00:00+00:00"]


@pytest.mark.parametrize("params, problem", [
    ({"since": "2026-03-09T00:00:00Z", "until": "2026-06-08T00:00:01Z"}, "90 days"),
    ({"since": "2026-03-09T00:00:00Z", "until": "2026-03-08T00:00:00Z"}, "before since"),
    ({"since": "yesterday"}, "since"),
])
def test_invalid_windows_are_refused(http, params, problem):
    response = http.get("/oncalls", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 2001 and problem in " ".join(error["errors"])


def test_nothing_is_computed_beyond_ninety_days_from_now(http):
    body = http.get("/oncalls", params={"since": "2026-06-01T00:00:00Z", "until": "2026-06-10T00:00:00Z",
                                        "schedule_ids[]": "PSCH001"}).json()
    ends = [o["end"] for o in body["oncalls"]]
    assert ends and max(ends) == "2026-06-07T15:00:00+00:00"  # now + 90 days


def test_include_expands_users_and_policies(http):
    body = http.get("/oncalls", params={"include[]": ["users", "escalation_policies"]}).json()
    first = body["oncalls"][0]
    assert first["user"]["type"] == "user" and first["user"]["email"] == "isla@northwind.example"
    assert first["escalation_policy"]["type"] == "escalation_policy" and first["escalation_policy"]["escalation_rules"]
