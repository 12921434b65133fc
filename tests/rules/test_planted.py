"""The built-in pack on the example account: exactly PLANTED.md's findings, and its boundaries pass.

The Acme account is crawled in-process through the emulator (window 2027-01-04 + 28 days),
assessed with examples/acme/pd-audit.toml on 2027-01-04, and its flagged findings (failing, or
waived after failing) compared with PLANTED.md's machine-readable list, object by object.
Info-only rules (OC-12) have no pass/fail and are left out of the comparison.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest
import yaml

from audit.assess import Assessment, assess
from audit.facts.columns import ANALYTICS_MISSING
from audit.findings import Finding, Status
from audit.crawl_incidents import IncidentsWindow
from tests.crawl.conftest import ACME, SINCE, crawl, emulator_app

ROOT = Path(__file__).resolve().parents[2]
PLANTED_MD = ROOT / "examples" / "acme" / "PLANTED.md"
CONFIG = ROOT / "examples" / "acme" / "pd-audit.toml"
TODAY = dt.date(2027, 1, 4)

Key = tuple[str, str, str]  # (rule, entity_type, entity_id)

def planted_block() -> dict:
    text = PLANTED_MD.read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match, "PLANTED.md has no machine-readable yaml block"
    return yaml.safe_load(match.group(1))


def planted() -> set[Key]:
    return {(item["rule"], item["entity_type"], item["entity_id"]) for item in planted_block()["planted"]}


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    snapshot, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("acme") / "snapshot",
                        incidents=IncidentsWindow.ending_before(90, SINCE))
    return assess(snapshot, config_path=CONFIG, today=TODAY)


def flagged(assessment: Assessment) -> dict[Key, Finding]:
    return {
        (f.rule_id, f.entity_type, f.entity_id): f
        for f in assessment.findings
        if f.level is not None and {Status.FAIL, Status.WARN} & {f.status, f.original_status}
    }


def status(assessment: Assessment, rule: str, entity_type: str, entity_id: str) -> Status:
    (finding,) = [
        f for f in assessment.findings
        if (f.rule_id, f.entity_type, f.entity_id) == (rule, entity_type, entity_id)
    ]
    return finding.status


def readable(keys: set[Key], findings: dict[Key, Finding] | None = None) -> str:
    lines = []
    for key in sorted(keys):
        why = (findings or {}).get(key)
        lines.append(f"  {key[0]} {key[1]} {key[2]}" + (f": {why.message}" if why else ""))
    return "\n".join(lines) or "  (none)"


def test_every_rule_was_run_mode_a_included(acme: Assessment) -> None:
    assert not acme.evaluation.not_run
    assert not [f for f in acme.findings if f.status is Status.EXCLUDED]


def test_mode_a_rules_are_excluded_with_the_reason_without_incidents(tmp_path: Path) -> None:
    snapshot, _ = crawl(emulator_app(ACME), tmp_path / "snapshot")
    assessment = assess(snapshot, config_path=CONFIG, today=TODAY)
    mode_a = ("OC-09", "PRC-01", "PRC-02", "PRC-03", "PRC-04", "PRC-05", "SVC-05", "SVC-06")
    assert dict(assessment.evaluation.not_run) == dict.fromkeys(
        mode_a, "needs incident history (the snapshot has no incidents collection)")
    assert ANALYTICS_MISSING.startswith("incident history")


def test_findings_are_exactly_the_planted_ones_rule_by_rule(acme: Assessment) -> None:
    found = flagged(acme)
    missing = planted() - found.keys()
    extra = found.keys() - planted()
    assert not missing and not extra, (
        f"missing planted findings:\n{readable(missing)}\nfalse alarms:\n{readable(extra, found)}"
    )


def test_errors_and_warnings_are_as_planted(acme: Assessment) -> None:
    """Where a rule fails at one threshold and warns at another, the planted list says which."""
    found = flagged(acme)
    graded = {
        (item["rule"], item["entity_type"], item["entity_id"]): item["severity"]
        for item in planted_block()["planted"]
        if "severity" in item
    }
    assert set(graded.values()) == {"error", "warning"}
    for key, severity in graded.items():
        finding = found[key]
        shown = finding.original_status or finding.status
        assert (shown is Status.WARN) is (severity == "warning"), f"{key}: {finding.message}"
        assert finding.severity.value == ("low" if shown is Status.WARN else "high"), key


def test_warnings_do_not_hold_services_back(acme: Assessment) -> None:
    """Search's policy (PEP0007) only warns on ESC-03 (a user at level 3): its services keep level 1 and up."""
    (warning,) = [f for f in acme.findings if (f.rule_id, f.entity_id) == ("ESC-03", "PEP0007")]
    assert warning.status is Status.WARN and not warning.blocks_level
    error = next(f for f in acme.findings if (f.rule_id, f.entity_id) == ("ESC-03", "PEP0013"))
    assert error.blocks_level
    for service_id in warning.service_ids:
        assert acme.scores.services[service_id].level >= 1, service_id
    for service_id in error.service_ids:
        assert acme.scores.services[service_id].level == 0, service_id


