"""Rule evaluation: judge every row of every rule's fact table into findings.

Nothing here reads files or the network, and nothing parses an expression: the
loader found the names each one uses (``Rule.names``). On a large account two processes
judge the rules (see :func:`evaluate`); the findings are those of one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from audit.errors import UserError
from audit.facts.collector import collector_paused
from audit.facts.columns import ANALYTICS_COLUMNS, ANALYTICS_MISSING, INCIDENT_ANALYTICS
from audit.facts.forked import Forked, forking_helps
from audit.finding_table import SEVERITY_CODE, STATUS_CODE, FindingTable, RuleFields, Subjects
from audit.findings import Finding, Mode, RollUp, Status
from audit.rules.claims import Claims
from audit.rules.messages import is_missing, render_rows
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
    """Findings, sorted by fingerprint, and the rules that judged nothing and why.

    ``findings`` is the engine's ``FindingTable`` (its ``Finding`` objects made when read)."""

    findings: Sequence[Finding]
    not_run: Mapping[str, str]  # rule id -> reason (mode not selected, or data unavailable)


def evaluate(pack: RulePack, facts: Mapping[str, pd.DataFrame], context: EvaluationContext) -> Evaluation:
    """Judge every row of every rule's entity table. Nothing here reads files or the network.

    On a large account a forked child judges rules from the end of the pack on a second core while
    this process lays out every finding's subject, then judges rules from the start (see
    ``audit.rules.claims``); the child sends back its rules' verdicts only. So the findings, their
    order and ``not_run`` are those of a run in line, and so is an error: the first failing rule's."""
    not_run: dict[str, str] = {}
    tasks = _tasks(pack, facts, context, not_run)
    with contextlib.ExitStack() as stack, collector_paused():  # tens of thousands of subjects and messages
        claims = _shared(tasks, stack)
        if claims is not None:
            beside = Forked(functools.partial(_judge_from_back, tasks, claims))
            stack.callback(beside.abandon)  # stopped if this process fails before it has the verdicts
        subjects, blocks, unchecked = _lay_out(tasks, context.rollup)
        verdicts, misjudged = _judge_from_front(tasks, blocks, claims)
        # This process judged every task it took before the first that failed here, if one did (the
        # rules before a table that fails its check are judged first, as in line).
        failure = misjudged or unchecked
        failed_at = len(verdicts) if misjudged else len(blocks)
        if claims is not None and claims.met is not None and claims.met < failed_at:
            # The child took the tasks from ``met`` on. It stops at its first error, so a task that
            # raised one is at ``met`` (this process took every one before): before any failure here.
            verdicts.update(beside.result())  # raises the child's error
        if failure is not None:
            raise failure
    judged = [(rule.id, RuleFields(rule.id, rule.entity, rule.maturity_level, rule.mode, rule.title),
               verdicts[position], blocks[position]) for position, (rule, _, _) in enumerate(tasks)]
    return Evaluation(findings=_table(judged, subjects), not_run=not_run)


# Judging is CPU-bound pandas work: from this many judgements (rules times rows; ~2,500 services with
# the built-in packs) a forked child judging part of the rules shortens the stage on two cores; below
# it, forking and sending the verdicts back cost about what they save.
FORK_FROM_JUDGEMENTS = 100_000


def _shared(tasks: Sequence[_Task], stack: contextlib.ExitStack) -> Claims | None:
    """The tasks to share out with a forked child (closed when ``stack`` ends), or None to judge
    them all in line: one core, or a small account."""
    if not forking_helps() or sum(len(task.frame) for task in tasks) < FORK_FROM_JUDGEMENTS:
        return None
    claims = Claims(len(tasks))
    stack.callback(claims.close)
    return claims


class _Task(NamedTuple):
    """A rule to judge: its facts table and why it is excluded (requirements the data misses), if it is."""

    rule: Rule
    frame: pd.DataFrame
    missing: str | None


def _tasks(pack: RulePack, facts: Mapping[str, pd.DataFrame], context: EvaluationContext,
           not_run: dict[str, str]) -> list[_Task]:
    """The rules to judge, in pack order; each rule that judges nothing goes into ``not_run`` with why."""
    tasks = []
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
        tasks.append(_Task(rule, frame, missing))
    return tasks


