"""Findings: the one record every later stage reads, and how waivers change it.

A ``Finding`` is one rule's verdict on one PagerDuty object (optionally on one
part of it, the *sub-key*, e.g. one level of a policy). Every output format,
baseline, diff and score reads this model and nothing else.

Fingerprints are readable, not hashed: ``RULE:entity_type:PAGERDUTY_ID[:SUB_KEY]``,
e.g. ``OC-03:schedule:PSCH001`` or ``ESC-03:escalation_policy:PEP0001:2``. They
use the rule's canonical id (never an alias) and the object's PagerDuty id
(never its name), so renaming an object or a rule keeps baselines valid, and a
person reading a baseline file can tell what each line is about.

Waivers live here too because all they do is move a failing finding to
``waived`` while keeping its original status visible; ``audit.config`` parses
them out of ``pd-audit.toml``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from audit.safe_text import capped


class Status(str, enum.Enum):
    """What a rule concluded about one object."""

    FAIL = "fail"
    # Misses only the rule's softer warning threshold (OC-03: 2-3 people), or an info-only rule's
    # advice: shown as a warning, never blocks a level, costs nothing in the score, and the CI
    # gate ignores it unless asked (``--fail-on warn``).
    WARN = "warn"
    PASS = "pass"
    WAIVED = "waived"  # failed, but an unexpired waiver accepts the risk
    EXCLUDED = "excluded"  # could not be judged: the data it needs is unavailable
    NOT_APPLICABLE = "not_applicable"  # the rule's applies_when is false for this object


OPEN_STATUSES = frozenset({Status.FAIL, Status.WARN})


class Severity(str, enum.Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 4 for critical: the one order the gate, the reports and --fail-on use."""
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)  # declaration order: info < low < ... < critical
DEFAULT_FAIL_ON = Severity.LOW  # info findings inform; they never break a build
FAIL_ON_WARN = "warn"  # the --fail-on value below every severity: warnings fail the build too
# What --fail-on and [check] fail_on accept, lowest first.
FAIL_ON_CHOICES: tuple[str, ...] = (FAIL_ON_WARN, *(s.value for s in Severity if s.rank >= DEFAULT_FAIL_ON.rank))


class Mode(str, enum.Enum):
    """What a rule needs to be judged (see the rules catalog)."""

    STATIC = "S"  # configuration only: deterministic, the default for CI
    WINDOW = "W"  # rendered schedules / on-calls over the audit window
    ANALYTICS = "A"  # incident analytics (plan-gated)


EntityType = Literal["service", "escalation_policy", "schedule", "team", "user"]
ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)


@dataclasses.dataclass(frozen=True)
class Waiver:
    """An accepted risk: one rule on one PagerDuty object, until a date.

    ``sub_key`` narrows the waiver to one part of the object; without it the
    waiver covers every sub-key. Object ids are matched exactly, never as
    substrings or patterns.
    """

    rule: str  # canonical rule id (aliases are resolved when the config is loaded)
    object_id: str
    reason: str
    approved_by: str
    expires: dt.date  # last day the waiver is valid
    sub_key: str | None = None

    def is_expired(self, today: dt.date) -> bool:
        return today > self.expires

    def matches(self, finding: Finding) -> bool:
        return (
            self.rule == finding.rule_id
            and self.object_id == finding.entity_id
            and (self.sub_key is None or self.sub_key == finding.sub_key)
        )

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["expires"] = self.expires.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rule's verdict on one object, and the services and teams it affects."""

    rule_id: str
    entity_type: EntityType
    entity_id: str
    entity_name: str
    status: Status
    severity: Severity
    level: int | None  # maturity level 1-4 of the rule; None for info-only rules
    mode: Mode
    message: str
    sub_key: str | None = None
    service_ids: tuple[str, ...] = ()  # services whose score this finding counts in
    team_ids: tuple[str, ...] = ()
    html_url: str | None = None
    # Set when a waiver matched: status is WAIVED while it is valid, and stays
    # FAIL once it has expired (see ``waiver_expired``).
    waiver: Waiver | None = None
    original_status: Status | None = None  # the status before a waiver changed it
    # Worked out once, when the finding is made: sorting, scoring and roll-ups read it over a
    # million times on a large account. (Not a cached_property: on Python 3.11 its first read
    # takes a lock, which cost a 10,000-service account most of a second.)
    fingerprint: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A frozen dataclass sets its own fields this way; dataclasses.replace runs this again.
        print_ = fingerprint(self.rule_id, self.entity_type, self.entity_id, self.sub_key)
        object.__setattr__(self, "fingerprint", print_)

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Finding:
        """``Finding(**fields)``, made five times faster: for the rule engine's hundreds of thousands.

        ``fields`` holds every field but the fingerprint (defaults too), in declaration order, and
        becomes the finding's own ``__dict__`` (a fresh dict, not to be used again). A frozen
        dataclass's ``__init__`` sets each field through ``object.__setattr__``; this sets them at once.
        """
        sub_key = fields["sub_key"]  # fingerprint(), written out: a call less per finding
        fields["fingerprint"] = (f"{fields['rule_id']}:{fields['entity_type']}:{fields['entity_id']}"
                                 + ("" if sub_key is None else f":{sub_key}"))
        finding = object.__new__(cls)
        object.__setattr__(finding, "__dict__", fields)
        return finding

    @property
    def waiver_expired(self) -> bool:
        return self.waiver is not None and self.status is not Status.WAIVED

    @property
    def warning(self) -> bool:
        return self.status is Status.WARN

    @property
    def is_open(self) -> bool:
        """Failing or warned: what a baseline records and the CI gate compares."""
        return self.status in OPEN_STATUSES

    @property
    def blocks_level(self) -> bool:
        """Whether this finding keeps its services below its rule's level (warnings never do)."""
        return self.status is Status.FAIL and self.level is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule_id": self.rule_id,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "entity_name": capped(self.entity_name),  # a 100,000-character name is cut, as everywhere
            "sub_key": self.sub_key,
            "status": self.status.value,
            "original_status": self.original_status.value if self.original_status else None,
            "severity": self.severity.value,
            "level": self.level if self.level is not None else "info",
            "mode": self.mode.value,
            "message": capped(self.message),
            "service_ids": list(self.service_ids),
            "team_ids": list(self.team_ids),
            "html_url": self.html_url,
            "waiver": self.waiver.to_json() if self.waiver else None,
            "waiver_expired": self.waiver_expired,
        }


