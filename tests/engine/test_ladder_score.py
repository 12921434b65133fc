"""The score agrees with the ladder on real assessments: every higher level outscores every lower one.

The example account is crawled through the emulator and assessed with and without its config;
a generated 10,000-service account is scored from findings of every built-in rule, drawn per
object with the emulator generator's proportions (crawling and building facts for 10,000
services takes minutes on two cores, too long for the suite). The same check was run by hand on
the scoring benchmark's crawled account (tests/benchmarks/bench_score.py): 9,910 services at L0
and 90 at L1, org score 21.1, every L1 above every L0. On each, any two services at levels a > b have
scores a > b, every score sits in its level's band, and the org's headline score is the mean of
its services' scores, so it moves with the level chart.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import pytest

from random import Random

from audit.assess import Assessment, assess
from audit.emulator.generate import make_id
from audit.facts.columns import column_names
from audit.findings import Finding, Status
from audit.rules import load_packs
from audit.scoring import MAX_LEVEL, ScoreReport, ServiceRef, score
from audit.snapshot import Snapshot
from tests.crawl.conftest import ACME, crawl, emulator_app

ROOT = Path(__file__).resolve().parents[2]
ACME_CONFIG = ROOT / "examples" / "acme" / "pd-audit.toml"


def assert_consistent_with_the_ladder(assessment: Assessment) -> None:
    assert_scores_follow_levels(assessment.scores)


def assert_scores_follow_levels(report: ScoreReport) -> None:
    services = list(report.services.values())
    assert services
    lowest_of: dict[int, float] = {}
    highest_of: dict[int, float] = {}
    for service in services:
        assert service.score is not None, service.service.id
        if service.level == MAX_LEVEL:
            assert service.score == 100, service.service.id
        else:
            assert 25 * service.level <= service.score < 25 * (service.level + 1), (service.service.id, service.level)
        lowest_of[service.level] = min(lowest_of.get(service.level, 101), service.score)
        highest_of[service.level] = max(highest_of.get(service.level, -1), service.score)
    levels = sorted(lowest_of)
    for lower, higher in zip(levels, levels[1:]):
        assert lowest_of[higher] > highest_of[lower], (lower, higher)
    # The headline: the mean of the services' scores, consistent with the level chart's mean.
    org = report.org
    assert org.score == pytest.approx(statistics.fmean(s.score for s in services))
    mean_level = sum(level * count for level, count in org.level_distribution.items()) / len(services)
    assert 25 * mean_level <= org.score <= 25 * mean_level + 25
    for team in report.teams.values():
        members = [report.services[s].score for s in team.service_ids]
        assert team.score == pytest.approx(statistics.fmean(members)), team.id


@pytest.fixture(scope="module")
def acme_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    snapshot, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("acme") / "snapshot")
    return snapshot


@pytest.mark.parametrize("config", [ACME_CONFIG, None], ids=["with-config", "no-config"])
def test_the_example_account_scores_by_level(acme_snapshot: Snapshot, config: Path | None, tmp_path: Path) -> None:
    assessment = assess(acme_snapshot, config_path=config, cwd=tmp_path, today=dt.date(2027, 1, 4))
    assert len(set(s.level for s in assessment.scores.services.values())) >= 3  # the account spans the ladder
    assert_consistent_with_the_ladder(assessment)


def generated_findings(services: int, seed: int = 11) -> tuple[list[Finding], list[ServiceRef]]:
    """A 10,000-service account's findings under the built-in rules, generated with the emulator generator's
    proportions (3 services per policy, 4 schedules per 3 policies, 60 teams): each object's findings are
    drawn from its own failure rate, so some objects are clean and some are wrecks, and policy and
    schedule findings reach every service that uses them, as the roll-up makes them."""
    random = Random(seed)
    pack = load_packs([], column_names())
    refs = [ServiceRef(make_id("PSVC", n), f"Service {n}", (make_id("PTEAM", n % 60),)) for n in range(services)]
    policies = max(1, services // 3)
    schedules = max(1, policies * 4 // 3)
    users_of = {n: [make_id("PUSR", (n * 7 + k) % 15_000) for k in range(3)] for n in range(schedules)}
    reach: dict[str, dict[str, list[str]]] = {"service": {}, "escalation_policy": {}, "schedule": {}, "team": {},
                                              "user": {}}
    for n, ref in enumerate(refs):
        policy, schedule = make_id("PEP", n % policies), make_id("PSCH", (n % policies) * 4 // 3 % schedules)
        reach["service"][ref.id] = [ref.id]
        reach["escalation_policy"].setdefault(policy, []).append(ref.id)
        reach["schedule"].setdefault(schedule, []).append(ref.id)
        reach["team"].setdefault(ref.team_ids[0], []).append(ref.id)
        for user in users_of[(n % policies) * 4 // 3 % schedules]:
            reach["user"].setdefault(user, []).append(ref.id)
    findings = []
    for entity, objects in reach.items():
        for object_id, service_ids in objects.items():
            failure_rate = random.choice((0.0, 0.0, 0.005, 0.02, 0.08, 0.3))
            for rule in (r for r in pack if r.entity == entity):
                draw = random.random()
                status = (Status.FAIL if draw < failure_rate else Status.WARN if draw < failure_rate * 1.5
                          else Status.NOT_APPLICABLE if draw > 0.97 else Status.PASS)
                findings.append(Finding(
                    rule_id=rule.id, entity_type=entity, entity_id=object_id, entity_name=object_id, status=status,
                    severity=rule.warn_severity if status is Status.WARN else rule.severity,
                    level=rule.maturity_level, mode=rule.mode, message=rule.title,
                    service_ids=tuple(service_ids)))  # fmt: skip
    return findings, refs


def test_a_generated_ten_thousand_service_account_scores_by_level() -> None:
    findings, refs = generated_findings(10_000)
    report = score(findings, refs)
    assert len(report.services) == 10_000
    assert set(report.org.level_distribution.values()) and min(report.org.level_distribution.values()) > 0
    assert_scores_follow_levels(report)
