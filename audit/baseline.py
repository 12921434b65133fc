"""Baselines: the failing findings a team has accepted as known debt, as a reviewable file.

A baseline records, for each failing or warned finding of an assessment (warnings too,
so that ``check --fail-on warn`` has known debt to compare with), its fingerprint and
enough to read it in a pull request without running anything (rule id, object,
message, severity) plus the date it was first recorded. Entries are sorted by
fingerprint and the JSON is written with sorted keys, one entry per block, so a
change to the baseline is a small, readable diff in review.

The CI gate (``audit.gate``) keys on fingerprints only: a renamed service, or a
message whose figures moved, is still the same debt. ``update_baseline`` is the
deliberate way to change the file: it adds today's new failures, drops the fixed
ones and keeps everything it could not judge this time (e.g. window rules when
only static rules ran), so a static-only update never forgets window-rule debt.

Only ``fail`` findings are recorded: a waived finding is accepted by its waiver,
and when that expires the finding is open again and new to the baseline, which
is the point of an expiry date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import json.encoder
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from audit import __version__
from audit.errors import UserError
from audit.facts.collector import collector_paused
from audit.finding_table import SEVERITIES, as_table, with_status
from audit.findings import ENTITY_TYPES, OPEN_STATUSES, Finding, Severity, fingerprint
from audit.json_text import Streamed, write_json
from audit.safe_write import open_output

FORMAT = "pd-audit-baseline"
FORMAT_VERSION = 1
DEFAULT_FILENAME = "pd-audit-baseline.json"


@dataclasses.dataclass(frozen=True)
class BaselineEntry:
    """One accepted failing finding, as it was when it was recorded."""

    rule_id: str
    entity_type: str
    entity_id: str
    entity_name: str
    sub_key: str | None
    severity: Severity
    message: str
    since: dt.date  # the day this debt was first recorded
    team_ids: tuple[str, ...] = ()  # so a team-scoped check can tell its own debt once the object is gone
    # Worked out once, when the entry is made: loading, sorting and the gate read it several times
    # for each of tens of thousands of entries.
    fingerprint: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # dataclasses.replace runs it again
        object.__setattr__(self, "fingerprint", fingerprint(self.rule_id, self.entity_type, self.entity_id,
                                                             self.sub_key))

    @classmethod
    def _from_fields(cls, fields: dict[str, Any]) -> BaselineEntry:
        """``BaselineEntry(**fields)`` for checked fields, in declaration order, without the frozen
        dataclass's field-by-field ``__init__`` (as ``Finding.from_fields``): loading 54,000 entries."""
        fields["fingerprint"] = fingerprint(fields["rule_id"], fields["entity_type"], fields["entity_id"],
                                            fields["sub_key"])
        entry = object.__new__(cls)
        object.__setattr__(entry, "__dict__", fields)
        return entry

    @classmethod
    def of(cls, finding: Finding, since: dt.date) -> BaselineEntry:
        return cls._from_fields({
            "rule_id": finding.rule_id, "entity_type": finding.entity_type, "entity_id": finding.entity_id,
            "entity_name": finding.entity_name, "sub_key": finding.sub_key, "severity": finding.severity,
            "message": finding.message, "since": since, "team_ids": tuple(finding.team_ids),
        })

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule_id": self.rule_id,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "entity_name": self.entity_name,
            "sub_key": self.sub_key,
            "severity": self.severity.value,
            "message": self.message,
            "since": self.since.isoformat(),
            "team_ids": list(self.team_ids),
        }


