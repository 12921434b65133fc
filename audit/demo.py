"""The demo: the bundled example account, crawled through the in-process emulator.

No token, no network: the emulator app answers the real ``pagerduty`` client
through ``httpx2.WSGITransport``. The window is fixed so that the demo's output is
the same on every run and every machine.
"""

from __future__ import annotations

import importlib.resources
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2

from audit.client import ApiClient
from audit.crawl import ProgressSink, Window, crawl_to_snapshot
from audit.crawl_incidents import IncidentsWindow

DEMO_SINCE = datetime.fromisoformat("2027-01-04T00:00:00+00:00")
DEMO_WINDOW_DAYS = 28
DEMO_INCIDENT_DAYS = 90
DEMO_TOKEN = "pd-audit-demo-token"  # accepted by the in-process emulator only
IN_PROCESS_URL = "https://emulator.pd-audit.invalid"  # never resolved: the transport answers


def bundled_account_path() -> Path:
    """The example account shipped inside the package (examples/acme/account.json)."""
    return Path(str(importlib.resources.files("audit.example_account") / "account.json"))


def bundled_config_path() -> Path | None:
    """The example account's pd-audit.toml (tiers and waivers), shipped beside it."""
    path = Path(str(importlib.resources.files("audit.example_account") / "pd-audit.toml"))
    return path if path.is_file() else None


def in_process_client(account_path: Path, *, now: datetime = DEMO_SINCE, **app_options: Any) -> ApiClient:
    """An ApiClient wired to the emulator app in this process."""
    from audit.emulator.account import load_account
    from audit.emulator.app import create_app

    app = create_app(load_account(account_path), tokens=[DEMO_TOKEN], clock=lambda: now, **app_options)
    return ApiClient(DEMO_TOKEN, base_url=IN_PROCESS_URL, transport=httpx2.WSGITransport(app=app),
                     max_rate_per_minute=1_000_000)


def run_demo(out: Path, progress: ProgressSink | None = None) -> Path:
    """Crawl the example account into ``out/snapshot`` (replacing an earlier demo's).

    Returns the snapshot's path; the CLI scores and renders it.
    """
    out.mkdir(parents=True, exist_ok=True)
    client = in_process_client(bundled_account_path())
    try:
        path, _ = crawl_to_snapshot(
            client, out / "snapshot", Window(DEMO_SINCE, DEMO_WINDOW_DAYS), force=True,
            progress=progress, subdomain="acme", now=lambda: DEMO_SINCE,  # the emulator's pinned clock
            # The quarter before the window, as a crawl on the window's first day would read it.
            incidents=IncidentsWindow.ending_before(DEMO_INCIDENT_DAYS, DEMO_SINCE),
        )
    finally:
        client.close()
    return Path(path)
