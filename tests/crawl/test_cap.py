"""Past the 10,000-record pagination cap: every object arrives exactly once, or the crawl fails loudly.

The account is generated: 10,400 services and 10,600 users over 130 teams, with a share of
services, policies and users in no team and some in two (generate.py). Collections that cost
one request per object and have nothing to do with the cap are skipped to keep the test short.
"""

from __future__ import annotations

import copy
import math
from collections import Counter

import pytest

from audit.crawl import CAP, PAGE, Crawler, Window
from audit.crawl_specs import SCHEDULE_LIST, SPEC_BY_NAME
from audit.emulator.generate import generate_account
from audit.errors import CrawlError
from audit.snapshot import SnapshotWriter

from .conftest import SINCE, crawl, emulator_app, ids, make_client

SKIP = ("service_dependencies", "standards_scores", "handoff_rules", "oncalls")


@pytest.fixture(scope="module")
def big_account():
    return generate_account(services=10_400, policies=420, schedules=600, users=10_600, teams=130, seed=5)


def team_ids_of(obj):
    return [t["id"] for t in obj.get("teams") or []]


@pytest.mark.slow
def test_every_object_arrives_exactly_once_past_the_cap(big_account, tmp_path):
    services, users = big_account["services"], big_account["users"]
    no_team_services = [s for s in services if not team_ids_of(s)]
    # the fixture must exercise every path: past the cap, objects in no team and in two
    assert len(services) > CAP and len(users) > CAP
    assert no_team_services and any(len(team_ids_of(s)) > 1 for s in services) or any(
        len(team_ids_of(p)) > 1 for p in big_account["escalation_policies"])
    member_teams = Counter(m["user_id"] for m in big_account["memberships"])
    assert any(u["id"] not in member_teams for u in users)
    assert any(n > 1 for n in member_teams.values())
    by_name = sorted(services, key=lambda s: (s["name"].casefold(), s["id"]))
    assert any(not team_ids_of(s) for s in by_name[CAP:]), "a no-team service must lie past the cap"

    app = emulator_app(big_account, tmp_path)
    snap, fields = crawl(app, tmp_path / "snap", skip=SKIP)
    for name in ("services", "users", "escalation_policies", "teams", "schedules"):
        got = ids(snap.iter(name))
        assert len(got) == len(set(got)), f"{name}: an object arrived twice"
        assert set(got) == set(ids(big_account[name])), f"{name}: objects missing or foreign"
    assert snap.manifest["collections"]["services"]["count"] == len(services)
    requests = snap.manifest["requests"]["by_endpoint"]
    # Services sort both ways: the two ends of the name order cost no more pages than the list has.
    assert requests["GET /services"] <= math.ceil(len(services) / PAGE) + 2
    # Users cannot be sorted: team partitions, then one sweep of the capped list for the
    # people in no team, then the few still out of reach by id. At most about twice the pages.
    assert requests["GET /users"] <= 2 * math.ceil(len(users) / PAGE) + 10
    assert 0 < requests.get("GET /users/{id}", 0) < len(users) // 100
    assert app.stats.by_endpoint.get("/services", 0) == requests["GET /services"]


@pytest.mark.slow
def test_unreachable_objects_fail_the_crawl_with_exit_3(big_account, tmp_path):
    """Users cannot be sorted: people in no team, named to sort past the cap and taken off
    every rotation (so nothing names them), cannot be reached at all."""
    account = copy.deepcopy(big_account)
    members = {m["user_id"] for m in account["memberships"]}
    loners = [u for u in account["users"] if u["id"] not in members]
    for n, user in enumerate(loners):
        user["name"] = f"Zz Former Contractor {n:04d}"
    for schedule in account["schedules"]:
        for layer in schedule["schedule_layers"]:
            layer["users"] = [m for m in layer["users"] if m["user"]["id"] in members]
    app = emulator_app(account, tmp_path)
    out = tmp_path / "snap"
    with pytest.raises(CrawlError, match=r"/users: the API reports 10,600 objects but only [\d,]+ could be "
                                          r"reached \([\d,]+ have no team, lie past the 10,000-record"):
        crawl(app, out, skip=SKIP)
    assert not out.exists(), "no snapshot may claim the partial collection"


def _list_schedule_ids(account, tmp_path):
    client = make_client(emulator_app(account, tmp_path))
    crawler = Crawler(client, SnapshotWriter(tmp_path / "snap"), Window(SINCE, 28))
    try:
        crawler._collection(SPEC_BY_NAME["teams"])
        return sorted(crawler.crawl_list(SCHEDULE_LIST, keep=False)), client.requests["GET /schedules"]
    finally:
        crawler._pool.shutdown(wait=True)
        client.close()


def test_schedule_ids_past_the_cap_are_listed_exactly_once(tmp_path):
    # The schedule list is read for ids only (details carry everything); past 10,000 it is
    # partitioned by team like any other list, then swept for the schedules in no team.
    account = generate_account(services=300, policies=300, schedules=10_300, users=2_000, teams=130, seed=7)
    schedules = account["schedules"]
    teams = [t["id"] for t in account["teams"]]
    for n, schedule in enumerate(schedules):
        if n >= CAP // 2 and not team_ids_of(schedule):  # team-less ones stay only early in the list
            schedule["teams"] = [{"id": teams[n % len(teams)], "type": "team_reference"}]
    assert len(schedules) > CAP and any(not team_ids_of(s) for s in schedules)
    listed, pages = _list_schedule_ids(account, tmp_path)
    assert len(listed) == len(set(listed)) == len(schedules)
    assert set(listed) == set(ids(schedules))
    # Team partitions plus the sweep for team-less schedules: about twice the pages at most.
    assert pages <= 2 * math.ceil(len(schedules) / PAGE) + 10


def test_team_less_schedules_past_the_cap_fail_the_crawl_loudly(tmp_path):
    # The list cannot be sorted, so team-less schedules beyond the first 10,000 are out of reach:
    # the crawl says how many instead of auditing a partial inventory.
    account = generate_account(services=300, policies=300, schedules=10_300, users=2_000, teams=130, seed=7)
    with pytest.raises(CrawlError, match=r"^/schedules: the API reports 10,300 objects but only 10,294 could be "
                                         r"reached \(6 have no team"):
        _list_schedule_ids(account, tmp_path)
