"""The snapshot format: round trip, atomic publish, resume journal, refusal of bad snapshots."""

from __future__ import annotations

import json

import pytest

from audit.errors import SnapshotError, UserError
from audit.outputs.manifest import render as format_manifest
from audit.snapshot import FORMAT_VERSION, SnapshotWriter, load, partial_path

PAYMENTS = {"id": "PTEAM01", "type": "team", "name": "Payments", "summary": "Payments"}
SEARCH = {"id": "PTEAM02", "type": "team", "name": "Search — 検索", "summary": "Search"}
SERVICE = {
    "id": "PSVC001", "type": "service", "name": "Payments API", "status": "active",
    "description": None, "escalation_policy": {"id": "PEP0001", "type": "escalation_policy_reference"},
    "teams": [{"id": "PTEAM01", "type": "team_reference"}], "integrations": [],
}

MANIFEST = {
    "api_base": "https://api.pagerduty.com",
    "window": {"since": "2027-01-04T00:00:00Z", "until": "2027-02-01T00:00:00Z", "days": 28},
    "collections": {
        "teams": {"status": "complete", "count": 2},
        "services": {"status": "complete", "count": 1},
        "oncalls": {"status": "complete", "count": 0},
        "standards": {"status": "unavailable", "count": 0, "http_status": 402, "reason": "no ability"},
    },
}


def write_snapshot(out, manifest=MANIFEST):
    writer = SnapshotWriter(out)
    writer.write_unit("teams:all:0", "teams", [PAYMENTS, SEARCH])
    writer.write_unit("services:all:0", "services", [SERVICE])
    return writer.finish(json.loads(json.dumps(manifest)))


def test_round_trip_keeps_raw_objects_exactly(tmp_path):
    path = write_snapshot(tmp_path / "snap")
    snap = load(path)
    assert snap.collection("teams") == [PAYMENTS, SEARCH]
    assert snap.collection("services") == [SERVICE]
    assert snap.collection("oncalls") == []  # complete but empty: a file exists
    assert snap.available("oncalls") and not snap.available("standards")
    assert snap.unavailable_reason("standards") == "no ability"
    assert snap.manifest["format_version"] == FORMAT_VERSION
    assert snap.manifest["collections"]["teams"]["sha256"]
    assert not partial_path(path).exists()
    assert not (path / "journal.jsonl").exists()


def test_an_incomplete_collection_is_readable_and_says_what_it_lacks(tmp_path):
    manifest = json.loads(json.dumps(MANIFEST))
    manifest["collections"]["teams"].update(status="incomplete", missing=3, reason="out of reach")
    snap = load(write_snapshot(tmp_path / "snap", manifest))
    assert snap.available("teams") and snap.collection("teams") == [PAYMENTS, SEARCH]
    assert snap.incomplete() == {"teams": "3 of 5 could not be reached (out of reach)"}
    text = format_manifest(snap.manifest)
    assert "teams                         2  incomplete: 3 missing: out of reach" in text
    # an incomplete collection that does not say how many are missing is refused
    del manifest["collections"]["teams"]["missing"]
    with pytest.raises(SnapshotError, match="incomplete collection 'teams' does not say how many are missing"):
        load(write_snapshot(tmp_path / "other", manifest))


def test_strings_without_utf8_form_and_huge_numbers_round_trip(tmp_path):
    # Legal in the API's JSON, though orjson (the fast reader) and UTF-8 files refuse them.
    odd = {**SERVICE, "id": "PSVC002", "name": "Ledger \ud800 half a pair", "acknowledgement_timeout": 2**70}
    writer = SnapshotWriter(tmp_path / "snap")
    writer.write_unit("services:all:0", "services", [SERVICE, odd])
    writer.write_unit("services:all:1", "services", [{**SERVICE, "id": "PSVC003", "name": "Search — 検索"}])
    snap = load(writer.finish(json.loads(json.dumps(MANIFEST))))
    assert [s["name"] for s in snap.collection("services")] == [
        "Payments API", "Ledger \ud800 half a pair", "Search — 検索"]
    assert snap.collection("services")[1]["acknowledgement_timeout"] == 2**70