@dataclasses.dataclass(frozen=True)
class Baseline:
    """Accepted failing findings, sorted by fingerprint, and where they were recorded from."""

    entries: tuple[BaselineEntry, ...]
    updated: dt.date
    snapshot: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # api_base, crawl time of the source

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(sorted(self.entries, key=lambda e: e.fingerprint)))

    @functools.cached_property
    def by_fingerprint(self) -> dict[str, BaselineEntry]:
        return {entry.fingerprint: entry for entry in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def to_json(self) -> dict[str, Any]:
        """The file's content; its entries are made one at a time as ``write_json`` writes them."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tool_version": __version__,
            "updated": self.updated.isoformat(),
            "snapshot": dict(self.snapshot),
            "count": len(self.entries),
            "entries": Streamed((entry.to_json() for entry in self.entries), indented=True),
        }


@dataclasses.dataclass(frozen=True)
class BaselineUpdate:
    """What ``update_baseline`` changed, for the command to report."""

    baseline: Baseline
    added: tuple[BaselineEntry, ...]
    dropped: tuple[BaselineEntry, ...]  # fixed (or the object is gone)
    kept: tuple[BaselineEntry, ...]  # still failing, or not judged this time


def snapshot_source(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What a baseline says about the snapshot it came from (never the path: that differs per machine)."""
    return {key: manifest.get(key) for key in ("api_base", "subdomain", "crawl_finished_at") if manifest.get(key)}


def create_baseline(findings: Iterable[Finding], today: dt.date, source: Mapping[str, Any] | None = None) -> Baseline:
    """A baseline of every failing finding, each recorded as of ``today``.

    Read from the finding table's columns: an entry is made from the fields ``BaselineEntry.of``
    reads of a finding, without the finding (54,000 of them at 12,000 services)."""
    table = as_table(findings)
    rows = np.flatnonzero(table.status_mask(OPEN_STATUSES)).tolist()
    rules, subjects = table.rules, table.subjects
    entries: dict[str, BaselineEntry] = {}
    for rule_code, position, severity, message in zip(table.rule[rows].tolist(), table.subject[rows].tolist(),
                                                      table.severity[rows].tolist(), table.message[rows].tolist(),
                                                      strict=True):
        rule = rules[rule_code]
        entry = BaselineEntry._from_fields({
            "rule_id": rule.rule_id, "entity_type": rule.entity_type, "entity_id": subjects.entity_ids[position],
            "entity_name": subjects.names[position], "sub_key": subjects.sub_keys[position],
            "severity": SEVERITIES[severity], "message": rule.title if message is None else message, "since": today,
            "team_ids": tuple(subjects.team_ids[position]),
        })
        entries[entry.fingerprint] = entry  # a repeated fingerprint: the last one, in the first one's place
    return Baseline(entries=tuple(entries.values()), updated=today, snapshot=dict(source or {}))


def update_baseline(
    old: Baseline,
    findings: Iterable[Finding],
    is_judged: Callable[[BaselineEntry], bool],
    today: dt.date,
    source: Mapping[str, Any] | None = None,
) -> BaselineUpdate:
    """Merge today's failing findings into ``old``: add the new, drop the fixed, keep the rest.

    ``is_judged`` says whether this run could judge an entry (see
    ``audit.gate.Judged``): only those can be dropped as fixed. An entry of a rule
    that did not run, or an excluded one, is kept as is.
    An entry still failing keeps its ``since`` date but takes the current name and
    message, so the file reads true today.
    """
    failing = {f.fingerprint: f for f in with_status(findings, OPEN_STATUSES)}
    previous = old.by_fingerprint
    added = tuple(BaselineEntry.of(f, today) for fp, f in sorted(failing.items()) if fp not in previous)
    kept, dropped = [], []
    for fp, entry in sorted(previous.items()):
        if fp in failing:
            kept.append(BaselineEntry.of(failing[fp], entry.since))
        elif is_judged(entry):
            dropped.append(entry)
        else:
            kept.append(entry)
    baseline = Baseline(entries=added + tuple(kept), updated=today, snapshot=dict(source or old.snapshot))
    return BaselineUpdate(baseline=baseline, added=added, dropped=tuple(dropped), kept=tuple(kept))


# --------------------------------------------------------------------------- files


def write_baseline(baseline: Baseline, path: str | os.PathLike[str]) -> Path:
    """Write atomically (``audit.safe_write``): never a half-written baseline."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{target}: cannot write the baseline ({exc.strerror or exc.__class__.__name__})") from None
    document = baseline.to_json()
    document["entries"] = Streamed((_laid_out(entry.to_json()) for entry in baseline.entries), encoded=True)
    with open_output(target, what="baseline") as out:  # entry by entry: 50,000 at 12,000 services
        write_json(out, document, sort_keys=True)
    return target


_ENTRY_PAD = "\n    "  # an entry is an item of the file's top-level "entries": it starts at this indent
_MEMBER, _NESTED = _ENTRY_PAD + "  ", _ENTRY_PAD + "    "
_text = json.encoder.encode_basestring  # a string as json.dumps(ensure_ascii=False) encodes it
_KEYS: dict[str, str] = {}  # key -> its line's start


def _laid_out(record: dict[str, Any]) -> str:
    """An entry's ``to_json()`` as ``write_json`` lays out an indented item (keys sorted, indent 2), the
    file's layout since its first version. Its values are strings, None or lists of strings: each
    encoded by json's C string encoder, where json's indenting encoder (pure Python) took 20 µs an
    entry, a second for the 54,000 of a 12,000-service account."""
    members = []
    for key in sorted(record):
        value = record[key]
        head = _KEYS.get(key) or _KEYS.setdefault(key, _MEMBER + _text(key) + ": ")
        if isinstance(value, str):
            members.append(head + _text(value))
        elif value is None:
            members.append(head + "null")
        else:
            members.append(head + ("[" + _NESTED + ("," + _NESTED).join(map(_text, value)) + _MEMBER + "]"
                                   if value else "[]"))
    return "{" + ",".join(members) + _ENTRY_PAD + "}"


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read a baseline file; any problem is one ``UserError`` naming the file and what is wrong."""
    # Tens of thousands of entries, dicts and strings, none in a cycle: the cyclic collector would
    # scan them again and again as they are made (see audit.facts.collector), doubling the load.
    with collector_paused():
        return _loaded(Path(path))


def _loaded(source: Path) -> Baseline:
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{source}: no such baseline file (create one with `pd-audit baseline create`)") from None
    except OSError as exc:
        raise UserError(f"{source}: cannot read the baseline ({exc.strerror or exc.__class__.__name__})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UserError(f"{source}: the baseline is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UserError(f"{source}: not a pd-audit baseline (no \"format\": \"{FORMAT}\")")
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"{source}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise UserError(f"{source}: baseline format {version} is newer than this pd-audit reads ({FORMAT_VERSION}); "
                        "upgrade pd-audit")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise UserError(f"{source}: \"entries\" must be a list")
    dates: dict[str, dt.date] = {}  # most entries share a few dates
    parsed = [_checked_entry(record, dates) or _entry(source, number, record)
              for number, record in enumerate(entries, start=1)]
    seen: set[str] = set()
    for entry in parsed:
        if entry.fingerprint in seen:
            raise UserError(f"{source}: entry {entry.fingerprint} appears twice")
        seen.add(entry.fingerprint)
    recorded = document.get("snapshot")
    snapshot = recorded if isinstance(recorded, dict) else {}
    return Baseline(entries=tuple(parsed), updated=_date(source, "updated", document.get("updated")),
                    snapshot=snapshot)


_SEVERITIES = {severity.value: severity for severity in Severity}


def _checked_entry(record: Any, dates: dict[str, dt.date]) -> BaselineEntry | None:
    """The entry ``record`` holds when every check of ``_entry`` passes (each made at once, without
    the messages); None when any fails, for ``_entry`` to name the problem. Reading 54,000 entries
    one check and one dataclass field at a time took half a second."""
    if not isinstance(record, dict):
        return None
    get = record.get
    rule_id, entity_type, entity_id, sub_key = get("rule_id"), get("entity_type"), get("entity_id"), get("sub_key")
    severity, since, teams = get("severity"), get("since"), get("team_ids", [])
    if not (isinstance(rule_id, str) and rule_id and isinstance(entity_type, str) and entity_type in ENTITY_TYPES
            and isinstance(entity_id, str) and entity_id and (sub_key is None or isinstance(sub_key, str))
            and isinstance(severity, str) and severity in _SEVERITIES and isinstance(since, str)
            and isinstance(teams, list) and all(isinstance(t, str) for t in teams)):
        return None
    day = dates.get(since)
    if day is None:
        try:
            day = dates[since] = dt.date.fromisoformat(since)
        except ValueError:
            return None
    name, message = get("entity_name"), get("message")
    entry = BaselineEntry._from_fields({
        "rule_id": rule_id, "entity_type": entity_type, "entity_id": entity_id,
        "entity_name": name if isinstance(name, str) else "", "sub_key": sub_key, "severity": _SEVERITIES[severity],
        "message": message if isinstance(message, str) else "", "since": day, "team_ids": tuple(teams),
    })
    stated = get("fingerprint")
    return entry if stated is None or stated == entry.fingerprint else None


def _entry(source: Path, number: int, record: Any) -> BaselineEntry:
    where = f"{source}: entry {number}"
    if not isinstance(record, dict):
        raise UserError(f"{where}: must be an object")

    def text(key: str, *, optional: bool = False) -> Any:
        value = record.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or (not value and not optional):
            raise UserError(f"{where}: {key!r} must be a non-empty string")
        return value

    entity_type = text("entity_type")
    if entity_type not in ENTITY_TYPES:
        raise UserError(f"{where}: entity_type {entity_type!r} is not one of {', '.join(ENTITY_TYPES)}")
    try:
        severity = Severity(record.get("severity"))
    except ValueError:
        raise UserError(f"{where}: severity {record.get('severity')!r} is not one of "
                        f"{', '.join(s.value for s in Severity)}") from None
    teams = record.get("team_ids", [])
    if not isinstance(teams, list) or not all(isinstance(t, str) for t in teams):
        raise UserError(f"{where}: team_ids must be a list of team ids")
    entry = BaselineEntry(
        rule_id=text("rule_id"),
        entity_type=entity_type,
        entity_id=text("entity_id"),
        entity_name=str(record.get("entity_name")) if isinstance(record.get("entity_name"), str) else "",
        sub_key=text("sub_key", optional=True),
        severity=severity,
        message=str(record.get("message")) if isinstance(record.get("message"), str) else "",
        since=_date(source, f"entry {number}: since", record.get("since")),
        team_ids=tuple(teams),
    )
    # The fingerprint is derived, never trusted: a hand edit that disagrees with the fields is a mistake.
    stated = record.get("fingerprint")
    if stated is not None and stated != entry.fingerprint:
        raise UserError(f"{where}: fingerprint {stated!r} does not match its fields ({entry.fingerprint})")
    return entry


def _date(source: Path, field: str, value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise UserError(f"{source}: {field} {value!r} is not a date like 2027-01-04") from None
