"""The people side of a snapshot, read beside the schedules (``audit.facts.roster``): the user table
reads the same values from the reduced users as from whole ones, and when both sides meet a broken
collection the error is the one reading the collections in order meets first, forked or in line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audit.assess import assess
from audit.errors import SnapshotError, UserError
from audit.facts import forked as forked_module
from audit.facts.build import build_facts
from audit.facts.roster import READ_ORDER, read_beside, read_roster
from audit.snapshot import load
from tests.facts.test_build import acme_account, build, ref, write_snapshot


@pytest.fixture(params=["forked", "in line"])
def fork_or_not(request, monkeypatch):
    monkeypatch.setattr(forked_module, "FORK_FROM_SERVICES", 0)
    monkeypatch.setattr(forked_module, "forking_helps", lambda: request.param == "forked")
    return request.param


def _with_odd_users(account: dict[str, list[Any]]) -> dict[str, list[Any]]:
    ada, bob, cy = account["users"][:3]
    # Ada names a team twice, a reference without an id and one the team members do not list.
    ada["teams"] = [ref("team", "PTXTRA"), {"type": "team_reference"}, ref("team", "PTXTRA"), ref("team", "PTPAY")]
    bob["teams"] = None
    cy["oncall_handoff_notification_rules"] = [{"id": "H1"}, {"id": "H2"}]
    return account


def test_the_user_table_reads_the_same_from_the_reduced_users(tmp_path: Path, fork_or_not: str) -> None:
    users = build(tmp_path, _with_odd_users(acme_account())).tables["user"]
    assert users.loc["PUADA", "team_ids"] == ["PTPAY", "PTXTRA"]  # memberships first, then the user's own
    assert users.loc["PUBOB", "team_ids"] == ["PTPAY"]
    assert users.loc["PUCY", "handoff_rules"] == 2.0 and users.loc["PUCY", "handoff_rules_known"]
    assert users.loc["PUADA", "name"] == "Ada Lovelace" and users.loc["PUADA", "email"] == "ada@acme.example"
    assert users.loc["PUCY", "time_zone"] == "America/New_York"
    assert users.loc["PUADA", "html_url"] == "https://acme.pagerduty.com/users/PUADA"


def test_the_reduced_users_keep_only_what_the_facts_read(tmp_path: Path) -> None:
    path = write_snapshot(tmp_path / "snap", _with_odd_users(acme_account()))
    roster = read_roster(load(path))
    ada = roster.users["PUADA"]
    assert "contact_methods" not in ada and "notification_rules" not in ada and "role" not in ada
    assert ada["teams"] == [{"id": "PTXTRA"}, {"id": "PTPAY"}]
    assert roster.contacts["PUADA"].kinds == frozenset({"push", "phone", "email"})  # read before reducing
    assert roster.users["PUBOB"]["teams"] == []


def _break(path: Path, collection: str) -> None:
    with (path / "collections" / f"{collection}.jsonl").open("ab") as out:
        out.write(b'{"id": "PBROKEN", \n')


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        (("services", "oncalls"), "services"),  # the parent's collection comes first
        (("users", "services"), "users"),  # the child's
        (("oncalls", "escalation_policies"), "oncalls"),
        (("schedules", "team_members"), "schedules"),
        (("handoff_rules",), "handoff_rules"),
        (("teams", "users"), "teams"),  # read by the parent once the people side has started
    ],
)
def test_a_broken_collection_is_named_as_reading_in_order_would(
    tmp_path: Path, fork_or_not: str, broken: tuple[str, ...], named: str
) -> None:
    account = acme_account()
    account["handoff_rules"] = [{"user_id": "PUADA", "oncall_handoff_notification_rules": []}]
    path = write_snapshot(tmp_path / "snap", account)
    for collection in broken:
        _break(path, collection)
    with pytest.raises(SnapshotError, match=rf"^\S*/{named}\.jsonl: line \d+ is not valid JSON \(the snapshot is corrupt\)$"):
        build_facts(load(path, verify=False))


def test_the_read_order_names_every_collection_the_stage_reads() -> None:
    read = {"teams", "users", "services", "schedules", "schedules_v3", "team_members", "oncalls", "handoff_rules",
            "service_dependencies", "extensions", "standards_scores", "escalation_policies"}
    assert set(READ_ORDER) == read and len(READ_ORDER) == len(read)


def test_the_people_side_started_early_gives_the_same_facts(tmp_path: Path, fork_or_not: str) -> None:
    snapshot = load(write_snapshot(tmp_path / "snap", _with_odd_users(acme_account())))
    early = build_facts(snapshot, people_side=read_beside(snapshot))
    usual = build_facts(snapshot)
    for name, table in usual.tables.items():
        assert early.tables[name].equals(table), name
    assert early.service_ids_by_entity == usual.service_ids_by_entity


def _children() -> set[int]:
    """This process's living children (Linux: every thread's list)."""
    return {int(pid) for task in Path("/proc/self/task").iterdir()
            for pid in (task / "children").read_text().split()}


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc to list child processes")
def test_a_config_that_fails_stops_the_people_side_it_was_read_beside(tmp_path: Path, fork_or_not: str) -> None:
    # assess starts the people side before it loads the config: a broken config is still the error
    # (not the broken users file the child met), and no child is left running or unreaped.
    path = write_snapshot(tmp_path / "snap", acme_account())
    _break(path, "users")
    config = tmp_path / "pd-audit.toml"
    config.write_text("[[tiers]\ntier = 1\n")
    before = _children()
    with pytest.raises(UserError, match="pd-audit.toml"):
        assess(load(path, verify=False), config_path=config, cwd=tmp_path)
    assert _children() == before