def _lay_out(tasks: Sequence[_Task], rollup: RollUp) -> tuple[Subjects, list[_SubjectBlock], Exception | None]:
    """The subjects of every task's findings, in pack order, and where each task's sit: up to the
    first task whose table fails its check, and that error."""
    subjects = Subjects()
    reach = _Reach(rollup)
    blocks: dict[tuple[str, str, str, str | None], _SubjectBlock] = {}  # shared by the rules on one table
    laid_out: list[_SubjectBlock] = []
    try:
        for rule, frame, _ in tasks:
            key = _block_key(rule)
            if key not in blocks:  # checked once for all the rules on the table that key it alike
                blocks[key] = _SubjectBlock.of(subjects, rule, _checked(rule, frame), reach)
            laid_out.append(blocks[key])
    except Exception as error:
        return subjects, laid_out, error
    return subjects, laid_out, None


def _judge_from_front(tasks: Sequence[_Task], blocks: Sequence[_SubjectBlock], claims: Claims | None
                      ) -> tuple[dict[int, _Verdicts], Exception | None]:
    """The verdicts of the tasks laid out (``blocks``) that this process takes, by position (all of
    them without a child): up to the first that fails, and its error."""
    verdicts: dict[int, _Verdicts] = {}
    try:
        for position, block in enumerate(blocks):
            if claims is not None and claims.front() is None:  # the child has taken this one and the rest
                break
            rule, _, missing = tasks[position]
            verdicts[position] = _judge(rule, _read_by(rule, block.frame), missing)
    except Exception as error:
        return verdicts, error
    return verdicts, None


def _judge_from_back(tasks: Sequence[_Task], claims: Claims) -> dict[int, _Verdicts]:
    """What the forked child does: the verdicts of the tasks it takes from the back, by position, until
    one fails (its error is raised in the parent)."""
    checked: dict[tuple[str, str, str, str | None], pd.DataFrame] = {}
    verdicts = {}
    while (position := claims.back()) is not None:
        rule, frame, missing = tasks[position]
        key = _block_key(rule)
        if key not in checked:
            checked[key] = _checked(rule, frame)
        verdicts[position] = _judge(rule, _read_by(rule, checked[key]), missing)
    return verdicts


def _block_key(rule: Rule) -> tuple[str, str, str, str | None]:
    """What the rules whose findings share subjects share: one object (and sub-key) per row of one table."""
    return (rule.entity, rule.facts_table, rule.object_column, rule.sub_key)


def _table(judged: Sequence[tuple[str, RuleFields, _Verdicts, _SubjectBlock]], subjects: Subjects) -> FindingTable:
    """The rules' verdicts in fingerprint order: rules by ``RULE:`` (ids hold no colon), each rule's
    findings by the rest of their fingerprint (the order of their subjects)."""
    judged = sorted(judged, key=lambda item: item[0] + ":")
    rule, subject, status, severity, message = [], [], [], [], []
    for code, (_, _, verdicts, block) in enumerate(judged):
        order = block.order
        rule.append(np.full(len(order), code, dtype=np.int64))
        subject.append(block.start + order)
        status.append(verdicts.status[order])
        severity.append(verdicts.severity[order])
        message.append(verdicts.message[order])

    def joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return FindingTable([fields for _, fields, _, _ in judged], subjects, joined(rule, np.int64),
                        joined(subject, np.int64), joined(status, np.int8), joined(severity, np.int8),
                        joined(message, object))


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
class _SubjectBlock:
    """Where the subjects of one facts table's rows sit in the evaluation's ``Subjects`` (from
    ``start``, one per row), and the rows in the order of their fingerprints."""

    start: int
    order: np.ndarray
    frame: pd.DataFrame  # the table, checked (one row per object) and indexed by row position

    @classmethod
    def of(cls, subjects: Subjects, rule: Rule, frame: pd.DataFrame, reach: _Reach) -> _SubjectBlock:
        """Read column by column (turning every row into a dict is the slow part)."""
        start = len(subjects)
        ids = [str(value) for value in frame[rule.object_column].tolist()]
        absent = [None] * len(frame)
        names = frame[NAME_COLUMN].tolist() if NAME_COLUMN in frame.columns else absent
        urls = frame[URL_COLUMN].tolist() if URL_COLUMN in frame.columns else absent
        sub_keys = frame[rule.sub_key].tolist() if rule.sub_key else absent
        reached = [reach.of(rule.entity, entity_id) for entity_id in ids]
        subjects.entity_ids.extend(ids)
        subjects.names.extend(str(name or entity_id) for entity_id, name in zip(ids, names, strict=True))
        subjects.sub_keys.extend(None if is_missing(sub_key) else _key_text(sub_key) for sub_key in sub_keys)
        subjects.html_urls.extend(None if is_missing(url) else str(url) for url in urls)
        subjects.service_ids.extend(services for services, _ in reached)
        subjects.team_ids.extend(teams for _, teams in reached)
        return cls(start, subjects.fingerprint_order(start), frame)


