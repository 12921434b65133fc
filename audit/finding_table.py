"""The findings of one evaluation as columns: a ``Finding`` object is made only when one is read.

A 12,000-service account has half a million findings, and most are passes or objects a rule does
not apply to: scoring and the score's outputs only count those per rule, service and team. So the
rule engine fills one array per field (rule, subject, status, severity, message), and a
``FindingTable`` reads as the sequence of ``Finding``s it stands for, each made on first read
and kept. Whoever needs every finding (``--all``, reports, the gate, baselines, diffs) iterates it
as before; scoring and the score's writers read the columns and make only what they list.

The fields a rule's findings share (id, entity type, level, mode) are kept once per rule
(``RuleFields``), and what a finding says about its object (id, name, sub-key, link, the services
and teams it counts for) once per object (``Subjects``): every rule on a facts table judges the
same rows. Statuses and severities are codes into ``STATUSES`` and ``SEVERITIES``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import pandas as pd

from audit.findings import (
    OPEN_STATUSES,
    EntityType,
    Finding,
    Mode,
    Severity,
    Status,
    Waiver,
    WaiverOutcome,
    waive,
    waiver_notes,
)

STATUSES: tuple[Status, ...] = tuple(Status)
STATUS_CODE: dict[Status, int] = {status: code for code, status in enumerate(STATUSES)}
SEVERITIES: tuple[Severity, ...] = tuple(Severity)
SEVERITY_CODE: dict[Severity, int] = {severity: code for code, severity in enumerate(SEVERITIES)}


@dataclasses.dataclass(frozen=True)
class RuleFields:
    """What every finding of one rule shares."""

    rule_id: str
    entity_type: EntityType
    level: int | None
    mode: Mode
    title: str = ""  # the message of a finding whose message is None in the table (passes, most not-applicable)


@dataclasses.dataclass
class Subjects:
    """The objects findings are about, one entry per object (a row of a facts table), in parallel lists."""

    entity_ids: list[str] = dataclasses.field(default_factory=list)
    names: list[str] = dataclasses.field(default_factory=list)
    sub_keys: list[str | None] = dataclasses.field(default_factory=list)
    html_urls: list[str | None] = dataclasses.field(default_factory=list)
    service_ids: list[tuple[str, ...]] = dataclasses.field(default_factory=list)
    team_ids: list[tuple[str, ...]] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.entity_ids)

    def extend(self, other: Subjects) -> None:
        for field in dataclasses.fields(self):
            getattr(self, field.name).extend(getattr(other, field.name))

    def tails(self, positions: Iterable[int]) -> list[str]:
        """The fingerprint's tail of the objects at ``positions``: ``entity_id``, or ``entity_id:sub_key``
        (a fingerprint is ``RULE:entity_type:`` and that)."""
        ids, sub_keys = self.entity_ids, self.sub_keys
        return [ids[p] if sub_keys[p] is None else f"{ids[p]}:{sub_keys[p]}" for p in positions]

    def fingerprint_order(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Positions (from ``start``) of subjects ``start:stop`` in the order of their fingerprints' tail.

        Within one rule every fingerprint starts ``RULE:entity_type:``, so its findings sort as their
        tails do."""
        tails = self.tails(range(start, len(self) if stop is None else stop))
        return np.argsort(np.array(tails, dtype=object), kind="stable")


@dataclasses.dataclass(frozen=True)
class Changes:
    """What waivers and the tier notice changed on a few rows: row -> new value."""

    waivers: dict[int, Waiver] = dataclasses.field(default_factory=dict)
    original_status: dict[int, Status] = dataclasses.field(default_factory=dict)


