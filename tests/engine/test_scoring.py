"""Maturity levels, weighted scores and team/org roll-ups, checked against hand-computed figures."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from audit import scoring
from audit.findings import Finding, Mode, Severity, Status, Waiver, apply_waivers
from audit.rules import EvaluationContext, evaluate
from audit.scoring import DEFAULT_WEIGHTS, NO_TEAM, ServiceRef, score

ALL_AVAILABLE = {"PSVC001": 4, "PSVC002": 1, "PSVC003": 0, "PSVC004": 0, "PSVC005": 0, "PSVC006": 3}

# Weights: critical 10, high 5, medium 3, low 1, info 0. Pass weight / (pass + fail weight):
#   PSVC002 fails OWN-06 (low 1) and ESC-07 on PEP0004 (medium 3); passes OWN-01 5, OWN-05 3,
#           ESC-01 5, ESC-03 3, OC-01 10, OC-03 5, OC-06 3, RCH-01 5 x2 (Ada, Grace), OWN-02 3 = 47
#   PSVC003 fails OWN-06 1, OC-01 10, OC-06 3; passes 5+3+5+3+3+5+5+3 = 32
#   PSVC004 fails OWN-01 5, OWN-05 3, OWN-06 1, ESC-01 5, ESC-03 3, OC-01 10, OC-03 5, RCH-01 5 = 37;
#           passes ESC-07 3, OC-06 3 = 6
#   PSVC005 like PSVC004 but OWN-05 and OWN-06 pass (3+1) and two teams: Checkout's OWN-02 passes (3),
#           Platform's fails (3): passes 13, fails 5+5+3+10+5+5+3 = 36
#   PSVC006 OWN-01 n/a; passes OWN-05 3 and its team's OWN-02 3; fails OWN-06 1
HAND_CHECKS_PASSING = {
    "PSVC001": 100.0,
    "PSVC002": 100 * 47 / 51,
    "PSVC003": 100 * 32 / 46,
    "PSVC004": 100 * 6 / 43,
    "PSVC005": 100 * 13 / 49,
    "PSVC006": 100 * 6 / 7,
}
# The ladder score: 25 x level, plus 25 x the weighted share of the next level's findings passed.
#   PSVC001 level 4: 100
#   PSVC002 level 1; level 2: ESC-07 fails (3), OC-03 (5) and OWN-02 (3) pass: 25 + 25 x 8/11
#   PSVC003 level 0; level 1: OC-01 fails (10); ESC-01 5, ESC-03 3, OWN-01 5, OWN-05 3, RCH-01 5 pass
#   PSVC004 level 0; every level-1 finding fails: 0
#   PSVC005 level 0; level 1: only OWN-05 (3) passes of 5+3+10+5+3+5
#   PSVC006 level 3; level 4: OWN-06 fails (1): 75
HAND_SCORES = {
    "PSVC001": 100.0,
    "PSVC002": 25 + 25 * 8 / 11,
    "PSVC003": 25 * 21 / 31,
    "PSVC004": 0.0,
    "PSVC005": 25 * 3 / 31,
    "PSVC006": 75.0,
}


def evaluated(pack, account, **context):
    return evaluate(pack, account.facts, EvaluationContext(rollup=account.rollup, **context)).findings


def test_levels_follow_the_ladder(core_pack, account):
    report = score(evaluated(core_pack, account), account.services)
    assert {sid: s.level for sid, s in report.services.items()} == ALL_AVAILABLE


def test_info_rules_never_block(core_pack, account):
    payments = score(evaluated(core_pack, account), account.services).services["PSVC001"]
    assert any(f.rule_id == "OC-12" and f.status is Status.WARN for f in payments.findings)
    assert payments.level == 4


def test_excluded_findings_are_shown_but_do_not_block(core_pack, account):
    findings = evaluated(core_pack, account, unavailable={"oncalls": "HTTP 403: token lacks access"})
    checkout = score(findings, account.services).services["PSVC003"]
    assert checkout.level == 2
    assert {f.fingerprint for f in checkout.excluded} == {"OC-01:schedule:PSCH002", "SVC-05:service:PSVC003"}


def test_static_only_run_scores_without_window_rules(core_pack, account):
    findings = evaluated(core_pack, account, modes=frozenset({Mode.STATIC}))
    levels = {sid: s.level for sid, s in score(findings, account.services).services.items()}
    # Checkout's window problems (OC-01 coverage, OC-06 fairness) are not judged; OWN-06 (L4) remains
    assert levels == {**ALL_AVAILABLE, "PSVC003": 3}


def test_waived_findings_do_not_block(core_pack, account):
    waiver = Waiver("OWN-06", "PSVC006", "Retired in Q1", "cto@acme.example", dt.date(2027, 3, 31))
    outcome = apply_waivers(evaluated(core_pack, account), [waiver], dt.date(2026, 11, 27))
    legacy = score(outcome.findings, account.services).services["PSVC006"]
    assert legacy.level == 4
    assert legacy.score == 100.0  # waived is neutral: 6 of 6


@pytest.mark.parametrize(
    ("failing", "other", "level"),
    [
        ([], [], 4),
        ([1], [], 0),
        ([2], [], 1),
        ([3], [], 2),
        ([4], [], 3),
        ([2, 4], [], 1),
        ([None], [], 4),
        ([], [(1, Status.WAIVED), (1, Status.NOT_APPLICABLE), (1, Status.EXCLUDED), (2, Status.PASS)], 4),
        ([3], [(1, Status.WAIVED), (2, Status.EXCLUDED)], 2),
    ],
)
def test_ladder_boundaries(failing, other, level):
    def finding(rule_level, status, n):
        return Finding(
            rule_id=f"OC-{n:02d}", entity_type="service", entity_id="PSVC001", entity_name="Payments API",
            status=status, severity=Severity.HIGH, level=rule_level, mode=Mode.STATIC, message="",
            service_ids=("PSVC001",),
        )  # fmt: skip

    findings = [finding(lvl, Status.FAIL, n) for n, lvl in enumerate(failing)]
    findings += [finding(lvl, status, 50 + n) for n, (lvl, status) in enumerate(other)]
    payments = ServiceRef("PSVC001", "Payments API", ("PTEAM01",))
    assert score(findings, [payments]).services["PSVC001"].level == level


def test_warnings_and_other_services_findings_do_not_hold_a_service_back():
    def finding(service_ids, *, warning=False, level=1):
        return Finding(
            rule_id="OC-03", entity_type="schedule", entity_id=f"PSCH{len(service_ids)}{warning:d}{level}",
            entity_name="Payments primary", status=Status.WARN if warning else Status.FAIL, severity=Severity.HIGH,
            level=level, mode=Mode.STATIC, message="", service_ids=service_ids,
        )  # fmt: skip

    services = [ServiceRef("PSVC001", "Payments API", ("PTEAM01",)), ServiceRef("PSVC002", "Ledger", ("PTEAM01",))]
    findings = [finding(("PSVC001", "PSVC002"), warning=True), finding(("PSVC002",), level=3),
                finding(("PSVC404",), level=1)]  # a service not being scored
    report = score(findings, services)
    assert {sid: s.level for sid, s in report.services.items()} == {"PSVC001": 4, "PSVC002": 2}
    assert [len(s.findings) for s in report.services.values()] == [1, 2]
    # The shared warning counts once for the team; the org also counts the unscored service's finding.
    assert report.teams["PTEAM01"].rules["OC-03"].counts == {Status.WARN: 1, Status.FAIL: 1}
    assert report.org.rules["OC-03"].counts == {Status.WARN: 1, Status.FAIL: 2}


def test_a_fingerprint_given_twice_counts_once_in_the_tallies_and_failing_lists_hold_only_failures():
    # The engine never repeats a fingerprint, but score() takes findings from anywhere: a repeated one
    # counts once per group (the last given), and each service's failing findings are its FAIL ones.
    def finding(status, entity_id="PSCH001"):
        return Finding(
            rule_id="OC-03", entity_type="schedule", entity_id=entity_id, entity_name="Payments primary",
            status=status, severity=Severity.HIGH, level=1, mode=Mode.STATIC, message="",
            service_ids=("PSVC001",), team_ids=("PTEAM01",),
        )  # fmt: skip

    services = [ServiceRef("PSVC001", "Payments API", ("PTEAM01",))]
    repeated = score([finding(Status.FAIL), finding(Status.PASS)], services)
    assert repeated.teams["PTEAM01"].rules["OC-03"].counts == {Status.PASS: 1}
    assert repeated.org.rules["OC-03"].counts == {Status.PASS: 1}
    distinct = score([finding(Status.FAIL), finding(Status.PASS, "PSCH002")], services)
    assert distinct.teams["PTEAM01"].rules["OC-03"].counts == {Status.FAIL: 1, Status.PASS: 1}
    scored = distinct.services["PSVC001"]
    assert [f.entity_id for f in scored.failing] == ["PSCH001"] and len(scored.findings) == 2
    assert scored.level == 0 and scored.next_level_blockers == scored.failing


def test_ladder_scores_match_hand_computation(core_pack, account):
    report = score(evaluated(core_pack, account), account.services)
    assert {sid: s.score for sid, s in report.services.items()} == pytest.approx(HAND_SCORES)


def test_checks_passing_is_the_weighted_pass_rate(core_pack, account):
    report = score(evaluated(core_pack, account), account.services)
    assert {sid: s.checks_passing for sid, s in report.services.items()} == pytest.approx(HAND_CHECKS_PASSING)
    assert report.org.checks_passing == pytest.approx(sum(HAND_CHECKS_PASSING.values()) / 6)


@pytest.mark.parametrize("weights", [DEFAULT_WEIGHTS, {severity: 0 for severity in Severity}])
def test_every_level_outscores_the_one_below(core_pack, account, weights):
    report = score(evaluated(core_pack, account), account.services, weights)
    by_level = sorted(report.services.values(), key=lambda s: s.level)
    for lower, higher in zip(by_level, by_level[1:]):
        if higher.level > lower.level:
            assert higher.score > lower.score
    for service in by_level:
        assert 25 * service.level <= service.score < 25 * service.level + 25 or service.score == 100


def test_weights_and_severity_overrides_change_scores(core_pack, account):
    weights = {**DEFAULT_WEIGHTS, Severity.CRITICAL: 20}
    assert score(evaluated(core_pack, account), account.services, weights).services["PSVC003"].score == (
        pytest.approx(25 * 21 / 41)  # OC-01 fails at 20 instead of 10
    )
    softer = core_pack.configured(severity={"OWN-01": Severity.LOW})
    assert score(evaluated(softer, account), account.services).services["PSVC005"].score == (
        pytest.approx(25 * 3 / 27)  # OWN-01 costs 1 instead of 5
    )


def test_service_with_nothing_weighed_is_at_the_top_but_has_no_checks_passing():
    report = score([], [ServiceRef("PSVC999", "Sandbox", ("PTEAM01",))])
    assert report.services["PSVC999"].checks_passing is None
    assert report.services["PSVC999"].level == 4 and report.services["PSVC999"].score == 100
    assert report.teams["PTEAM01"].checks_passing is None


def test_next_level_lists_the_failing_rules_one_step_up(core_pack, account):
    services = score(evaluated(core_pack, account), account.services).services
    blockers = {sid: sorted(f.fingerprint for f in s.next_level_blockers) for sid, s in services.items()}
    assert blockers == {
        "PSVC001": [],
        "PSVC002": ["ESC-07:escalation_policy:PEP0004"],
        "PSVC003": ["OC-01:schedule:PSCH002"],
        "PSVC004": [
            "ESC-01:escalation_policy:PEP0003", "ESC-03:escalation_policy:PEP0003", "OC-01:schedule:PSCH003",
            "OWN-01:service:PSVC004", "OWN-05:service:PSVC004", "RCH-01:user:PUSER04",
        ],
        "PSVC005": [
            "ESC-01:escalation_policy:PEP0003", "ESC-03:escalation_policy:PEP0003", "OC-01:schedule:PSCH003",
            "OWN-01:service:PSVC005", "RCH-01:user:PUSER04",
        ],
        "PSVC006": ["OWN-06:service:PSVC006"],
    }  # fmt: skip


def test_team_roll_up(core_pack, account):
    teams = score(evaluated(core_pack, account), account.services).teams
    assert set(teams) == {"PTEAM01", "PTEAM02", "PTEAM03", NO_TEAM}
    payments = teams["PTEAM01"]
    assert payments.service_ids == ("PSVC001", "PSVC002", "PSVC006")
    assert payments.level_distribution == {0: 0, 1: 1, 2: 0, 3: 1, 4: 1}
    assert payments.score == pytest.approx(
        (HAND_SCORES["PSVC001"] + HAND_SCORES["PSVC002"] + HAND_SCORES["PSVC006"]) / 3
    )
    assert payments.rules["OWN-06"].pass_rate == pytest.approx(1 / 3)
    # Ada and Grace are each counted once, though each reaches two Payments services
    assert payments.rules["RCH-01"].counts == {Status.PASS: 2}
    assert payments.rules["OC-12"].counts == {Status.WARN: 1}
    assert payments.rules["SVC-05"].counts == {Status.EXCLUDED: 3} and payments.rules["SVC-05"].pass_rate is None
    assert teams["PTEAM03"].service_ids == ("PSVC005",)
    assert teams["PTEAM02"].level_distribution == {0: 2, 1: 0, 2: 0, 3: 0, 4: 0}
    assert teams[NO_TEAM].service_ids == ("PSVC004",)


def test_org_roll_up(core_pack, account):
    report = score(evaluated(core_pack, account), account.services)
    assert report.org.level_distribution == {0: 3, 1: 1, 2: 0, 3: 1, 4: 1}
    assert report.org.score == pytest.approx(sum(HAND_SCORES.values()) / 6)
    # every schedule is tallied, including PSCH004 that no service uses
    assert report.org.rules["OC-03"].counts == {Status.PASS: 2, Status.FAIL: 2}
    assert report.org.rules["ESC-01"].pass_rate == pytest.approx(3 / 4)


def test_a_warning_neither_blocks_the_level_nor_costs_score(core_pack, account):
    findings = evaluated(core_pack, account)
    # Payments API (level 4) gets a failing level-2 finding: as an error it drops to 1, as a warning it stays.
    failure = Finding(
        rule_id="OC-03", entity_type="schedule", entity_id="PSCH001", entity_name="Payments primary",
        status=Status.FAIL, severity=Severity.LOW, level=2, mode=Mode.STATIC,
        message="Payments primary rotates 3 people", service_ids=("PSVC001",), team_ids=("PTEAM01",),
    )  # fmt: skip
    others = tuple(f for f in findings if not (f.rule_id == "OC-03" and f.entity_id == "PSCH001"))
    as_error = score(others + (failure,), account.services).services["PSVC001"]
    as_warning = score(others + (dataclasses.replace(failure, status=Status.WARN),), account.services).services["PSVC001"]
    as_pass = score(others + (dataclasses.replace(failure, status=Status.PASS),), account.services).services["PSVC001"]
    assert as_error.level == 1 and as_error.score < 50
    assert as_warning.level == 4 and as_warning.score == 100.0
    assert as_warning.checks_passing == pytest.approx(score(others, account.services).services["PSVC001"].checks_passing)
    assert as_pass.checks_passing >= as_warning.checks_passing


def _by_hand(findings, service, weights):
    """A service's level, checks passing and ladder score worked out finding by finding (the oracle)."""
    mine = [f for f in findings if service.id in f.service_ids]
    level = min([f.level for f in mine if f.blocks_level] + [5]) - 1
    weight = {f.fingerprint: weights.get(f.severity, 0) for f in mine}
    judged = [f for f in mine if f.status in (Status.PASS, Status.FAIL)]
    possible = sum(weight[f.fingerprint] for f in judged)
    earned = sum(weight[f.fingerprint] for f in judged if f.status is Status.PASS)
    at_next = [f for f in judged if f.level == level + 1]
    next_possible = sum(weight[f.fingerprint] for f in at_next)
    next_earned = sum(weight[f.fingerprint] for f in at_next if f.status is Status.PASS)
    share = min(next_earned / next_possible, 1 - 1e-12) if next_possible else 0.0
    failing = sorted({f.rule_id for f in mine if f.status is Status.FAIL})
    return (level, 100 * earned / possible if possible else None, 100.0 if level >= 4 else 25 * (level + share),
            failing, sorted({f.rule_id for f in mine if f.status is Status.FAIL and f.level == level + 1}))


