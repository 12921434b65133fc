"""The crawler against the in-process emulator: completeness, unavailability, faults, resume."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from audit.errors import CrawlError

from .conftest import SINCE, SharedClock, crawl, emulator_app, ids


def canonical(snapshot) -> dict[str, list[str]]:
    """A crawl's content, independent of the order requests finished in."""
    return {
        name: sorted(json.dumps(obj, sort_keys=True) for obj in snapshot.iter(name))
        for name in snapshot.manifest["collections"]
    }


def test_example_account_arrives_whole(acme_account, tmp_path):
    app = emulator_app(acme_account, tmp_path)
    snap, fields = crawl(app, tmp_path / "snap")
    for name in ("teams", "users", "services", "escalation_policies", "business_services"):
        got = ids(snap.iter(name))
        assert sorted(got) == sorted(ids(acme_account[name])), name
        assert len(got) == len(set(got)), f"{name} has duplicates"
    assert sorted(ids(snap.iter("schedules"))) == sorted(ids(acme_account["schedules"]))
    assert sorted(ids(snap.iter("schedules_v3"))) == sorted(ids(acme_account["schedules_v3"]))
    assert len(acme_account["schedules_v3"]) >= 1
    members = Counter(line["team_id"] for line in snap.iter("team_members"))
    assert members == Counter(m["team_id"] for m in acme_account["memberships"])
    # users come with their contact methods and both urgencies of notification rules
    users = {u["id"]: u for u in snap.iter("users")}
    for user in acme_account["users"]:
        got = users[user["id"]]
        assert sorted(ids(got["contact_methods"])) == sorted(ids(user.get("contact_methods", [])))
        assert sorted(ids(got["notification_rules"])) == sorted(ids(user.get("notification_rules", [])))
    # schedules are the rendered details over the window, v3 ones included
    for schedule in snap.iter("schedules"):
        assert "final_schedule" in schedule and "overrides_subschedule" in schedule
    for schedule in snap.iter("schedules_v3"):
        assert schedule["type"] == "schedule_v3" and "final_schedule" in schedule
    assert snap.window == {"since": "2027-01-04T00:00:00Z", "until": "2027-02-01T00:00:00Z", "days": 28}
    manifest = snap.manifest
    for name, info in manifest["collections"].items():
        if info["status"] == "complete":
            assert info["count"] == len(list(snap.iter(name))), name
    assert snap.collection("oncalls"), "the window has on-call entries"


def test_request_counts_are_near_the_lower_bound(acme_account, tmp_path):
    app = emulator_app(acme_account, tmp_path)
    snap, fields = crawl(app, tmp_path / "snap")
    requests = snap.manifest["requests"]
    assert requests["total"] == sum(requests["by_endpoint"].values())
    schedules = len(acme_account["schedules"])
    assert requests["by_endpoint"]["GET /schedules/{id}"] == schedules  # one detail each, no overrides call
    assert "GET /schedules/{id}/overrides" not in requests["by_endpoint"]
    assert "GET /users/{id}/contact_methods" not in requests["by_endpoint"]  # include[] instead
    assert requests["total"] <= requests["lower_bound"]["total"] * 1.05 + 1


def test_handoff_rules_arrive_whole_in_one_unpaginated_answer(acme_account, tmp_path):
    # PagerDuty does not page hand-off rules: one request per on-call user returns all of them.
    account = json.loads(json.dumps(acme_account))
    user = next(u for u in account["users"] if u["id"] == "PUSR001")
    method = user["contact_methods"][0]
    user["oncall_handoff_notification_rules"] = [
        {"id": f"PHO{n:04d}", "handoff_type": "both", "notify_advance_in_minutes": n,
         "contact_method": {"id": method["id"], "type": method["type"]}} for n in range(30)]
    snap, fields = crawl(emulator_app(account, tmp_path), tmp_path / "snap")
    rules = {line["user_id"]: line["oncall_handoff_notification_rules"] for line in snap.iter("handoff_rules")}
    assert [r["id"] for r in rules["PUSR001"]] == [f"PHO{n:04d}" for n in range(30)]
    on_call = {(e.get("user") or {}).get("id") for e in snap.iter("oncalls")} - {None}
    assert "PUSR001" in on_call
    assert fields["requests"]["by_endpoint"]["GET /users/{id}/oncall_handoff_notification_rules"] == len(on_call)


def test_missing_ability_marks_the_collection_unavailable(acme_account, tmp_path):
    account = dict(acme_account, abilities=[a for a in acme_account["abilities"] if a != "standards"])
    app = emulator_app(account, tmp_path)
    snap, _ = crawl(app, tmp_path / "snap")
    info = snap.manifest["collections"]["standards"]
    assert info["status"] == "unavailable" and info["http_status"] == 402
    assert info["reason"]
    scores = snap.manifest["collections"]["standards_scores"]
    assert scores["status"] == "unavailable" and "standards" in scores["reason"]
    assert sorted(ids(snap.iter("services"))) == sorted(ids(acme_account["services"]))


def test_scope_to_teams(acme_account, tmp_path):
    team = acme_account["teams"][0]["id"]
    snap, _ = crawl(emulator_app(acme_account, tmp_path), tmp_path / "snap", team_ids=[team])
    assert ids(snap.iter("teams")) == [team]
    expected = {s["id"] for s in acme_account["services"] if team in ids(s.get("teams") or [])}
    assert set(ids(snap.iter("services"))) == expected
    assert snap.manifest["scope"] == {"team_ids": [team]}


def test_scope_to_unknown_team_fails(acme_account, tmp_path):
    with pytest.raises(CrawlError, match="PNOSUCH does not exist"):
        crawl(emulator_app(acme_account, tmp_path), tmp_path / "snap", team_ids=["PNOSUCH"])


def test_rate_limit_is_respected_with_few_429s(acme_account, tmp_path):
    """The emulator allows 40 requests a minute; the client is told it may go much faster.

    Reading ratelimit-remaining, it waits for the window to reset before it runs out, so
    almost no request is refused, and the content is the same as an unhurried crawl's.
    """
    time = SharedClock(SINCE)
    app = emulator_app(acme_account, tmp_path, rate_limit_per_minute=40, clock=time.moment)
    snap, fields = crawl(app, tmp_path / "snap", workers=4,
                         client_options={"clock": time.clock, "sleep": time.sleep})
    requests = fields["requests"]
    assert requests["total"] > 100
    assert requests["throttled"] <= 0.01 * requests["total"] + 1
    # 40 a minute: the crawl took at least as many emulated minutes as it needed windows
    assert time.slept >= 60 * (requests["total"] // 40 - 1)
    clean, _ = crawl(emulator_app(acme_account, tmp_path), tmp_path / "clean")
    assert canonical(snap) == canonical(clean)
