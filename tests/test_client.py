"""The API client: bounded retries, ratelimit-reset, 401/402 handling, no token in errors."""

from __future__ import annotations

import json
import random

import httpx2
import pytest

from audit.client import ApiClient, ApiError, Pacer, Unavailable
from audit.errors import CrawlError, UserError

TOKEN = "u+SECRETtoken_4f9a8b7c6d5e"


class FakeTime:
    """A clock that only moves when something sleeps, so tests run instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(responses):
    """A WSGI app answering from a list of (status, headers, body) or exceptions, in order.

    An exception is raised out of the app, which the WSGI transport hands to the
    client as if the connection had failed.
    """
    calls = []

    def app(environ, start_response):
        calls.append(environ)
        item = responses[min(len(calls), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        status, headers, body = item
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"), *headers.items()])
        return [content]

    return httpx2.WSGITransport(app=app), calls


def make_client(transport, fake: FakeTime, **kw) -> ApiClient:
    return ApiClient(TOKEN, transport=transport, clock=fake.clock, sleep=fake.sleep,
                     rng=random.Random(7), max_rate_per_minute=60_000, **kw)


RATE_LIMITED = (429, {"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "17"},
                {"error": {"message": "Rate Limit Exceeded", "code": 2020}})
OK = (200, {}, {"teams": [{"id": "PTEAM01"}], "more": False})


def test_429_waits_for_ratelimit_reset_then_succeeds():
    fake = FakeTime()
    transport, calls = scripted([RATE_LIMITED, OK])
    client = make_client(transport, fake)
    body = client.get("/teams")
    assert body["teams"][0]["id"] == "PTEAM01"
    assert len(calls) == 2
    assert client.throttled == 1
    # the pause honours ratelimit-reset (17 s) plus a little jitter, not the library's fixed curve
    assert 17 <= sum(fake.sleeps) <= 19


def test_429_forever_gives_up_after_max_attempts():
    fake = FakeTime()
    transport, calls = scripted([RATE_LIMITED])
    client = make_client(transport, fake, max_attempts=4)
    with pytest.raises(CrawlError, match=r"GET /teams .*gave up after 4 attempts: HTTP 429"):
        client.get("/teams")
    assert len(calls) == 4


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_with_backoff(status):
    fake = FakeTime()
    transport, calls = scripted([(status, {}, {"error": {"message": "oops"}}), (status, {}, b""), OK])
    client = make_client(transport, fake)
    assert client.get("/teams")["teams"]
    assert len(calls) == 3
    assert client.retries == 2
    assert all(0 <= s <= 30 for s in fake.sleeps)


def test_network_errors_and_truncated_bodies_are_retried():
    fake = FakeTime()
    transport, calls = scripted([
        httpx2.ConnectError("connection refused"),
        httpx2.ReadTimeout("slow"),
        (200, {}, b'{"teams": [{"id": "PTE'),  # body cut short
        OK,
    ])
    client = make_client(transport, fake)
    assert client.get("/teams")["teams"][0]["id"] == "PTEAM01"
    assert len(calls) == 4


def test_persistent_network_error_names_the_endpoint():
    fake = FakeTime()
    transport, _ = scripted([httpx2.ReadTimeout("slow")])
    client = make_client(transport, fake, max_attempts=3)
    with pytest.raises(CrawlError, match=r"GET /schedules/\{id\} \(/schedules/PSCH001\): gave up after 3 attempts: a timeout"):
        client.get("/schedules/{id}", id="PSCH001")


def test_401_stops_at_once_without_the_token():
    fake = FakeTime()
    transport, calls = scripted([(401, {}, {"error": {"message": "Unauthorized", "code": 2006}})])
    client = make_client(transport, fake)
    with pytest.raises(CrawlError) as info:
        client.get("/users")
    assert len(calls) == 1
    assert "401" in str(info.value)
    assert TOKEN not in str(info.value) and TOKEN[-4:] not in str(info.value)


@pytest.mark.parametrize("status", [402, 403])
def test_402_and_403_mean_unavailable(status):
    fake = FakeTime()
    transport, _ = scripted([(status, {}, {"error": {"message": "Account does not have the ability", "code": 2014}})])
    client = make_client(transport, fake)
    with pytest.raises(Unavailable) as info:
        client.get("/standards")
    assert info.value.status == status
    assert "ability" in info.value.message


def test_400_cap_error_carries_pagerduty_code():
    fake = FakeTime()
    body = {"error": {"message": "Offset must be less than 10000", "code": 2002}}
    transport, _ = scripted([(400, {}, body)])
    client = make_client(transport, fake)
    with pytest.raises(ApiError) as info:
        client.get("/users", {"offset": 10000, "limit": 100})
    assert info.value.code == 2002 and info.value.status == 400


def test_token_sent_as_pagerduty_token_header_and_requests_counted():
    fake = FakeTime()
    transport, calls = scripted([OK, OK])
    client = make_client(transport, fake)
    client.get("/teams", {"limit": 100})
    client.get("/schedules/{id}", id="PSCH001")
    assert calls[0]["HTTP_AUTHORIZATION"] == f"Token token={TOKEN}"
    assert calls[1]["PATH_INFO"] == "/schedules/PSCH001"
    assert client.requests == {"GET /teams": 1, "GET /schedules/{id}": 1}


@pytest.mark.parametrize("url", ["http://api.pagerduty.com", "api.pagerduty.com", "https://", "https://h/?x=1",
                                 "https://user@api.pagerduty.com", "https://api.pagerduty.com:port"])
def test_refuses_anything_but_an_https_url_as_a_usage_error(url):
    with pytest.raises(UserError, match="--api-url"):
        ApiClient(TOKEN, base_url=url)


def test_pacer_spaces_requests_and_slows_before_the_limit():
    fake = FakeTime()
    pacer = Pacer(600, clock=fake.clock, sleep=fake.sleep)  # one every 0.1 s
    for _ in range(5):
        pacer.wait()
    assert fake.now == pytest.approx(1000.4)
    pacer.observe({"ratelimit-remaining": "1", "ratelimit-reset": "30"})
    pacer.wait()  # the next free slot was 1000.5; the budget resets 30 s from 1000.4
    assert fake.now == pytest.approx(1030.4)
    # plenty left: no extra hold
    pacer.observe({"ratelimit-remaining": "500", "ratelimit-reset": "30"})
    before = fake.now
    pacer.wait()
    assert fake.now - before == pytest.approx(0.1)
