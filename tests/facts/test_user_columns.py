"""The user table built a column at a time (``people.user_table``) equals the table built a row at a
time as it was defined before, one user after the other (``row_by_row_user_table`` below), on the
hostile Acme and a generated account, and on their users given odd contact set-ups: delays of -0.0
beside 0.0 in the same set-up otherwise, a pending invitation, no role, no high-urgency rule.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.facts import contacts as contact_set_ups
from audit.facts import people
from audit.facts.columns import frame
from audit.facts.contacts import HANDOFF_RULES_KEY, PAGING_KINDS, RESPONDING_ROLES, Contact
from audit.facts.intervals import measure
from audit.facts.on_call_time import Reach, on_call_time
from audit.facts.raw import as_text, ref_ids
from audit.facts.schedules import HOUR, zone_or_utc
from tests.facts.builder_inputs import captured_calls, cells, crawled_accounts


def row_by_row_user_table(users, contacts, reach, oncall_user_ids, service_ids_by_policy, team_ids_by_user,
                          handoff_rules_by_user, window, sole_level1_service_ids=None) -> pd.DataFrame:
    """The user table's definition: each user's row worked out on its own (pd-audit's code until the
    table was built by columns)."""
    in_oncalls = set(oncall_user_ids)
    zones = {user_id: zone_or_utc(user.get("time_zone")) for user_id, user in users.items()}
    held = on_call_time(reach, users, zones, window)
    window_seconds = measure(window)
    sole = sole_level1_service_ids or {}
    rows = []
    for user_id, user in users.items():
        contact = contacts[user_id]
        user_reach = reach.get(user_id, Reach())
        on_call_seconds = held.seconds.get(user_id, 0)
        delays = sorted({delay for _, delay in contact.high_urgency})
        firsts = contact.first_delays()
        first_phone_sms = min((firsts[kind] for kind in ("phone", "sms") if kind in firsts), default=math.nan)
        min_level_delay = min(user_reach.delays, default=math.nan)
        handoff_rules = handoff_rules_by_user.get(user_id, user.get(HANDOFF_RULES_KEY))
        policies = sorted(user_reach.policy_ids)
        rows.append({
            "id": user_id,
            "name": as_text(user.get("name")) or user_id,
            "html_url": as_text(user.get("html_url")) or None,
            "email": as_text(user.get("email")) or None,
            "time_zone": zones[user_id],
            "role": contact.role or None,
            "may_respond": contact.role in RESPONDING_ROLES,
            "invitation_pending": contact.invitation_pending,
            "team_ids": list(dict.fromkeys([*team_ids_by_user.get(user_id, ()), *ref_ids(user.get("teams"))])),
            "contact_method_types": sorted(contact.kinds),
            "has_phone": "phone" in contact.kinds,
            "has_sms": "sms" in contact.kinds,
            "has_push": "push" in contact.kinds,
            "has_email": "email" in contact.kinds,
            "high_urgency_rule_count": len(contact.high_urgency),
            "high_urgency_methods": sorted({kind for kind, _ in contact.high_urgency}),
            "high_urgency_delays": delays,
            "distinct_high_urgency_delays": len(delays),
            "high_urgency_email_only": bool(contact.high_urgency)
            and not any(kind in PAGING_KINDS for kind, _ in contact.high_urgency),
            "first_phone_delay": firsts.get("phone", math.nan),
            "first_sms_delay": firsts.get("sms", math.nan),
            "first_phone_sms_delay": first_phone_sms,
            "first_push_delay": firsts.get("push", math.nan),
            "first_email_delay": firsts.get("email", math.nan),
            "reachable": contact.reachable,
            "handoff_rules_known": isinstance(handoff_rules, list),
            "handoff_rules": float(len(handoff_rules)) if isinstance(handoff_rules, list) else math.nan,
            "on_call": user_id in in_oncalls or bool(policies),
            "on_call_hours": on_call_seconds / HOUR,
            "on_call_hours_by_level": [
                f"{seconds / HOUR:.0f} h at level {level}" for level, seconds in held.seconds_by_level.get(user_id, ())
            ],
            "night_share_pct": 100.0 * held.night_seconds[user_id] / on_call_seconds if on_call_seconds else 0.0,
            "on_call_share_pct": 100.0 * on_call_seconds / window_seconds if window_seconds else 0.0,
            "sole_l1_service_ids": list(sole.get(user_id, ())),
            "sole_l1_service_count": len(sole.get(user_id, ())),
            "policy_ids": policies,
            "service_ids": sorted({s for p in policies for s in service_ids_by_policy.get(p, ())}),
            "min_level_delay_minutes": min_level_delay,
            "phone_before_escalation": bool(np.less(first_phone_sms, min_level_delay)),
        })
    return frame("user", rows)


@pytest.fixture(scope="module")
def user_table_calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[tuple[Any, ...], dict[str, Any]]]:
    """Account name -> the arguments the facts stage called the user table with."""
    snapshots = crawled_accounts(tmp_path_factory.mktemp("user-columns"))
    found = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, snapshot in snapshots.items():
            (call,) = captured_calls(snapshot, {"user table": (people, "user_table")}, monkeypatch)["user table"]
            found[name] = call
    return found


def _odd_set_ups(contacts: Mapping[str, Contact]) -> dict[str, Contact]:
    """The same users, every third given a set-up the others share but for the sign of a zero delay,
    every fifth a pending invitation and no role, every seventh no high-urgency rule at all."""
    odd = {}
    for number, (user_id, contact) in enumerate(contacts.items()):
        if number % 3 == 0 and contact.high_urgency:
            kind, delay = contact.high_urgency[0]
            contact = dataclasses.replace(
                contact, high_urgency=((kind, -0.0 if number % 2 else 0.0), *contact.high_urgency[1:])
            )
        if number % 5 == 0:
            contact = dataclasses.replace(contact, invitation_pending=True, role="")
        if number % 7 == 0:
            contact = dataclasses.replace(contact, high_urgency=())
        odd[user_id] = contact
    return odd


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_the_columns_equal_the_rows(user_table_calls, account: str) -> None:
    args, kwargs = user_table_calls[account]
    by_columns = people.user_table(*args, **kwargs)
    assert cells(by_columns) == cells(row_by_row_user_table(*args, **kwargs))
    # The account holds what the columns must get right: people on call and not, at several levels.
    assert by_columns["on_call"].any() and not by_columns["on_call"].all()
    assert by_columns["reachable"].any() and not by_columns["reachable"].all()
    assert (by_columns["on_call_hours_by_level"].map(len) > 1).any()
    assert by_columns["phone_before_escalation"].any()


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_odd_contact_set_ups_read_as_their_own(user_table_calls, account: str) -> None:
    (users, contacts, reach, oncall_user_ids, *rest), kwargs = user_table_calls[account]
    odd = _odd_set_ups(contacts)
    # On call by the on-calls alone (people no level reaches) and by a level alone.
    oncalls = [*sorted(oncall_user_ids)[::2], *(user for user in users if user not in reach)]
    by_columns = people.user_table(users, odd, reach, oncalls, *rest, **kwargs)
    assert cells(by_columns) == cells(row_by_row_user_table(users, odd, reach, oncalls, *rest, **kwargs))
    delays = by_columns["high_urgency_delays"].map(lambda cell: [math.copysign(1.0, d) for d in cell if d == 0])
    assert delays.map(lambda signs: -1.0 in signs).any() and delays.map(lambda signs: 1.0 in signs).any()


def test_each_row_has_its_own_lists(user_table_calls) -> None:
    args, kwargs = user_table_calls["generated"]
    table = people.user_table(*args, **kwargs)
    for name in ("contact_method_types", "high_urgency_methods", "high_urgency_delays"):
        cells_ = table[name].tolist()
        assert len({id(cell) for cell in cells_}) == len(cells_), name


def test_users_of_one_contact_set_up_share_a_contact_and_a_negative_zero_is_its_own() -> None:
    def user(user_id: str, delay: float, role: str = "user") -> dict[str, Any]:
        return {
            "id": user_id, "role": role,
            "contact_methods": [{"id": f"C{user_id}", "type": "phone_contact_method"}],
            "notification_rules": [{"type": "assignment_notification_rule", "urgency": "high",
                                    "start_delay_in_minutes": delay,
                                    "contact_method": {"id": f"C{user_id}", "type": "phone_contact_method_reference"}}],
        }

    contacts = contact_set_ups.read_contacts(
        [user("PA", 0.0), user("PB", 0.0), user("PC", -0.0), user("PD", 0.0, "observer")]
    )
    assert contacts["PA"] is contacts["PB"]
    assert contacts["PC"] is not contacts["PA"] and math.copysign(1.0, contacts["PC"].high_urgency[0][1]) == -1.0
    assert contacts["PD"] is not contacts["PA"] and contacts["PD"].role == "observer"
