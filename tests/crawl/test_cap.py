"""Past the 10,000-record pagination cap: every object arrives exactly once, or the crawl fails loudly.

The account is generated: 10,400 services and 10,600 users over 130 teams, with a share of
services, policies and users in no team and some in two (generate.py). Collections that cost
one request per object and have nothing to do with the cap are skipped to keep the test short.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter

import pytest

from click.testing import CliRunner

from audit.cli import main
from audit.crawl import CAP, PAGE, Crawler, Window
from audit.crawl_specs import SCHEDULE_LIST, SPEC_BY_NAME
from audit.emulator.generate import generate_account
from audit.emulator.serve import start_server
from audit.errors import CrawlError
from audit.snapshot import SnapshotWriter, load

from .conftest import SINCE, TOKEN, crawl, emulator_app, ids, make_client

SKIP = ("service_dependencies", "standards_scores", "handoff_rules", "oncalls")
QUERY_REQUESTS_PER_USER_FOUND = 1  # measured: 164 requests for 415 users (seed 5)


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


def _unreferenced_loners(big_account, rename):
    """The account with its people in no team renamed (``rename(n, user)``) and taken off every
    rotation, so nothing names them; returns (account, their ids)."""
    account = copy.deepcopy(big_account)
    members = {m["user_id"] for m in account["memberships"]}
    # people a policy pages directly stay as they are: the crawler fetches them by id
    targets = {t["id"] for p in account["escalation_policies"] for r in p["escalation_rules"] for t in r["targets"]}
    loners = [u for u in account["users"] if u["id"] not in members and u["id"] not in targets]
    for n, user in enumerate(loners):
        rename(n, user)
    for schedule in account["schedules"]:
        for layer in schedule["schedule_layers"]:
            layer["users"] = [m for m in layer["users"] if m["user"]["id"] in members]
    return account, {u["id"] for u in loners}


@pytest.mark.slow
def test_users_nothing_leads_to_are_found_by_query(big_account, tmp_path):
    """Users cannot be sorted: people in no team, named to sort past the cap and taken off every
    rotation (so nothing names them), are found by partitioning /users by query."""
    account, loners = _unreferenced_loners(
        big_account, lambda n, user: user.update(name=f"Zz Former Contractor {n:04d}"))
    app = emulator_app(account, tmp_path)
    snap, fields = crawl(app, tmp_path / "snap", skip=SKIP)
    got = ids(snap.iter("users"))
    assert len(got) == len(set(got)), "a user arrived twice"
    assert set(got) == set(ids(account["users"]))
    users = snap.manifest["collections"]["users"]
    assert users["status"] == "complete" and users["count"] == len(account["users"])
    partition = users["query_partition"]
    assert 0 < partition["found"] <= len(loners)
    # The partition's price, in the manifest and the request counts: about a page per user found.
    assert partition["requests"] <= QUERY_REQUESTS_PER_USER_FOUND * partition["found"]
    assert fields["requests"]["by_endpoint"]["GET /users"] <= 2 * math.ceil(len(got) / PAGE) + 10 + partition["requests"]


GREEK = "αβγδεζηθικλμνξοπρστυφχψω"


def greek(n: int) -> str:
    word = ""
    while n or not word:
        n, rest = divmod(n, len(GREEK))
        word = GREEK[rest] + word
    return word


@pytest.mark.slow
def test_users_no_query_reaches_leave_users_incomplete_and_strict_exits_3(big_account, tmp_path):
    """Names and e-mails in letters no reachable user has: no query can be grown to them. The
    crawl still ends, users marked incomplete (how many, why); crawl --strict exits 3."""
    account, loners = _unreferenced_loners(big_account, lambda n, user: user.update(
        name=f"Σύμβουλος {greek(n).capitalize()}", email=f"{greek(n)}@παράδειγμα.ελ"))
    path = tmp_path / "account.json"
    path.write_text(json.dumps(account), encoding="utf-8")
    out = tmp_path / "snap"
    with start_server(path, state_dir=tmp_path / "emulator", tokens=[TOKEN]) as server:
        result = CliRunner().invoke(main, [
            "crawl", "--api-url", server.url, "--ca-bundle", str(server.ca_path), "--max-rate", "100000",
            "--since", "2027-01-04T00:00:00Z", "--skip", ",".join(SKIP), "--quiet", "--strict", "--output", str(out)],
            env={"PAGERDUTY_TOKEN": TOKEN})
    assert result.exit_code == 3, result.output
    assert f"--strict: {out} is incomplete: users: " in result.stderr
    users = load(out).manifest["collections"]["users"]  # written all the same: nothing is lost
    assert users["status"] == "incomplete" and users["count"] + users["missing"] == len(account["users"])
    missed = set(ids(account["users"])) - set(ids(load(out).iter("users")))
    assert len(missed) == users["missing"] > 0 and missed <= loners
    assert "no query on their names or e-mails reached them" in users["reason"]
    info = CliRunner().invoke(main, ["snapshot", "info", str(out)])
    assert f"incomplete: {users['missing']} missing" in info.stdout


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
