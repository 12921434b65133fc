"""Crawling incident history: analytics first, the /incidents + /log_entries fallback on 402, quotas.

The Acme account's quarter of history (examples/acme, ``incident_history``) is crawled over the
90 days ending a day before the audit (2026-10-05 .. 2027-01-03).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from audit.assess import assess
from audit.crawl_incidents import IncidentsWindow, SOURCE_ANALYTICS, SOURCE_REST, records_from_log_entries
from audit.findings import Mode, Status
from tests.crawl.conftest import ACME, SINCE, crawl, emulator_app

WINDOW = IncidentsWindow.ending_before(90, SINCE)
CONFIG = ACME.with_name("pd-audit.toml")
SHARED_FIELDS = ("service_id", "team_id", "escalation_policy_id", "urgency", "seconds_to_first_ack",
                 "acknowledged_user_ids", "assigned_user_ids", "timeout_escalation_count",
                 "manual_escalation_count", "reassignment_count", "auto_resolved", "sleep_hour_interruptions",
                 "off_hour_interruptions", "business_hour_interruptions")  # fmt: skip


def without_analytics(tmp_path: Path):
    data = json.loads(ACME.read_text())
    data["abilities"].remove("analytics")
    return emulator_app(data, tmp_path)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("incidents")
    analytics = crawl(emulator_app(ACME), base / "analytics", incidents=WINDOW)
    rest = crawl(without_analytics(base), base / "rest", incidents=WINDOW)
    return analytics, rest


def test_the_window_ends_a_day_before_the_crawl() -> None:
    assert WINDOW.to_json() == {"since": "2026-10-05T00:00:00Z", "until": "2027-01-03T00:00:00Z", "days": 90}
    with pytest.raises(ValueError):
        IncidentsWindow(367, SINCE)


def test_analytics_costs_one_request_per_1000_incidents(both) -> None:
    (snapshot, fields), _ = both
    count = fields["collections"]["incidents"]["count"]
    assert count > 1000
    assert fields["requests"]["by_endpoint"]["POST /analytics/raw/incidents"] == math.ceil(count / 1000)
    assert fields["incidents"] == {**WINDOW.to_json(), "source": SOURCE_ANALYTICS, "complete": True}
    assert snapshot.manifest["incidents"]["source"] == SOURCE_ANALYTICS


def test_without_analytics_the_fallback_computes_the_same_records(both) -> None:
    (analytics, _), (rest, fields) = both
    assert fields["incidents"]["source"] == SOURCE_REST and fields["incidents"]["analytics_refused"] == "HTTP 402"
    assert {"GET /incidents", "GET /log_entries"} <= fields["requests"]["by_endpoint"].keys()
    by_id = {row["id"]: row for row in analytics.iter("incidents")}
    computed = {row["id"]: row for row in rest.iter("incidents")}
    assert computed.keys() == by_id.keys()
    for incident_id, row in computed.items():
        assert {f: row[f] for f in SHARED_FIELDS} == {f: by_id[incident_id][f] for f in SHARED_FIELDS}, incident_id


def test_without_analytics_the_findings_are_the_same(both) -> None:
    (analytics, _), (rest, _) = both

    def mode_a(snapshot):
        assessment = assess(snapshot, config_path=CONFIG, today=SINCE.date())
        return {(f.rule_id, f.entity_id, f.status, f.message) for f in assessment.findings if f.mode is Mode.ANALYTICS}

    found = mode_a(analytics)
    assert found == mode_a(rest)
    assert {rule for rule, _, status, _ in found if status is Status.FAIL} >= {
        "PRC-01", "PRC-02", "PRC-03", "PRC-04", "PRC-05", "OC-09", "SVC-05", "SVC-06"}


def test_too_few_incidents_are_not_applicable_with_the_count(both) -> None:
    (snapshot, _), _ = both
    assessment = assess(snapshot, config_path=CONFIG, today=SINCE.date())
    assert set(assessment.facts.tables["service"]["incidents_window_days"]) == {90}
    counts = assessment.facts.tables["service"]["incident_count"]
    too_few = [f for f in assessment.findings if f.rule_id == "PRC-04" and f.status is Status.NOT_APPLICABLE
               and f.message != "Incidents stay with their first responder"]
    assert too_few, "the example account has a quiet service"
    for finding in too_few:
        count = counts[finding.entity_id]
        assert count < 5
        assert finding.message == (f"{count} incident{'' if count == 1 else 's'} in the 90-day incidents window; "
                                   "at least 5 are needed to judge")


def test_a_spent_quota_keeps_the_configuration_crawl_and_says_so(tmp_path: Path) -> None:
    snapshot, fields = crawl(emulator_app(ACME, analytics_daily_limit=1), tmp_path / "snapshot", incidents=WINDOW)
    assert fields["incidents"]["complete"] is False
    assert "daily quota was spent after 1,000 incidents" in fields["incidents"]["reason"]
    status = fields["collections"]
    assert status["incidents"]["status"] == "unavailable" and status["incidents"]["http_status"] == 429
    assert all(status[name]["status"] == "complete" for name in ("services", "schedules", "users", "oncalls"))
    assessment = assess(snapshot, config_path=CONFIG, today=SINCE.date())
    assert "quota" in assessment.evaluation.not_run["PRC-01"]


def test_records_from_log_entries_reads_what_each_entry_means() -> None:
    incident = {"id": "PQ1", "created_at": "2027-01-02T03:00:00Z", "urgency": "high",
                "service": {"id": "PSVC1"}, "escalation_policy": {"id": "PEP1"}, "teams": [{"id": "PT1"}]}
    user = lambda uid: {"id": uid, "type": "user_reference"}  # noqa: E731
    entries = [
        {"type": "notify_log_entry", "created_at": "2027-01-02T03:00:00Z", "incident": {"id": "PQ1"}, "user": user("U1")},
        {"type": "escalate_log_entry", "created_at": "2027-01-02T03:10:00Z", "incident": {"id": "PQ1"},
         "channel": {"type": "timeout"}, "assignees": [user("U2")], "agent": {"type": "service_reference"}},
        {"type": "notify_log_entry", "created_at": "2027-01-02T03:10:00Z", "incident": {"id": "PQ1"}, "user": user("U2")},
        {"type": "acknowledge_log_entry", "created_at": "2027-01-02T03:12:00Z", "incident": {"id": "PQ1"},
         "agent": user("U2")},
        {"type": "resolve_log_entry", "created_at": "2027-01-02T04:00:00Z", "incident": {"id": "PQ1"},
         "agent": {"type": "generic_events_api_inbound_integration_reference"}},
    ]
    (record,) = records_from_log_entries([incident], entries, {"U1": "Europe/Berlin", "U2": "America/New_York"})
    assert record["seconds_to_first_ack"] == 720 and record["timeout_escalation_count"] == 1
    assert record["acknowledged_user_ids"] == ["U2"] and record["assigned_user_ids"] == ["U2"]
    assert record["auto_resolved"] is True and record["team_id"] == "PT1"
    # 04:00 in Berlin and 22:10 in New York: both asleep.
    assert record["sleep_hour_interruptions"] == 2 and record["business_hour_interruptions"] == 0
