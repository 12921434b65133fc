"""Fixtures for the emulator tests: a small but realistic account and clients bound to it.

"Northwind Logistics" has three teams, nine people, a New York business-hours schedule with
a weekday-only restriction, an after-hours layer, a lunch-cover layer that ends mid-window and
an override (rendered across the 2026-03-08 DST change), a shift-based (v3) Berlin schedule,
policies with schedule, v3 and direct-user targets, business services, dependencies and
standards. Tests derive what they check from this data and hand-computed intervals.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pagerduty
import pytest

from audit.emulator.account import build_account
from audit.emulator.app import create_app
from tests.conformance.openapi import OpenApiContract
from tests.reference import OPENAPI_SUBSET, require_reference

TOKEN = "u+northwind-readonly-token"
NOW = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # Monday 11:00 in New York (EDT)

PEOPLE = [
    # id, name, time zone, job title
    ("PUSR001", "Amara Okafor", "America/New_York", "SRE"),
    ("PUSR002", "Bram de Vries", "America/New_York", "Backend Engineer"),
    ("PUSR003", "Chen Wei", "America/New_York", "Backend Engineer"),
    ("PUSR004", "Dolores Ruiz", "America/Los_Angeles", "SRE"),
    ("PUSR005", "Emeka Nwosu", "Europe/London", "Engineering Manager"),
    ("PUSR006", "Farah Haddad", "America/New_York", "Support Engineer"),
    ("PUSR007", "Greta Lindqvist", "Europe/Berlin", "Platform Engineer"),
    ("PUSR008", "Hannes Bauer", "Europe/Berlin", "Platform Engineer"),
    ("PUSR009", "Isla MacLeod", "Europe/London", "Mobile Lead"),
]


def _user(index: int, user_id: str, name: str, tz: str, title: str) -> dict:
    first = name.split()[0].lower()
    email = {"id": f"PCE{index:04d}", "type": "email_contact_method", "label": "Work", "address": f"{first}@northwind.example"}
    phone = {"id": f"PCP{index:04d}", "type": "phone_contact_method", "label": "Mobile",
             "address": f"55501{index:05d}", "country_code": 1}
    methods = [email] if index == 6 else [email, phone]  # Farah has only email: an unreachable-by-phone case
    rules = [{"id": f"PNH{index:04d}", "type": "assignment_notification_rule", "start_delay_in_minutes": 0,
              "urgency": "high", "contact_method": {"id": methods[-1]["id"], "type": f"{methods[-1]['type']}_reference"}},
             {"id": f"PNL{index:04d}", "type": "assignment_notification_rule", "start_delay_in_minutes": 5,
              "urgency": "low", "contact_method": {"id": email["id"], "type": "email_contact_method_reference"}}]
    return {"id": user_id, "type": "user", "name": name, "email": f"{first}@northwind.example", "time_zone": tz,
            "role": "user", "job_title": title, "invitation_sent": False, "description": f"{title} at Northwind",
            "contact_methods": methods, "notification_rules": rules}


def _ref(kind: str, object_id: str) -> dict:
    return {"id": object_id, "type": f"{kind}_reference"}


def _weekday_business_hours() -> list[dict]:
    return [{"type": "weekly_restriction", "start_day_of_week": day, "start_time_of_day": "09:00:00",
             "duration_seconds": 8 * 3600} for day in range(1, 6)]


def northwind_account() -> dict:
    services = [
        ("PSVC001", "Payments API", "PEP0001", "Card and wallet payments"),
        ("PSVC002", "Ledger", "PEP0001", "Double-entry ledger"),
        ("PSVC003", "Kubernetes Platform", "PEP0002", "Shared clusters"),
        ("PSVC004", "Mobile Backend", "PEP0003", "BFF for the iOS and Android apps"),
        ("PSVC005", "Fraud Scoring", "PEP0001", "Real-time fraud model"),
    ]
    return {
        "format": "pd-audit-account", "format_version": 1, "subdomain": "northwind",
        "abilities": ["teams", "read_only_users", "service_dependencies", "standards", "urgencies"],
        "teams": [
            {"id": "PTEAM01", "type": "team", "name": "Payments", "description": "Money movement"},
            {"id": "PTEAM02", "type": "team", "name": "Platform", "description": "Clusters and CI"},
            {"id": "PTEAM03", "type": "team", "name": "Mobile", "description": "Apps"},
        ],
        "memberships": [
            *({"team_id": "PTEAM01", "user_id": f"PUSR00{n}", "role": "manager" if n == 1 else "responder"} for n in range(1, 7)),
            {"team_id": "PTEAM02", "user_id": "PUSR007", "role": "manager"},
            {"team_id": "PTEAM02", "user_id": "PUSR008", "role": "responder"},
            {"team_id": "PTEAM02", "user_id": "PUSR001", "role": "observer"},
            {"team_id": "PTEAM03", "user_id": "PUSR009", "role": "manager"},
        ],
        "users": [_user(n, *person) for n, person in enumerate(PEOPLE, start=1)],
        "services": [
            {"id": sid, "type": "service", "name": name, "description": desc, "status": "active",
             "escalation_policy": _ref("escalation_policy", policy),
             "incident_urgency_rule": {"type": "constant", "urgency": "high"},
             "acknowledgement_timeout": 1800, "auto_resolve_timeout": 14400,
             "integrations": [{"id": f"PINT{sid[-3:]}", "type": "generic_events_api_inbound_integration", "name": "Events API v2"}],
             "addons": []}
            for sid, name, policy, desc in services
        ],
        "escalation_policies": [
            {"id": "PEP0001", "type": "escalation_policy", "name": "Payments", "num_loops": 1,
             "on_call_handoff_notifications": "if_has_services", "teams": [_ref("team", "PTEAM01")],
             "escalation_rules": [
                 {"id": "PER0011", "escalation_delay_in_minutes": 10, "targets": [_ref("schedule", "PSCH001")]},
                 {"id": "PER0012", "escalation_delay_in_minutes": 15, "targets": [_ref("user", "PUSR005")]},
             ]},
            {"id": "PEP0002", "type": "escalation_policy", "name": "Platform", "num_loops": 0,
             "on_call_handoff_notifications": "always", "teams": [_ref("team", "PTEAM02")],
             "escalation_rules": [
                 {"id": "PER0021", "escalation_delay_in_minutes": 5, "targets": [_ref("schedule_v3", "PSV3001")]},
             ]},
            {"id": "PEP0003", "type": "escalation_policy", "name": "Mobile", "num_loops": 0,
             "on_call_handoff_notifications": "if_has_services", "teams": [_ref("team", "PTEAM03")],
             "escalation_rules": [
                 {"id": "PER0031", "escalation_delay_in_minutes": 30, "targets": [_ref("user", "PUSR009")]},
                 {"id": "PER0032", "escalation_delay_in_minutes": 30, "targets": [_ref("schedule", "PSCH001")]},
             ]},
        ],
        "schedules": [{
            "id": "PSCH001", "type": "schedule", "name": "Payments primary", "time_zone": "America/New_York",
            "description": "Business hours by week, after hours by day", "teams": [_ref("team", "PTEAM01")],
            # Highest priority first, as the API lists them.
            "schedule_layers": [
                {"id": "PLAY003", "name": "Lunch cover (ended)", "start": "2026-03-02T00:00:00-05:00",
                 "end": "2026-03-10T13:00:00-04:00", "rotation_virtual_start": "2026-03-02T12:00:00-05:00",
                 "rotation_turn_length_seconds": 86400, "users": [{"user": _ref("user", "PUSR006")}],
                 "restrictions": [{"type": "daily_restriction", "start_time_of_day": "12:00:00", "duration_seconds": 7200}]},
                {"id": "PLAY002", "name": "Business hours", "start": "2026-01-05T09:00:00-05:00", "end": None,
                 "rotation_virtual_start": "2026-01-05T09:00:00-05:00", "rotation_turn_length_seconds": 604800,
                 "users": [{"user": _ref("user", u)} for u in ("PUSR001", "PUSR002", "PUSR003")],
                 "restrictions": _weekday_business_hours()},
                {"id": "PLAY001", "name": "After hours", "start": "2026-01-01T00:00:00-05:00", "end": None,
                 "rotation_virtual_start": "2026-01-01T09:00:00-05:00", "rotation_turn_length_seconds": 86400,
                 "users": [{"user": _ref("user", u)} for u in ("PUSR004", "PUSR005")], "restrictions": []},
            ],
        }],
        "overrides": [
            {"id": "POVR001", "schedule_id": "PSCH001", "start": "2026-03-09T20:00:00-04:00",
             "end": "2026-03-10T08:00:00-04:00", "user": _ref("user", "PUSR003")},
            {"id": "POVR002", "schedule_id": "PSV3001", "rotation_id": "PROT001", "start": "2026-03-10T08:00:00+01:00",
             "end": "2026-03-10T12:00:00+01:00", "user": _ref("user", "PUSR001")},
        ],
        "schedules_v3": [{
            "id": "PSV3001", "type": "schedule_v3", "name": "Platform on-call", "time_zone": "Europe/Berlin",
            "description": "Weekday day shifts by week, weekends together", "teams": [_ref("team", "PTEAM02")],
            "rotations": [
                {"id": "PROT001", "type": "schedule_rotation", "events": [{
                    "id": "PEVT001", "type": "schedule_event", "name": "Weekday days",
                    "start_time": {"date_time": "2026-03-02T08:00:00+01:00", "time_zone": "Europe/Berlin"},
                    "end_time": {"date_time": "2026-03-02T20:00:00+01:00", "time_zone": "Europe/Berlin"},
                    "effective_since": "2026-03-02T07:00:00Z", "effective_until": None,
                    "recurrence": ["RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"],
                    "assignment_strategy": {"type": "rotating_member_assignment_strategy", "shifts_per_member": 5,
                                            "members": [{"type": "user_member", "user_id": "PUSR007"},
                                                        {"type": "user_member", "user_id": "PUSR008"}]}}]},
                {"id": "PROT002", "type": "schedule_rotation", "events": [{
                    "id": "PEVT002", "type": "schedule_event", "name": "Weekends",
                    "start_time": {"date_time": "2026-03-07T08:00:00+01:00", "time_zone": "Europe/Berlin"},
                    "end_time": {"date_time": "2026-03-07T20:00:00+01:00", "time_zone": "Europe/Berlin"},
                    "effective_since": "2026-03-07T07:00:00Z", "effective_until": "2026-03-15T00:00:00Z",
                    "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=SA,SU"],
                    "assignment_strategy": {"type": "every_member_assignment_strategy",
                                            "members": [{"type": "user_member", "user_id": "PUSR007"},
                                                        {"type": "empty_member"}]}}]},
            ],
        }],
        "business_services": [
            {"id": "PBS0001", "type": "business_service", "name": "Checkout", "description": "Customers can pay",
             "point_of_contact": "Amara Okafor", "team": {"id": "PTEAM01"}},
            {"id": "PBS0002", "type": "business_service", "name": "Mobile ordering", "description": "App orders",
             "point_of_contact": "Isla MacLeod", "team": None},
        ],
        "service_dependencies": [
            {"id": "PDEP001", "supporting_service": {"id": "PSVC001", "type": "service"},
             "dependent_service": {"id": "PBS0001", "type": "business_service"}},
            {"id": "PDEP002", "supporting_service": {"id": "PSVC002", "type": "service"},
             "dependent_service": {"id": "PSVC001", "type": "service"}},
            {"id": "PDEP003", "supporting_service": {"id": "PSVC004", "type": "service"},
             "dependent_service": {"id": "PBS0002", "type": "business_service"}},
        ],
        "standards": [
            {"id": "01STD0DESCRIPTION", "type": "has_technical_service_description", "name": "Service has a description",
             "description": "Context for responders", "active": True, "resource_type": "technical_service",
             "inclusions": [], "exclusions": []},
            {"id": "01STD0EPDEPTH", "type": "minimum_escalation_policy_rule_depth", "active": False,
             "name": "Escalation policy with 2 or more levels", "description": "No single point of failure",
             "resource_type": "technical_service", "inclusions": [], "exclusions": [{"type": "technical_service_reference", "id": "PSVC003"}]},
        ],
        "standards_scores": [
            {"resource_id": "PSVC001", "resource_type": "technical_service", "score": {"passing": 1, "total": 1},
             "standards": [{"id": "01STD0DESCRIPTION", "type": "has_technical_service_description", "active": True,
                            "name": "Service has a description", "description": "Context for responders", "pass": True}]},
        ],
        "priorities": [{"id": f"PPRI00{n}", "type": "priority", "name": f"P{n}", "description": f"Severity {n}"} for n in range(1, 4)],
        "maintenance_windows": [
            {"id": "PMW0001", "type": "maintenance_window", "start_time": "2026-03-01T02:00:00Z", "end_time": "2026-03-01T04:00:00Z",
             "description": "Ledger migration", "services": [_ref("service", "PSVC002")], "created_by": _ref("user", "PUSR001")},
            {"id": "PMW0002", "type": "maintenance_window", "start_time": "2026-03-20T02:00:00Z", "end_time": "2026-03-20T04:00:00Z",
             "description": "Cluster upgrade", "services": [_ref("service", "PSVC003")], "created_by": _ref("user", "PUSR007")},
        ],
        "extensions": [
            {"id": "PEXT001", "type": "extension", "name": "#payments-oncall", "endpoint_url": "https://hooks.slack.com/x",
             "extension_schema": {"id": "PSLACK1", "type": "extension_schema_reference", "summary": "Slack V1"},
             "extension_objects": [_ref("service", "PSVC001"), _ref("service", "PSVC002")]},
            {"id": "PEXT002", "type": "extension", "name": "Change log webhook", "endpoint_url": "https://changes.northwind.example/pd",
             "extension_schema": {"id": "PWEBHK2", "type": "extension_schema_reference", "summary": "Generic V2 Webhook"},
             "extension_objects": [_ref("service", "PSVC002")]},
        ],
    }


@pytest.fixture
def account_data() -> dict:
    return copy.deepcopy(northwind_account())


@pytest.fixture
def account(account_data):
    return build_account(account_data, source="northwind.json")


@pytest.fixture
def account_file(tmp_path, account_data) -> Path:
    path = tmp_path / "northwind.json"
    path.write_text(json.dumps(account_data), encoding="utf-8")
    return path


@pytest.fixture
def app(account):
    return create_app(account, tokens=[TOKEN], clock=lambda: NOW)


@pytest.fixture
def http(app):
    """A plain httpx2 client on the in-process app, for status codes and headers."""
    with httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url="https://api.pagerduty.com",
                       headers={"Authorization": f"Token token={TOKEN}"}) as client:
        yield client


@pytest.fixture
def pd_client(app):
    """The real pagerduty client on the in-process app, the way the crawler builds it."""
    client = pagerduty.RestApiV2Client(TOKEN, base_url="https://api.pagerduty.com",
                                       transport=httpx2.WSGITransport(app=app))
    yield client
    client.close()


class SchemaCheck:
    """Validates emulator answers against PagerDuty's OpenAPI subset (reference folder, pagerduty-api/)."""

    def __init__(self, path: Path):
        self.contract = OpenApiContract(path)

    def errors(self, path: str, response) -> list[tuple[list, str]]:
        """Each schema violation as (JSON path, message); [] when the answer conforms."""
        status = response.status_code
        if path.startswith("/schedules/") and path.endswith("/overrides") and status == 200:
            status = 201  # the published schema declares this GET's success as 201
        return [(list(v.json_path), v.message) for v in self.contract.response_violations("GET", path, status, response.content)]


@pytest.fixture(scope="session")
def schema() -> SchemaCheck:
    return SchemaCheck(require_reference(OPENAPI_SUBSET))


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def client_for():
    """Factory: an httpx2 client on an app, sending ``token`` (None: no Authorization header)."""
    clients = []

    def make(app, token: str | None = TOKEN) -> httpx2.Client:
        headers = {"Authorization": f"Token token={token}"} if token else {}
        client = httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url="https://api.pagerduty.com", headers=headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
