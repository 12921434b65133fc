"""PagerDuty's Rails time zone names ("Eastern Time (US & Canada)") mean the same zones as IANA ids.

Schedules and support hours are ``activesupport-time-zone`` in PagerDuty's OpenAPI description,
so an account may name its zones either way. Acme, renamed zone by zone into Rails names,
served by the emulator and crawled, must give the same facts and verdicts as Acme itself: a
zone read as unknown would fall back to UTC and move every hand-off and support-hours window.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.assess import assess
from audit.time_zones import RAILS_ZONES, iana_zone_name
from tests.crawl.conftest import ACME, crawl, emulator_app

# One Rails name per IANA zone Acme uses (the first ActiveSupport lists for it).
RAILS_NAME = {iana: rails for rails, iana in reversed(list(RAILS_ZONES.items()))}


def _assess(account, tmp_path: Path):
    snapshot, _ = crawl(emulator_app(account, tmp_path), tmp_path / "snapshot")
    return assess(snapshot, cwd=tmp_path, env={})


def _in_rails_names(account: dict) -> tuple[dict, int]:
    renamed = 0
    for schedule in account["schedules"]:
        if schedule.get("time_zone") in RAILS_NAME:
            schedule["time_zone"] = RAILS_NAME[schedule["time_zone"]]
            renamed += 1
    for service in account["services"]:
        hours = service.get("support_hours")
        if hours and hours.get("time_zone") in RAILS_NAME:
            hours["time_zone"] = RAILS_NAME[hours["time_zone"]]
            renamed += 1
    return account, renamed


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    rails, renamed = _in_rails_names(json.loads(ACME.read_text()))
    assert renamed >= 30  # every schedule and every support-hours promise but the UTC ones
    return _assess(ACME, tmp_path_factory.mktemp("iana")), _assess(rails, tmp_path_factory.mktemp("rails"))


def test_rails_names_resolve_to_their_zones():
    assert iana_zone_name("Eastern Time (US & Canada)") == "America/New_York"
    assert iana_zone_name("Berlin") == "Europe/Berlin"
    assert iana_zone_name("Europe/Berlin") == "Europe/Berlin"
    assert iana_zone_name("Mars/Olympus_Mons") is None and iana_zone_name(None) is None
    # Odd API data: a zone that is an object or a list is unknown, not a crash.
    assert iana_zone_name({"name": "Berlin"}) is None and iana_zone_name(["Berlin"]) is None
    assert all(iana_zone_name(name) for name in RAILS_ZONES)  # every one of the table's zones exists


def test_rails_names_give_the_same_schedule_and_service_facts(both):
    iana, rails = both
    columns = {
        "schedule": ["coverage_pct", "gaps", "handoff_weekdays", "handoff_hours", "weekend_handoffs",
                     "off_hours_handoffs", "rotation_off_hours_handoffs"],
        "service": ["l1_promise_coverage_pct", "l1_promise_gaps", "l2_promise_coverage_pct"],
    }
    for table, names in columns.items():
        expected = iana.facts.tables[table][names].sort_index()
        assert expected.equals(rails.facts.tables[table][names].sort_index()), table


def test_rails_names_give_the_same_verdicts(both):
    iana, rails = both
    verdicts = {f.fingerprint: f.status for f in iana.findings}
    assert verdicts == {f.fingerprint: f.status for f in rails.findings}
    # Hand-off times and support hours are judged in the schedule's own zone: OC-05 fails somewhere.
    assert any(f.rule_id == "OC-05" and f.status.value == "fail" for f in iana.findings)
