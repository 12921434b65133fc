"""The score's listed findings written from the finding table's columns (``audit.outputs.listed_findings``,
the terminal table's ``finding_lines``) against the same findings written through their objects
(``Finding.to_json``, the table's f-strings), as pd-audit wrote them before.

The account is the hostile Acme (attack payloads in every name PagerDuty lets a user set, on objects
that fail rules), judged with the report tests' pack and config: a tier map, one valid waiver (a
waived finding) and one expired (a failing finding carrying its waiver), warnings beside failures.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import operator
from collections import Counter

import numpy as np
import pytest

from audit.assess import Assessment
from audit.finding_table import as_table
from audit.findings import Finding, Status
from audit.json_text import Streamed, encode_item, finite, iter_json, number_text
from audit.outputs.csv_findings import COLUMNS, counted_lines
from audit.outputs.listed_findings import csv_field, csv_lines, json_texts, listed_rows
from audit.outputs.summary import (
    COUNTED_STATUSES,
    LISTED_STATUSES,
    TeamTally,
    _counted_rows,
    _figure,
    _group,
    _group_texts,
    _round,
    _service_text,
    _tally,
    summarize,
)
from audit.outputs.text_table import finding_lines
from audit.safe_csv import safe_cell, spreadsheet_writer
from audit.safe_text import capped, printable
from audit.scoring import GroupScore, RuleTally, ServiceScore
from audit.teams import team_names
from tests.ci.conftest import hostile_acme_judged
from tests.robustness.hostile import PAYLOADS


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    return hostile_acme_judged(tmp_path_factory.mktemp("listed-hostile"))


def _service(service: ServiceScore) -> dict:
    """A service's item in the score's JSON, as a dict: what ``_service_text`` lays out as text."""
    return {
        "id": service.service.id,
        "name": capped(service.service.name),
        "team_ids": list(service.service.team_ids),
        "level": service.level,
        "score": _round(service.score),
        "checks_passing": _round(service.checks_passing),
        "next_level_blockers": list(service.next_level_rules),
    }


def _by_objects(findings: list[Finding], statuses: frozenset[Status] | None) -> list[Finding]:
    chosen = [f for f in findings if statuses is None or f.status in statuses]
    return sorted(chosen, key=operator.attrgetter("fingerprint"))


def _csv_cells(finding: Finding) -> list[str]:
    row = finding.to_json()
    row["service_ids"] = " ".join(finding.service_ids)
    row["team_ids"] = " ".join(finding.team_ids)
    row["count"] = 1
    return [safe_cell(row[column]) for column in COLUMNS]


def _views(assessment: Assessment) -> dict[str, object]:
    team = next(iter(sorted(assessment.scores.teams)))
    table = as_table(assessment.findings)
    return {"account": table, "one team": table.concerning(assessment.scores.teams[team].service_ids, team)}


def test_the_account_has_what_the_columns_must_get_right(hostile):
    listed = _by_objects(list(hostile.findings), LISTED_STATUSES)
    statuses = {f.status for f in listed}
    assert {Status.FAIL, Status.WARN, Status.WAIVED} <= statuses
    assert any(f.waiver is not None and f.status is Status.FAIL for f in listed)  # an expired waiver
    names = " ".join(f.entity_name for f in listed)
    planted = {key for key, payload in PAYLOADS.items() if payload in names}
    assert {"ansi", "bidi", "csv_equals", "csv_row_break"} <= planted, sorted(planted)
    assert any(len(f.team_ids) > 1 for f in listed) and any(not f.team_ids for f in listed)


@pytest.mark.parametrize("statuses", [LISTED_STATUSES, None], ids=["listed", "all"])
def test_json_from_the_columns_is_each_findings_to_json(hostile, statuses):
    for view, table in _views(hostile).items():
        expected = [encode_item(f.to_json()) for f in _by_objects(list(table), statuses)]
        assert list(json_texts(*listed_rows(table, statuses))) == expected, view
        assert expected, view


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    spreadsheet_writer(out).writerow(cells)
    return out.getvalue()


@pytest.mark.parametrize("statuses", [LISTED_STATUSES, None], ids=["listed", "all"])
def test_csv_from_the_columns_is_each_findings_safe_cells_as_the_csv_module_writes_them(hostile, statuses):
    for view, table in _views(hostile).items():
        expected = [_csv_line(_csv_cells(f)) for f in _by_objects(list(table), statuses)]
        assert list(csv_lines(*listed_rows(table, statuses))) == expected, view
        assert expected, view
    assert any(line.count("\r\n") > 1 or '""' in line for line in csv_lines(*listed_rows(hostile.findings, None)))


@pytest.mark.parametrize("cell", ["", "plain", "a,b", 'say "hi"', '"', "line\nbreak", "cr\ronly", "crlf\r\n", " lead",
                                  "tab\tin", "\u2028sep", "x" * 300, *PAYLOADS.values()])
def test_a_csv_field_is_the_cell_as_the_csv_module_writes_it(cell):
    assert ",".join(map(csv_field, ["a", cell, "z"])) + "\r\n" == _csv_line(["a", cell, "z"])


def test_findings_made_by_hand_are_written_as_their_objects(hostile):
    """A table of findings made elsewhere (``FindingTable.of_findings``): the same text."""
    findings = _by_objects(list(hostile.findings), LISTED_STATUSES)[::-1]
    assert list(json_texts(*listed_rows(findings, None))) == [encode_item(f.to_json()) for f in findings[::-1]]
    assert list(csv_lines(*listed_rows(findings, None))) == [_csv_line(_csv_cells(f)) for f in findings[::-1]]


def test_fingerprints_that_need_quoting_or_a_formula_guard_are_written_as_their_objects(hostile):
    """Ids, sub-keys and rule ids with commas, quotes, line breaks and formula starts: the fingerprint's
    cell is quoted (from either half) and guarded (from its rule's head) as the whole cell would be."""
    odd = [("=R1", 'PX,"1"', None), ("R2", "PPLAIN", "a\r\nb"), ("+R,3", "PPLAIN", None), ("R4", "P\udc80", 'k"')]
    findings = [dataclasses.replace(f, rule_id=rule_id, entity_id=entity_id, sub_key=sub_key)
                for f, (rule_id, entity_id, sub_key) in zip(_by_objects(list(hostile.findings), LISTED_STATUSES),
                                                            odd * 3, strict=False)]
    findings += _by_objects(list(hostile.findings), LISTED_STATUSES)[:5]
    expected = _by_objects(findings, None)
    assert list(json_texts(*listed_rows(findings, None))) == [encode_item(f.to_json()) for f in expected]
    assert list(csv_lines(*listed_rows(findings, None))) == [_csv_line(_csv_cells(f)) for f in expected]
    assert sum(line.startswith(('"', "'")) for line in csv_lines(*listed_rows(findings, None))) >= 9


def test_findings_no_waiver_touched_are_written_as_their_objects(hostile):
    """No finding carries a waiver (each text joined from the columns, none made through its object)."""
    findings = [f for f in hostile.findings if f.waiver is None and f.original_status is None]
    table, rows = listed_rows(findings, LISTED_STATUSES)
    assert not table.changes.waivers and not table.changes.original_status
    assert list(json_texts(table, rows)) == [encode_item(f.to_json()) for f in _by_objects(findings, LISTED_STATUSES)]
    assert len(rows) > 20 and len(findings) > len(rows)


def _table_lines(findings: list[Finding], status: Status) -> list[str]:
    """The terminal table's lines of one status, as it wrote them from the findings' objects."""
    chosen = sorted((f for f in findings if f.status is status),
                    key=lambda f: (f.rule_id, f.entity_id, f.sub_key or ""))
    label = {Status.WARN: "warn"}
    return [f"  {f.rule_id:<7} {label.get(f.status, f.severity.value):<8} {f.entity_type} "
            f"{printable(f.entity_name, 40)} ({f.entity_id}): {printable(f.message)}" for f in chosen]


@pytest.mark.parametrize("status", [Status.FAIL, Status.WARN])
def test_the_terminal_tables_lines_from_the_columns_are_each_findings(hostile, status):
    for view, table in _views(hostile).items():
        expected = _table_lines(list(table), status)
        assert finding_lines(table, status) == expected, view
        assert finding_lines(list(table), status) == expected, view  # findings made elsewhere
    assert _table_lines(list(hostile.findings), status)  # the account has findings of each status
    assert any("\N{REPLACEMENT CHARACTER}" in line for line in finding_lines(hostile.findings, Status.FAIL))


def _counted_dicts(counts) -> list[dict]:
    """The score JSON's counted rows as dicts, as ``summary`` made them before writing them as text."""
    by_key: dict = {}
    for (rule_id, team_id, status), count in counts.items():
        zeros = dict.fromkeys((s.value for s in COUNTED_STATUSES), 0)
        by_key.setdefault((rule_id, team_id), zeros)[status.value] = count
    return [{"rule_id": rule_id, "team_id": team_id, **by_status}
            for (rule_id, team_id), by_status in sorted(by_key.items(),
                                                        key=lambda item: (item[0][0], item[0][1] or ""))]


def test_counted_rows_as_text_are_each_rows_encoded_dict(hostile):
    for view, table in _views(hostile).items():
        tally = _tally(table, all_findings=False)[1]
        counts = tally.as_counter()
        assert counts == Counter((f.rule_id, team_id, f.status) for f in table if f.status in COUNTED_STATUSES
                                 for team_id in f.team_ids or (None,)), view
        expected = [encode_item(row) for row in _counted_dicts(counts)]
        assert list(_counted_rows(tally)) == expected, view
        assert any(row["team_id"] is None for row in _counted_dicts(counts)), view
        assert all(json.loads(text) == row for text, row in zip(_counted_rows(tally), _counted_dicts(counts)))


def test_counted_rows_sort_by_rule_then_team_with_no_team_as_an_empty_id():
    """Rules and teams coded out of order, no team (None) beside a team whose id is "" (they sort
    together, in code order) and odd ids: the rows as the dicts sorted and encoded."""
    rule_ids, team_ids = ["R2", 'R"1\n', "R10", "R1"], ["PT2", None, "", "PT\u00e9", "PT1\ud800"]
    pairs = [(r, t) for r in range(len(rule_ids)) for t in range(len(team_ids)) if (r + t) % 3]
    tally = TeamTally(rule_ids, team_ids, np.array([r for r, _ in pairs]), np.array([t for _, t in pairs]),
                      np.array([[n % 4, n % 3, (n + 1) % 5] for n in range(len(pairs))]))
    counts = tally.as_counter()
    assert list(_counted_rows(tally)) == [encode_item(row) for row in _counted_dicts(counts)]
    assert any(team_id is None for _, team_id, _ in counts) and any(team_id == "" for _, team_id, _ in counts)


def _counted_csv_lines(counts) -> list[str]:
    """The CSV's counted rows as ``csv_findings`` wrote them before: sorted, then each written by the csv module."""
    blank = dict.fromkeys(COLUMNS, "")
    rows = [((rule_id, team_id, status.value), n) for (rule_id, team_id, status), n in counts.items()]
    return [_csv_line(list({**blank, "rule_id": safe_cell(rule_id), "status": safe_cell(status),
                            "team_ids": safe_cell(team_id or ""), "count": safe_cell(n)}.values()))
            for (rule_id, team_id, status), n in sorted(rows, key=lambda row: (row[0][0], row[0][1] or "", row[0][2]))]


def test_counted_csv_rows_as_text_are_each_row_written_by_the_csv_module(hostile):
    for view, table in _views(hostile).items():
        tally = _tally(table, all_findings=False)[1]
        assert list(counted_lines(tally)) == _counted_csv_lines(tally.as_counter()), view
    odd_ids = ["=R2", 'R"1,\n', "R1", "R1\r"], ["@PT2", None, "", "PT,\u00e9", "PT1\ud800"]
    pairs = [(r, t) for r in range(4) for t in range(5) if (r + t) % 3]
    tally = TeamTally(*odd_ids, np.array([r for r, _ in pairs]), np.array([t for _, t in pairs]),
                      np.array([[n % 4, n % 3, (n + 1) % 5] for n in range(len(pairs))]))
    lines = list(counted_lines(tally))
    assert lines == _counted_csv_lines(tally.as_counter()) and any(line.count('"') > 2 for line in lines)


# The services and teams sections, made as text from the scores, against each one's dict encoded.

ODD_FIGURES = [None, 0, 0.0, -0.0, 100, 100.0, 2.675, 0.125, 1.005, 1 / 3, 99.995, 1e16, 1e-7, np.float64(12.345),
               math.nan, math.inf, -math.inf]
ODD_NAMES = ['say "hi"', "back\\slash", "two\nlines\r\tand tab", "Zoë ☃ 日本", "lone \ud800 surrogate", "",
             "x" * 300, *PAYLOADS.values()]


@pytest.mark.parametrize("value", [*ODD_FIGURES, 7, True, np.float64(math.nan)], ids=repr)
def test_a_number_as_text_is_the_number_encoded(value):
    assert number_text(value) == encode_item(value)
    assert number_text(value) == encode_item(finite(value))  # NaN and infinities: null, as ``finite`` makes them


@pytest.mark.parametrize("value", ODD_FIGURES, ids=repr)
def test_a_score_figure_as_text_is_the_rounded_figure_encoded(value):
    assert _figure(value) == encode_item(_round(value))


def _odd_cases() -> list[tuple[int, str, object, object]]:
    """Each odd name twice, each time with two odd figures (every figure with every other's turn)."""
    count = len(ODD_FIGURES)
    return [(n, ODD_NAMES[n % len(ODD_NAMES)], ODD_FIGURES[n % count], ODD_FIGURES[-1 - n % count])
            for n in range(2 * len(ODD_NAMES))]


def _odd_services(assessment: Assessment) -> list[ServiceScore]:
    """The account's services, then copies of one with each odd name and each odd figure."""
    services = [s for _, s in sorted(assessment.scores.services.items())]
    one = services[0]
    return services + [
        dataclasses.replace(one, service=dataclasses.replace(one.service, name=name, team_ids=(name, "PT1")),
                            score=figure, checks_passing=other)
        for n, name, figure, other in _odd_cases()
    ]


def _odd_teams(assessment: Assessment) -> list[GroupScore]:
    """The account's teams and org, then copies of one with odd ids, names, figures and tallies."""
    teams = [g for _, g in sorted(assessment.scores.teams.items())] + [assessment.scores.org]
    one = teams[0]
    tallies = [{}, {Status.PASS: 0}, {Status.FAIL: 1, Status.PASS: 2}, {Status.WARN: 1, Status.FAIL: 7},
               {Status.NOT_APPLICABLE: 3, Status.PASS: 1, Status.EXCLUDED: 2}]
    return teams + [
        dataclasses.replace(one, id=name, score=figure, checks_passing=other, service_ids=(name,),
                            level_distribution={} if n % 4 == 0 else one.level_distribution,
                            rules={} if n % 5 == 0 else {name: RuleTally(name, tallies[n % len(tallies)]),
                                                         **one.rules})
        for n, name, figure, other in _odd_cases()
    ]


def test_services_as_text_are_each_services_dict_encoded(hostile):
    services = _odd_services(hostile)
    assert [_service_text(s) for s in services] == [encode_item(_service(s)) for s in services]
    assert any(s.next_level_rules for s in services) and any(len(s.service.team_ids) > 1 for s in services)


def test_teams_as_text_are_each_teams_dict_encoded(hostile):
    teams, names = _odd_teams(hostile), {**team_names(hostile), "PT1": 'team "one"\n\ud800'}
    texts = list(_group_texts({str(n): g for n, g in enumerate(teams)}, names))
    by_position = sorted(range(len(teams)), key=str)  # the teams as _group_texts orders them: by key
    assert texts == [encode_item(_group(teams[n], names)) for n in by_position]
    tallies = [(rule_id, tuple(t.counts.items())) for g in teams for rule_id, t in g.rules.items()]
    assert 10 < len(set(tallies)) < len(tallies)  # teams share some tallies' text, and not others


def test_the_score_documents_sections_are_the_items_encoded(hostile):
    document = summarize(hostile)
    names = team_names(hostile)
    services = [encode_item(_service(s)) for _, s in sorted(hostile.scores.services.items())]
    teams = [encode_item(_group(g, names)) for _, g in sorted(hostile.scores.teams.items())]
    for key, items in (("services", services), ("teams", teams)):
        assert document[key].text() == "".join(iter_json(Streamed(items, encoded=True), 1))
    assert document["org"].text() == "".join(iter_json(_group(hostile.scores.org, names), 1))
