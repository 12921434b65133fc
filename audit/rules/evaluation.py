"""Rule evaluation: judge every row of every rule's fact table into findings.

Nothing here reads files or the network, and nothing parses an expression: the
loader found the names each one uses (``Rule.names``).
"""

from __future__ import annotations

import dataclasses
import operator
import warnings
from collections.abc import Collection, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from audit.errors import UserError
from audit.facts.collector import collector_paused
from audit.facts.columns import ANALYTICS_COLUMNS, ANALYTICS_MISSING, INCIDENT_ANALYTICS
from audit.findings import Finding, Mode, RollUp, Severity, Status
from audit.rules.messages import FORMATTER, alternatives, has_value, is_missing, polish
from audit.rules.model import NAME_COLUMN, URL_COLUMN, Rule, RulePack
from audit.snapshot import COLLECTIONS
from audit.time_limit import within


@dataclasses.dataclass(frozen=True)
class EvaluationContext:
    """What evaluation needs besides the facts.

    ``unavailable``: snapshot collection -> why it could not be read (402/403...).
    ``modes``: which rule modes to run (CI runs only static rules, say).
    """

    rollup: RollUp = dataclasses.field(default_factory=RollUp)
    unavailable: Mapping[str, str] = dataclasses.field(default_factory=dict)
    modes: frozenset[Mode] = frozenset(Mode)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Findings, sorted by fingerprint, and the rules that judged nothing and why."""

    findings: tuple[Finding, ...]
    not_run: Mapping[str, str]  # rule id -> reason (mode not selected, or data unavailable)


def evaluate(pack: RulePack, facts: Mapping[str, pd.DataFrame], context: EvaluationContext) -> Evaluation:
    """Judge every row of every rule's entity table. Nothing here reads files or the network."""
    findings: list[Finding] = []
    not_run: dict[str, str] = {}
    reach = _Reach(context.rollup)
    subjects: dict[tuple[str, str, str, str | None], list[_Subject]] = {}  # shared by the rules on one table
    with collector_paused():  # hundreds of thousands of findings, none of them garbage
        for rule in pack:
            if rule.mode not in context.modes:
                not_run[rule.id] = f"mode {rule.mode.value} was not selected"
                continue
            frame = facts.get(rule.facts_table)
            missing = _missing_requirements(rule, () if frame is None else frame.columns, context.unavailable)
            if frame is None:  # no table at all, e.g. the teams collection was unavailable
                not_run[rule.id] = missing or f"no {rule.facts_table} facts"
                continue
            if missing:
                not_run[rule.id] = missing
            findings.extend(_judge(rule, frame, missing, reach, subjects))
        ordered = tuple(sorted(findings, key=_FINGERPRINT))
    return Evaluation(findings=ordered, not_run=not_run)


_FINGERPRINT = operator.attrgetter("fingerprint")  # a sort key in C: half a million findings


