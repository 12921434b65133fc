"""The plan judged: the account before and after it, assessed alike and compared like ``check``.

The account before the plan is the snapshot's (or, without one, the resources as Terraform
has them now: each change's ``before``); the account after is the same with every change
applied by its mapper. Both are assessed with the same packs and config; the failing findings
before are the baseline the findings after are gated against, as ``check`` gates a snapshot
against a baseline file, so *new* means the plan introduces it and *absent* that the plan fixes
it. A ``--baseline`` file adds the debt the team has already accepted. Findings a value unknown
until apply could change are *excluded* ("unknown until apply: ADDRESS.ATTRIBUTE"), never pass
or fail. Resources pd-audit does not model are listed, not guessed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

from audit.assess import Assessment
from audit.baseline import Baseline, BaselineEntry, create_baseline
from audit.findings import DEFAULT_FAIL_ON, Finding, Status
from audit.gate import GateResult, fail_on_threshold, run_gate
from audit.plan.account import Account
from audit.plan.locations import Location
from audit.plan.mappers import ENTITY_OF_TYPE, MAPPERS
from audit.plan.reader import Plan, ResourceChange
from audit.plan.references import References, Unknown, Values
from audit.snapshot import Snapshot

UNKNOWN_PREFIX = "unknown until apply: "
_DESCRIBING = ("name", "description")  # columns an unknown name or description feeds, by prefix
_IDENTITY = frozenset({"id", "html_url"})
# Attributes naming another object (by id): what they cannot change is what an object's own
# settings give its facts, e.g. a service's timeouts, urgency and integrations.
_REFERENCES = frozenset({"escalation_policy", "teams", "users", "id", "user_id", "team_id", "service",
                         "extension_objects", "parent", "team"})
_OWN_SETTINGS = frozenset({"status", "is_disabled", "in_maintenance", "tier", "urgency_promise", "support_hours",
                           "integration_count", "addon_count", "ack_timeout_minutes", "auto_resolve_hours",
                           "time_zone", "kind", "email", "role", "may_respond", "invitation_pending", "num_loops",
                           "repeats"})


@dataclasses.dataclass(frozen=True)
class PlannedObject:
    """A PagerDuty object a resource of the plan describes."""

    address: str
    resource_type: str
    action: str  # create, update, replace, delete, no-op
    config_address: str  # the resource block inside its module (for code locations)
    module_address: str


@dataclasses.dataclass(frozen=True)
class PlanResult:
    """The gate's verdict on the plan and what the plan outputs add to it."""

    gate: GateResult
    plan: Plan
    objects: Mapping[tuple[str, str], PlannedObject]  # (entity type, id) -> the resource describing it
    unknowns: Mapping[Unknown, tuple[str, ...]]  # -> fingerprints of the findings it left unjudged
    unmodelled: tuple[ResourceChange, ...]
    base: str  # what the plan was applied to: a snapshot path, or an empty account
    locations: Mapping[str, Location] = dataclasses.field(default_factory=dict)  # TYPE.NAME -> block (--tf-dir)

    @property
    def changed(self) -> tuple[ResourceChange, ...]:
        return tuple(c for c in self.plan.changes if c.changes and c.type in MAPPERS)

    def address_of(self, entity_type: str, entity_id: str) -> PlannedObject | None:
        return self.objects.get((entity_type, entity_id))

    def location_of(self, entity_type: str, entity_id: str) -> Location | None:
        """The resource block describing the object, when ``--tf-dir`` gave the root module's files.

        A resource inside a module has its address only: the same ``TYPE.NAME`` may be declared
        in the root module too, and a wrong line is worse than none."""
        planned = self.address_of(entity_type, entity_id)
        if planned is None or planned.module_address:
            return None
        return self.locations.get(planned.config_address)

    @property
    def introduced(self) -> tuple[Finding, ...]:
        """The violations only the account after the plan has (warnings apart)."""
        return tuple(f for f in self.gate.new if f.status is Status.FAIL)

    @property
    def introduced_warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.gate.new if f.status is not Status.FAIL)

    @property
    def fixed(self) -> tuple[BaselineEntry, ...]:
        return self.gate.absent


Assess = Callable[[Snapshot], Assessment]


