"""diff_assessments: findings matched by fingerprint, levels and scores compared per service, team and org."""

from __future__ import annotations

import dataclasses
import statistics

from audit.assess import assess
from audit.diff import diff_assessments, mean_level
from audit.findings import Status
from tests.reports.conftest import PACK, TODAY


def test_regressions_are_new_and_repairs_are_fixed(acme, acme_previous):
    diff = diff_assessments(acme_previous, acme)
    new = {f.fingerprint for f in diff.new}
    fixed = {f.fingerprint for f in diff.fixed}
    # Gift Cards gained a second owner; Promotions lost its description; Payments API gained a runbook link.
    assert "XOWN-01:service:PSVC013" in new
    assert "XOWN-05:service:PSVC011" in new
    assert "XOWN-06:service:PSVC001" in fixed
    assert not new & fixed
    # Everything open in both is "unchanged", and the categories cover every open finding exactly once.
    open_now = {f.fingerprint for f in acme.findings if f.status is Status.FAIL}
    assert open_now == new | {f.fingerprint for f in diff.unchanged}
    open_before = {f.fingerprint for f in acme_previous.findings if f.status is Status.FAIL}
    assert open_before == fixed | {f.fingerprint for f in diff.unchanged} | {f.fingerprint for f in diff.waived}


def test_fixed_findings_are_reported_as_they_were(acme, acme_previous):
    diff = diff_assessments(acme_previous, acme)
    fixed = next(f for f in diff.fixed if f.fingerprint == "XOWN-06:service:PSVC001")
    assert fixed.status is Status.FAIL  # the old verdict, with the old message
    assert "Payments API" in fixed.message


def test_a_waiver_granted_since_is_waived_not_fixed(acme):
    unwaived = assess(acme.snapshot, rules_dirs=[PACK], config_path=None, cwd=acme.snapshot.path, today=TODAY, env={})
    diff = diff_assessments(unwaived, acme)
    assert [f.fingerprint for f in diff.waived] == ["XOWN-06:service:PSVC005"]
    assert diff.waived[0].waiver.approved_by == "vp-eng@acme.example"
    assert "XOWN-06:service:PSVC005" not in {f.fingerprint for f in diff.fixed}


def test_same_assessment_has_no_changes(acme):
    diff = diff_assessments(acme, acme)
    assert diff.new == () and diff.fixed == () and diff.waived == ()
    assert len(diff.unchanged) == len(acme.failing())
    assert all(change.score_delta == 0 and change.level_delta == 0 for change in diff.teams.values())


def test_level_and_score_changes(acme, acme_previous):
    diff = diff_assessments(acme_previous, acme)
    gift_cards = diff.services["PSVC013"]
    assert gift_cards.old_level == acme_previous.scores.services["PSVC013"].level
    assert gift_cards.new_level == acme.scores.services["PSVC013"].level == 0
    checkout_old, checkout_new = acme_previous.scores.teams["PTEAM02"], acme.scores.teams["PTEAM02"]
    expected_old = statistics.fmean(acme_previous.scores.services[s].level for s in checkout_old.service_ids)
    change = diff.teams["PTEAM02"]
    assert change.name == "Checkout"
    assert change.old_level == expected_old == mean_level(checkout_old)
    assert change.score_delta == checkout_new.score - checkout_old.score
    assert diff.org.score_delta == acme.scores.org.score - acme_previous.scores.org.score


def test_objects_only_on_one_side_have_no_delta(acme, acme_previous):
    services = {k: v for k, v in acme.scores.services.items() if k != "PSVC001"}
    shrunk = acme.with_scores(dataclasses.replace(acme.scores, services=services))
    diff = diff_assessments(acme_previous, shrunk)
    gone = diff.services["PSVC001"]
    assert gone.new_level is None and gone.old_level is not None and gone.level_delta is None