class _Reach:
    """The services and teams a finding on an object counts for, worked out once per object.

    Every rule on an entity type asks about the same objects; on a large account that is
    hundreds of thousands of identical roll-up look-ups.
    """

    def __init__(self, rollup: RollUp) -> None:
        self.rollup = rollup
        self.known: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def of(self, entity_type: str, entity_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        key = (entity_type, entity_id)
        if key not in self.known:
            services = self.rollup.services_of(entity_type, entity_id)
            self.known[key] = (services, self.rollup.teams_of(entity_type, entity_id, services))
        return self.known[key]


def _missing_requirements(rule: Rule, columns: Collection[str], unavailable: Mapping[str, str]) -> str | None:
    """Why the rule cannot be judged, or None. A required column that exists but is empty is not missing."""
    reasons = []
    for requirement in rule.requires:
        if requirement == INCIDENT_ANALYTICS:
            # Met only by facts that carry the incident-history columns the rule reads.
            if not _analytics_columns(rule) <= set(columns):
                reasons.append(f"incident history ({unavailable['incidents']})" if "incidents" in unavailable
                               else ANALYTICS_MISSING)
        elif requirement in COLLECTIONS:
            if requirement in unavailable:
                reasons.append(f"{requirement} unavailable ({unavailable[requirement]})")
        elif requirement not in columns:
            reasons.append(f"{requirement} not in the {rule.facts_table} facts")
    return "needs " + "; ".join(reasons) if reasons else None


def _analytics_columns(rule: Rule) -> set[str]:
    """The incident-analytics columns (``ANALYTICS_COLUMNS``) the rule's expressions and message read."""
    named = rule.names.message_fields | rule.names.expression_columns
    return set(named) & set(ANALYTICS_COLUMNS.get(rule.facts_table, {}))


@dataclasses.dataclass(frozen=True)
class _Subject:
    """What a finding says about the object a row judges (read from the row's columns),
    and the services and teams its findings count for."""

    entity_id: str
    name: str
    sub_key: str | None
    html_url: str | None
    service_ids: tuple[str, ...]
    team_ids: tuple[str, ...]


def _subjects(rule: Rule, frame: pd.DataFrame, reach: _Reach) -> list[_Subject]:
    """One subject per row, read column by column (turning every row into a dict is the slow part)."""
    ids = [str(value) for value in frame[rule.object_column].tolist()]
    absent = [None] * len(frame)
    names = frame[NAME_COLUMN].tolist() if NAME_COLUMN in frame.columns else absent
    urls = frame[URL_COLUMN].tolist() if URL_COLUMN in frame.columns else absent
    sub_keys = frame[rule.sub_key].tolist() if rule.sub_key else absent
    return [
        _Subject(
            entity_id=entity_id,
            name=str(name or entity_id),
            sub_key=None if is_missing(sub_key) else _key_text(sub_key),
            html_url=None if is_missing(url) else str(url),
            service_ids=services,
            team_ids=teams,
        )
        for entity_id, name, sub_key, url in zip(ids, names, sub_keys, urls, strict=True)
        for services, teams in (reach.of(rule.entity, entity_id),)
    ]


def _judge(
    rule: Rule,
    frame: pd.DataFrame,
    excluded_because: str | None,
    reach: _Reach,
    known_subjects: dict[tuple[str, str, str, str | None], list[_Subject]],
) -> list[Finding]:
    keys = [rule.object_column] + ([rule.sub_key] if rule.sub_key else [])
    absent = [column for column in keys if column not in frame.columns]
    if absent:
        raise ValueError(f"the {rule.facts_table} facts lack column(s) {absent} that {rule.id} needs")
    if frame.duplicated(keys).any():
        raise ValueError(
            f"the {rule.facts_table} facts have duplicate rows for {keys}; {rule.id} cannot fingerprint them"
        )
    frame = frame.reset_index(drop=True)
    subject_key = (rule.entity, rule.facts_table, rule.object_column, rule.sub_key)
    if subject_key not in known_subjects:
        known_subjects[subject_key] = _subjects(rule, frame, reach)
    subjects = known_subjects[subject_key]
    _finding = _findings_of(rule)
    if excluded_because:
        # Objects the rule does not apply to stay not_applicable when that can be told from the
        # data at hand (OC-09 concerns on-call users only, whether or not analytics were crawled).
        applies, not_judged = _applicable(rule, frame, only_on_data_at_hand=True)
        return [
            _finding(subject, Status.EXCLUDED, excluded_because) if applied
            else _finding(subject, Status.NOT_APPLICABLE, not_judged.get(position, rule.title))
            for position, (subject, applied) in enumerate(zip(subjects, applies.tolist(), strict=True))
        ]
    applies, not_judged = _applicable(rule, frame)
    judged = frame[applies]
    passes = _mask(rule, "condition", judged) if len(judged) else pd.Series(dtype=bool)
    failing = judged[~passes] if len(judged) else judged
    warns = (
        _mask(rule, "warn_when", failing) if rule.warn_when and len(failing) else pd.Series(False, index=failing.index)
    )
    messages = _messages(rule, failing, rule.message, rule.names.message)
    verdicts = {position: Status.PASS for position in judged.index.tolist()}
    verdicts.update({position: Status.FAIL for position in failing.index.tolist()})
    warnings = set(failing.index[warns.to_numpy(bool)].tolist()) if len(failing) else set()
    advisory = rule.maturity_level is None  # info-only rules inform; they never fail
    findings = []
    for position, subject in enumerate(subjects):
        status = verdicts.get(position, Status.NOT_APPLICABLE)
        if status is not Status.FAIL:
            findings.append(_finding(subject, status, not_judged.get(position, rule.title)))
        elif position in warnings:
            findings.append(_finding(subject, Status.WARN, messages[position], rule.warn_severity))
        else:
            findings.append(_finding(subject, Status.WARN if advisory else status, messages[position]))
    return findings


def _applicable(rule: Rule, frame: pd.DataFrame, *,
                only_on_data_at_hand: bool = False) -> tuple[pd.Series, dict[int, str]]:
    """The rows the rule judges, and the not-judged message of the rows ``judged_when`` leaves out.

    ``only_on_data_at_hand``: skip an expression whose columns the facts lack (a rule excluded for
    want of incident history still tells the objects it never concerns, e.g. users not on call).
    """
    def usable(field: str) -> bool:
        return bool(getattr(rule, field)) and (
            not only_on_data_at_hand or rule.names.columns(field) <= set(frame.columns))

    applies = _mask(rule, "applies_when", frame) if usable("applies_when") else pd.Series(True, index=frame.index)
    if not (usable("judged_when") and rule.not_judged_message):
        return applies, {}
    enough = _mask(rule, "judged_when", frame)
    if only_on_data_at_hand and not rule.names.not_judged_message - set(rule.params) <= set(frame.columns):
        return applies & enough, {}
    not_judged = _messages(rule, frame[applies & ~enough], rule.not_judged_message, rule.names.not_judged_message)
    return applies & enough, not_judged


def _messages(rule: Rule, rows: pd.DataFrame, template: str, fields: Collection[str]) -> dict[int, str]:
    """``template`` (a failure or not-judged message) for each row, by position (only its ``fields`` are read).

    Each alternative of the template (see ``audit.rules.messages``) is parsed once per rule
    rather than once per row: the same ``str.format`` result (fields are plain names, so
    nothing nests), without its per-call parsing.
    """
    choices = []
    for alternative in alternatives(template):
        pieces = list(FORMATTER.parse(alternative))
        choices.append((pieces, [field for _, field, _, _ in pieces if field is not None]))
    columns = sorted(set(fields) & set(rows.columns))
    params = rule.param_values
    records = rows[columns].to_dict("records") if columns else [{} for _ in range(len(rows))]
    messages = {}
    tried, fallback = choices[:-1], choices[-1][0]  # the last alternative is taken when no other fits
    format_field, convert_field = FORMATTER.format_field, FORMATTER.convert_field
    for position, row in zip(rows.index.tolist(), records, strict=True):
        values = {**params, **row}
        pieces = next((p for p, fields in tried if all(has_value(values.get(f)) for f in fields)), fallback)
        parts = []
        for literal, field, spec, conversion in pieces:
            parts.append(literal)
            if field is not None:
                value = values[field] if conversion is None else convert_field(values[field], conversion)
                parts.append(format_field(value, spec or ""))
        messages[position] = polish("".join(parts))
    return messages


def render_messages(rule: Rule, frame: pd.DataFrame) -> dict[int, str]:
    """The message the rule would give each row of ``frame`` (its facts table), failing or not."""
    return _messages(rule, frame.reset_index(drop=True), rule.message, rule.names.message)


def _mask(rule: Rule, field: str, frame: pd.DataFrame) -> pd.Series:
    """Evaluate an already-checked expression into one true/false per row (missing -> false)."""
    expression = getattr(rule, field)
    try:
        with within(f"{rule.source}: {rule.id}: {field}"), warnings.catch_warnings():
            # pandas' advice on groups in a pattern: a rule only asks whether it matches.
            warnings.filterwarnings("ignore", "This pattern is interpreted as a regular expression", UserWarning)
            result = frame.eval(expression, engine="python", parser="pandas", local_dict=rule.param_values,
                                global_dict={})
    # What pandas raises for data an expression cannot combine (a string compared with a
    # number, .str on numbers, a column the facts lack...); anything else is a bug.
    except (TypeError, ValueError, AttributeError, KeyError, NameError, NotImplementedError) as exc:
        raise UserError(
            f"{rule.source}: {rule.id}: {field}: cannot be evaluated over the {rule.facts_table} facts "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    if isinstance(result, (bool, np.bool_)):  # an expression over parameters only
        return pd.Series(bool(result), index=frame.index)
    if isinstance(result, pd.Series) and (pd.api.types.is_bool_dtype(result.dtype) or result.dtype == object):
        try:
            return result.astype("boolean").fillna(False).astype(bool)
        except (TypeError, ValueError):
            pass
    kind = getattr(result, "dtype", type(result).__name__)
    raise UserError(f"{rule.source}: {rule.id}: {field}: must be true or false for each row, got {kind}")


class _MakeFinding(Protocol):
    def __call__(self, subject: _Subject, status: Status, message: str, severity: Severity | None = None) -> Finding:
        ...


def _findings_of(rule: Rule) -> _MakeFinding:
    """How one rule's findings are made: what they all share is read from the rule once."""
    rule_id, entity_type, level, mode = rule.id, rule.entity, rule.maturity_level, rule.mode
    rule_severity = rule.severity
    made = Finding.from_fields

    def finding(subject: _Subject, status: Status, message: str, severity: Severity | None = None) -> Finding:
        return made({
            "rule_id": rule_id,
            "entity_type": entity_type,
            "entity_id": subject.entity_id,
            "entity_name": subject.name,
            "status": status,
            "severity": severity or rule_severity,
            "level": level,
            "mode": mode,
            "message": message,
            "sub_key": subject.sub_key,
            "service_ids": subject.service_ids,
            "team_ids": subject.team_ids,
            "html_url": subject.html_url,
            "waiver": None,
            "original_status": None,
        })

    return finding


def _key_text(value: Any) -> str:
    # 2.0 and 2 must fingerprint alike: facts may give a level number as float after a merge.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