def judge_plan(plan: Plan, base: Snapshot | None, assess: Assess, *, accepted: Baseline | None = None,
               fail_on: str | None = None, baseline_name: str) -> PlanResult:
    """Apply ``plan`` to ``base`` (None: the plan's prior state), assess before and after, compare.

    ``fail_on`` is a ``--fail-on`` value (default: the config's ``[check] fail_on``, else low)."""
    start = plan.timestamp or datetime.now(UTC)
    account = Account.from_snapshot(base) if base is not None else Account.empty(start)
    planned_ids = {c.address: _planned_id(c) for c in plan.changes}
    references = References(plan, planned_ids)
    modelled = sorted((c for c in plan.changes if c.type in MAPPERS), key=lambda c: list(MAPPERS).index(c.type))
    unknowns: dict[Unknown, set[tuple[str, str]]] = {}
    objects: dict[tuple[str, str], PlannedObject] = {}

    if base is None:  # the resources as they are now make the account before the plan
        for change in modelled:
            if isinstance(change.before, dict):
                MAPPERS[change.type].put(account, Values(change, "before", None, set()), planned_ids[change.address])
    before = account.copy()
    steps = [(c, "remove") for c in modelled if c.deletes and isinstance(c.before, dict)]
    steps += [(c, "put") for c in modelled if c.changes and not c.action_label == "delete"
              and isinstance(c.after, dict)]
    for change, step in steps:
        oid = planned_ids[change.address]
        if step == "remove":
            MAPPERS[change.type].remove(account, Values(change, "before", None, set()), oid)
        else:
            found: set[Unknown] = set()
            touched = MAPPERS[change.type].put(account, Values(change, "after", references, found), oid)
            for unknown in found:
                unknowns.setdefault(unknown, set()).update(touched)
        if change.type in ENTITY_OF_TYPE:
            objects[(ENTITY_OF_TYPE[change.type], oid)] = PlannedObject(
                change.address, change.type, change.action_label, change.config_address, change.module_address)
    for change in modelled:  # unchanged resources (no-op) and the ids they had before
        if change.type in ENTITY_OF_TYPE and isinstance(change.before, dict):
            objects.setdefault((ENTITY_OF_TYPE[change.type], planned_ids[change.address]),
                               PlannedObject(change.address, change.type, change.action_label,
                                             change.config_address, change.module_address))

    assessed_before = assess(before.as_snapshot())
    assessed_after = assess(account.as_snapshot())
    assessed_after, left_open = _unknowns_excluded(assessed_after, unknowns)
    gate = _gate(assessed_before, assessed_after, accepted, fail_on, baseline_name)
    return PlanResult(
        gate=gate, plan=plan, objects=objects, unknowns=left_open,
        unmodelled=tuple(c for c in plan.changes if c.type not in MAPPERS),
        base=str(base.path) if base is not None else account.label,
    )


def _planned_id(change: ResourceChange) -> str:
    """The object's PagerDuty id, or its address while it has none (created by this plan)."""
    for side in (change.after, change.before):
        if isinstance(side, dict) and isinstance(side.get("id"), str) and side["id"]:
            return side["id"]
    return change.address


def _gate(before: Assessment, after: Assessment, accepted: Baseline | None, fail_on: str | None,
          baseline_name: str) -> GateResult:
    """``after`` gated against ``before``'s failing findings (plus accepted debt); fixed = failing before only."""
    prior = create_baseline(before.findings, before.today, {})
    failing_before = {e.fingerprint for e in prior.entries}
    entries = {e.fingerprint: e for e in (accepted.entries if accepted else ())}
    entries.update(prior.by_fingerprint)
    baseline = Baseline(entries=tuple(entries.values()), updated=before.today,
                        snapshot=dict(accepted.snapshot) if accepted else {})
    threshold, warnings_fail = fail_on_threshold(fail_on or after.config.fail_on or DEFAULT_FAIL_ON.value)
    gate = run_gate(after, baseline, fail_on=threshold, baseline_name=baseline_name, fail_on_warnings=warnings_fail)
    return dataclasses.replace(gate, absent=tuple(e for e in gate.absent if e.fingerprint in failing_before),
                               unjudged=tuple(e for e in gate.unjudged if e.fingerprint in failing_before))


def _unknowns_excluded(assessment: Assessment, unknowns: Mapping[Unknown, set[tuple[str, str]]]
                       ) -> tuple[Assessment, dict[Unknown, tuple[str, ...]]]:
    """Findings an unknown value could change, excluded with the attribute named."""
    if not unknowns:
        return assessment, {}
    rollup = assessment.facts.rollup()
    reach: dict[Unknown, set[tuple[str, str]]] = {}
    for unknown, touched in unknowns.items():
        subjects = set(touched)
        for entity_type, entity_id in touched:
            subjects.update(("service", s) for s in rollup.services_of(entity_type, entity_id))
        reach[unknown] = subjects
    tables = assessment.facts.tables
    needs = {rule.id: (rule.names.expression_columns | rule.names.message_fields)
             & set(tables[rule.facts_table].columns if rule.facts_table in tables else ())
             for rule in assessment.pack}
    changed: dict[str, Finding] = {}
    left_open: dict[Unknown, list[str]] = {}
    for finding in assessment.findings:
        if finding.status is Status.EXCLUDED:  # whether a rule applies may hang on the value too
            continue
        for unknown, subjects in sorted(reach.items()):
            if (finding.entity_type, finding.entity_id) in subjects and _reads(needs.get(finding.rule_id), unknown):
                changed[finding.fingerprint] = dataclasses.replace(
                    finding, status=Status.EXCLUDED, original_status=None, waiver=None,
                    message=f"{UNKNOWN_PREFIX}{unknown} (the rule needs it)")
                left_open.setdefault(unknown, []).append(finding.fingerprint)
                break
    findings = tuple(changed.get(f.fingerprint, f) for f in assessment.findings)
    evaluation = dataclasses.replace(assessment.evaluation, findings=tuple(
        changed.get(f.fingerprint, f) for f in assessment.evaluation.findings))
    waivers = dataclasses.replace(assessment.waivers, findings=findings)
    return (dataclasses.replace(assessment, evaluation=evaluation, waivers=waivers),
            {u: tuple(sorted(left_open.get(u, ()))) for u in sorted(unknowns)})


def _reads(columns: Iterable[str] | None, unknown: Unknown) -> bool:
    """Whether a rule reading ``columns`` needs the unknown value: a name or description feeds only
    the columns describing the object; a reference to another object everything but the object's
    own settings; any other setting everything but the description."""
    read = set(columns or ())
    describing = {c for c in read if c.startswith(_DESCRIBING)}
    attribute = unknown.attribute.split(".")[-1].split("[")[0]
    if attribute in _DESCRIBING:
        return bool(describing)
    if attribute in _REFERENCES:
        return bool(read - describing - _IDENTITY - _OWN_SETTINGS)
    return bool(read - describing - _IDENTITY)
