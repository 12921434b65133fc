"""The findings table (``audit.finding_table``): its columns against the ``Finding`` objects it stands for.

Acme is crawled through the emulator and judged with the report tests' pack and config (a tier map,
one valid and one expired waiver); whatever the columns give (order, counts, waivers, the tier
notice, scores, one team's view) is checked against the same worked out over the findings as
objects, the way pd-audit did before the table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from audit.assess import Assessment, _tier_rule_as_notice, assess
from audit.finding_table import (
    FindingTable,
    Subjects,
    by_code,
    distinct,
    fan_out,
    message_texts,
    occurrences,
    ranks,
)
from audit.findings import Finding, Status, apply_waivers
from audit.outputs.summary import COUNTED_STATUSES, _tally
from audit.rules import EvaluationContext, evaluate, load_packs
from audit.scoring import score, service_refs
from audit.tiers import TIER_RULE, no_mapping_notice
from tests.crawl.conftest import ACME, crawl, emulator_app

REPORT_DATA = Path(__file__).parents[1] / "reports" / "data"
TODAY = dt.date(2027, 2, 2)  # one of the config's waivers valid, one expired


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    workdir = tmp_path_factory.mktemp("acme-table")
    snapshot, _ = crawl(emulator_app(ACME), workdir / "snapshot")
    return assess(snapshot, rules_dirs=[REPORT_DATA / "pack"], config_path=REPORT_DATA / "pd-audit.toml",
                  cwd=workdir, today=TODAY, env={})


def _objects(findings: FindingTable) -> tuple[Finding, ...]:
    """The table's findings, each made again by ``Finding``'s own constructor from its fields."""
    return tuple(Finding(**{field.name: getattr(f, field.name) for field in dataclasses.fields(Finding) if field.init})
                 for f in findings)


def test_the_engines_findings_are_sorted_by_fingerprint_and_made_once(acme):
    table = acme.evaluation.findings
    assert isinstance(table, FindingTable)
    prints = [f.fingerprint for f in table]
    assert len(table) > 500 and prints == sorted(prints) and len(set(prints)) == len(prints)
    assert table[7] is tuple(table)[7] and table[-1] is table[len(table) - 1]
    made = _objects(table)
    assert made == tuple(table)
    assert [f.fingerprint for f in made] == prints


def test_rules_sort_by_their_fingerprints_not_their_ids(account, tmp_path):
    # "XQ-100:..." sorts before "XQ-10:..." (a digit before the colon), though "XQ-10" < "XQ-100".
    rule = ("  - id: {id}\n    title: Service has one owning team\n    entity: service\n"
            "    condition: team_count == 1\n    severity: high\n    level: 1\n    mode: S\n"
            "    rationale: One team fixes it.\n    fix: Keep one team.\n"
            "    message: \"{{name}} has {{team_count}} teams\"\n")
    (tmp_path / "pack.yaml").write_text("description: two rules whose ids share a prefix\nrules:\n"
                                        + rule.format(id="XQ-10") + rule.format(id="XQ-100"))
    pack = load_packs([tmp_path], account.columns, include_builtin=False)
    findings = evaluate(pack, account.facts, EvaluationContext(rollup=account.rollup)).findings
    prints = [f.fingerprint for f in findings]
    assert prints == sorted(prints)
    assert prints[0].startswith("XQ-100:") and prints[-1].startswith("XQ-10:")


def test_sub_keys_sort_as_the_fingerprint_reads():
    subjects = Subjects(entity_ids=["PEP1", "PEP10", "PEP1", "PEP1"], sub_keys=["2", "1", "10", None])
    # PEP1 < PEP10:1 < PEP1:10 < PEP1:2 (":" sorts after the digits; as (id, sub-key) pairs
    # PEP10's would come last)
    assert subjects.fingerprint_order().tolist() == [3, 1, 2, 0]


def test_counts_from_the_columns_equal_counts_over_the_findings(acme):
    findings = tuple(acme.findings)
    per_rule, tally = _tally(acme.findings, all_findings=False)
    per_team = tally.as_counter()
    assert per_rule == Counter((f.rule_id, f.status) for f in findings)
    assert per_team == Counter((f.rule_id, team_id, f.status) for f in findings if f.status in COUNTED_STATUSES
                               for team_id in f.team_ids or (None,))
    assert per_team[("OWN-01", None, Status.PASS)] == 0 and sum(per_team.values()) > 300
    assert _tally(acme.findings, all_findings=True)[1].as_counter() == Counter()


def test_waivers_change_the_table_as_they_change_the_findings(acme):
    engine = acme.evaluation.findings
    on_table = apply_waivers(engine, acme.config.waivers, TODAY)
    on_objects = apply_waivers(_objects(engine), acme.config.waivers, TODAY)
    assert isinstance(on_table.findings, FindingTable)
    assert tuple(on_table.findings) == on_objects.findings
    assert (on_table.expired, on_table.unused) == (on_objects.expired, on_objects.unused)
    statuses = Counter(f.status for f in on_table.findings)
    assert statuses[Status.WAIVED] >= 1 and any(f.waiver_expired for f in on_table.findings)


def test_the_tier_notice_changes_only_the_tier_rules_judged_findings(acme):
    engine = acme.evaluation.findings
    notice = no_mapping_notice()
    expected = tuple(dataclasses.replace(f, status=Status.NOT_APPLICABLE, message=notice.message)
                     if f.rule_id == TIER_RULE and f.status is not Status.EXCLUDED else f for f in _objects(engine))
    assert tuple(_tier_rule_as_notice(engine, notice)) == expected
    assert expected != tuple(engine)


def test_scores_from_the_columns_equal_scores_from_the_findings(acme):
    services = service_refs(acme.facts.tables["service"], acme.facts.rollup())
    on_table = score(acme.findings, services, acme.config.weights)
    on_objects = score(_objects(acme.findings), services, acme.config.weights)  # a table made of the objects
    assert on_table == on_objects  # levels, scores, teams and tallies
    findings = tuple(acme.findings)
    for service_id, scored in on_table.services.items():
        mine = tuple(f for f in findings if service_id in f.service_ids)
        assert scored.findings == mine == on_objects.services[service_id].findings
        assert scored.failing == tuple(f for f in mine if f.status is Status.FAIL)
        assert scored.failing_rules == tuple(sorted({f.rule_id for f in scored.failing}))
        assert scored.next_level_rules == tuple(sorted({f.rule_id for f in scored.next_level_blockers}))
    assert sum(len(s.failing) for s in on_table.services.values()) > 20


def test_one_teams_view_holds_the_findings_on_its_services_and_itself(acme):
    team_id = "PTEAM01"
    services = set(acme.scores.teams[team_id].service_ids)
    expected = tuple(f for f in acme.findings
                     if services.intersection(f.service_ids) or (f.entity_type == "team" and f.entity_id == team_id))
    view = acme.for_team(team_id)
    assert tuple(view.findings) == expected
    assert any(f.entity_type == "team" for f in expected) and len(expected) < len(acme.findings)
    assert _tally(view.findings, all_findings=False)[0] == Counter((f.rule_id, f.status) for f in expected)


def test_findings_are_looked_up_by_their_fingerprints(acme):
    table = acme.findings
    lookup = table.by_fingerprint()
    assert list(lookup) == [f.fingerprint for f in table] and len(lookup) == len(table)
    failing = next(f for f in reversed(table) if f.status is Status.FAIL)
    assert lookup[failing.fingerprint] is failing and "OC-01:schedule:PNOPE" not in lookup


@pytest.mark.parametrize("values", [[], [7], [3, 1, 3, 3, 0, 2**40, 1], [3, 1, 3, 3, 0, 70000, 1]])
def test_distinct_codes_are_numpys_unique_ones(values):
    codes = np.array(values, dtype=np.int64)
    found, counts = distinct(codes)
    expected, expected_counts = np.unique(codes, return_counts=True)
    assert found.tolist() == expected.tolist() and counts.tolist() == expected_counts.tolist()
    if len(codes) and codes.max() < 2**20:  # counted in place, and (a range far larger than the codes) sorted
        for size in (int(codes.max()) + 1, 2**20):
            found, counts = occurrences(codes, size)
            assert found.tolist() == expected.tolist() and counts.tolist() == expected_counts.tolist()


@pytest.mark.parametrize("keys", [[], ["b"], ["b", "a", "b", "", "a\udc80", "a"],
                                  [("x", ""), ("x", "1"), ("", "z"), ("x", "")]])
def test_ranks_order_as_sorted_does_with_ties_kept_in_place(keys):
    places = ranks(keys)
    assert [keys[n] for n in np.lexsort((np.arange(len(keys)), places))] == sorted(keys)
    assert all((places[i] == places[j]) == (keys[i] == keys[j]) for i in range(len(keys)) for j in range(len(keys)))


def test_values_by_code_and_messages_by_row():
    codes = np.array([4, 2, 4, 9], dtype=np.int64)
    assert by_code(["two", "four", "nine"], codes, [2, 4, 9]) == ["four", "two", "four", "nine"]
    assert by_code(["a", "b"], np.array([1, 1, 0])) == ["b", "b", "a"] and by_code([], codes[:0]) == []
    message = np.array([None, "x", "y", None, "x"], dtype=object)
    shown = message_texts(message, ["t0", "t1", "t2", "t3", "t4"], str.upper)
    assert shown == ["t0", "X", "Y", "t3", "X"]
    assert message_texts(np.array([None], dtype=object), ["t"], str.upper) == ["t"]


def test_rule_tallies_per_team_from_the_objects_equal_counts_over_the_findings(acme):
    """Per team, each finding counts once if any of its services is the team's; the org counts every one.
    The engine's table (no fingerprint repeats) is tallied per object; the same table marked as one that
    may repeat them takes the general path: both equal the counts over the findings as objects."""
    services = service_refs(acme.facts.tables["service"], acme.facts.rollup())
    table = acme.findings
    repeating = FindingTable(table.rules, table.subjects, table.rule, table.subject, table.status, table.severity,
                             table.message, changes=table.changes, unique=False)
    findings = tuple(table)
    by_objects = score(findings, services, acme.config.weights)
    for scored in (score(table, services, acme.config.weights), score(repeating, services, acme.config.weights)):
        assert scored.teams == by_objects.teams and scored.org == by_objects.org
        for team_id, group in scored.teams.items():
            mine = set(group.service_ids)
            expected = Counter((f.rule_id, f.status) for f in findings if mine.intersection(f.service_ids))
            assert {(r, s): n for r, t in group.rules.items() for s, n in t.counts.items()} == expected, team_id
        assert ({(r, s): n for r, t in scored.org.rules.items() for s, n in t.counts.items()}
                == Counter((f.rule_id, f.status) for f in findings))
    teams_reached = [{t for t, g in by_objects.teams.items() if set(g.service_ids).intersection(f.service_ids)}
                     for f in findings]
    assert max(map(len, teams_reached)) > 1 and min(map(len, teams_reached)) == 0  # shared, and no service's


def test_fan_out_gives_each_item_once_per_value_of_its_key():
    # Key 0 holds [7, 8], key 1 nothing, key 2 [9]: laid out one key after the other.
    values, counts = np.array([7, 8, 9]), np.array([2, 0, 1])
    items, fanned = fan_out(np.array([10, 11, 12, 13]), np.array([2, 0, 1, 0]), values, counts)
    assert items.tolist() == [10, 11, 11, 13, 13] and fanned.tolist() == [9, 7, 8, 7, 8]
