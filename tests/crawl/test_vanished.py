"""Objects deleted while a crawl runs: a list still names them, their own request answers 404.

PagerDuty's lists lag behind deletions, so a crawl must expect 404 on any per-object
request (and 400 from ``/schedules/{id}`` for a schedule upgraded to v3 meanwhile). Such
an object is left out of what needs it, named in the manifest by collection, and not
asked for again by ``--resume``.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.emulator.faults import FaultPolicy
from audit.emulator.serve import start_server
from audit.errors import CrawlError
from audit.snapshot import partial_path

from .conftest import ACME, TOKEN, crawl, emulator_app

SERVICE, USER_ON_CALL, TEAM, SCHEDULE, UPGRADED = "PSVC001", "PUSR001", "PTEAM01", "PSCH001", "PSCH002"
VANISHING = {
    f"/service_dependencies/technical_services/{SERVICE}": "404",
    f"/users/{USER_ON_CALL}/oncall_handoff_notification_rules": "404",
    f"/teams/{TEAM}/members": "404",
    f"/schedules/{SCHEDULE}": "404",
    f"/schedules/{UPGRADED}": "400",
}
EXPECTED = {
    "service_dependencies": [(SERVICE, "GET /service_dependencies/technical_services/{id}", 404)],
    "handoff_rules": [(USER_ON_CALL, "GET /users/{id}/oncall_handoff_notification_rules", 404)],
    "team_members": [(TEAM, "GET /teams/{id}/members", 404)],
    "schedules": [(SCHEDULE, "GET /schedules/{id}", 404), (UPGRADED, "GET /schedules/{id}", 400)],
}


def vanished(manifest):
    return {name: [(r["id"], r["endpoint"], r["http_status"]) for r in info["vanished"]]
            for name, info in manifest["collections"].items() if info.get("vanished")}


def test_vanished_objects_are_left_out_and_named_by_collection(tmp_path):
    clean, _ = crawl(emulator_app(ACME), tmp_path / "clean")
    assert USER_ON_CALL in {entry["user"]["id"] for entry in clean.iter("oncalls")}
    snap, _ = crawl(emulator_app(ACME, faults=FaultPolicy(per_endpoint=VANISHING)), tmp_path / "snap")
    assert vanished(snap.manifest) == EXPECTED
    assert all(snap.available(name) for name in snap.manifest["collections"])
    # left out of what needs them, and nothing else is
    assert {o["user_id"] for o in clean.iter("handoff_rules")} - {o["user_id"] for o in snap.iter("handoff_rules")} \
        == {USER_ON_CALL}
    assert {o["team_id"] for o in snap.iter("team_members")} == {o["team_id"] for o in clean.iter("team_members")} - {TEAM}
    assert {o["id"] for o in clean.iter("schedules")} - {o["id"] for o in snap.iter("schedules")} == {SCHEDULE, UPGRADED}
    assert snap.collection("services") == clean.collection("services")


def test_resume_does_not_ask_again_for_what_vanished(tmp_path):
    out = tmp_path / "snap"
    failing = {**VANISHING, "/standards": "503"}
    with pytest.raises(CrawlError, match="GET /standards"):
        crawl(emulator_app(ACME, faults=FaultPolicy(per_endpoint=failing)), out, client_options={"max_attempts": 2})
    assert partial_path(out).is_dir()
    healed = emulator_app(ACME)  # the objects are back (a list would name them again): the journal decides
    snap, _ = crawl(healed, out, resume=True)
    assert vanished(snap.manifest) == EXPECTED
    asked = healed.stats.by_endpoint
    assert asked.get("/schedules/{id}", 0) == 0 and asked.get("/teams/{id}/members", 0) == 0
    assert asked.get("/standards") == 1


def test_a_crawl_with_vanished_objects_exits_0_and_info_and_score_read_it(tmp_path):
    runner = CliRunner()
    with start_server(ACME, state_dir=tmp_path / "emulator", tokens=[TOKEN],
                      faults=FaultPolicy(per_endpoint=VANISHING)) as server:
        crawled = runner.invoke(main, ["crawl", "--api-url", server.url, "--ca-bundle", str(server.ca_path),
                                       "--max-rate", "100000", "--since", "2027-01-04T00:00:00Z",
                                       "--output", str(tmp_path / "snap"), "--quiet"],
                                env={"PAGERDUTY_TOKEN": TOKEN})
    assert crawled.exit_code == 0, crawled.output
    info = runner.invoke(main, ["snapshot", "info", str(tmp_path / "snap")])
    assert info.exit_code == 0, info.output
    lines = info.stdout.splitlines()
    start = lines.index("vanished (deleted after a list named them; left out of what needs them):")
    shown = {line.split()[0]: line for line in lines[start + 1:start + 1 + len(EXPECTED)]}
    assert set(shown) == set(EXPECTED)
    for name, records in EXPECTED.items():
        assert all(f"{object_id} ({endpoint}, HTTP {status})" in shown[name]
                   for object_id, endpoint, status in records), shown[name]
    scored = runner.invoke(main, ["score", str(tmp_path / "snap"), "--format", "json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)
