"""User facts: whether each person can be reached and can respond, and how much they carry.

From each user's contacts (``audit.facts.contacts``: what their contact methods and notification
rules mean; a directly targeted user covers a level only when reachable) and from what the
escalation stage resolved, whether they are on call in the window, for how
long and what share of it, how much of it at night in their own zone, the
shortest escalation delay they must beat, and the services for which they are
the only person level 1 can page (people risk: one resignation from an unowned
service).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from audit.facts.columns import USER, frame_columns
from audit.facts.contacts import HANDOFF_RULES_KEY, PAGING_KINDS, RESPONDING_ROLES, Contact
from audit.facts.intervals import IntervalSet, measure
from audit.facts.on_call_time import Reach, on_call_time
from audit.facts.raw import as_text, ref_ids
from audit.facts.schedules import HOUR, zone_or_utc


def sole_level1_services(
    level1_people_by_policy: Mapping[str, Iterable[str]],
    service_ids_by_policy: Mapping[str, Iterable[str]],
    live_service_ids: Iterable[str],
) -> dict[str, list[str]]:
    """user id -> the live services whose policy's level 1 can page that user and nobody else (PPL-02)."""
    live = set(live_service_ids)
    sole: dict[str, list[str]] = {}
    for policy_id, level1_people in level1_people_by_policy.items():
        people = set(level1_people)
        if len(people) != 1:
            continue
        (user_id,) = people
        services = sorted(s for s in service_ids_by_policy.get(policy_id, ()) if s in live)
        if services:
            sole.setdefault(user_id, []).extend(services)
    return {user_id: sorted(services) for user_id, services in sole.items()}


def user_table(
    users: Mapping[str, Mapping[str, Any]],
    contacts: Mapping[str, Contact],
    reach: Mapping[str, Reach],
    oncall_user_ids: Iterable[str],
    service_ids_by_policy: Mapping[str, Iterable[str]],
    team_ids_by_user: Mapping[str, Iterable[str]],
    handoff_rules_by_user: Mapping[str, Sequence[Any]],
    window: IntervalSet,
    sole_level1_service_ids: Mapping[str, Sequence[str]] | None = None,
):
    """One row per user (see ``columns.USER``); a user's teams are their memberships and the teams
    their user object names. Hand-off rules come from the ``handoff_rules`` collection (crawled for
    users on call) or, failing that, from the user object; otherwise they are unknown.

    Built a column at a time (a row of 40 named values for each of 18,000 users was most of the
    table's time), and what a user's contact means once per kind of contact: an account's people
    have a handful of contact set-ups between them (:func:`_contact_facts`)."""
    ids = list(users)
    records = list(users.values())
    in_oncalls = set(oncall_user_ids)
    zones = {user_id: zone_or_utc(user.get("time_zone")) for user_id, user in users.items()}
    held = on_call_time(reach, users, zones, window)
    window_seconds = measure(window)
    sole = sole_level1_service_ids or {}
    unreached = Reach()
    reaches = [reach.get(user_id, unreached) for user_id in ids]
    policies = [sorted(user_reach.policy_ids) for user_reach in reaches]
    seconds = [held.seconds.get(user_id, 0) for user_id in ids]
    nights = [held.night_seconds[user_id] if on_call else 0 for user_id, on_call in zip(ids, seconds, strict=True)]
    handoffs = [handoff_rules_by_user.get(user_id, user.get(HANDOFF_RULES_KEY)) for user_id, user in zip(ids, records)]
    sole_ids = [list(sole.get(user_id, ())) for user_id in ids]
    min_delays = [min(user_reach.delays, default=math.nan) for user_reach in reaches]
    contact_facts = _contact_columns([contacts[user_id] for user_id in ids])
    columns = {
        "id": ids,
        "name": [as_text(user.get("name")) or user_id for user_id, user in zip(ids, records)],
        "html_url": [as_text(user.get("html_url")) or None for user in records],
        "email": [as_text(user.get("email")) or None for user in records],
        "time_zone": list(zones.values()),
        **contact_facts,
        "team_ids": [
            list(dict.fromkeys([*team_ids_by_user.get(user_id, ()), *ref_ids(user.get("teams"))]))
            for user_id, user in zip(ids, records)
        ],
        "handoff_rules_known": [isinstance(rules, list) for rules in handoffs],
        "handoff_rules": [float(len(rules)) if isinstance(rules, list) else math.nan for rules in handoffs],
        "on_call": [user_id in in_oncalls or bool(ids_) for user_id, ids_ in zip(ids, policies)],
        "on_call_hours": [on_call / HOUR for on_call in seconds],
        "on_call_hours_by_level": [_hours_by_level(held.seconds_by_level.get(user_id, ())) for user_id in ids],
        "night_share_pct": [100.0 * night / on_call if on_call else 0.0 for night, on_call in zip(nights, seconds)],
        "on_call_share_pct": [100.0 * on_call / window_seconds if window_seconds else 0.0 for on_call in seconds],
        "sole_l1_service_ids": sole_ids,
        "sole_l1_service_count": [len(service_ids) for service_ids in sole_ids],
        "policy_ids": policies,
        "service_ids": [
            sorted({s for p in policy_ids for s in service_ids_by_policy.get(p, ())}) if policy_ids else []
            for policy_ids in policies
        ],
        "min_level_delay_minutes": min_delays,
        "phone_before_escalation": np.less(
            np.array(contact_facts["first_phone_sms_delay"], float), np.array(min_delays, float)
        ).tolist(),
    }
    return frame_columns("user", {name: columns[name] for name in USER})