def _checked(rule: Rule, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed by row position, once it is known to give each object one row."""
    keys = [rule.object_column] + ([rule.sub_key] if rule.sub_key else [])
    absent = [column for column in keys if column not in frame.columns]
    if absent:
        raise ValueError(f"the {rule.facts_table} facts lack column(s) {absent} that {rule.id} needs")
    if frame.duplicated(keys).any():
        raise ValueError(
            f"the {rule.facts_table} facts have duplicate rows for {keys}; {rule.id} cannot fingerprint them"
        )
    return frame.reset_index(drop=True)


def _read_by(rule: Rule, frame: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``frame`` the rule's expressions and messages read: every expression and every
    row selection then works on those only (pandas resolves every column of a frame it evaluates on)."""
    used = rule.names.expression_columns | rule.names.message_fields
    return frame[[column for column in frame.columns if column in used]]


@dataclasses.dataclass(frozen=True)
class _Verdicts:
    """One rule's findings on the rows of its facts table, by row position: status and severity
    codes and messages."""

    status: np.ndarray
    severity: np.ndarray
    message: np.ndarray

    @classmethod
    def start(cls, rule: Rule, rows: int) -> _Verdicts:
        """Every row not applicable, with the rule's title for a message (None: see ``FindingTable``)."""
        return cls(np.full(rows, STATUS_CODE[Status.NOT_APPLICABLE], dtype=np.int8),
                   np.full(rows, SEVERITY_CODE[rule.severity], dtype=np.int8),
                   np.empty(rows, dtype=object))

    def say(self, messages: Mapping[int, str], only: np.ndarray | None = None) -> None:
        """Give the rows in ``messages`` (those ``only`` marks, if given) their message."""
        positions = [p for p in messages if only is None or only[p]]
        if positions:
            chosen = np.empty(len(positions), dtype=object)
            chosen[:] = [messages[p] for p in positions]
            self.message[positions] = chosen


def _judge(rule: Rule, frame: pd.DataFrame, excluded_because: str | None) -> _Verdicts:
    verdicts = _Verdicts.start(rule, len(frame))
    if excluded_because:
        # Objects the rule does not apply to stay not_applicable when that can be told from the
        # data at hand (OC-09 concerns on-call users only, whether or not analytics were crawled).
        applies, not_judged = _applicable(rule, frame, only_on_data_at_hand=True)
        applied = applies.to_numpy(bool)
        verdicts.status[applied] = STATUS_CODE[Status.EXCLUDED]
        verdicts.message[applied] = excluded_because
        verdicts.say(not_judged, ~applied)
        return verdicts
    applies, not_judged = _applicable(rule, frame)
    judged = frame[applies]
    passes = _mask(rule, "condition", judged) if len(judged) else pd.Series(dtype=bool)
    failing = judged[~passes] if len(judged) else judged
    warns = (
        _mask(rule, "warn_when", failing) if rule.warn_when and len(failing) else pd.Series(False, index=failing.index)
    )
    applied = applies.to_numpy(bool)
    verdicts.status[applied] = STATUS_CODE[Status.PASS]
    verdicts.say(not_judged, ~applied)
    failed = failing.index.to_numpy(np.int64)
    advisory = rule.maturity_level is None  # info-only rules inform; they never fail
    verdicts.status[failed] = STATUS_CODE[Status.WARN if advisory else Status.FAIL]
    if len(failed):
        warned = failed[warns.to_numpy(bool)]
        verdicts.status[warned] = STATUS_CODE[Status.WARN]
        verdicts.severity[warned] = SEVERITY_CODE[rule.warn_severity or rule.severity]
    verdicts.say(_messages(rule, failing, rule.message, rule.names.message))
    return verdicts


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
    """``template`` (a failure or not-judged message) for each row, by position (only its ``fields`` are read)."""
    columns = sorted(set(fields) & set(rows.columns))
    records = rows[columns].to_dict("records") if columns else [{} for _ in range(len(rows))]
    values = {**{name: [value] * len(rows) for name, value in rule.param_values.items()},
              **{column: [record[column] for record in records] for column in columns}}
    return dict(zip(rows.index.tolist(), render_rows(template, values, len(rows)), strict=True))


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


def _key_text(value: Any) -> str:
    # 2.0 and 2 must fingerprint alike: facts may give a level number as float after a merge.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
