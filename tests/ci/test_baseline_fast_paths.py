"""The baseline's fast paths held to the definitions they replace, on a hostile account's baseline.

Writing lays each entry out itself (``baseline._laid_out``) where ``json_text`` laid it out with
json's indenting encoder; reading takes each entry whose every check passes at once
(``baseline._checked_entry``) and leaves any other to ``baseline._entry``, which names the problem;
``create_baseline`` reads the finding table's columns where it made each open finding's entry.
The account is the hostile Acme (attack payloads in every name PagerDuty lets a user set), so the
names and messages recorded hold controls, bidi marks, quotes, backslashes and non-ASCII text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from audit import baseline as baselines
from audit.assess import Assessment
from audit.baseline import Baseline, BaselineEntry, create_baseline, load_baseline, snapshot_source, write_baseline
from audit.errors import UserError
from audit.finding_table import as_table
from audit.findings import OPEN_STATUSES, Status
from audit.json_text import json_text
from tests.ci.conftest import HOSTILE_TODAY as TODAY
from tests.ci.conftest import hostile_acme_judged
from tests.robustness.hostile import PAYLOADS


@pytest.fixture(scope="module")
def hostile_assessment(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    return hostile_acme_judged(tmp_path_factory.mktemp("baseline-hostile"))


@pytest.fixture(scope="module")
def hostile(hostile_assessment: Assessment) -> Baseline:
    return create_baseline(hostile_assessment.findings, TODAY, snapshot_source(hostile_assessment.snapshot.manifest))


def test_the_baseline_holds_what_the_layout_must_get_right(hostile):
    text = " ".join(f"{e.entity_name} {e.message}" for e in hostile.entries)
    assert {"ansi", "bidi", "csv_row_break"} <= {key for key, payload in PAYLOADS.items() if payload in text}
    assert any(len(e.team_ids) > 1 for e in hostile.entries) and any(not e.team_ids for e in hostile.entries)


def test_the_file_is_laid_out_as_json_text_lays_out_the_document(hostile, tmp_path):
    document = hostile.to_json()
    whole = {**document, "entries": list(document["entries"].items)}
    path = write_baseline(hostile, tmp_path / "baseline.json")
    assert path.read_text(encoding="utf-8") == json_text(whole, sort_keys=True)
    assert load_baseline(path) == hostile


def _record_variants(record: dict) -> list[dict]:
    """The record, and the record changed in each way a hand edit could change it (some still valid)."""
    changes = [{}, {"entity_name": 7}, {"message": None}, {"sub_key": ""}, {"sub_key": "1"}, {"sub_key": 1},
               {"fingerprint": None}, {"fingerprint": "X"}, {"rule_id": ""}, {"rule_id": ["A"]}, {"entity_id": ""},
               {"entity_type": "incident"}, {"entity_type": ["service"]}, {"severity": "urgent"},
               {"severity": ["high"]}, {"since": "last week"}, {"since": ["2027-01-04"]}, {"since": "2027-02-30"},
               {"team_ids": "PT1"}, {"team_ids": [1]}, {"team_ids": []}]
    variants = [{**record, **change} for change in changes]
    for key in record:
        variants.append({k: v for k, v in record.items() if k != key})
    return variants


def test_an_entry_read_at_once_is_the_entry_the_checks_read(hostile):
    records = [entry.to_json() for entry in hostile.entries]
    taken = 0
    for number, record in enumerate(records, start=1):
        for variant in [record] if number > 3 else _record_variants(record):
            checked = baselines._checked_entry(variant, {})
            try:
                expected = baselines._entry(Path("b.json"), number, variant)
            except UserError:
                assert checked is None, variant
                continue
            if checked is not None:
                taken += 1
                assert checked == expected and checked.fingerprint == expected.fingerprint, variant
                assert vars(checked) == vars(expected)  # the same fields, in the same order
            else:  # left to the checks: only when the fingerprint stated disagrees, which _entry refuses
                pytest.fail(f"a valid record was not taken at once: {variant}")
    assert taken >= len(records)
    assert baselines._checked_entry("not an object", {}) is None


def test_a_record_the_fast_path_refuses_still_gets_its_message(hostile, tmp_path):
    document = json.loads(json_text({**hostile.to_json(), "entries": [e.to_json() for e in hostile.entries]}))
    document["entries"][5]["severity"] = "urgent"
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(UserError, match="entry 6: severity 'urgent' is not one of"):
        load_baseline(path)


def test_entries_changed_keep_a_true_fingerprint(hostile):
    entry = hostile.entries[0]
    renamed = dataclasses.replace(entry, rule_id="XX-01")
    assert renamed.fingerprint == f"XX-01:{entry.entity_type}:{entry.entity_id}" + (
        "" if entry.sub_key is None else f":{entry.sub_key}")


def _by_objects(findings, today: dt.date) -> tuple[BaselineEntry, ...]:
    """``create_baseline``'s entries as it made them from the findings' objects."""
    entries = {f.fingerprint: BaselineEntry.of(f, today) for f in findings if f.status in OPEN_STATUSES}
    return tuple(sorted(entries.values(), key=lambda e: e.fingerprint))


def test_a_baseline_made_from_the_columns_holds_each_open_findings_entry(hostile_assessment):
    table = as_table(hostile_assessment.findings)
    team = sorted(hostile_assessment.scores.teams)[0]
    views = {"account": table, "one team": table.concerning(hostile_assessment.scores.teams[team].service_ids, team),
             "findings made elsewhere": list(table)[::-1]}
    for view, findings in views.items():
        expected = _by_objects(list(findings), TODAY)
        made = create_baseline(findings, TODAY).entries
        assert made == expected and [vars(e) for e in made] == [vars(e) for e in expected], view
        assert expected, view
    recorded = {e.fingerprint for e in create_baseline(table, TODAY).entries}
    statuses = {f.status for f in table if f.fingerprint in recorded}
    assert statuses == {Status.FAIL, Status.WARN}  # warnings recorded too; the waived one is not
    assert any(f.status is Status.WAIVED for f in table)
