"""User and team facts from the Acme week (see ``test_build``): reachability, roles, load, staffing."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from audit.facts.build import Facts
from audit.facts.intervals import IntervalSet, measure
from audit.facts.on_call_time import Reach
from tests.facts.test_build import build_acme


@pytest.fixture(scope="module")
def acme_facts(tmp_path_factory: pytest.TempPathFactory) -> Facts:
    return build_acme(tmp_path_factory)


def test_contact_methods_and_high_urgency_rules(acme_facts: Facts) -> None:
    users = acme_facts.tables["user"]
    ada = users.loc["PUADA"]
    assert ada["contact_method_types"] == ["email", "phone", "push"]
    assert ada["high_urgency_methods"] == ["phone", "push"]  # the email rule is low urgency
    assert ada["high_urgency_delays"] == [0.0, 5.0] and ada["distinct_high_urgency_delays"] == 2
    assert ada["first_phone_sms_delay"] == 5.0 and ada["first_push_delay"] == 0.0
    assert users.loc["PUBOB", "first_phone_sms_delay"] == 0.0  # the SMS at 0 beats the call at 3
    assert users.loc["PUCY", "high_urgency_email_only"] and math.isnan(users.loc["PUCY", "first_phone_sms_delay"])


def test_reachability_and_roles(acme_facts: Facts) -> None:
    users = acme_facts.tables["user"]
    assert users.loc["PUADA", "reachable"] and users.loc["PUBOB", "reachable"]
    assert not users.loc["PUCY", "reachable"]  # email only
    eve = users.loc["PUEVE"]
    assert eve["invitation_pending"] and not eve["reachable"]  # a phone rule, but the invitation is pending
    assert eve["role"] == "observer" and not eve["may_respond"]
    assert users.loc["PUBOB", "may_respond"]  # limited_user is a responder


def test_handoff_rules_are_unknown_unless_the_snapshot_holds_them(acme_facts: Facts) -> None:
    users = acme_facts.tables["user"]
    assert users.loc["PUADA", "handoff_rules_known"] and users.loc["PUADA", "handoff_rules"] == 1.0
    assert users.loc["PUBOB", "handoff_rules_known"] and users.loc["PUBOB", "handoff_rules"] == 0.0
    assert not users.loc["PUCY", "handoff_rules_known"] and math.isnan(users.loc["PUCY", "handoff_rules"])


def test_on_call_and_the_delay_to_beat(acme_facts: Facts) -> None:
    users = acme_facts.tables["user"]
    cy = users.loc["PUCY"]
    assert cy["on_call"] and cy["policy_ids"] == ["PEDIRECT", "PEPAY"]
    assert cy["min_level_delay_minutes"] == 5.0  # Ops direct pages Cy first, after 5 minutes
    assert not cy["phone_before_escalation"]
    dee = users.loc["PUDEE"]
    # Dee's first call comes at 10 minutes; Checkout escalates after 3.
    assert dee["min_level_delay_minutes"] == 3.0 and not dee["phone_before_escalation"]
    assert users.loc["PUADA", "phone_before_escalation"]  # call at 5 < 10
    assert not users.loc["PUFAY", "on_call"] and math.isnan(users.loc["PUFAY", "min_level_delay_minutes"])


def test_on_call_hours_and_night_share_in_each_users_zone(acme_facts: Facts) -> None:
    users = acme_facts.tables["user"]
    # Ada: level 3 all week, 7 London nights of 6 h.
    assert users.loc["PUADA", "on_call_hours"] == 168.0
    assert users.loc["PUADA", "night_share_pct"] == pytest.approx(100 * 42 / 168)
    # Bob: 2 h by day, then Thu 21:00Z-Mon 00:00Z holding three London nights.
    assert users.loc["PUBOB", "on_call_hours"] == 77.0
    assert users.loc["PUBOB", "night_share_pct"] == pytest.approx(100 * 18 / 77)
    # Dee: Mon 00:00Z-Thu 12:00Z holds four New York nights (05:00-11:00Z).
    assert users.loc["PUDEE", "night_share_pct"] == pytest.approx(100 * 24 / 84)


def test_team_staffing_and_services(acme_facts: Facts) -> None:
    teams = acme_facts.tables["team"]
    payments = teams.loc["PTPAY"]
    assert payments["member_count"] == 3 and payments["manager_ids"] == ["PUADA"] and payments["manager_count"] == 1
    assert payments["service_ids"] == ["PSVC1", "PSVC4", "PSVC5"]
    observability = teams.loc["PTOBS"]
    assert observability["manager_count"] == 0 and observability["observer_count"] == 1
    assert observability["has_shadow_schedule"] and not payments["has_shadow_schedule"]
    assert acme_facts.tables["user"].loc["PUDEE", "team_ids"] == ["PTCHK"]


def test_team_time_zone_spread_and_night_load(acme_facts: Facts) -> None:
    teams = acme_facts.tables["team"]
    assert teams.loc["PTPAY", "time_zone_spread_hours"] == 5.0  # London GMT vs New York EST
    assert teams.loc["PTCHK", "time_zone_spread_hours"] == 14.0  # New York EST vs Tokyo
    assert teams.loc["PTCHK", "max_night_share_pct"] == pytest.approx(100 * 24 / 84)
    assert set(teams.loc["PTPAY", "night_share_by_member"]) == {"PUADA", "PUBOB", "PUCY"}
    assert teams.loc["PTOBS", "max_night_share_pct"] == 0.0


def test_on_call_hours_by_level_count_overlaps_once_in_the_total(acme_facts: Facts) -> None:
    users = acme_facts.tables["user"]
    # Ada holds level 3 all week and level 1 of another policy meanwhile: 168 h in all.
    assert users.loc["PUADA", "on_call_hours_by_level"] == ["73 h at level 1", "168 h at level 3"]
    assert users.loc["PUADA", "on_call_hours"] == 168.0
    assert users.loc["PUFAY", "on_call_hours_by_level"] == []
    # One person at level 1 of one policy and level 2 of another, the same day: 24 h on call, not 48.
    day = IntervalSet.window(datetime(2027, 1, 4, tzinfo=UTC), datetime(2027, 1, 5, tzinfo=UTC))
    next_day = IntervalSet.window(datetime(2027, 1, 5, tzinfo=UTC), datetime(2027, 1, 6, tzinfo=UTC))
    reach = Reach()
    reach.hold(2, day)
    reach.hold(1, day)
    reach.hold(1, next_day)
    assert measure(reach.any_level) == 48 * 3600
    assert reach.hours_by_level() == ["48 h at level 1", "24 h at level 2"]


def test_contact_kinds_from_any_type_and_earliest_delay_per_kind() -> None:
    from audit.facts.contacts import read_contacts

    methods = [
        {"id": "C1", "type": "phone_contact_method_reference"},
        {"id": "C2", "type": "slack_dm_contact_method"},  # newer than this tool: keeps its own name
        {"id": "C3", "type": "_contact_method"},  # no name at all
        {"id": "C4", "type": 42},
        {"id": "C5"},
        {"id": "C6", "type": "sms_contact_method"},
    ]
    rules = [
        {"type": "assignment_notification_rule", "start_delay_in_minutes": delay, "urgency": "high",
         "contact_method": {"id": method, "type": "contact_method_reference"}}
        for method, delay in [("C6", 9), ("C1", 5), ("C2", 1), ("C1", 2), ("C6", 9), ("C4", 0)]
    ]
    (contact,) = read_contacts([{"id": "PU1", "contact_methods": methods, "notification_rules": rules}]).values()
    assert contact.kinds == frozenset({"phone", "slack_dm", "sms"})
    assert contact.first_delays() == {"slack_dm": 1.0, "phone": 2.0, "sms": 9.0}
    assert contact.reachable
