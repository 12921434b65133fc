"""Loading account files: clear one-line errors for bad files, and the indexes the app relies on."""

from __future__ import annotations

import json

import pytest

from audit.emulator.account import build_account, load_account
from audit.errors import UserError


def test_load_reads_a_file_and_indexes_it(account_file):
    account = load_account(account_file)
    assert account.subdomain == "northwind" and account.source == str(account_file)
    assert list(account.objects["teams"]) == ["PTEAM03", "PTEAM01", "PTEAM02"]  # name order: Mobile, Payments, Platform
    assert account.team_ids_by_user["PUSR001"] == ["PTEAM01", "PTEAM02"]
    assert account.service_ids_by_policy["PEP0001"] == ["PSVC005", "PSVC002", "PSVC001"]
    assert account.policy_ids_by_schedule == {"PSCH001": ["PEP0003", "PEP0001"], "PSV3001": ["PEP0002"]}
    assert account.ids_by_team["services"]["PTEAM02"] == ["PSVC003"]  # through its policy's team
    assert [o["id"] for o in account.overrides_by_schedule["PSV3001"]] == ["POVR002"]


def test_minimal_account_needs_only_the_header():
    account = build_account({"format": "pd-audit-account", "format_version": 1, "subdomain": "tiny"})
    assert account.all("users") == [] and account.abilities == ()


@pytest.mark.parametrize("mutate, problem", [
    (lambda d: d.update(format="pagerduty-export"), "format: expected 'pd-audit-account'"),
    (lambda d: d.update(format_version=2), "format_version"),
    (lambda d: d.pop("subdomain"), "subdomain: must be a non-empty string"),
    (lambda d: d.update(users={"PUSR001": {}}), "users: must be a list"),
    (lambda d: d["users"].append(dict(d["users"][0])), "users[9]: duplicate id PUSR001"),
    (lambda d: d["services"][0].update(escalation_policy={"id": "PEP9999", "type": "escalation_policy_reference"}),
     "services PSVC001 escalation_policy: refers to escalation_policies PEP9999"),
    (lambda d: d["memberships"].append({"team_id": "PTEAM99", "user_id": "PUSR001"}), "refers to teams PTEAM99"),
    (lambda d: d["schedules"][0].update(time_zone="Mars/Olympus_Mons"), "schedules PSCH001: unknown time zone"),
    (lambda d: d["schedules"][0]["schedule_layers"][0].update(start="next tuesday"), "is not an ISO 8601 timestamp"),
    (lambda d: d["schedules"][0]["schedule_layers"][0].update(rotation_turn_length_seconds=0), "positive integer"),
    (lambda d: d["schedules"][0]["schedule_layers"][1]["restrictions"][0].update(start_day_of_week=8), "start_day_of_week"),
    (lambda d: d["schedules"][0]["schedule_layers"][0]["users"].append({"user": {"id": "PGONE", "type": "user_reference"}}),
     "layer PLAY003: refers to users PGONE"),
    (lambda d: d["overrides"][0].update(end="2026-03-01T00:00:00Z"), "overrides POVR001: ends before it starts"),
    (lambda d: d["overrides"][0].update(schedule_id="PSCH404"), "refers to schedule PSCH404"),
    (lambda d: d["schedules_v3"][0]["rotations"][0]["events"][0].update(recurrence=["RRULE:FREQ=SOMETIMES"]),
     "event PEVT001: recurrence"),
    (lambda d: d["schedules_v3"][0]["rotations"][0]["events"][0].update(recurrence=[]), "exactly one RRULE"),
    (lambda d: d["schedules_v3"][0]["rotations"][0]["events"][0]["assignment_strategy"]["members"].append(
        {"type": "user_member", "user_id": "PGHOST"}), "refers to users PGHOST"),
    (lambda d: d["users"][5]["notification_rules"][0]["contact_method"].update(id="PCP0006"),
     "users PUSR006: notification rule PNH0006 uses a contact method the user does not have"),
    (lambda d: d["service_dependencies"][0]["dependent_service"].update(type="team"), "unknown type 'team'"),
])
def test_invalid_accounts_fail_with_one_clear_line(account_data, mutate, problem):
    mutate(account_data)
    with pytest.raises(UserError) as caught:
        build_account(account_data, source="northwind.json")
    message = str(caught.value)
    assert message.startswith("northwind.json: ") and problem in message and "\n" not in message


def test_unreadable_files_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="account file not found"):
        load_account(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "pd-audit-account",\n  "users": [}', encoding="utf-8")
    with pytest.raises(UserError, match=r"broken.json: not valid JSON \(line 2"):
        load_account(broken)
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([1, 2]), encoding="utf-8")
    with pytest.raises(UserError, match="must be a JSON object"):
        load_account(listed)
