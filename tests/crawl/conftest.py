"""Helpers for crawling emulated accounts in-process."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest

from audit.client import ApiClient
from audit.crawl import Window, crawl_to_snapshot
from audit.emulator.account import load_account
from audit.emulator.app import create_app
from audit.snapshot import load

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "examples" / "acme" / "account.json"
TOKEN = "y_NbAkKc66ryYTWUXYEu"  # a made-up key of PagerDuty's shape
SINCE = datetime.fromisoformat("2027-01-04T00:00:00+00:00")
BASE_URL = "https://api.pagerduty.com"  # answered in-process by the transport, never resolved


class FaultPlan:
    """WSGI middleware that fails chosen requests, to drive the client's fault paths.

    ``rules`` are (predicate(path, query), action) pairs; an action is an HTTP
    status to answer with, or "drop" to fail the connection.
    """

    def __init__(self, app, rules=(), seed=0, rate=0.0, statuses=(500, 502, 503, "drop")):
        self.app = app
        self.rules = list(rules)
        self.rng = random.Random(seed)
        self.rate = rate
        self.statuses = statuses
        self.injected = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
        action = None
        for predicate, rule_action in self.rules:
            if predicate(path, query):
                action = rule_action
                break
        if action is None and self.rate:
            with self.lock:
                if self.rng.random() < self.rate:
                    action = self.rng.choice(self.statuses)
        if action is None:
            return self.app(environ, start_response)
        with self.lock:
            self.injected[action] += 1
        if action == "drop":
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        body = json.dumps({"error": {"message": "Internal Server Error", "code": 2000}}).encode()
        start_response(f"{action} Error", [("Content-Type", "application/json")])
        return [body]


def make_client(app, **kw) -> ApiClient:
    options = {"max_rate_per_minute": 1_000_000, "backoff_base": 0.001, "backoff_cap": 0.01}
    options.update(kw)
    return ApiClient(TOKEN, base_url=BASE_URL, transport=httpx2.WSGITransport(app=app), **options)


def emulator_app(account: dict[str, Any] | Path, tmp_path: Path | None = None, **kw):
    if isinstance(account, dict):
        assert tmp_path is not None
        path = tmp_path / "account.json"
        path.write_text(json.dumps(account))
        account = path
    return create_app(load_account(account), tokens=[TOKEN], clock=kw.pop("clock", lambda: SINCE), **kw)


class SharedClock:
    """Time that moves only when someone sleeps, shared by the client and the emulator."""

    def __init__(self, start: datetime):
        self.now = start.timestamp()
        self.slept = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds
            self.slept += seconds

    def moment(self) -> datetime:
        return datetime.fromtimestamp(self.now, timezone.utc)


def crawl(app, out: Path, *, days: int = 28, client_options=None, **kw):
    client = make_client(app, **(client_options or {}))
    try:
        path, fields = crawl_to_snapshot(client, out, Window(SINCE, days), **kw)
    finally:
        client.close()
    return load(path), fields


def ids(objects) -> list[str]:
    return [o["id"] for o in objects]


@pytest.fixture(scope="session")
def acme_account() -> dict[str, Any]:
    return json.loads(ACME.read_text())
