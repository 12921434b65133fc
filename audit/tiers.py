"""Service tiers: the config's mapping applied to a snapshot, the default without one, and proposals.

A tier says how much a service must promise (tier 1: 24/7 coverage, deep escalation). The
mapping lives in ``pd-audit.toml`` (``[[tiers]]``). Without any mapping, a first run would fail
OWN-08 ("tier declared") on every service and stop the whole account at level 1 for want of
configuration: instead every service is judged as ``DEFAULT_TIER``, OWN-08 is reported once for
the account as a notice, and ``pd-audit init`` proposes a mapping from the account's own signals
(``propose_tiers``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from audit.wording import plural

DEFAULT_TIER = 2
TIER_RULE = "OWN-08"

# Words in a service's name that suggest what customers pay through or log in with.
_CORE_WORDS = re.compile(
    r"(?i)\b(payments?|checkout|billing|ledger|orders?|auth\w*|login|sign-?in|identity|gateway|storefront|cart)\b"
)
# Words that suggest a service nobody outside the team depends on.
_MINOR_WORDS = re.compile(r"(?i)\b(test\w*|sandbox|staging|dev|demo|example|sample|playground|internal tools?)\b")


@dataclasses.dataclass(frozen=True)
class Notice:
    """Something said once for the whole account rather than per object (e.g. no tier mapping)."""

    rule_id: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "message": self.message}


def no_mapping_notice(default_tier: int = DEFAULT_TIER) -> Notice:
    return Notice(TIER_RULE, f"no tier mapping: every service was judged as tier {default_tier}; "
                             f"`pd-audit init` proposes one")


def default_tiers(service_ids: Iterable[str], default_tier: int = DEFAULT_TIER) -> dict[str, int]:
    """Every service at the default tier: what a run without a tier mapping judges."""
    return dict.fromkeys(service_ids, default_tier)


@dataclasses.dataclass(frozen=True)
class TierProposal:
    """One service's proposed tier and the signals that led to it, in words."""

    service_id: str
    name: str
    tier: int
    reasons: tuple[str, ...]


def propose_tiers(services: pd.DataFrame) -> list[TierProposal]:
    """A tier for every service of the service fact table, from its own signals.

    Tier 1: pages at high urgency around the clock and supports a business service, has
    several dependents or is named like a core customer path. Tier 3: pages at low urgency
    only, or is named like a test or internal tool. Tier 2 otherwise (support-hours services,
    24/7 services with nothing else pointing at them).
    """
    proposals = []
    for row in services.to_dict("records"):
        proposals.append(_proposal(row))
    return sorted(proposals, key=lambda p: (p.tier, p.name.casefold(), p.service_id))


def _proposal(row: Mapping[str, Any]) -> TierProposal:
    name = str(row.get("name") or "")
    urgency = str(row.get("urgency_promise") or "")
    business = _count(row.get("business_service_count"))
    dependents = _count(row.get("dependent_count"))
    support_hours = row.get("support_hours")
    core = _CORE_WORDS.search(name)
    minor = _MINOR_WORDS.search(name)
    important = []
    if business:
        important.append(f"supports {plural(business, 'business service')}")
    if dependents >= 2:
        important.append(f"{plural(dependents, 'service')} depend on it")
    if core:
        important.append(f"its name mentions {core.group(0).lower()!r}")
    if urgency == "high_always" and important and not minor:
        return _made(row, 1, ["pages at high urgency around the clock", *important])
    if urgency == "low_only":
        return _made(row, 3, ["pages at low urgency only"])
    if minor:
        return _made(row, 3, [f"its name mentions {minor.group(0).lower()!r}"])
    if isinstance(support_hours, str) and support_hours:
        return _made(row, 2, [f"promises support hours only ({support_hours})", *important])
    if urgency == "high_always":
        return _made(row, 2, ["pages at high urgency around the clock, but no business service, dependents or "
                              "core name point at it"])
    return _made(row, 2, ["no signal for tier 1 or 3"])


def _made(row: Mapping[str, Any], tier: int, reasons: list[str]) -> TierProposal:
    return TierProposal(str(row.get("id")), str(row.get("name") or ""), tier, tuple(reasons))


def _count(value: Any) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
