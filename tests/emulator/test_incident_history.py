"""The emulator's incident history: seeded, consistent with who was on call, served as PagerDuty serves it.

Checked on the Acme example account, whose ``incident_history`` plants the behaviours the practice
rules look for (PLANTED.md): what is checked here is derived from the account's own schedules.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from audit.emulator.account import build_account, load_account
from audit.emulator.app import create_app
from audit.emulator.incident_history import generate_history, read_spec
from audit.emulator.oncalls import OncallQuery, compute_oncalls
from audit.emulator.rendering import ScheduleRenderings
from tests.crawl.conftest import ACME

NOW = datetime(2027, 1, 4, tzinfo=UTC)
TOKEN = "acme-incidents-token"


@pytest.fixture(scope="module")
def account():
    return load_account(ACME)


@pytest.fixture(scope="module")
def history(account):
    return generate_history(account, read_spec(account.incident_history))


def http_for(account, **options) -> httpx2.Client:
    app = create_app(account, tokens=[TOKEN], clock=lambda: options.pop("now", NOW), **options)
    return httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url="https://api.pagerduty.com",
                         headers={"Authorization": f"Token token={TOKEN}"})


def test_history_is_seeded(account, history):
    again = generate_history(account, read_spec(account.incident_history))
    assert [i.analytics for i in again] == [i.analytics for i in history]
    other = dataclasses.replace(read_spec(account.incident_history), seed=16)
    assert [i.analytics["created_at"] for i in generate_history(account, other)] != [
        i.analytics["created_at"] for i in history]


def test_first_responder_was_on_call_at_level_1_when_the_incident_fired(account, history):
    renderings = ScheduleRenderings(account)
    for incident in history[::25]:
        record = incident.analytics
        moment = incident.created_at
        on_call = {
            entry.user_id
            for entry in compute_oncalls(account, renderings, OncallQuery(
                moment, moment, moment, policy_ids=frozenset({record["escalation_policy_id"]})))
            if entry.level == 1
        }
        assert record["assigned_user_ids"][0] in on_call, record["id"]


def test_knobs_shape_the_planted_services(history):
    def of(service_id):
        return [i.analytics for i in history if i.analytics["service_id"] == service_id]

    payouts = of("PSVC005")
    assert sum(r["auto_resolved"] for r in payouts) / len(payouts) > 0.6
    assert sum(r["sleep_hour_interruptions"] for r in payouts) > len(payouts) / 2
    sessions = of("PSVC036")
    assert sum(r["timeout_escalation_count"] > 0 for r in sessions) / len(sessions) > 0.3
    calm = of("PSVC001")
    assert all(r["timeout_escalation_count"] == 0 for r in calm)
    # A timed-out incident is acknowledged at level 2, after level 1's 10-minute delay.
    escalated = next(r for r in sessions if r["timeout_escalation_count"])
    assert escalated["seconds_to_first_ack"] > 600 and len(escalated["assigned_user_ids"]) == 2


def test_analytics_pages_with_a_cursor_up_to_1000(account, history):
    http = http_for(account)
    body = {"filters": {"created_at_start": "2026-10-01T00:00:00Z", "created_at_end": "2027-01-04T00:00:00Z"},
            "limit": 1000, "order": "asc"}
    first = http.post("/analytics/raw/incidents", json=body).json()
    assert len(first["data"]) == 1000 and first["more"] and first["last"] == first["data"][-1]["id"]
    rest = http.post("/analytics/raw/incidents", json={**body, "starting_after": first["last"]}).json()
    assert not rest["more"]
    served = [r["id"] for r in first["data"] + rest["data"]]
    lagging = [i for i in history if i.created_at > NOW - timedelta(hours=24)]
    assert lagging, "the history reaches the last day: the lag must hide something"
    assert served == [i.analytics["id"] for i in history if i not in lagging]
    assert http.post("/analytics/raw/incidents", json={**body, "limit": 1001}).status_code == 400
    too_long = {"filters": {"created_at_start": "2025-01-01T00:00:00Z", "created_at_end": "2027-01-04T00:00:00Z"}}
    assert http.post("/analytics/raw/incidents", json=too_long).status_code == 400


def test_analytics_is_plan_gated_and_has_a_daily_quota(account):
    without = dataclasses.replace(account, abilities=tuple(a for a in account.abilities if a != "analytics"))
    refused = http_for(without).post("/analytics/raw/incidents", json={})
    assert refused.status_code == 402 and "analytics" in str(refused.json()["error"])
    http = http_for(account, analytics_daily_limit=2)
    answers = [http.post("/analytics/raw/incidents", json={"limit": 1}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["daily-ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert int(answers[2].headers["daily-ratelimit-reset"]) == 86400  # the clock stands at midnight


def test_incidents_take_six_months_at_most_and_log_entries_tell_the_story(account, history):
    http = http_for(account)
    assert http.get("/incidents", params={"since": "2026-01-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}
                    ).status_code == 400
    listed = http.get("/incidents", params={"since": "2026-10-01T00:00:00Z", "until": "2027-01-04T00:00:00Z",
                                           "service_ids[]": "PSVC036", "limit": 100, "total": "true"}).json()
    sessions = [i for i in history if i.analytics["service_id"] == "PSVC036"]
    assert listed["total"] == len(sessions) and listed["incidents"][0]["id"] == sessions[0].analytics["id"]
    escalated = next(i for i in sessions if i.analytics["timeout_escalation_count"])
    moment = escalated.created_at
    entries = http.get("/log_entries", params={"since": (moment - timedelta(seconds=1)).isoformat(),
                                               "until": (moment + timedelta(hours=4)).isoformat(),
                                               "limit": 100}).json()["log_entries"]
    mine = [e for e in entries if e["incident"]["id"] == escalated.analytics["id"]]
    kinds = [e["type"] for e in reversed(mine)]  # served newest first
    assert kinds[:2] == ["trigger_log_entry", "assign_log_entry"] and kinds[-1] == "resolve_log_entry"
    (escalation,) = [e for e in mine if e["type"] == "escalate_log_entry"]
    assert escalation["channel"]["type"] == "timeout"


def test_an_account_without_history_serves_none(tmp_path):
    data = json.loads(ACME.read_text())
    del data["incident_history"]
    http = http_for(build_account(data))
    assert http.post("/analytics/raw/incidents", json={}).json()["data"] == []
    assert http.get("/incidents").json()["incidents"] == []
