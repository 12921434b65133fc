"""Incident facts: per-service, per-policy and per-person aggregates of the incident history."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd

from audit.facts.incidents import incident_table, policy_columns, service_columns, user_columns

SINCE, UNTIL = datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 19, tzinfo=UTC)  # two weeks


def record(incident_id: str, created: str, **fields) -> dict:
    return {"id": incident_id, "service_id": "PSVC1", "escalation_policy_id": "PEP1", "urgency": "high",
            "created_at": created, "seconds_to_first_ack": 120, "acknowledged_user_ids": ["U1"],
            "assigned_user_ids": ["U1"], **fields}


SERVICES = pd.DataFrame({"team_ids": [["PT1"], ["PT1"]], "escalation_policy_id": ["PEP1", "PEP1"]},
                        index=["PSVC1", "PSVC2"])


def test_service_shares_and_times() -> None:
    table = incident_table([
        record("Q1", "2026-10-05T10:00:00"),  # naive analytics time: UTC
        record("Q2", "2026-10-06T10:00:00Z", acknowledged_user_ids=["U9"], seconds_to_first_ack=900,
               timeout_escalation_count=1, assigned_user_ids=["U1", "U9"]),
        record("Q3", "2026-10-07T10:00:00Z", acknowledged_user_ids=[], seconds_to_first_ack=None, auto_resolved=True),
        record("Q4", "2026-10-08T10:00:00Z", reassignment_count=1, urgency="low"),
    ])
    columns = service_columns(table, SERVICES, {"PSVC1": {"alert_grouping_parameters": {"type": "time"}}},
                              {"PT1": {"U1"}}, {"PEP1": 10.0}, weeks=2.0)
    one = columns.loc["PSVC1"]
    assert one["incident_count"] == 4 and one["incidents_per_week"] == 2.0 and one["uses_noise_controls"]
    assert one["auto_resolved_pct"] == 25.0 and one["acknowledged_count"] == 3
    assert math.isclose(one["owner_ack_pct"], 200 / 3)
    assert one["high_urgency_count"] == 3 and math.isclose(one["timeout_escalated_pct"], 100 / 3)
    assert one["high_urgency_acked_count"] == 2  # Q3 was never acknowledged
    assert one["tta_median_minutes"] == 8.5  # 2 and 15 minutes (Q3 was never acknowledged)
    assert one["reassigned_pct"] == 25.0 and one["l1_delay_minutes"] == 10.0
    quiet = columns.loc["PSVC2"]
    assert quiet["incident_count"] == 0 and math.isnan(quiet["owner_ack_pct"]) and not quiet["uses_noise_controls"]


def test_policy_shifts_and_worst_week() -> None:
    table = incident_table([record(f"Q{n}", f"2026-10-{5 + n % 3:02d}T10:00:00Z") for n in range(21)])
    columns = policy_columns(table, pd.DataFrame(index=["PEP1", "PEP2"]), SINCE, UNTIL)
    assert columns.loc["PEP1", "incidents_per_shift"] == 21 / 28  # 28 twelve-hour shifts in two weeks
    assert columns.loc["PEP1", "worst_week_incidents_per_shift"] == 21 / 14
    assert columns.loc["PEP2", "incident_count"] == 0


def test_interruptions_are_shared_among_assignees() -> None:
    table = incident_table([
        record("Q1", "2026-10-05T03:00:00Z", assigned_user_ids=["U1", "U2"], sleep_hour_interruptions=2),
        record("Q2", "2026-10-06T03:00:00Z", sleep_hour_interruptions=1, business_hour_interruptions=1),
    ])
    columns = user_columns(table, pd.DataFrame(index=["U1", "U2", "U3"]), weeks=2.0)
    assert columns.loc["U1", "sleep_hour_interruptions"] == 2.0 and columns.loc["U2", "sleep_hour_interruptions"] == 1.0
    assert columns.loc["U1", "sleep_hour_pages_per_week"] == 1.0 and columns.loc["U1", "incidents_assigned"] == 2
    assert columns.loc["U3", "incidents_assigned"] == 0 and columns.loc["U3", "sleep_hour_pages_per_week"] == 0.0


def test_an_empty_history_gives_zeros_and_nothing_to_judge() -> None:
    table = incident_table([])
    assert service_columns(table, SERVICES, {}, {}, {}, 13.0)["incident_count"].tolist() == [0, 0]
    assert user_columns(table, pd.DataFrame(index=["U1"]), 13.0).loc["U1", "sleep_hour_pages_per_week"] == 0.0
    assert policy_columns(table, pd.DataFrame(index=["PEP1"]), SINCE, UNTIL).loc["PEP1", "incident_count"] == 0
