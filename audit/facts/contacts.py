"""What a user's contact methods and notification rules mean: the RCH rules' raw material.

Which kinds of contact a user has, when their high-urgency rules fire and by which kind, whether
they count as *reachable* (a phone, SMS or push high-urgency rule and no pending invitation),
whether their base role may respond, and their hand-off notification rules. Read from the raw
user objects, so it needs no table library: the people side of a snapshot is read with it in a
forked child that starts before pandas is loaded (``audit.facts.roster``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from audit.facts.raw import as_list, as_minutes, as_text, base_type, ref_id

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
    """How a user is notified of high-urgency incidents (users with the same set-up share one)."""

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
    """Each user's contact kinds and high-urgency rules (rules default to high urgency, as the API does).

    Users with the same set-up share one Contact: an account's people have a handful of set-ups
    between them, so the people side's result pickles small and the user table reads each once."""
    contacts = {}
    set_ups: dict[tuple[Any, ...], Contact] = {}
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
        contact = Contact(
            kinds=frozenset(kind for kind in methods.values() if kind),
            high_urgency=tuple(sorted(high_urgency, key=lambda rule: (rule[1], rule[0]))),
            invitation_pending=user.get("invitation_sent") is True,
            role=as_text(user.get("role")),
        )
        # A delay of -0.0 equals 0.0 but is written as itself: its sign is part of the set-up.
        signs = tuple([math.copysign(1.0, delay) for _, delay in contact.high_urgency])
        contacts[user_id] = set_ups.setdefault((contact, signs), contact)
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
