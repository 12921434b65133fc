"""What the client makes of answers a crawl cannot retry away: objects gone, refusals, echoed tokens, bad hosts.

Every case is an answer PagerDuty (or the network) really gives: a 404 from a per-object
path for an object deleted since a list named it, the 400 ``/schedules/{id}`` gives for a
schedule now shift-based, error text that repeats the credential, an unknown host, a
refused connection, an id that is not one path segment.
"""

from __future__ import annotations

import socket

import httpx2
import pytest

from audit.client import ApiClient, ApiError, Gone, Unavailable
from audit.errors import CrawlError, ExitCode
from audit.redaction import REDACTED, Redactor
from tests.test_client import OK, TOKEN, FakeTime, make_client, scripted

NOT_FOUND = (404, {}, {"error": {"message": "Not Found", "code": 2100}})
INVALID = (400, {}, {"error": {"message": "Invalid Input Provided", "code": 2001}})


# ---------------------------------------------------------------- gone objects


@pytest.mark.parametrize("template", ["/teams/{id}/members", "/users/{id}/oncall_handoff_notification_rules",
                                      "/service_dependencies/technical_services/{id}", "/users/{id}",
                                      "/schedules/{id}", "/v3/schedules/{id}"])
def test_a_404_from_a_per_object_path_means_the_object_is_gone(template):
    transport, calls = scripted([NOT_FOUND])
    with pytest.raises(Gone) as info:
        make_client(transport, FakeTime()).get(template, id="PGONE01")
    assert len(calls) == 1  # not retried
    assert info.value.record() == {"id": "PGONE01", "endpoint": f"GET {template}", "http_status": 404,
                                   "reason": "Not Found"}


def test_a_400_means_gone_only_where_pagerduty_gives_it_for_a_schedule_now_shift_based():
    transport, _ = scripted([INVALID])
    with pytest.raises(Gone, match="shift-based"):
        make_client(transport, FakeTime()).get("/schedules/{id}", id="PSCH001")
    for template in ("/v3/schedules/{id}", "/users/{id}"):
        transport, _ = scripted([INVALID])
        with pytest.raises(ApiError) as info:
            make_client(transport, FakeTime()).get(template, id="PSCH001")
        assert not isinstance(info.value, Gone)


def test_a_404_from_a_list_is_an_api_error_exit_3_naming_the_endpoint():
    transport, _ = scripted([NOT_FOUND])
    with pytest.raises(ApiError) as info:
        make_client(transport, FakeTime()).get("/services", {"limit": 100})
    assert not isinstance(info.value, Gone)
    assert isinstance(info.value, CrawlError) and info.value.exit_code == ExitCode.CRAWL
    assert str(info.value) == "GET /services: HTTP 404 code 2100: Not Found"


@pytest.mark.parametrize("body", [b"[]", b'"maintenance"', b"null"])
def test_an_answer_that_is_not_a_json_object_is_an_api_error_naming_the_endpoint(body):
    transport, _ = scripted([(200, {}, body)])
    with pytest.raises(ApiError, match=r"^GET /teams: HTTP 200: the answer is JSON \w+, not the object"):
        make_client(transport, FakeTime()).get("/teams")


# ---------------------------------------------------------------- the token echoed back


def test_a_400_message_echoing_the_token_is_redacted():
    echoed = {"error": {"message": f"Invalid header Token token={TOKEN}", "code": 2001,
                        "errors": [f"key {TOKEN} malformed", "Authorization: Bearer other-secret-42"]}}
    transport, _ = scripted([(400, {}, echoed)])
    with pytest.raises(ApiError) as info:
        make_client(transport, FakeTime()).get("/services")
    text = str(info.value)
    assert TOKEN not in text and "other-secret-42" not in text and TOKEN[:8] not in text
    assert text.count(REDACTED) == 3 and "malformed" in text


def test_a_403_reason_echoing_the_token_url_quoted_is_redacted():
    transport, _ = scripted([(403, {}, {"error": {"message": "Access Denied for u%2BSECRETtoken_4f9a8b7c6d5e",
                                                  "code": 2010}})])
    with pytest.raises(Unavailable) as info:
        make_client(transport, FakeTime()).get("/standards")
    assert info.value.message == f"Access Denied for {REDACTED}"


@pytest.mark.parametrize("text, expected", [
    ("Token token=abc123 rejected", f"Token token={REDACTED} rejected"),
    ('{"Authorization":"Token token=abc123"}', f'{{"Authorization":"Token token={REDACTED}"}}'),
    ("authorization: Bearer ey.J0", f"authorization: Bearer {REDACTED}"),
    ("GET /x?token=abc&limit=1", f"GET /x?token={REDACTED}&limit=1"),
    ("Not Found", "Not Found"),
])
def test_credential_shaped_text_is_redacted_whoever_it_belongs_to(text, expected):
    assert Redactor().redact(text) == expected


# ---------------------------------------------------------------- path segments


def test_every_path_parameter_is_one_percent_encoded_segment():
    seen = []

    def answer(request):
        seen.append(request.url.raw_path.decode())
        return httpx2.Response(200, json={"team": {"id": "x"}})

    client = ApiClient(TOKEN, transport=httpx2.MockTransport(answer), max_rate_per_minute=60_000)
    client.get("/teams/{id}", id="../abilities")
    client.get("/teams/{id}", id="PTEAM01?x=")
    client.get("/teams/{id}", id="PTEAM01")
    assert seen == ["/teams/..%2Fabilities", "/teams/PTEAM01%3Fx%3D", "/teams/PTEAM01"]


# ---------------------------------------------------------------- failing fast


def failing_transport(error: Exception):
    calls = []

    def answer(request):
        calls.append(request)
        raise error

    return httpx2.MockTransport(answer), calls


def name_error() -> httpx2.ConnectError:
    error = httpx2.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    return error


def test_an_unknown_host_fails_at_once_naming_it():
    transport, calls = failing_transport(name_error())
    fake = FakeTime()
    client = ApiClient(TOKEN, base_url="https://api.pagerduty.invalid", transport=transport,
                       clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(CrawlError, match=r"cannot resolve the host api.pagerduty.invalid \(.*Name or service"):
        client.get("/abilities")
    assert len(calls) == 1 and fake.sleeps == []


def test_an_unreachable_host_is_tried_twice_before_it_has_answered_then_named():
    transport, calls = failing_transport(httpx2.ConnectError("[Errno 111] Connection refused"))
    fake = FakeTime()
    client = make_client(transport, fake)
    with pytest.raises(CrawlError, match=r"cannot reach api.pagerduty.com \(\[Errno 111\] Connection refused\)"):
        client.get("/abilities")
    assert len(calls) == 2 and sum(fake.sleeps) < 1


def test_once_the_host_has_answered_a_refused_connection_is_retried_as_usual():
    calls = []

    def first_ok_then_refused(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx2.Response(OK[0], json=OK[2])
        raise httpx2.ConnectError("[Errno 111] Connection refused")

    client = make_client(httpx2.MockTransport(first_ok_then_refused), FakeTime(), max_attempts=4)
    client.get("/teams")
    with pytest.raises(CrawlError, match="gave up after 4 attempts"):
        client.get("/teams")
    assert len(calls) == 1 + 4


def test_a_refused_token_names_the_host():
    transport, _ = scripted([(401, {}, {"error": {"message": f"Unauthorized {TOKEN}", "code": 2006}})])
    with pytest.raises(CrawlError, match=r"^GET /abilities: api.pagerduty.com refused the token \(HTTP 401\)") as info:
        make_client(transport, FakeTime()).get("/abilities")
    assert TOKEN not in str(info.value)
