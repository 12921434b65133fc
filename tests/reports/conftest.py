"""Fixtures for the report tests: Acme now, Acme a quarter ago, and Acme with hostile names.

Each account is crawled through the in-process emulator once per session and judged
with the report tests' own rule pack (``data/pack``, ids with an X) next to whatever
built-in pack is in force, and with a config holding a tier map and two waivers.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from audit.assess import Assessment, assess
from audit.reports import plan_reports, write_reports
from audit.reports.pdf import PdfResult, write_pdfs
from tests.crawl.conftest import ACME, crawl, emulator_app
from tests.reference import BROWSER_CAUSE, skip_unless_required

DATA = Path(__file__).parent / "data"
PACK = DATA / "pack"
CONFIG = DATA / "pd-audit.toml"
TODAY = dt.date(2027, 2, 2)  # the day after the demo window: one waiver valid, one expired
# Debian's chromium by default; elsewhere (macOS: /Applications/Chromium.app/Contents/MacOS/Chromium) set PD_AUDIT_CHROMIUM.
CHROMIUM = Path(os.environ.get("PD_AUDIT_CHROMIUM") or "/usr/bin/chromium")

HOSTILE_SERVICE = "<script>alert(1)</script>"
HOSTILE_TEAM = "<img src=file:///etc/passwd>"
HOSTILE_USER = '"><svg onload=alert(2)>'
HOSTILE_SCHEDULE = "</title><script>alert(3)</script>"
HOSTILE_DESCRIPTION = (
    "<style>body{background:url(http://evil.invalid/x.png)}</style> Settles card payments; "
    "see file:///etc/passwd and http://evil.invalid/runbook <iframe src=\"http://evil.invalid/\"></iframe> "
    "<a href=\"javascript:alert(4)\">runbook</a>"
)


def _by_id(objects: list[dict[str, Any]], object_id: str) -> dict[str, Any]:
    return next(o for o in objects if o["id"] == object_id)


def previous_acme(account: dict[str, Any]) -> dict[str, Any]:
    """Acme a quarter earlier: Gift Cards had one owner and Promotions a real description
    (both regress by now), and the Payments API's description had no runbook link yet (fixed since)."""
    old = copy.deepcopy(account)
    _by_id(old["services"], "PSVC013")["teams"] = [{"id": "PTEAM02", "type": "team_reference"}]
    _by_id(old["services"], "PSVC011")["description"] = (
        "Evaluates coupon codes and basket promotions for checkout. Runbook: https://wiki.acme.example/promo"
    )
    _by_id(old["services"], "PSVC001")["description"] = (
        "Authorises and captures card payments for web and mobile checkout."
    )
    return old


def hostile_acme(account: dict[str, Any]) -> dict[str, Any]:
    """Acme where PagerDuty objects carry markup, script and URLs in their names and descriptions."""
    hostile = copy.deepcopy(account)
    _by_id(hostile["services"], "PSVC001")["name"] = HOSTILE_SERVICE
    _by_id(hostile["services"], "PSVC002")["description"] = HOSTILE_DESCRIPTION
    _by_id(hostile["teams"], "PTEAM01")["name"] = HOSTILE_TEAM
    _by_id(hostile["users"], "PUSR001")["name"] = HOSTILE_USER
    schedule = next(s for s in hostile["schedules"] if any(t["id"] == "PTEAM01" for t in s.get("teams", [])))
    schedule["name"] = HOSTILE_SCHEDULE
    return hostile


def _assess(account: dict[str, Any] | Path, workdir: Path) -> Assessment:
    workdir.mkdir(parents=True, exist_ok=True)
    app = emulator_app(account, workdir) if isinstance(account, dict) else emulator_app(account)
    snapshot, _ = crawl(app, workdir / "snapshot")
    return assess(snapshot, rules_dirs=[PACK], config_path=CONFIG, cwd=workdir, today=TODAY, env={})


@pytest.fixture(scope="session")
def acme_dict() -> dict[str, Any]:
    return json.loads(ACME.read_text())


@pytest.fixture(scope="session")
def acme(tmp_path_factory) -> Assessment:
    return _assess(ACME, tmp_path_factory.mktemp("acme"))


@pytest.fixture(scope="session")
def acme_previous(tmp_path_factory, acme_dict) -> Assessment:
    return _assess(previous_acme(acme_dict), tmp_path_factory.mktemp("acme-previous"))


@pytest.fixture(scope="session")
def hostile(tmp_path_factory, acme_dict) -> Assessment:
    return _assess(hostile_acme(acme_dict), tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="session")
def acme_html(tmp_path_factory, acme, acme_previous) -> Path:
    """Acme's HTML reports, with the trend against the previous quarter."""
    out = tmp_path_factory.mktemp("acme-html")
    write_reports(acme, out, formats=("html",), previous=acme_previous)
    return out


@pytest.fixture(scope="session")
def acme_pdf(tmp_path_factory, acme, acme_previous) -> dict[str, PdfResult]:
    """Acme's org PDF and the Payments team's PDF, printed in parallel (two documents keep the suite fast)."""
    out = tmp_path_factory.mktemp("acme-pdf")
    plan = plan_reports(acme, out, formats=("pdf",), previous=acme_previous)
    org, payments = plan.pdf[0], next(job for job in plan.pdf if job.path.name == "team-payments-PTEAM01.pdf")
    results = write_pdfs([org, payments], workers=2)
    return {result.path.name: result for result in results}


@pytest.fixture(scope="session")
def hostile_html(tmp_path_factory, hostile) -> Path:
    out = tmp_path_factory.mktemp("hostile-html")
    write_reports(hostile, out, formats=("html",))
    return out


def chromium_required() -> None:
    """Browser tests run wherever Chromium is installed; they skip elsewhere, and fail in CI (PD_AUDIT_REQUIRE_ALL)."""
    if not CHROMIUM.exists():
        skip_unless_required(f"{BROWSER_CAUSE}: {CHROMIUM} is not installed (Debian/Ubuntu: apt-get install chromium; "
                             "the README says what else a machine needs)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_unless_required(f"{BROWSER_CAUSE}: playwright is not installed (pip install -e '.[test]'; "
                             "never `playwright install`: the tests drive the system Chromium)")


# Chromium's flags for a headless run inside a container (no sandbox, no GPU, no background traffic).
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (launching it costs seconds)."""
    chromium_required()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield browser
        browser.close()