@pytest.mark.parametrize("weights", [DEFAULT_WEIGHTS, {Severity.CRITICAL: 7.3, Severity.HIGH: 2.5, Severity.MEDIUM: 0.1,
                                                       Severity.LOW: 1 / 3, Severity.INFO: 0}])
def test_every_services_figures_are_its_own_findings_summed(core_pack, account, weights):
    # Scoring sums a service's findings per object first (a policy's findings once, for every service
    # using it): each service's figures are still exactly those of its own findings, one by one.
    findings = list(evaluated(core_pack, account))
    report = score(findings, account.services, weights)
    for service in account.services:
        got = report.services[service.id]
        level, passing, ladder, failing, next_level = _by_hand(findings, service, weights)
        assert (got.level, list(got.failing_rules), list(got.next_level_rules)) == (level, failing, next_level)
        assert got.checks_passing == pytest.approx(passing) and got.score == pytest.approx(ladder)
        assert sorted(f.fingerprint for f in got.findings) == sorted(
            f.fingerprint for f in findings if service.id in f.service_ids)
    assert len({s.level for s in report.services.values()}) > 2


def test_rule_tallies_are_counted_once_for_every_team_when_first_read(core_pack, account, monkeypatch):
    # The terminal table reads no team's rule tallies: they are counted only when some reader asks,
    # for every team at once, and the org's apart.
    counted = []
    tallies = scoring._FindingColumns.subject_tallies

    def counting(self, *args):
        counted.append(args[-1])  # how many groups
        return tallies(self, *args)

    monkeypatch.setattr(scoring._FindingColumns, "subject_tallies", counting)
    report = score(evaluated(core_pack, account), account.services)
    assert counted == []
    teams = sorted(report.teams)
    first = dict(report.teams[teams[0]].rules)
    assert counted == [len(teams)] and first and all(isinstance(t, scoring.RuleTally) for t in first.values())
    assert {rule_id: dict(t.counts) for rule_id, t in report.teams[teams[-1]].rules.items()}
    assert counted == [len(teams)]
    assert "OWN-01" in report.org.rules and counted == [len(teams), 1]