def test_unfinished_crawl_is_never_a_snapshot(tmp_path):
    out = tmp_path / "snap"
    writer = SnapshotWriter(out)
    writer.write_unit("teams:all:0", "teams", [PAYMENTS])
    writer.close()
    assert not out.exists()
    with pytest.raises(SnapshotError, match="unfinished crawl"):
        load(out)
    with pytest.raises(SnapshotError, match="unfinished crawl"):
        load(partial_path(out))


def test_resume_drops_a_torn_unit_and_keeps_finished_ones(tmp_path):
    out = tmp_path / "snap"
    writer = SnapshotWriter(out)
    writer.write_unit("teams:all:0", "teams", [PAYMENTS], state={"teams:all:0": {"more": True}})
    writer.close()
    # A crash mid-unit: lines written, no journal entry, and a half journal line.
    with open(partial_path(out) / "collections" / "teams.jsonl", "a") as fh:
        fh.write(json.dumps(SEARCH) + "\n" + '{"id": "PTE')
    with open(partial_path(out) / "journal.jsonl", "a") as fh:
        fh.write('{"unit": "teams:all:1')
    resumed = SnapshotWriter(out, resume=True)
    assert resumed.done_units == {"teams:all:0"}
    assert resumed.state["teams:all:0"] == {"more": True}
    assert list(resumed.existing("teams")) == [PAYMENTS]
    resumed.write_unit("teams:all:1", "teams", [SEARCH])
    path = resumed.finish(json.loads(json.dumps(MANIFEST)))
    assert load(path).collection("teams") == [PAYMENTS, SEARCH]


def test_two_writers_cannot_share_an_output(tmp_path):
    out = tmp_path / "snap"
    first = SnapshotWriter(out)
    with pytest.raises(UserError, match="another crawl"):  # running, not interrupted
        SnapshotWriter(out)
    with pytest.raises(UserError, match="another crawl"):
        SnapshotWriter(out, resume=True)
    first.close()


def test_existing_snapshot_is_not_overwritten(tmp_path):
    path = write_snapshot(tmp_path / "snap")
    before = (path / "manifest.json").read_bytes()
    with pytest.raises(UserError, match="already exists"):
        SnapshotWriter(path)
    assert (path / "manifest.json").read_bytes() == before


def test_resume_without_partial_is_an_error(tmp_path):
    with pytest.raises(UserError, match="nothing to resume"):
        SnapshotWriter(tmp_path / "snap", resume=True)


def test_modified_collection_fails_its_checksum(tmp_path):
    path = write_snapshot(tmp_path / "snap")
    teams = path / "collections" / "teams.jsonl"
    teams.write_text(teams.read_text().replace("Payments", "Paymants"))
    with pytest.raises(SnapshotError, match="checksum mismatch"):
        load(path)


def test_future_format_is_refused_with_upgrade_hint(tmp_path):
    path = write_snapshot(tmp_path / "snap")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match="newer than this pd-audit reads"):
        load(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not valid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not valid JSON"),
        (b'{"format": "something-else"}', "not a pd-audit snapshot manifest"),
        (b'{"format": "pd-audit-snapshot", "format_version": "one"}', "invalid format_version"),
        (b'{"format": "pd-audit-snapshot", "format_version": 1, "collections": {}}', "missing or invalid 'window'"),
    ],
)
def test_broken_manifests_are_refused(tmp_path, content, message):
    path = write_snapshot(tmp_path / "snap")
    (path / "manifest.json").write_bytes(content)
    with pytest.raises(SnapshotError, match=message):
        load(path)


def test_missing_collection_file_is_refused(tmp_path):
    path = write_snapshot(tmp_path / "snap")
    (path / "collections" / "services.jsonl").unlink()
    with pytest.raises(SnapshotError, match="collection file for 'services' is missing"):
        load(path)


def test_manifest_cannot_point_outside_the_snapshot(tmp_path):
    path = write_snapshot(tmp_path / "snap")
    (tmp_path / "secret.jsonl").write_text('"x"\n')
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["collections"]["teams"]["file"] = "../secret.jsonl"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match="missing"):
        load(path)


def test_not_a_snapshot(tmp_path):
    with pytest.raises(SnapshotError, match="no such snapshot"):
        load(tmp_path / "nowhere")
    (tmp_path / "file").write_text("hello")
    with pytest.raises(SnapshotError, match="not a snapshot directory"):
        load(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SnapshotError, match="no manifest.json"):
        load(tmp_path / "empty")