BOUNDARIES_THAT_PASS: list[Key] = [
    ("ESC-07", "escalation_policy", "PEP0009"),  # exactly 5 min
    ("ESC-07", "escalation_policy", "PEP0004"),  # exactly 15 min on tier 1
    ("ESC-07", "escalation_policy", "PEP0014"),  # exactly 30 min, tier 2
    ("ESC-07", "escalation_policy", "PEP0012"),  # exactly 30 min, tier 3
    ("ESC-08", "escalation_policy", "PEP0014"),  # last level after exactly 60 min
    ("ESC-06", "escalation_policy", "PEP0003"),  # whole Returns team, no manager
    ("OWN-04", "service", "PSVC030"), ("OWN-04", "service", "PSVC031"),  # 4 of 5 Mobile members: 80%
    ("OWN-04", "service", "PSVC032"), ("OWN-04", "service", "PSVC034"),
    ("OWN-06", "service", "PSVC011"),  # Promotions Engine has its link
    ("OWN-07", "service", "PSVC014"), ("OWN-07", "service", "PSVC037"), ("OWN-07", "service", "PSVC021"),
    ("OC-01", "service", "PSVC008"),  # layer ends, an override fills the Sunday
    ("OC-01", "service", "PSVC039"),  # support hours exactly covered
    ("OC-04", "schedule", "PSCH024"),  # 8-hour weekday shifts
    ("OC-05", "schedule", "PSCH024"), ("OC-05", "schedule", "PSCH025"),  # Monday 09:00 Berlin
    ("OC-06", "schedule", "PSV3001"), ("OC-06", "schedule", "PSV3002"), ("OC-06", "schedule", "PSV3003"),
    ("OC-06", "schedule", "PSCH021"),  # 1.2x
    ("OC-07", "schedule", "PSCH026"),  # Katrin's turns exactly one turn apart
    ("OC-08", "team", "PTEAM04"),  # 19 h spread, follow-the-sun
    ("OC-10", "schedule", "PSCH005"),  # 3.6% overrides
    ("OC-11", "schedule", "PSCH020"), ("OC-11", "schedule", "PSV3001"), ("OC-11", "schedule", "PSCH005"),
    ("RCH-04", "user", "PUSR024"),  # SMS at 4 min on a 5-min level
    ("SVC-04", "service", "PSVC003"),  # 60 min / 4 h exactly
    ("SVC-07", "service", "PSVC022"),  # maintenance, not disabled
    ("SVC-08", "service", "PSVC010"),  # depends on nothing, but in the map
    ("PPL-01", "user", "PUSR053"), ("PPL-01", "user", "PUSR054"),  # Warehouse business hours: 11.9%
    ("PPL-02", "user", "PUSR035"),  # Klaus is a one-person rotation, but at level 3
    ("SVC-05", "service", "PSVC019"),  # thirty incidents a week, but grouped
    ("PRC-01", "service", "PSVC001"), ("PRC-02", "service", "PSVC001"), ("PRC-03", "service", "PSVC001"),
    ("PRC-04", "service", "PSVC001"), ("SVC-06", "service", "PSVC001"), ("PRC-05", "escalation_policy", "PEP0001"),
    ("OC-09", "user", "PUSR046"),  # Identity's primary: pages, but in the day
]  # fmt: skip

NOT_JUDGED: list[Key] = [
    # Low-urgency services need no coverage.
    ("OC-01", "service", "PSVC025"), ("OC-01", "service", "PSVC038"), ("OC-01", "service", "PSVC041"),
    # Off-call users are not judged on reachability.
    *[(rule, "user", user) for rule in ("RCH-01", "RCH-02", "RCH-03", "RCH-04", "RCH-05", "RCH-06")
      for user in ("PUSR005", "PUSR006", "PUSR050", "PUSR044", "PUSR036", "PUSR059")],
    # Disabled services are not scored on on-call rules.
    ("OC-01", "service", "PSVC028"), ("OC-01", "service", "PSVC044"),
    # Rotations that cover 24/7 only together (follow-the-sun) or only in business hours.
    ("PPL-03", "schedule", "PSCH013"), ("PPL-03", "schedule", "PSCH014"), ("PPL-03", "schedule", "PSCH024"),
    ("PPL-03", "schedule", "PSCH020"),
    # Fewer than 5 incidents in the quarter: the rates say nothing.
    ("PRC-01", "service", "PSVC041"), ("PRC-04", "service", "PSVC041"), ("SVC-06", "service", "PSVC041"),
    ("PRC-02", "service", "PSVC041"),  # low urgency only: no high-urgency incident at all
    # No owning team: nobody to be the owner (OWN-01 reports it).
    ("PRC-01", "service", "PSVC027"),
]  # fmt: skip