def _hours_by_level(seconds_by_level: Iterable[tuple[int, int]]) -> list[str]:
    return [f"{seconds / HOUR:.0f} h at level {level}" for level, seconds in seconds_by_level]


# The user table's columns that read a user's Contact and nothing else, in the table's order.
CONTACT_COLUMNS = (
    "role", "may_respond", "invitation_pending", "contact_method_types", "has_phone", "has_sms", "has_push",
    "has_email", "high_urgency_rule_count", "high_urgency_methods", "high_urgency_delays",
    "distinct_high_urgency_delays", "high_urgency_email_only", "first_phone_delay", "first_sms_delay",
    "first_phone_sms_delay", "first_push_delay", "first_email_delay", "reachable",
)


def _contact_columns(contacts: Sequence[Contact]) -> dict[str, list[Any]]:
    """The CONTACT_COLUMNS of each of ``contacts``, worked out once per Contact (users with the same
    set-up share one: see :func:`audit.facts.contacts.read_contacts`)."""
    known: dict[int, tuple[Any, ...]] = {}  # by id: each contact is alive in ``contacts`` meanwhile
    rows = []
    for contact in contacts:
        facts = known.get(id(contact))
        if facts is None:
            facts = known[id(contact)] = _contact_facts(contact)
        rows.append(facts)
    values = list(zip(*rows, strict=True)) if rows else [() for _ in CONTACT_COLUMNS]
    columns = {name: list(column) for name, column in zip(CONTACT_COLUMNS, values, strict=True)}
    for name in ("contact_method_types", "high_urgency_methods", "high_urgency_delays"):
        columns[name] = [list(cell) for cell in columns[name]]  # each row its own list, as if built alone
    return columns


def _contact_facts(contact: Contact) -> tuple[Any, ...]:
    """One user's CONTACT_COLUMNS, in that order."""
    delays = sorted({delay for _, delay in contact.high_urgency})
    firsts = contact.first_delays()
    return (
        contact.role or None,
        contact.role in RESPONDING_ROLES,
        contact.invitation_pending,
        sorted(contact.kinds),
        "phone" in contact.kinds,
        "sms" in contact.kinds,
        "push" in contact.kinds,
        "email" in contact.kinds,
        len(contact.high_urgency),
        sorted({kind for kind, _ in contact.high_urgency}),
        delays,
        len(delays),
        bool(contact.high_urgency) and not any(kind in PAGING_KINDS for kind, _ in contact.high_urgency),
        firsts.get("phone", math.nan),
        firsts.get("sms", math.nan),
        min((firsts[kind] for kind in ("phone", "sms") if kind in firsts), default=math.nan),
        firsts.get("push", math.nan),
        firsts.get("email", math.nan),
        contact.reachable,
    )
