"""The emulator's API behaviour: pagination and its cap, filters, include[], references, auth,
plan abilities, the rate limiter, request stats, and the real pagerduty client on top."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx2
import pagerduty
import pytest

from audit.emulator.account import build_account
from audit.emulator.app import create_app

from .conftest import NOW, TOKEN

# -- pagination -------------------------------------------------------------------------------

def test_default_page_is_25_and_total_only_on_request(account_data, client_for, now):
    account_data["users"] += [
        {"id": f"PX{n:05d}", "type": "user", "name": f"Contractor {n:03d}", "email": f"c{n}@northwind.example"}
        for n in range(40)
    ]
    http = client_for(create_app(build_account(account_data), clock=lambda: now))
    first = http.get("/users").json()
    assert (len(first["users"]), first["limit"], first["offset"], first["more"], first["total"]) == (25, 25, 0, True, None)
    last = http.get("/users", params={"offset": 25, "total": "true"}).json()
    assert (len(last["users"]), last["more"], last["total"]) == (24, False, 49)
    names = [u["name"] for u in first["users"] + last["users"]]
    assert names == sorted(names, key=str.casefold)  # PagerDuty's default order


def test_limit_over_100_is_lowered_to_100(http):
    body = http.get("/users", params={"limit": 500}).json()
    assert body["limit"] == 100 and len(body["users"]) == 9


@pytest.mark.parametrize("offset, limit, status", [(9900, 100, 200), (9901, 100, 400), (10000, 1, 400), (9999, 1, 200)])
def test_offset_plus_limit_may_not_pass_10000(http, offset, limit, status):
    response = http.get("/services", params={"offset": offset, "limit": limit})
    assert response.status_code == status
    if status == 400:
        error = response.json()["error"]
        assert error["code"] == 2002 and error["message"] == "Arguments Caused Error"
        assert "Offset+limit exceeds maximum allowed value of 10000" in error["errors"][0]
    else:
        assert response.json()["services"] == []


def test_v3_list_takes_up_to_1000_and_has_no_total(http):
    body = http.get("/v3/schedules", params={"limit": 1000, "total": "true"}).json()
    assert body == {"schedules": [body["schedules"][0]], "limit": 1000, "offset": 0, "more": False}
    assert body["schedules"][0]["type"] == "schedule_v3_reference"
    assert http.get("/v3/schedules", params={"limit": 1001}).status_code == 400


# -- filters, references, include[] ------------------------------------------------------------

def test_team_filters_follow_memberships_and_policies(http):
    platform_users = {u["id"] for u in http.get("/users", params={"team_ids[]": "PTEAM02"}).json()["users"]}
    assert platform_users == {"PUSR007", "PUSR008", "PUSR001"}
    payments_services = [s["name"] for s in http.get("/services", params={"team_ids[]": "PTEAM01"}).json()["services"]]
    assert payments_services == ["Fraud Scoring", "Ledger", "Payments API"]
    two_teams = http.get("/escalation_policies", params={"team_ids[]": ["PTEAM02", "PTEAM03"]}).json()
    assert [p["id"] for p in two_teams["escalation_policies"]] == ["PEP0003", "PEP0002"]
    assert [s["id"] for s in http.get("/v3/schedules", params={"team_ids[]": "PTEAM01"}).json()["schedules"]] == []
    assert [s["id"] for s in http.get("/schedules", params={"team_ids[]": "PTEAM01"}).json()["schedules"]] == ["PSCH001"]


def test_query_filters_by_name_or_email(http):
    assert [u["id"] for u in http.get("/users", params={"query": "HADDAD"}).json()["users"]] == ["PUSR006"]
    assert [u["id"] for u in http.get("/users", params={"query": "greta@"}).json()["users"]] == ["PUSR007"]
    assert [s["id"] for s in http.get("/services", params={"query": "ledg"}).json()["services"]] == ["PSVC002"]
    # names (and a user's e-mail) only: "wallet" is in the Payments API's description, not its name
    assert http.get("/services", params={"query": "wallet"}).json()["services"] == []


def test_policy_user_filter_reaches_through_schedules(http):
    ids = [p["id"] for p in http.get("/escalation_policies", params={"user_ids[]": "PUSR004"}).json()["escalation_policies"]]
    assert ids == ["PEP0003", "PEP0001"]  # Dolores is on the after-hours layer both policies target


def test_references_carry_summary_self_and_html_url(http):
    service = http.get("/services/PSVC001").json()["service"]
    assert service["html_url"] == "https://northwind.pagerduty.com/service-directory/PSVC001"
    assert service["escalation_policy"] == {
        "id": "PEP0001", "type": "escalation_policy_reference", "summary": "Payments",
        "self": "https://api.pagerduty.com/escalation_policies/PEP0001",
        "html_url": "https://northwind.pagerduty.com/escalation_policies/PEP0001"}
    assert [t["summary"] for t in service["teams"]] == ["Payments"]  # from its policy
    policy = http.get("/escalation_policies/PEP0001").json()["escalation_policy"]
    assert [s["id"] for s in policy["services"]] == ["PSVC005", "PSVC002", "PSVC001"]
    assert [t["type"] for r in policy["escalation_rules"] for t in r["targets"]] == ["schedule_reference", "user_reference"]


def test_include_expands_what_the_api_offers(http):
    user = http.get("/users", params={"include[]": ["contact_methods", "notification_rules", "teams"], "query": "farah"}).json()["users"][0]
    assert [m["address"] for m in user["contact_methods"]] == ["farah@northwind.example"]
    assert {r["urgency"] for r in user["notification_rules"]} == {"high", "low"}
    assert user["teams"][0]["description"] == "Money movement"
    service = http.get("/services/PSVC003", params={"include[]": ["escalation_policies", "integrations"]}).json()["service"]
    assert service["escalation_policy"]["escalation_rules"][0]["targets"][0]["type"] == "schedule_v3_reference"
    assert service["integrations"][0]["service"]["id"] == "PSVC003"
    policy = http.get("/escalation_policies/PEP0001", params={"include[]": "targets"}).json()["escalation_policy"]
    assert [t["type"] for r in policy["escalation_rules"] for t in r["targets"]] == ["schedule", "user"]
    # the v2 API has no full v3 schedule target: include[]=targets leaves it a schedule_v3_reference
    platform = http.get("/escalation_policies/PEP0002", params={"include[]": "targets"}).json()["escalation_policy"]
    assert platform["escalation_rules"][0]["targets"][0]["type"] == "schedule_v3_reference"
    members = http.get("/teams/PTEAM02/members", params={"include[]": "users"}).json()["members"]
    assert {(m["user"]["email"], m["role"]) for m in members} >= {("greta@northwind.example", "manager")}


def test_notification_rules_default_to_high_urgency(http):
    high = http.get("/users/PUSR001/notification_rules").json()["notification_rules"]
    assert [r["urgency"] for r in high] == ["high"]
    assert len(http.get("/users/PUSR001/notification_rules", params={"urgency": "all"}).json()["notification_rules"]) == 2
    low = http.get("/users/PUSR001/notification_rules", params={"urgency": "low", "include[]": "contact_methods"}).json()
    assert low["notification_rules"][0]["contact_method"]["address"] == "amara@northwind.example"


def test_schedule_list_never_carries_final_schedule_and_detail_renders_on_request(http):
    listed = http.get("/schedules", params={"include[]": "final_schedule", "since": "2026-03-09T00:00:00Z",
                                            "until": "2026-03-10T00:00:00Z"}).json()["schedules"][0]
    assert "final_schedule" not in listed and "schedule_layers" not in listed
    bare = http.get("/schedules/PSCH001").json()["schedule"]
    assert "rendered_schedule_entries" not in bare["final_schedule"]
    rendered = http.get("/schedules/PSCH001", params={"until": "2026-03-10T00:00:00Z", "time_zone": "Europe/London"}).json()["schedule"]
    entries = rendered["final_schedule"]["rendered_schedule_entries"]
    assert entries[0]["start"] == "2026-02-24T00:00:00+00:00"  # since defaults to two weeks before until
    assert rendered["schedule_layers"][0]["rendered_coverage_percentage"] > 0
    assert [p["id"] for p in rendered["escalation_policies"]] == ["PEP0003", "PEP0001"]


def test_v3_schedule_is_refused_by_the_v2_endpoint_and_vice_versa(http):
    refused = http.get("/schedules/PSV3001")
    assert refused.status_code == 400 and "/v3/schedules" in refused.json()["error"]["errors"][0]
    wrong_version = http.get("/v3/schedules/PSCH001")
    assert wrong_version.status_code == 400 and "/schedules/{id}" in wrong_version.json()["error"]["errors"][0]
    assert http.get("/v3/schedules/PNOSUCH").status_code == 404
    assert http.get("/v3/schedules/PSV3001", params={"include[]": "final_schedule"}).status_code == 400


def test_overrides_need_a_window(http):
    assert http.get("/schedules/PSCH001/overrides").status_code == 400
    overrides = http.get("/schedules/PSCH001/overrides", params={"since": "2026-03-09T00:00:00Z", "until": "2026-03-16T00:00:00Z"}).json()
    assert [(o["id"], o["start"], o["user"]["summary"]) for o in overrides["overrides"]] == [
        ("POVR001", "2026-03-09T20:00:00-04:00", "Chen Wei")]


def test_dependencies_standards_and_maintenance_windows(http):
    relationships = http.get("/service_dependencies/technical_services/PSVC001").json()["relationships"]
    assert {(r["supporting_service"]["id"], r["dependent_service"]["type"]) for r in relationships} == {
        ("PSVC001", "business_service_reference"), ("PSVC002", "technical_service_reference")}
    assert [s["id"] for s in http.get("/standards", params={"active": "true"}).json()["standards"]] == ["01STD0DESCRIPTION"]
    scores = http.get("/standards/scores/technical_services", params={"ids[]": ["PSVC001", "PSVC004"]}).json()
    assert [r["resource_id"] for r in scores["resources"]] == ["PSVC001"]
    assert http.get("/standards/scores/technical_services").status_code == 400
    assert http.get("/standards/scores/business_services/PBS0001").status_code == 400
    future = http.get("/maintenance_windows", params={"filter": "future"}).json()["maintenance_windows"]
    assert [(w["id"], [t["id"] for t in w["teams"]]) for w in future] == [("PMW0002", ["PTEAM02"])]


def test_handoff_rules_are_not_paginated(account_data, client_for):
    user = account_data["users"][0]
    method = user["contact_methods"][0]
    user["oncall_handoff_notification_rules"] = [
        {"id": f"PHO{n:04d}", "handoff_type": "both", "notify_advance_in_minutes": 0,
         "contact_method": {"id": method["id"], "type": method["type"]}} for n in range(30)]
    http = client_for(create_app(build_account(account_data), tokens=[TOKEN], clock=lambda: NOW))
    body = http.get(f"/users/{user['id']}/oncall_handoff_notification_rules", params={"limit": 10}).json()
    assert list(body) == ["oncall_handoff_notification_rules"]  # the wrapper key alone, as at PagerDuty
    assert len(body["oncall_handoff_notification_rules"]) == 30


def test_extensions_are_listed_apart_from_the_services_they_serve(account_data, client_for):
    # As at PagerDuty: one paginated list naming each extension's services; never on the service
    # object, even where an account file puts them there.
    account_data["services"][0]["extensions"] = [{"id": "PEXT001", "type": "extension_reference"}]
    http = client_for(create_app(build_account(account_data), tokens=[TOKEN], clock=lambda: NOW))
    body = http.get("/extensions", params={"total": "true"}).json()
    assert [(e["id"], [s["id"] for s in e["extension_objects"]]) for e in body["extensions"]] == [
        ("PEXT001", ["PSVC001", "PSVC002"]), ("PEXT002", ["PSVC002"])]
    assert body["total"] == 2 and body["more"] is False
    assert body["extensions"][0]["extension_objects"][0]["type"] == "service_reference"
    assert body["extensions"][0]["extension_schema"]["self"].endswith("/extension_schemas/PSLACK1")
    only = http.get("/extensions", params={"extension_object_id": "PSVC001"}).json()["extensions"]
    assert [e["id"] for e in only] == ["PEXT001"]
    by_schema = http.get("/extensions", params={"extension_schema_id": "PWEBHK2"}).json()["extensions"]
    assert [e["id"] for e in by_schema] == ["PEXT002"]
    assert all("extensions" not in s for s in http.get("/services").json()["services"])
    assert "extensions" not in http.get("/services/PSVC001").json()["service"]


# -- auth, abilities, rate limit, stats ---------------------------------------------------------

@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_bad_or_missing_token_gets_401(app, client_for, token):
    response = client_for(app, token).get("/users")
    assert response.status_code == 401
    assert response.json() == {"error": {"message": "Authentication failed", "code": 2006}}


def test_missing_ability_gets_402_and_abilities_endpoint_answers_204_or_402(account_data, client_for):
    account_data["abilities"] = ["urgencies"]
    http = client_for(create_app(build_account(account_data)))
    for url in ("/teams", "/teams/PTEAM01/members", "/business_services", "/standards",
                "/service_dependencies/technical_services/PSVC001"):
        response = http.get(url)
        assert response.status_code == 402, url
        assert response.json()["error"]["code"] == 2014  # the plan lacks the feature (2012: account expired)
    assert http.get("/users").status_code == 200
    assert http.get("/abilities/urgencies").status_code == 204
    assert http.get("/abilities/teams").status_code == 402
    assert http.get("/abilities").json() == {"abilities": ["urgencies"]}


def test_rate_limit_headers_429_and_window_reset(account, client_for, token, now):
    moment = [now]
    app = create_app(account, tokens=[token, "second-token"], rate_limit_per_minute=3, clock=lambda: moment[0])
    http, other = client_for(app), client_for(app, "second-token")
    answers = [http.get("/priorities") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["ratelimit-limit"] == "3" and "retry-after" not in a.headers for a in answers)
    assert answers[3].json() == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    moment[0] = now + timedelta(seconds=45)
    late = http.get("/priorities")
    assert (late.status_code, late.headers["ratelimit-reset"]) == (429, "15")
    assert other.get("/priorities").status_code == 200  # limits are per credential
    moment[0] = now + timedelta(seconds=60)
    fresh = http.get("/priorities")
    assert (fresh.status_code, fresh.headers["ratelimit-remaining"], fresh.headers["ratelimit-reset"]) == (200, "2", "60")


def test_stats_count_requests_by_endpoint(app, http):
    for url in ("/users", "/users/PUSR001", "/users/PUSR002", "/nowhere", "/oncalls"):
        http.get(url)
    assert app.stats.by_endpoint == {"/users": 1, "/users/{id}": 2, "(unrouted)": 1, "/oncalls": 1}
    assert app.stats.total == 5
    assert http.get("/nowhere").json()["error"]["code"] == 2100


def test_only_get_is_served(http):
    response = http.post("/users", json={"user": {}})
    assert response.status_code == 405 and "error" in response.json()


# -- through the real client ---------------------------------------------------------------------

def test_pagerduty_client_pages_and_reads_details(pd_client):
    services = list(pd_client.iter_all("services"))
    assert [s["id"] for s in services] == ["PSVC005", "PSVC003", "PSVC002", "PSVC004", "PSVC001"]
    assert pd_client.rget("/escalation_policies/PEP0002")["name"] == "Platform"
    assert pd_client.account_has_ability("teams") is True
    assert pd_client.account_has_ability("event_orchestration") is False


def test_large_account_pages_through_every_user_once(account_data, client_for, token):
    account_data["users"] = [
        {"id": f"PU{n:06d}", "type": "user", "name": f"User {n:06d}", "email": f"u{n}@big.example"} for n in range(15_000)
    ]
    account_data["memberships"] = [{"team_id": "PTEAM01", "user_id": f"PU{n:06d}"} for n in range(0, 15_000, 3)]
    for schedule in account_data["schedules"]:
        for layer in schedule["schedule_layers"]:
            layer["users"] = [{"user": {"id": "PU000001", "type": "user_reference"}}]
    account_data["overrides"] = []
    account_data["escalation_policies"][0]["escalation_rules"][1]["targets"] = [{"id": "PU000002", "type": "user_reference"}]
    account_data["escalation_policies"][2]["escalation_rules"][0]["targets"] = [{"id": "PU000003", "type": "user_reference"}]
    for event in itertools.chain.from_iterable(r["events"] for r in account_data["schedules_v3"][0]["rotations"]):
        event["assignment_strategy"]["members"] = [{"type": "user_member", "user_id": "PU000004"}]
    app = create_app(build_account(account_data))
    client = pagerduty.RestApiV2Client(token, base_url="https://api.pagerduty.com", transport=httpx2.WSGITransport(app=app))
    ids = [u["id"] for u in client.iter_all("users", params={"team_ids[]": ["PTEAM01"]})]
    assert len(ids) == 5000 and len(set(ids)) == 5000
    assert app.stats.by_endpoint["/users"] == 50
    assert client_for(app).get("/users", params={"offset": 9950, "limit": 100}).status_code == 400
    # Unfiltered, the client stops silently at the 10,000 cap: why the crawler partitions by team.
    with pytest.warns(UserWarning, match="exceeds the maximum permitted"):
        assert sum(1 for _ in client.iter_all("users")) == 10_000
    client.close()


def test_clock_defaults_to_now(account, client_for):
    app = create_app(account)
    oncalls = client_for(app).get("/oncalls", params={"user_ids[]": "PUSR009"}).json()["oncalls"]
    assert oncalls[0]["start"] is None
    assert abs(app.clock() - datetime.now(UTC)) < timedelta(minutes=1)


def test_services_and_policies_sort_by_name_either_way(http, account_data):
    for path, key in (("/services", "services"), ("/escalation_policies", "escalation_policies")):
        names = sorted((o["name"] for o in account_data[key]), key=str.casefold)
        ascending = [o["name"] for o in http.get(path, params={"limit": 100}).json()[key]]
        descending = [o["name"] for o in http.get(path, params={"limit": 100, "sort_by": "name:desc"}).json()[key]]
        assert ascending == names and descending == names[::-1]
    assert http.get("/services", params={"sort_by": "created_at"}).status_code == 400