@pytest.mark.parametrize("key", BOUNDARIES_THAT_PASS, ids=" ".join)
def test_planted_boundary_passes(acme: Assessment, key: Key) -> None:
    assert status(acme, *key) is Status.PASS


@pytest.mark.parametrize("key", NOT_JUDGED, ids=" ".join)
def test_planted_objects_are_not_judged(acme: Assessment, key: Key) -> None:
    assert status(acme, *key) is Status.NOT_APPLICABLE


def test_figures_match_planted_md(acme: Assessment) -> None:
    """Numbers PLANTED.md states, to 0.01 percentage points."""
    service = acme.facts.tables["service"]
    schedule = acme.facts.tables["schedule"]
    policy = acme.facts.tables["escalation_policy"]
    # Pick and Pack API: a Mon-Fri 8-hour level 1 against 24/7 over 4 weeks.
    assert service.loc["PSVC042", "l1_promise_coverage_pct"] == pytest.approx(100 * 4 * 5 * 8 / 672, abs=0.01)
    # Dock Scheduling: support hours 08-18, level 1 covers 09-17.
    assert service.loc["PSVC040", "l1_promise_coverage_pct"] == pytest.approx(80.0, abs=0.01)
    # Search relevance on-call: overrides hold 8 of 28 days (28.6%); Checkout primary 3.6%.
    assert schedule.loc["PSCH011", "override_share_pct"] == pytest.approx(100 * 8 / 28, abs=0.01)
    assert schedule.loc["PSCH005", "override_share_pct"] == pytest.approx(100 * 1 / 28, abs=0.01)
    # Warehouse scanners daily: 336 h against a 168 h mean (2x).
    assert schedule.loc["PSCH026", "max_hours_ratio"] == pytest.approx(2.0, abs=0.01)
    # Search - relevance: level 2 is the same rota in the same phase, 71% overlap (5 of 7 days).
    assert policy.loc["PEP0008", "adjacent_same_person_pct"] == pytest.approx(100 * 5 / 7, abs=0.01)
    # ESC-05 over level 1's time after its first hand-off: the healthy offset rota is 100%.
    assert policy.loc["PEP0018", "backup_is_previous_primary_pct"] == pytest.approx(100.0, abs=0.01)
    assert policy.loc["PEP0015", "backup_is_previous_primary_pct"] < 30  # weekday business hours only (~24%)
    # A policy's tier is the highest tier of its services; an unused policy has none.
    assert policy.loc["PEP0002", "tier"] == 1 and math.isnan(policy.loc["PEP0020", "tier"])


def test_waivers_of_the_example_config(acme: Assessment) -> None:
    waived = [f for f in acme.findings if f.status is Status.WAIVED]
    assert [(f.rule_id, f.entity_id) for f in waived] == [("OC-03", "PSCH018")]
    reopened = [f for f in acme.findings if f.waiver_expired]
    assert [(f.rule_id, f.entity_id, f.status) for f in reopened] == [("OWN-08", "PSVC029", Status.FAIL)]
    assert [(w.rule, w.object_id) for w in acme.waivers.expired] == [("OWN-08", "PSVC029")]
    assert not acme.waivers.unused


def test_failure_messages_name_the_numbers(acme: Assessment) -> None:
    found = flagged(acme)
    assert "114.0 h" in found[("OC-01", "service", "PSVC035")].message
    assert "23.81%" in found[("OC-01", "service", "PSVC042")].message
    assert found[("OC-01", "service", "PSVC042")].message.startswith(
        "level 1 uncovered 16 h a day on weekdays, all day at weekends; 21 times, 512 h in all"
    )
    assert "76.2% of the 28-day window" in found[("OC-01", "service", "PSVC042")].message
    assert "2 h a day on weekdays" in found[("OC-01", "service", "PSVC040")].message  # 08-09 and 17-18 Berlin
    assert "on a tier 1 policy" in found[("ESC-07", "escalation_policy", "PEP0005")].message
    assert "tier 1 policy with 2 levels" in found[("ESC-02", "escalation_policy", "PEP0002")].message
    assert "Sat 09:00, Sun 09:00" in found[("OC-05", "schedule", "PSCH026")].message
    assert "after 75 min" in found[("ESC-08", "escalation_policy", "PEP0012")].message
    assert "28.6%" in found[("OC-10", "schedule", "PSCH011")].message