class FindingTable(Sequence[Finding]):
    """Findings as columns (see the module docstring); reads as a sequence of ``Finding``s.

    ``rule``: per finding, its position in ``rules``; ``subject``: its position in ``subjects``;
    ``status``/``severity``: codes; ``message``: an object array of strings, None where the finding's
    message is its rule's title (most of them: filling half a million cells costs). ``unique`` says
    whether no fingerprint repeats (the engine's tables: one finding per rule and object).
    """

    def __init__(self, rules: Sequence[RuleFields], subjects: Subjects, rule: np.ndarray, subject: np.ndarray,
                 status: np.ndarray, severity: np.ndarray, message: np.ndarray, *,
                 changes: Changes | None = None, unique: bool = True,
                 made: Sequence[Finding] | None = None) -> None:
        self.rules = tuple(rules)
        self.subjects = subjects
        self.rule, self.subject, self.status, self.severity, self.message = rule, subject, status, severity, message
        self.changes = changes or Changes()
        self.unique = unique
        self._made: list[Finding | None] = list(made) if made is not None else [None] * len(rule)
        self._all: tuple[Finding, ...] | None = tuple(made) if made is not None else None
        self._by_fingerprint: _Lookup | None = None

    @classmethod
    def of_findings(cls, findings: Iterable[Finding]) -> FindingTable:
        """The table of findings made elsewhere (by hand, or changed one by one): they are its objects."""
        findings = tuple(findings)
        rule_code: dict[tuple[Any, ...], int] = {}
        subjects = Subjects()
        for finding in findings:
            rule_code.setdefault((finding.rule_id, finding.entity_type, finding.level, finding.mode), len(rule_code))
            subjects.entity_ids.append(finding.entity_id)
            subjects.names.append(finding.entity_name)
            subjects.sub_keys.append(finding.sub_key)
            subjects.html_urls.append(finding.html_url)
            subjects.service_ids.append(finding.service_ids)
            subjects.team_ids.append(finding.team_ids)
        count = len(findings)
        rule = np.fromiter((rule_code[(f.rule_id, f.entity_type, f.level, f.mode)] for f in findings),
                           dtype=np.int64, count=count)
        changes = Changes(waivers={row: f.waiver for row, f in enumerate(findings) if f.waiver is not None},
                          original_status={row: f.original_status for row, f in enumerate(findings)
                                           if f.original_status is not None})
        message = np.empty(count, dtype=object)
        message[:] = [f.message for f in findings]
        return cls(
            rules=[RuleFields(*key) for key in rule_code], subjects=subjects, rule=rule,
            subject=np.arange(count, dtype=np.int64),
            status=np.fromiter((STATUS_CODE[f.status] for f in findings), dtype=np.int8, count=count),
            severity=np.fromiter((SEVERITY_CODE[f.severity] for f in findings), dtype=np.int8, count=count),
            message=message, changes=changes,
            unique=len({f.fingerprint for f in findings}) == count, made=findings,
        )

    # The sequence of findings.

    def __len__(self) -> int:
        return len(self.rule)

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Finding, ...]: ...

    def __getitem__(self, index: int | slice) -> Finding | tuple[Finding, ...]:
        if isinstance(index, slice):
            return tuple(self.finding(row) for row in range(len(self))[index])
        return self.finding(range(len(self))[index])

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (FindingTable, tuple, list)):
            return self.findings() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a tuple, so not hashable as one

    def __repr__(self) -> str:
        return f"FindingTable({len(self)} findings)"

    def findings(self) -> tuple[Finding, ...]:
        """Every finding, in the table's order (made once)."""
        if self._all is None:
            self._all = tuple(self.rows(range(len(self))))
        return self._all

    def finding(self, row: int) -> Finding:
        made = self._made[row]
        if made is None:
            made = self._made[row] = self._make([row])[0]
        return made

    def rows(self, rows: Iterable[int]) -> list[Finding]:
        """The findings at ``rows``, in that order (those not made yet made together)."""
        rows = list(rows)
        made = self._made
        missing = [row for row in rows if made[row] is None]
        if missing:
            for row, finding in zip(missing, self._make(missing), strict=True):
                made[row] = finding
        return [made[row] for row in rows]  # type: ignore[misc]  # every one is made now

    def _make(self, rows: list[int]) -> list[Finding]:
        """Findings from the columns: each column read for all ``rows`` at once, as plain values."""
        subjects, rules, statuses, severities = self.subjects, self.rules, STATUSES, SEVERITIES
        waivers, original = self.changes.waivers, self.changes.original_status
        columns = zip(rows, self.rule[rows].tolist(), self.subject[rows].tolist(), self.status[rows].tolist(),
                      self.severity[rows].tolist(), self.message[rows].tolist(), strict=True)
        made = []
        for row, rule_code, position, status, severity, message in columns:
            rule = rules[rule_code]
            made.append(Finding.from_fields({
                "rule_id": rule.rule_id,
                "entity_type": rule.entity_type,
                "entity_id": subjects.entity_ids[position],
                "entity_name": subjects.names[position],
                "status": statuses[status],
                "severity": severities[severity],
                "level": rule.level,
                "mode": rule.mode,
                "message": rule.title if message is None else message,
                "sub_key": subjects.sub_keys[position],
                "service_ids": subjects.service_ids[position],
                "team_ids": subjects.team_ids[position],
                "html_url": subjects.html_urls[position],
                "waiver": waivers.get(row),
                "original_status": original.get(row),
            }))
        return made

    # Columns.

    def status_mask(self, statuses: Collection[Status]) -> np.ndarray:
        return np.isin(self.status, [STATUS_CODE[status] for status in statuses])

    def with_status(self, statuses: Collection[Status]) -> list[Finding]:
        """The findings of these statuses, in the table's order: only they are made."""
        return self.rows(np.flatnonzero(self.status_mask(statuses)).tolist())

    def rule_ids(self) -> tuple[np.ndarray, pd.Index]:
        """Per finding, a code into the returned index of rule ids (equal ids, equal codes)."""
        codes, ids = pd.factorize(np.array([rule.rule_id for rule in self.rules], dtype=object))
        return codes[self.rule], pd.Index(ids, dtype=object)

    def levels(self) -> np.ndarray:
        """Per finding, its rule's maturity level (NaN for info-only rules)."""
        per_rule = np.array([np.nan if rule.level is None else rule.level for rule in self.rules], dtype=np.float64)
        return per_rule[self.rule] if len(self.rules) else np.zeros(0)

    def fingerprint_codes(self) -> np.ndarray:
        """Per finding, a code shared by the findings of one fingerprint."""
        if self.unique:
            return np.arange(len(self), dtype=np.int64)
        codes, _ = pd.factorize(np.array([f.fingerprint for f in self.findings()], dtype=object))
        return codes

    def rule_ids_present(self) -> set[str]:
        """The ids of the rules with at least one finding."""
        return {self.rules[code].rule_id for code in distinct(self.rule)[0].tolist()}

    def by_fingerprint(self) -> Mapping[str, Finding]:
        """Every finding by fingerprint (the last of any repeated one), a finding made when looked up."""
        if self._by_fingerprint is None:
            prints = self.fingerprints(list(range(len(self))))
            self._by_fingerprint = _Lookup(self, dict(zip(prints, range(len(self)), strict=True)))
        return self._by_fingerprint

    def fingerprints(self, rows: list[int]) -> list[str]:
        """The fingerprints of the findings at ``rows``, from the columns (no finding made): each
        rule's head and each object's tail made once, the two joined per row."""
        subject = self.subject[rows]
        present = distinct(subject)[0].tolist()
        heads = [f"{rule.rule_id}:{rule.entity_type}:" for rule in self.rules]
        return list(map(str.__add__, by_code(heads, self.rule[rows]), by_code(self.subjects.tails(present), subject,
                                                                             present)))

    def team_pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """(row, team) pairs: each of ``rows`` once per team its finding affects, or once with team
        None when it affects none; teams as codes into the returned list (in order of first appearance)."""
        per_subject = [team_ids or (None,) for team_ids in self.subjects.team_ids]
        teams = list(dict.fromkeys(itertools.chain.from_iterable(per_subject)))
        code = {team_id: n for n, team_id in enumerate(teams)}
        flat = np.fromiter(map(code.__getitem__, itertools.chain.from_iterable(per_subject)), dtype=np.int64)
        counts = np.fromiter(map(len, per_subject), dtype=np.int64, count=len(per_subject))
        return (*fan_out(rows, self.subject[rows], flat, counts), teams)

    def entity_types(self) -> list[str]:
        return [rule.entity_type for rule in self.rules]

    # New tables.

    def take(self, rows: np.ndarray) -> FindingTable:
        """The table of the findings at ``rows`` (ascending), sharing the findings already made."""
        new_row = {int(old): new for new, old in enumerate(rows.tolist())}
        changes = Changes(
            waivers={new_row[r]: w for r, w in self.changes.waivers.items() if r in new_row},
            original_status={new_row[r]: s for r, s in self.changes.original_status.items() if r in new_row},
        )
        table = FindingTable(self.rules, self.subjects, self.rule[rows], self.subject[rows], self.status[rows],
                             self.severity[rows], self.message[rows], changes=changes, unique=self.unique)
        table._made = [self._made[row] for row in rows.tolist()]
        return table

    def waived(self, waivers: Sequence[Waiver], today: dt.date) -> WaiverOutcome:
        """``apply_waivers`` on the table: only the open findings of waived rules are made and looked at."""
        if not waivers:
            return WaiverOutcome(findings=self, expired=(), unused=())
        ruled = [code for code, rule in enumerate(self.rules) if rule.rule_id in {w.rule for w in waivers}]
        candidates = np.flatnonzero(self.status_mask(OPEN_STATUSES) & np.isin(self.rule, ruled))
        used: set[int] = set()
        changes = Changes()
        for row in candidates.tolist():
            finding = waive(self.finding(row), waivers, today, used)
            if finding is not None:
                changes.waivers[row] = finding.waiver  # type: ignore[assignment]  # waive() sets one
                if finding.original_status is not None:
                    changes.original_status[row] = finding.original_status
        rows = np.array(sorted(changes.original_status), dtype=np.int64)
        status = np.full(len(rows), STATUS_CODE[Status.WAIVED], dtype=np.int8)
        return WaiverOutcome(findings=self.changed(rows, status=status, changes=changes),
                             **waiver_notes(waivers, today, used))

    def concerning(self, service_ids: Collection[str], team_id: str) -> FindingTable:
        """The findings that count for any of these services, or are about the team itself."""
        services = set(service_ids)
        subjects = self.subjects
        shared = np.fromiter((not services.isdisjoint(ids) for ids in subjects.service_ids), dtype=bool,
                             count=len(subjects))
        on_team = np.array([rule.entity_type == "team" for rule in self.rules] or [False], dtype=bool)
        team = np.array([entity_id == team_id for entity_id in subjects.entity_ids] or [False], dtype=bool)
        return self.take(np.flatnonzero(shared[self.subject] | (on_team[self.rule] & team[self.subject])))

    def changed(self, rows: np.ndarray, *, status: Any = None, message: Any = None,
                changes: Changes | None = None) -> FindingTable:
        """A copy with new statuses (codes) and messages at ``rows``, and ``changes`` added to its own."""
        new_status, new_message = self.status.copy(), self.message.copy()
        if status is not None:
            new_status[rows] = status
        if message is not None:
            new_message[rows] = message
        merged = Changes(waivers={**self.changes.waivers, **(changes.waivers if changes else {})},
                         original_status={**self.changes.original_status,
                                          **(changes.original_status if changes else {})})
        table = FindingTable(self.rules, self.subjects, self.rule, self.subject, new_status, self.severity,
                             new_message, changes=merged, unique=self.unique)
        touched = set(rows.tolist()) | set(merged.waivers) | set(merged.original_status)
        table._made = [None if row in touched else made for row, made in enumerate(self._made)]
        return table