def fingerprint(rule_id: str, entity_type: str, entity_id: str, sub_key: str | None = None) -> str:
    parts = [rule_id, entity_type, entity_id]
    if sub_key is not None:
        parts.append(sub_key)
    return ":".join(parts)


@dataclasses.dataclass(frozen=True)
class RollUp:
    """How a finding on any object reaches the services (and so the teams) it affects.

    Built by the facts stage:
    - ``service_ids``: entity type -> entity id -> ids of the services it affects.
      "service" needs no entry (a service affects itself). A policy affects the
      services using it; a schedule the services whose policies target it; a user
      the services they are on call for; a team the services it owns.
    - ``team_ids``: service id -> ids of its owning teams (empty when unowned).
    """

    service_ids: Mapping[str, Mapping[str, Sequence[str]]] = dataclasses.field(default_factory=dict)
    team_ids: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)

    def services_of(self, entity_type: str, entity_id: str) -> tuple[str, ...]:
        if entity_type == "service":
            return (entity_id,)
        return tuple(sorted(self.service_ids.get(entity_type, {}).get(entity_id, ())))

    def teams_of(self, entity_type: str, entity_id: str, service_ids: Iterable[str]) -> tuple[str, ...]:
        teams = {team for service in service_ids for team in self.team_ids.get(service, ())}
        if entity_type == "team":
            teams.add(entity_id)
        return tuple(sorted(teams))


@dataclasses.dataclass(frozen=True)
class WaiverOutcome:
    """Findings after waivers, and the waivers that need someone's attention."""

    findings: Sequence[Finding]  # a tuple, or the engine's table (``audit.finding_table``)
    expired: tuple[Waiver, ...]  # past their date; the findings they covered are open again
    unused: tuple[Waiver, ...]  # valid, but no failing finding matched them (stale or mistyped)


@runtime_checkable
class Waivable(Protocol):
    """Findings that apply waivers themselves (the engine's table changes only the rows concerned)."""

    def waived(self, waivers: Sequence[Waiver], today: dt.date) -> WaiverOutcome: ...


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver], today: dt.date) -> WaiverOutcome:
    """Mark failing findings covered by a waiver; report expired and unused waivers.

    Only failing and warned findings are waived (``original_status`` keeps which). A
    finding covered by an expired waiver stays open but carries the waiver, so reports
    can say it was reopened and when.
    """
    if isinstance(findings, Waivable):
        return findings.waived(waivers, today)
    if not waivers:  # nothing to change: no pass over half a million findings
        return WaiverOutcome(findings=tuple(findings), expired=(), unused=())
    used: set[int] = set()
    result: list[Finding] = []
    for finding in findings:
        if not finding.is_open:
            result.append(finding)
            continue
        waived = waive(finding, waivers, today, used)
        result.append(finding if waived is None else waived)
    return WaiverOutcome(findings=tuple(result), **waiver_notes(waivers, today, used))


def waive(finding: Finding, waivers: Sequence[Waiver], today: dt.date, used: set[int]) -> Finding | None:
    """``finding`` (open) as the first valid waiver covering it makes it (else carrying the first
    expired one), or None when no waiver covers it; the valid waivers' positions are added to ``used``."""
    matching = [(index, waiver) for index, waiver in enumerate(waivers) if waiver.matches(finding)]
    valid = [(index, waiver) for index, waiver in matching if not waiver.is_expired(today)]
    if valid:
        used.update(index for index, _ in valid)
        return dataclasses.replace(finding, status=Status.WAIVED, original_status=finding.status, waiver=valid[0][1])
    if matching:
        return dataclasses.replace(finding, waiver=matching[0][1])
    return None


def waiver_notes(waivers: Sequence[Waiver], today: dt.date, used: set[int]) -> dict[str, tuple[Waiver, ...]]:
    """The expired waivers, and the valid ones no finding used (by position in ``waivers``)."""
    return {
        "expired": tuple(waiver for waiver in waivers if waiver.is_expired(today)),
        "unused": tuple(waiver for index, waiver in enumerate(waivers)
                        if index not in used and not waiver.is_expired(today)),
    }
