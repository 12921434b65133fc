"""JUnit's counting pass (``junit._suites``) read from the finding table's columns, held to the same
worked out over the findings as objects, as it was before: each rule's listed findings (in order),
its outcomes, and its counted passes and objects not judged (how many, the first one's entity type,
the reasons in the order first seen).

The account is the hostile Acme judged with every mode on a snapshot crawled without incidents, so
the analytics rules' findings are excluded (not judged) beside passes, failures, warnings and a waiver.
"""

from __future__ import annotations

import collections
import dataclasses

import pytest

from audit.baseline import create_baseline
from audit.findings import Status
from audit.gate import run_gate
from audit.outputs import junit
from tests.ci.conftest import HOSTILE_TODAY, hostile_acme_judged


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory):
    assessment = hostile_acme_judged(tmp_path_factory.mktemp("junit-hostile"))
    accepted = [f for f in assessment.findings if f.status is Status.FAIL][::2]  # half the debt known
    return run_gate(assessment, create_baseline(accepted, HOSTILE_TODAY))


def _by_objects(gate, every_object: bool) -> dict[str, tuple]:
    """Per rule: listed findings, outcomes, and counted passes and not-judged objects, over the objects."""
    suites: dict[str, tuple] = {}
    for finding in gate.assessment.findings:
        if finding.status is Status.NOT_APPLICABLE:
            continue
        listed, outcomes, counted = suites.setdefault(finding.rule_id, ([], collections.Counter(), []))
        if every_object or finding.status not in junit.COUNTED:
            listed.append(finding)
            outcomes[junit._outcome(gate, finding)] += 1
        else:
            counted.append(finding)
    expected = {}
    for rule_id, (listed, outcomes, counted) in suites.items():
        passes = [f for f in counted if f.status is Status.PASS]
        excluded = [f for f in counted if f.status is Status.EXCLUDED]
        expected[rule_id] = (listed, outcomes, len(passes), passes[0].entity_type if passes else "",
                             list(collections.Counter(f.message for f in excluded).items()),
                             excluded[0].entity_type if excluded else "")
    return dict(sorted(expected.items()))


@pytest.mark.parametrize("every_object", [False, True], ids=["counted", "every object"])
def test_the_counting_pass_from_the_columns_is_the_one_over_the_findings(gate, every_object):
    expected = _by_objects(gate, every_object)
    suites = junit._suites(gate, every_object, junit.CHECK_ALL)
    for suite in suites:
        suite.outcomes.subtract(case.outcome for case in junit.counted_cases(suite.rule_id, suite.counted))
        suite.outcomes += collections.Counter()  # drop the zeros the subtraction leaves
    got = {s.rule_id: (s.listed, s.outcomes, s.counted.passes, s.counted.pass_type, list(s.counted.reasons.items()),
                       s.counted.excluded_type) for s in suites}
    assert got == expected
    if not every_object:
        assert any(passes for _, _, passes, *_ in expected.values())
        assert any(reasons for *_, reasons, _ in expected.values())  # objects not judged, with their reasons
    statuses = {f.status for listed, *_ in expected.values() for f in listed}
    assert {Status.FAIL, Status.WARN, Status.WAIVED} <= statuses


def test_the_report_from_the_columns_is_the_one_from_the_findings_made_elsewhere(gate):
    """The same gate over a plain sequence of the findings (``FindingTable.of_findings``): the same XML."""
    waivers = dataclasses.replace(gate.assessment.waivers, findings=tuple(gate.assessment.findings))
    plain = dataclasses.replace(gate, assessment=dataclasses.replace(gate.assessment, waivers=waivers))
    assert junit.render(plain) == junit.render(gate) and "not judged" in junit.render(gate)