class _Lookup(Mapping[str, Finding]):
    """A table's findings by fingerprint: only the strings are made until a finding is read."""

    def __init__(self, table: FindingTable, rows: dict[str, int]) -> None:
        self.table, self.rows = table, rows

    def __getitem__(self, fingerprint: str) -> Finding:
        return self.table.finding(self.rows[fingerprint])

    def __contains__(self, fingerprint: object) -> bool:
        return fingerprint in self.rows

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, ascending, and how often each occurs: ``np.unique(values, return_counts=True)``
    by sorting (numpy 2's hashing ``unique`` takes twenty times as long on a million codes)."""
    ordered = np.sort(values, kind="stable")
    first = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def fan_out(items: np.ndarray, keys: np.ndarray, values: np.ndarray,
            counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``items`` once per value its key (in ``keys``, beside it) holds: ``values`` holds every
    key's values one key after the other, ``counts[key]`` of them. The items repeated, and the values."""
    repeats = counts[keys]
    first = np.cumsum(counts) - counts
    nth = np.arange(int(repeats.sum())) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    return np.repeat(items, repeats), values[np.repeat(first[keys], repeats) + nth]


def by_code(values: list[str], codes: np.ndarray, positions: list[int] | None = None) -> list[str]:
    """``values[code]`` for each code, as a list (``values`` given for ``positions`` only: those codes)."""
    if positions is not None:
        at = np.zeros(int(codes.max(initial=0)) + 1, dtype=np.int64)
        at[positions] = np.arange(len(positions))
        codes = at[codes]
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column[codes].tolist()


def message_texts(message: np.ndarray, shown: list[str], render: Callable[[str], str]) -> list[str]:
    """Per row of a ``message`` column, ``render`` of its message (each distinct one rendered once),
    or where it has none, its entry of ``shown`` (its rule's title, rendered)."""
    carried = np.flatnonzero(message != None)  # noqa: E711  # elementwise: the rows that carry a message
    if not len(carried):
        return shown
    messages = message[carried].tolist()
    rendered = {text: render(text) for text in dict.fromkeys(messages)}
    column = np.empty(len(shown), dtype=object)
    column[:] = shown
    column[carried] = list(map(rendered.__getitem__, messages))
    return column.tolist()


def ranks(keys: Sequence[Any]) -> np.ndarray:
    """Each key's place among the distinct keys sorted (equal keys, equal places): sort keys for
    ``np.lexsort``, which keeps ties in their order as ``sorted`` does."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    ordered = [keys[n] for n in order]
    steps = np.fromiter(map(operator.ne, ordered[1:], ordered[:-1]), dtype=np.int64, count=max(len(keys) - 1, 0))
    places = np.zeros(len(keys), dtype=np.int64)
    places[order[1:]] = np.cumsum(steps)
    return places


def occurrences(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``distinct(values)`` for codes in ``range(size)``: counted in place (``np.bincount``, no sort)
    when the range is small beside the codes, sorted when it is not."""
    if size > max(4 * len(values), 1 << 16):
        return distinct(values)
    counts = np.bincount(values, minlength=size)
    found = np.flatnonzero(counts)
    return found, counts[found]


def as_table(findings: Iterable[Finding]) -> FindingTable:
    """``findings`` as a table: itself when it is one."""
    return findings if isinstance(findings, FindingTable) else FindingTable.of_findings(findings)


def with_status(findings: Iterable[Finding], statuses: Collection[Status]) -> list[Finding]:
    """The findings of these statuses, in order; from a table only they are made."""
    if isinstance(findings, FindingTable):
        return findings.with_status(statuses)
    return [f for f in findings if f.status in statuses]
