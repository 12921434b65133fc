"""Helpers for crawling emulated accounts in-process."""

from __future__ import annotations

import json
import threading
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
