"""Service facts from the Acme week (see ``test_build``): ownership, naming, promise, hygiene, dependencies."""

from __future__ import annotations

import math

import pytest

from audit.facts.build import Facts
from tests.facts.test_build import WINDOW_HOURS, build_acme

PP = 0.01


@pytest.fixture(scope="module")
def acme_facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    return build_acme(tmp_path_factory)


def test_owning_teams(acme_facts: Facts) -> None:
    services = acme_facts.tables["service"]
    assert services.loc["PSVC1", "team_count"] == 1 and services.loc["PSVC1", "team_names"] == ["Payments"]
    assert services.loc["PSVC3", "team_count"] == 0 and services.loc["PSVC3", "team_ids"] == []
    assert services.loc["PSVC4", "team_names"] == ["Payments", "Checkout"]


def test_policy_ownership_and_sharing(acme_facts: Facts) -> None:
    services = acme_facts.tables["service"]
    payments = services.loc["PSVC1"]
    assert payments["escalation_policy_id"] == "PEPAY" and payments["policy_in_service_team"]
    # CRM (Payments + Checkout) shares PEPAY, so Payments' own services share it with another team.
    assert payments["policy_shared_with_other_teams"] and payments["policy_other_team_service_ids"] == ["PSVC4"]
    assert not services.loc["PSVC2", "policy_shared_with_other_teams"]
    assert not services.loc["PSVC3", "policy_in_service_team"]  # unowned service on the Observability policy


def test_level_one_responders_in_the_owning_team(acme_facts: Facts) -> None:
    services = acme_facts.tables["service"]
    assert services.loc["PSVC1", "l1_user_ids"] == ["PUADA", "PUBOB", "PUCY"]
    assert services.loc["PSVC1", "l1_team_member_pct"] == 100.0
    assert services.loc["PSVC3", "l1_team_member_pct"] == 0.0  # no owning team to belong to


def test_description_and_name(acme_facts: Facts) -> None:
    services = acme_facts.tables["service"]
    assert services.loc["PSVC1", "description_links"] == 2 and not services.loc["PSVC1", "description_repeats_name"]
    assert services.loc["PSVC1", "description_length"] == 137
    assert services.loc["PSVC2", "description_repeats_name"]  # "Checkout Web" again
    assert services.loc["PSVC3", "description_length"] == 0
    datadog = services.loc["PSVC3"]
    assert datadog["name_monitoring_tool"] == "datadog" and datadog["name_mentions_pagerduty_or_alert"]
    assert len(datadog["name_problems"]) == 2
    assert services.loc["PSVC4", "name_is_acronym"] and not services.loc["PSVC1", "name_is_acronym"]


def test_tier_status_and_hygiene(acme_facts: Facts) -> None:
    services = acme_facts.tables["service"]
    assert services.loc["PSVC1", "tier"] == 1.0 and math.isnan(services.loc["PSVC3", "tier"])
    assert services.loc["PSVC4", "is_disabled"] and services.loc["PSVC5", "in_maintenance"]
    assert services.loc["PSVC1", "integration_count"] == 2
    # add-ons on the service plus the extensions naming it (each extension once)
    assert services.loc["PSVC1", "addon_count"] == 2 and services.loc["PSVC2", "addon_count"] == 2
    assert services.loc["PSVC3", "addon_count"] == 0
    assert services.loc["PSVC1", "ack_timeout_minutes"] == 30.0 and math.isnan(services.loc["PSVC1", "auto_resolve_hours"])
    assert math.isnan(services.loc["PSVC2", "ack_timeout_minutes"]) and services.loc["PSVC2", "auto_resolve_hours"] == 4.0


def test_24_7_promise_coverage(acme_facts: Facts) -> None:
    payments = acme_facts.tables["service"].loc["PSVC1"]
    assert payments["urgency_promise"] == "high_always" and payments["coverage_promise"] == "24/7"
    assert payments["l1_promise_coverage_pct"] == pytest.approx(100 * 156 / WINDOW_HOURS, abs=PP)
    assert payments["l1_promise_gaps"] == [["2027-01-07T09:00:00Z", "2027-01-07T21:00:00Z"]]
    assert payments["l2_promise_coverage_pct"] == 100.0


def test_support_hours_promise_is_held_in_the_support_hours_zone(acme_facts: Facts) -> None:
    checkout = acme_facts.tables["service"].loc["PSVC2"]
    assert checkout["urgency_promise"] == "support_hours" and checkout["coverage_promise"] == "support_hours"
    assert checkout["support_hours"] == "Mon-Fri 09:00-17:00 America/New_York"
    # Five days of 09:00-17:00 EST = 14:00-22:00Z: 40 h promised. Thursday's falls in the v3 gap.
    assert checkout["l1_promise_coverage_pct"] == pytest.approx(100 * 32 / 40, abs=PP)
    assert checkout["l1_promise_gaps"] == [["2027-01-07T14:00:00Z", "2027-01-07T22:00:00Z"]]
    assert checkout["l1_promise_gap_hours"] == 8.0


def test_low_urgency_services_promise_nothing(acme_facts: Facts) -> None:
    datadog = acme_facts.tables["service"].loc["PSVC3"]
    assert datadog["urgency_promise"] == "low_only" and datadog["coverage_promise"] == "none"
    assert datadog["l1_promise_coverage_pct"] == 100.0 and datadog["l1_promise_gaps"] == []


def test_dependencies_and_cycles(acme_facts: Facts) -> None:
    services = acme_facts.tables["service"]
    assert services.loc["PSVC1", "in_dependency_cycle"] and services.loc["PSVC1", "dependency_cycle"] == ["PSVC1", "PSVC5"]
    assert services.loc["PSVC1", "business_service_count"] == 1 and services.loc["PSVC1", "declares_dependencies"]
    assert not services.loc["PSVC2", "declares_dependencies"] and not services.loc["PSVC2", "in_dependency_cycle"]


def test_tier_one_forces_a_24_7_promise(tmp_path) -> None:
    from tests.facts.test_build import build

    facts = build(tmp_path, tiers={"PSVC2": 1})
    checkout = facts.tables["service"].loc["PSVC2"]
    assert checkout["urgency_promise"] == "support_hours" and checkout["coverage_promise"] == "24/7"
    assert checkout["l1_promise_coverage_pct"] == pytest.approx(100 * 156 / WINDOW_HOURS, abs=PP)


def test_promise_gaps_are_summarised_for_people(acme_facts: Facts) -> None:
    services = acme_facts.tables["service"]
    # 24/7: told in the policy's first schedule's zone (Payments primary, London).
    assert services.loc["PSVC1", "l1_promise_gap_summary"] == (
        "uncovered once, 12 h (Thu 2027-01-07 09:00 – 21:00 Europe/London); 7.1% of the 7-day window"
    )
    # Support hours: told in the support hours' zone, as a share of the support hours.
    assert services.loc["PSVC2", "l1_promise_gap_summary"] == (
        "uncovered once, 8 h (Thu 2027-01-07 09:00 – 17:00 America/New_York); "
        "20.0% of the support hours in the 7-day window"
    )
    assert services.loc["PSVC3", "l1_promise_gap_summary"] == "no gaps"  # low urgency promises nothing
