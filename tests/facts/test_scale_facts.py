"""The facts stage on a large generated account (10,000 services, 3,000 policies, 4,000 schedules,
15,000 users, a 28-day window). A benchmark, not a timed test: it prints how long the build took
and checks the tables are whole and right where the generator makes the answer obvious."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from audit.facts.build import build_facts
from audit.snapshot import SnapshotWriter, load

SINCE = datetime(2027, 2, 1, tzinfo=UTC)
DAYS = 28
TEAMS, USERS, SCHEDULES, POLICIES, SERVICES = 500, 15_000, 4_000, 3_000, 10_000
ROTATION = 4  # people per schedule


def z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def generated_account() -> dict[str, list[Any]]:
    zones = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]
    users = [{
        "id": f"PU{n:05d}", "type": "user", "name": f"User {n}", "email": f"u{n}@big.example",
        "time_zone": zones[n % len(zones)], "role": "user" if n % 50 else "observer", "invitation_sent": n % 97 == 0,
        "contact_methods": [{"id": f"CP{n}", "type": "phone_contact_method", "address": "1"},
                            {"id": f"CE{n}", "type": "email_contact_method", "address": "e"}],
        "notification_rules": [
            {"id": f"RP{n}", "type": "assignment_notification_rule", "start_delay_in_minutes": n % 3, "urgency": "high",
             "contact_method": {"id": f"CP{n}", "type": "phone_contact_method_reference"}},
            {"id": f"RE{n}", "type": "assignment_notification_rule", "start_delay_in_minutes": 0, "urgency": "high",
             "contact_method": {"id": f"CE{n}", "type": "email_contact_method_reference"}},
        ],
    } for n in range(USERS)]
    schedules = []
    for n in range(SCHEDULES):
        people = [f"PU{(n * ROTATION + k) % USERS:05d}" for k in range(ROTATION)]
        entries = []
        for week in range(DAYS // 7):
            start = SINCE + timedelta(weeks=week)
            # Every tenth schedule leaves Sunday uncovered: a 24 h gap a week.
            end = start + timedelta(days=6 if n % 10 == 0 else 7)
            entries.append({"user": {"id": people[week % ROTATION], "type": "user_reference"},
                            "start": z(start), "end": z(end)})
            if n % 10 == 0:
                entries.append({"user": None, "start": z(end), "end": z(start + timedelta(days=7))})
        schedules.append({
            "id": f"PS{n:05d}", "type": "schedule", "name": f"Rota {n}", "time_zone": zones[n % len(zones)],
            "teams": [{"id": f"PT{n % TEAMS:04d}", "type": "team_reference"}],
            "schedule_layers": [{"id": f"L{n}", "start": "2026-01-05T00:00:00Z", "end": None,
                                 "rotation_virtual_start": "2026-01-05T00:00:00Z",
                                 "rotation_turn_length_seconds": 604800,
                                 "users": [{"user": {"id": p, "type": "user_reference"}} for p in people]}],
            "final_schedule": {"name": "Final Schedule", "rendered_schedule_entries": entries},
        })
    policies = [{
        "id": f"PE{n:05d}", "type": "escalation_policy", "name": f"Policy {n}", "num_loops": n % 2,
        "teams": [{"id": f"PT{n % TEAMS:04d}", "type": "team_reference"}],
        "escalation_rules": [
            {"id": f"R{n}-1", "escalation_delay_in_minutes": 10,
             "targets": [{"id": f"PS{n:05d}", "type": "schedule_reference"}]},
            {"id": f"R{n}-2", "escalation_delay_in_minutes": 15,
             "targets": [{"id": f"PS{(n + POLICIES) % SCHEDULES:05d}", "type": "schedule_reference"}]},
            {"id": f"R{n}-3", "escalation_delay_in_minutes": 20,
             "targets": [{"id": f"PU{(n * 5) % USERS:05d}", "type": "user_reference"}]},
        ],
    } for n in range(POLICIES)]
    services = [{
        "id": f"PV{n:05d}", "type": "service", "name": f"Service {n}", "description": f"Does thing {n}",
        "status": "active", "escalation_policy": {"id": f"PE{n % POLICIES:05d}", "type": "escalation_policy_reference"},
        "teams": [{"id": f"PT{n % TEAMS:04d}", "type": "team_reference"}],
        "incident_urgency_rule": {"type": "constant", "urgency": "high"}, "integrations": [{"id": f"I{n}"}],
    } for n in range(SERVICES)]
    teams = [{"id": f"PT{n:04d}", "type": "team", "name": f"Team {n}"} for n in range(TEAMS)]
    members = [{"team_id": f"PT{n % TEAMS:04d}", "member": {"user": {"id": f"PU{n:05d}", "type": "user_reference"},
                                                            "role": "manager" if n < TEAMS else "responder"}}
               for n in range(USERS)]
    return {"teams": teams, "team_members": members, "users": users, "services": services,
            "escalation_policies": policies, "schedules": schedules, "schedules_v3": []}


@pytest.mark.slow
def test_a_large_account_builds_whole(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path / "big")
    collections = generated_account()
    for name, objects in collections.items():
        writer.write_unit(name, name, objects)
    until = SINCE + timedelta(days=DAYS)
    path = writer.finish({
        "window": {"since": z(SINCE), "until": z(until), "days": DAYS},
        "collections": {name: {"status": "complete", "count": len(objects)} for name, objects in collections.items()},
    })
    started = time.perf_counter()
    facts = build_facts(load(path))
    elapsed = time.perf_counter() - started
    print(f"\nfacts for {SERVICES:,} services, {POLICIES:,} policies, {SCHEDULES:,} schedules, "
          f"{USERS:,} users: {elapsed:.2f} s")
    tables = facts.tables
    assert (len(tables["service"]), len(tables["escalation_policy"]), len(tables["schedule"]), len(tables["user"])) == (
        SERVICES, POLICIES, SCHEDULES, USERS)
    assert len(tables["policy_level"]) == 3 * POLICIES
    schedules = tables["schedule"]
    gappy = schedules["id"].str[2:].astype(int) % 10 == 0
    assert (schedules.loc[gappy, "coverage_pct"] == 100 * 24 / 28).all()
    assert (schedules.loc[~gappy, "coverage_pct"] == 100.0).all()
    # Level 3 pages a reachable user directly unless that user's invitation is pending.
    policies = tables["escalation_policy"]
    assert (policies["any_level_coverage_pct"] > 0).all()
    assert tables["service"].loc["PV00000", "l1_promise_coverage_pct"] == pytest.approx(100 * 24 / 28)
