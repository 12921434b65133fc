"""User facts: whether each person can be reached and can respond, and how much they carry.

Owns what a user's contact methods and notification rules mean (the RCH rules'
raw material): which kinds of contact they have, when high-urgency rules fire
by which kind, whether the user counts as *reachable* (a phone, SMS or push
high-urgency rule and no pending invitation; a directly targeted user covers a
level only then), whether their role may respond, and, from what the
escalation stage resolved, whether they are on call in the window, for how
long and what share of it, how much of it at night in their own zone, the
shortest escalation delay they must beat, and the services for which they are
the only person level 1 can page (people risk: one resignation from an unowned
service).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.facts.columns import frame
from audit.facts.intervals import IntervalSet, measure
from audit.facts.on_call_time import Reach, on_call_time
from audit.facts.raw import as_list, as_minutes, as_text, base_type, ref_id, ref_ids
from audit.facts.schedules import HOUR, zone_or_utc

# PagerDuty's base roles (API names). Observers and stakeholders (read-only
# users) cannot acknowledge; restricted-access users can, on what they are given.
RESPONDING_ROLES = frozenset({"owner", "admin", "user", "limited_user", "restricted_access"})
CONTACT_KINDS = {
    "phone_contact_method": "phone",
    "sms_contact_method": "sms",
    "push_notification_contact_method": "push",
    "email_contact_method": "email",
    "whatsapp_contact_method": "whatsapp",
}
PAGING_KINDS = frozenset({"phone", "sms", "push"})
HANDOFF_RULES_KEY = "oncall_handoff_notification_rules"


def read_handoff_rules(lines: Iterable[Any]) -> dict[str, list[Any]]:
    """user id -> hand-off notification rules, from the ``handoff_rules`` collection's lines."""
    rules: dict[str, list[Any]] = {}
    for line in lines:
        if isinstance(line, dict) and isinstance(line.get("user_id"), str):
            rules.setdefault(line["user_id"], []).extend(as_list(line.get(HANDOFF_RULES_KEY)))
    return rules


@dataclass(frozen=True)
class Contact:
    """How one user is notified of high-urgency incidents."""

    user_id: str
    kinds: frozenset[str]
    high_urgency: tuple[tuple[str, float], ...]  # (contact kind, start delay in minutes), by delay
    invitation_pending: bool
    role: str

    @property
    def reachable(self) -> bool:
        return not self.invitation_pending and any(kind in PAGING_KINDS for kind, _ in self.high_urgency)

    def first_delays(self) -> dict[str, float]:
        """Each contact kind's earliest high-urgency delay (the rules are kept by delay: the first seen)."""
        firsts: dict[str, float] = {}
        for kind, delay in self.high_urgency:
            firsts.setdefault(kind, delay)
        return firsts


def read_contacts(users: Iterable[Mapping[str, Any]]) -> dict[str, Contact]:
    """Each user's contact kinds and high-urgency rules (rules default to high urgency, as the API does)."""
    contacts = {}
    for user in users:
        user_id = ref_id(user)
        if user_id is None:
            continue
        methods = {ref_id(m): _kind(m) for m in as_list(user.get("contact_methods")) if isinstance(m, dict)}
        high_urgency = []
        for rule in as_list(user.get("notification_rules")):
            if not isinstance(rule, dict) or base_type(rule.get("type")) not in ("", "assignment_notification_rule"):
                continue
            if (rule.get("urgency") or "high") != "high":
                continue
            method = rule.get("contact_method")
            kind = _kind(method) or methods.get(ref_id(method))
            delay = rule.get("start_delay_in_minutes")
            if kind and not math.isnan(as_minutes(delay)):
                high_urgency.append((kind, as_minutes(delay)))
        contacts[user_id] = Contact(
            user_id=user_id,
            kinds=frozenset(kind for kind in methods.values() if kind),
            high_urgency=tuple(sorted(high_urgency, key=lambda rule: (rule[1], rule[0]))),
            invitation_pending=user.get("invitation_sent") is True,
            role=as_text(user.get("role")),
        )
    return contacts


def _kind(method: Any) -> str | None:
    if not isinstance(method, dict):
        return None
    declared = method.get("type")
    return _kind_of_type(declared) if isinstance(declared, str) else _kind_of_type("")


@functools.lru_cache(maxsize=1024)  # an account's contact methods have a handful of types
def _kind_of_type(declared: str) -> str | None:
    name = base_type(declared)
    if name in CONTACT_KINDS:
        return CONTACT_KINDS[name]
    # A contact-method type newer than this tool keeps its own name ("slack_dm"), so the
    # user's facts and findings name it; it never counts as a paging kind.
    suffix = "_contact_method"
    return name.removesuffix(suffix) if name.endswith(suffix) and len(name) > len(suffix) else None


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
    users on call) or, failing that, from the user object; otherwise they are unknown."""
    in_oncalls = set(oncall_user_ids)
    zones = {user_id: zone_or_utc(user.get("time_zone")) for user_id, user in users.items()}
    held = on_call_time(reach, users, zones, window)
    window_seconds = measure(window)
    sole = sole_level1_service_ids or {}
    unreached = Reach()
    rows = []
    for user_id, user in users.items():
        contact = contacts[user_id]
        user_reach = reach.get(user_id, unreached)
        zone = zones[user_id]
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
            "time_zone": zone,
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
