"""Practice and people in the reports: per-team figures with their trend, the people table, pseudonyms.

Acme is crawled with its quarter of incident history; the previous quarter is the same account
with another seed and calmer Identity responders, so the trend has something to show.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from audit.assess import Assessment, assess
from audit.crawl_incidents import IncidentsWindow
from audit.reports import plan_reports
from audit.reports.model import pseudonym
from tests.crawl.conftest import ACME, SINCE, crawl, emulator_app

CONFIG = ACME.with_name("pd-audit.toml")


def assessed(account: dict, workdir: Path) -> Assessment:
    workdir.mkdir(parents=True)
    snapshot, _ = crawl(emulator_app(account, workdir), workdir / "snapshot",
                        incidents=IncidentsWindow.ending_before(90, SINCE))
    return assess(snapshot, config_path=CONFIG, today=dt.date(2027, 1, 4))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assessment, Assessment]:
    base = tmp_path_factory.mktemp("practice")
    account = json.loads(ACME.read_text())
    earlier = copy.deepcopy(account)
    earlier["incident_history"]["seed"] = 14
    for service_id in ("PSVC035", "PSVC036"):  # Identity answered in time last quarter
        earlier["incident_history"]["services"][service_id]["timeout_share"] = 0.02
    return assessed(account, base / "now"), assessed(earlier, base / "before")


def page(plan, name: str) -> str:
    return next(html for path, html in plan.html if path.name.startswith(name))


def test_identity_scorecard_shows_its_timeouts_and_their_trend(pair, tmp_path: Path) -> None:
    now, before = pair
    plan = plan_reports(now, tmp_path, formats=["html"], previous=before)
    identity = page(plan, "team-identity")
    assert "Timed out to level 2" in identity and "Acknowledged by the team" in identity
    assert "Night interruptions per person" in identity and "since 2027-01-04" in identity
    practice = {f.label: f for f in plan_practice(now, before, "PTEAM07")}
    timeouts = practice["Timed out to level 2"]
    assert timeouts.value > 30 and timeouts.previous < 10 and timeouts.improved is False


def plan_practice(now: Assessment, before: Assessment, team_id: str):
    from audit.reports.model import ReportIndex

    index = ReportIndex(now, before)
    team = now.facts.tables["team"].loc[team_id]
    services = now.scores.teams[team_id].service_ids
    return index.practice.for_team(services, team["member_ids"]).figures


def test_search_is_acknowledged_by_another_team(pair) -> None:
    now, before = pair
    figures = {f.label: f.value for f in plan_practice(now, before, "PTEAM03")}
    assert figures["Acknowledged by the team"] < 60


def test_people_table_shows_share_night_pages_and_sole_responders(pair, tmp_path: Path) -> None:
    now, _ = pair
    org = page(plan_reports(now, tmp_path, formats=["html"]), "index")
    assert "Most loaded people" in org and "Sole level 1 of" in org and "Night pages a week" in org
    assert "Robert Hale" in org


def test_anonymized_reports_name_nobody(pair, tmp_path: Path) -> None:
    now, _ = pair
    plan = plan_reports(now, tmp_path, formats=["html"], anonymize_people=True)
    names = list(now.facts.tables["user"]["name"])
    for path, html in plan.html:
        leaked = [name for name in names if name in html]
        assert not leaked, f"{path.name} names {leaked[:3]}"
    assert pseudonym("PUSR037") in page(plan, "index")
    assert pseudonym("PUSR037") == pseudonym("PUSR037") != pseudonym("PUSR036")


def test_org_report_sets_practice_beside_configuration_with_its_trend(pair, tmp_path: Path) -> None:
    now, before = pair
    org = page(plan_reports(now, tmp_path, formats=["html"], previous=before), "index")
    section = org[org.index('<section class="org-section" id="practice">'):]
    section = section[:section.index("</section>")]
    assert "Practice beside configuration" in section
    for label in ("Acknowledged by the team", "Timed out to level 2", "Median time to acknowledge",
                  "Night interruptions per person"):
        assert label in section
    identity = section[section.index(">Identity<"):]
    identity = identity[:identity.index("</tr>")]
    timeouts = {f.label: f for f in plan_practice(now, before, "PTEAM07")}["Timed out to level 2"]
    assert f"{timeouts.value:.0f}%" in identity and f"{timeouts.change:+.1f} points (worse)" in identity
