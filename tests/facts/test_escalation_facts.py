"""Escalation facts from the Acme week (see ``test_build``): depth, targets, delays, coverage, people."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from audit.facts.build import Facts
from tests.facts.test_build import WINDOW_HOURS, build, build_acme

PP = 0.01


@pytest.fixture(scope="module")
def acme_facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    return build_acme(tmp_path_factory)


def test_depth_counts_distinct_live_targets(acme_facts: Facts) -> None:
    policies = acme_facts.tables["escalation_policy"]
    assert policies.loc["PEPAY", "level_count"] == 3 and policies.loc["PEPAY", "distinct_target_levels"] == 3
    # Both Checkout levels page the same v3 schedule: depth 1.
    assert policies.loc["PECHK", "level_count"] == 2 and policies.loc["PECHK", "distinct_target_levels"] == 1
    # Ops direct: level 2 names only a deleted schedule and a team, so it adds no depth.
    assert policies.loc["PEDIRECT", "distinct_target_levels"] == 1
    assert policies.loc["PEEMPTY", "level_count"] == 0 and policies.loc["PEEMPTY", "distinct_target_levels"] == 0
    levels = acme_facts.tables["policy_level"]
    assert levels.loc["R-CHK-2", "same_targets_as_previous"] and not levels.loc["R-PAY-2", "same_targets_as_previous"]


def test_user_targets_delays_and_loops(acme_facts: Facts) -> None:
    payments, direct = acme_facts.tables["escalation_policy"].loc["PEPAY"], acme_facts.tables["escalation_policy"].loc["PEDIRECT"]
    assert payments["l1_user_targets"] == 0 and payments["later_user_targets"] == 1
    assert direct["l1_user_targets"] == 2  # Cy and the deleted PUGONE
    assert payments["l1_delay_minutes"] == 10 and payments["minutes_to_last_level"] == 25
    assert payments["num_loops"] == 1 and payments["repeats"]
    assert math.isnan(acme_facts.tables["escalation_policy"].loc["PEEMPTY", "l1_delay_minutes"])


def test_last_level_reaches_manager_or_whole_team(acme_facts: Facts) -> None:
    policies = acme_facts.tables["escalation_policy"]
    assert policies.loc["PEPAY", "last_level_user_ids"] == ["PUADA"]
    assert policies.loc["PEPAY", "last_level_reaches_manager"]  # Ada manages Payments
    assert not policies.loc["PEPAY", "last_level_reaches_whole_team"]
    assert policies.loc["PECHK", "last_level_reaches_whole_team"]  # Dee and Eve are all of Checkout
    assert not policies.loc["PEDIRECT", "last_level_reaches_manager"]


def test_deleted_unknown_and_unreachable_targets_cover_nothing_and_are_named(acme_facts: Facts) -> None:
    direct = acme_facts.tables["escalation_policy"].loc["PEDIRECT"]
    assert direct["deleted_targets"] == ["user:PUGONE", "schedule:PSGONE"]
    assert direct["unresolved_targets"] == ["team:PTOBS"]
    assert direct["unreachable_user_targets"] == ["PUCY"]  # email only
    assert direct["level1_coverage_pct"] == 0.0
    assert direct["level1_gaps"] == [["2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z"]]


def test_level_coverage_is_the_union_of_targets(acme_facts: Facts) -> None:
    payments = acme_facts.tables["escalation_policy"].loc["PEPAY"]
    assert payments["level1_coverage_pct"] == pytest.approx(100 * 156 / WINDOW_HOURS, abs=PP)
    assert payments["level1_gaps"] == [["2027-01-07T09:00:00Z", "2027-01-07T21:00:00Z"]]
    # Level 3 pages Ada, who is reachable, so some level always answers.
    assert payments["any_level_coverage_pct"] == 100.0 and payments["any_level_gaps"] == []
    assert payments["l2_coverage_of_l1_pct"] == 100.0
    levels = acme_facts.tables["policy_level"]
    assert levels.loc["R-PAY-3", "coverage_pct"] == 100.0 and levels.loc["R-PAY-3", "user_ids"] == ["PUADA"]
    assert levels.loc["R-DIR-1", "coverage_pct"] == 0.0


def test_same_person_on_adjacent_levels(acme_facts: Facts) -> None:
    policies = acme_facts.tables["escalation_policy"]
    # Cy holds level 1 (8 h override) while holding level 2 all week.
    assert policies.loc["PEPAY", "adjacent_same_person_pct"] == pytest.approx(100 * 8 / WINDOW_HOURS, abs=PP)
    # The same schedule on both levels: whoever is on call holds both, 156 h.
    assert policies.loc["PECHK", "adjacent_same_person_pct"] == pytest.approx(100 * 156 / WINDOW_HOURS, abs=PP)


def test_backup_is_previous_primary(acme_facts: Facts) -> None:
    policies = acme_facts.tables["escalation_policy"]
    # Level 1: Ada Mon 00:00-Wed 09:00 (Bob joins Tue 10-12 and leaves: no hand-off), Cy Wed 09-17
    # (Ada hands over), Ada Wed 17:00-Thu 09:00 (Cy hands back), gap, Bob Thu 21:00-Mon (Ada, the
    # last holder, hands over across the gap). Before Wed 09:00 the previous holder is unknown: left
    # out. Measured: 8 + 16 + 75 = 99 h; Cy (level 2 all week) is the previous holder only Wed 17-Thu 09.
    assert policies.loc["PEPAY", "backup_is_previous_primary_pct"] == pytest.approx(100 * 16 / 99, abs=PP)
    # Dee, gap, Eve: Dee handed over to Eve across the gap; level 2 is the same rota (Eve), never Dee.
    assert policies.loc["PECHK", "backup_is_previous_primary_pct"] == 0.0
    assert math.isnan(policies.loc["PEEMPTY", "backup_is_previous_primary_pct"])
    # Cy is paged directly all week: level 1 never changes hands, so there is nothing to measure.
    assert math.isnan(policies.loc["PEDIRECT", "backup_is_previous_primary_pct"])


def test_policy_tier_is_the_highest_tier_of_its_live_services(acme_facts: Facts, tmp_path: Path) -> None:
    policies = acme_facts.tables["escalation_policy"]
    # PEPAY serves Payments API (tier 1), Ledger Worker (untiered) and the disabled CRM.
    assert policies.loc["PEPAY", "tier"] == 1.0
    assert policies.loc["PECHK", "tier"] == 2.0  # Checkout Web
    assert math.isnan(policies.loc["PEDIRECT", "tier"])  # Datadog Alerts has no tier
    assert math.isnan(policies.loc["PEEMPTY", "tier"])  # no service at all
    # The disabled CRM pages nobody: its tier 1 does not count; Ledger Worker's tier 3 does.
    retiered = build(tmp_path, tiers={"PSVC4": 1, "PSVC5": 3, "PSVC1": 2}).tables["escalation_policy"]
    assert retiered.loc["PEPAY", "tier"] == 2.0
    only_disabled = build(tmp_path / "again", tiers={"PSVC4": 1}).tables["escalation_policy"]
    assert math.isnan(only_disabled.loc["PEPAY", "tier"])


def test_services_and_teams_of_a_policy(acme_facts: Facts) -> None:
    payments = acme_facts.tables["escalation_policy"].loc["PEPAY"]
    assert payments["service_ids"] == ["PSVC1", "PSVC4", "PSVC5"] and payments["service_count"] == 3
    assert payments["team_ids"] == ["PTPAY"] and payments["service_team_ids"] == ["PTPAY", "PTCHK"]
    assert acme_facts.tables["escalation_policy"].loc["PEEMPTY", "service_count"] == 0
