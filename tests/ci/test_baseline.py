"""Baseline files: created from an assessment, written, read back, updated on purpose, refused when broken."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from audit.baseline import (
    FORMAT_VERSION,
    create_baseline,
    load_baseline,
    snapshot_source,
    update_baseline,
    write_baseline,
)
from audit.errors import UserError
from audit.findings import Status
from audit.gate import Judged

from .conftest import BROKEN_POLICY, TODAY, ci_assess
from .test_streamed_outputs import written_before_each_call

BASE_FAILING = {
    "CIT-01:escalation_policy:PEP0013",
    "CIT-02:service:PSVC038",
    "CIT-03:schedule:PSCH008",
    "CIT-03:schedule:PSCH017",
    "CIT-03:schedule:PSCH018",
    "CIT-03:schedule:PSCH019",
    "CIT-04:team:PTEAM09",
}


def test_round_trip_keeps_every_failing_finding_sorted_and_stable(ci_snapshots, ci_config, tmp_path):
    assessment = ci_assess(ci_snapshots["base"], ci_config)
    baseline = create_baseline(assessment.findings, TODAY, snapshot_source(assessment.snapshot.manifest))
    assert {e.fingerprint for e in baseline.entries} == BASE_FAILING

    path = write_baseline(baseline, tmp_path / "pd-audit-baseline.json")
    first = path.read_bytes()
    loaded = load_baseline(path)
    assert loaded == baseline
    write_baseline(loaded, path)
    assert path.read_bytes() == first  # byte-stable: reviewing a baseline change shows only the change

    document = json.loads(first)
    prints = [entry["fingerprint"] for entry in document["entries"]]
    assert prints == sorted(prints)
    ledger = next(e for e in document["entries"] if e["fingerprint"] == "CIT-04:team:PTEAM09")
    assert ledger == {
        "fingerprint": "CIT-04:team:PTEAM09", "rule_id": "CIT-04", "entity_type": "team", "entity_id": "PTEAM09",
        "entity_name": "Returns", "sub_key": None, "severity": "critical", "message": "4 members, no manager",
        "since": "2027-01-04", "team_ids": ["PTEAM09"],
    }
    assert document["format_version"] == FORMAT_VERSION and document["snapshot"]["api_base"]


def test_waived_findings_are_not_recorded(ci_snapshots, tmp_path):
    from .conftest import write_config

    config = write_config(tmp_path / "pd-audit.toml", [{
        "rule": "CIT-04", "object_id": "PTEAM09", "reason": "Manager hired, starts in March",
        "approved_by": "ops@acme.example", "expires": "2027-03-31"}])
    assessment = ci_assess(ci_snapshots["base"], config)
    assert any(f.status is Status.WAIVED for f in assessment.findings)
    assert {e.fingerprint for e in create_baseline(assessment.findings, TODAY).entries} == BASE_FAILING - {
        "CIT-04:team:PTEAM09"}


def test_update_adds_new_debt_drops_the_fixed_and_keeps_dates(ci_snapshots, ci_config):
    old = create_baseline(ci_assess(ci_snapshots["base"], ci_config).findings, TODAY)
    later = TODAY + dt.timedelta(days=14)
    fixed = ci_assess(ci_snapshots["fixed"], ci_config, today=later)
    change = update_baseline(old, fixed.findings, Judged.of(fixed), later)

    assert [e.fingerprint for e in change.added] == [f"CIT-01:escalation_policy:{BROKEN_POLICY}"]
    assert change.added[0].since == later
    assert [e.fingerprint for e in change.dropped] == ["CIT-01:escalation_policy:PEP0013"]
    assert {e.fingerprint for e in change.baseline.entries} == BASE_FAILING - {
        "CIT-01:escalation_policy:PEP0013"} | {f"CIT-01:escalation_policy:{BROKEN_POLICY}"}
    kept = {e.fingerprint: e.since for e in change.kept}
    assert kept["CIT-04:team:PTEAM09"] == TODAY  # still failing: its date is when it was first accepted
    assert change.baseline.updated == later


def test_update_with_static_rules_keeps_window_rule_debt(ci_snapshots, ci_config):
    everything = ci_assess(ci_snapshots["base"], ci_config, static=False)
    old = create_baseline(everything.findings, TODAY)
    window_debt = {e.fingerprint for e in old.entries if e.rule_id == "CIT-05"}
    assert window_debt == {"CIT-05:escalation_policy:PEP0017", "CIT-05:escalation_policy:PEP0018"}

    static = ci_assess(ci_snapshots["base"], ci_config, static=True)
    change = update_baseline(old, static.findings, Judged.of(static), TODAY)
    assert change.dropped == () and change.added == ()
    assert window_debt <= {e.fingerprint for e in change.baseline.entries}


def _valid_document() -> dict:
    return {"format": "pd-audit-baseline", "format_version": 1, "updated": "2027-01-04", "entries": [{
        "fingerprint": "CIT-04:team:PTEAM09", "rule_id": "CIT-04", "entity_type": "team", "entity_id": "PTEAM09",
        "entity_name": "Returns", "sub_key": None, "severity": "critical", "message": "no manager",
        "since": "2027-01-04", "team_ids": ["PTEAM09"]}]}


def _broken(change):
    document = _valid_document()
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize("text, problem", [
    ("{\"format\": ", "not valid JSON"),
    ("[]", "not a pd-audit baseline"),
    (_broken(lambda d: d.update(format="pd-audit-snapshot")), "not a pd-audit baseline"),
    (_broken(lambda d: d.update(format_version=2)), "newer than this pd-audit reads"),
    (_broken(lambda d: d.update(entries={})), "\"entries\" must be a list"),
    (_broken(lambda d: d["entries"][0].update(fingerprint="CIT-04:team:PTEAM01")), "does not match its fields"),
    (_broken(lambda d: d["entries"][0].update(severity="urgent")), "severity 'urgent'"),
    (_broken(lambda d: d["entries"][0].update(entity_type="incident")), "entity_type 'incident'"),
    (_broken(lambda d: d["entries"][0].update(since="last week")), "not a date"),
    (_broken(lambda d: d["entries"][0].pop("rule_id")), "'rule_id' must be a non-empty string"),
    (_broken(lambda d: d["entries"].append(dict(d["entries"][0]))), "appears twice"),
])
def test_broken_baselines_are_one_clear_error(tmp_path, text, problem):
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_baseline(path)
    assert problem in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_valid_document_of_the_error_cases_loads(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(_valid_document()), encoding="utf-8")
    assert [e.fingerprint for e in load_baseline(path).entries] == ["CIT-04:team:PTEAM09"]


def test_missing_baseline_says_how_to_make_one(tmp_path):
    with pytest.raises(UserError, match="baseline create"):
        load_baseline(tmp_path / "nope.json")


def test_the_baseline_is_written_entry_by_entry_in_the_layout_it_always_had(ci_snapshots, ci_config, tmp_path,
                                                                           monkeypatch):
    from audit.baseline import BaselineEntry
    from audit.json_text import json_text, write_json

    assessment = ci_assess(ci_snapshots["base"], ci_config)
    baseline = create_baseline(assessment.findings, TODAY, snapshot_source(assessment.snapshot.manifest))
    document = baseline.to_json()
    whole = {**document, "entries": list(document["entries"].items)}  # what was built whole before
    path = write_baseline(baseline, tmp_path / "pd-audit-baseline.json")
    assert path.read_text(encoding="utf-8") == json_text(whole, sort_keys=True)  # the same bytes as before
    assert '\n  "entries": [\n    {\n      "entity_id": ' in path.read_text(encoding="utf-8")

    real = BaselineEntry.to_json
    out = io.StringIO()
    written_before = written_before_each_call(monkeypatch, BaselineEntry, "to_json", out, '"fingerprint"')
    write_json(out, baseline.to_json(), sort_keys=True)
    assert written_before == list(range(len(BASE_FAILING)))  # each entry made once the one before is out

    def failing(entry):
        if entry.fingerprint == sorted(BASE_FAILING)[3]:
            raise OSError(28, "No space left on device")
        return real(entry)

    monkeypatch.setattr(BaselineEntry, "to_json", failing)
    with pytest.raises(UserError, match="cannot write the baseline"):
        write_baseline(baseline, path)
    assert path.read_text(encoding="utf-8") == json_text(whole, sort_keys=True)  # the old baseline, whole
    assert [p.name for p in tmp_path.iterdir()] == ["pd-audit-baseline.json"]
