"""Every endpoint's answers, lists and details, validated against PagerDuty's OpenAPI subset.

Two documented gaps between the published schema and the API are tolerated, and only those:
``null`` where the schema's own description says null is meaningful but forgets ``nullable``
(a layer's ``end``, an on-call's ``start``/``end``/``schedule`` for direct user targets), and
full objects where ``include[]`` replaces references (the schema declares the reference type).
"""

from __future__ import annotations

import json

import httpx2
import pytest

WINDOW = "since=2026-03-06T00:00:00-05:00&until=2026-03-11T00:00:00-04:00"
STRICT = [
    "/abilities", "/abilities/teams",
    "/teams", "/teams/PTEAM01", "/teams/PTEAM01/members",
    "/users", "/users?team_ids[]=PTEAM02", "/users/PUSR001", "/users/PUSR006",
    "/users/PUSR001/contact_methods", "/users/PUSR001/notification_rules",
    "/users/PUSR001/notification_rules?urgency=all",
    "/services", "/services?team_ids[]=PTEAM01&query=pay", "/services/PSVC001",
    "/escalation_policies", "/escalation_policies/PEP0002",
    "/schedules", "/schedules/PSCH001/overrides?" + WINDOW, "/schedules/PSCH001/users?" + WINDOW,
    "/v3/schedules", "/v3/schedules?team_ids[]=PTEAM02&limit=1000", "/v3/schedules/PSV3001",
    "/v3/schedules/PSV3001?include[]=final_schedule&include[]=users&" + WINDOW,
    "/oncalls?schedule_ids[]=PSCH001&schedule_ids[]=PSV3001&" + WINDOW,
    "/business_services", "/business_services/PBS0001",
    "/service_dependencies/technical_services/PSVC001", "/service_dependencies/business_services/PBS0001",
    "/standards", "/standards?active=true", "/standards/scores/technical_services?ids[]=PSVC001&ids[]=PSVC002",
    "/standards/scores/technical_services/PSVC001", "/standards/scores/technical_services/PSVC004",
    "/priorities", "/maintenance_windows", "/maintenance_windows?filter=future",
    # errors share one schema
    "/users/PNOBODY", "/schedules/PSV3001", "/users?offset=9950&limit=100",
]
WITH_NULLS = ["/schedules/PSCH001", "/schedules/PSCH001?" + WINDOW, "/oncalls", "/oncalls?" + WINDOW]
WITH_INCLUDES = [
    "/users/PUSR001/notification_rules?urgency=all&include[]=contact_methods",
    "/users?include[]=contact_methods&include[]=notification_rules&include[]=teams",
    "/teams/PTEAM01/members?include[]=users",
    "/services?include[]=escalation_policies&include[]=teams&include[]=integrations",
    "/escalation_policies?include[]=services&include[]=teams&include[]=targets",
]


@pytest.mark.parametrize("url", STRICT)
def test_answers_conform_to_the_schema(http, schema, url):
    response = http.get(url)
    assert schema.errors(url.partition("?")[0], response) == []


@pytest.mark.parametrize("url", WITH_NULLS)
def test_only_documented_nulls_break_the_schema(http, schema, url):
    response = http.get(url)
    assert response.status_code == 200
    for json_path, message in schema.errors(url.partition("?")[0], response):
        assert json_path[-1] in ("end", "start", "schedule") and "None" in message, (json_path, message)


@pytest.mark.parametrize("url", WITH_INCLUDES)
def test_include_only_swaps_references_for_objects(http, schema, url):
    response = http.get(url)
    assert response.status_code == 200
    errors = schema.errors(url.partition("?")[0], response)
    assert errors, "include[] should have replaced references with full objects"
    for json_path, message in errors:
        assert json_path[-1] == "type" and "_reference" in message, (json_path, message)


def test_schema_check_catches_a_broken_answer(http, schema):
    broken = http.get("/users/PUSR001").json()
    broken["user"]["email"] = 42
    response = httpx2.Response(200, content=json.dumps(broken).encode())
    assert any(path[-1] == "email" for path, _ in schema.errors("/users/PUSR001", response))
