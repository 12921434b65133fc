"""The listed findings of the score's JSON and CSV, written straight from the finding table's columns.

A 12,000-service account lists some 70,000 failing, warned and waived findings. Making a
``Finding`` for each, then its ``to_json`` dict, then encoding that dict (or its spreadsheet-safe
cells) repeats the same work tens of thousands of times: every finding of a rule shares its id,
entity type, level and mode, and every rule on a facts table judges the same objects (id, name,
sub-key, link, services, teams). So each shared part is encoded once (per rule, per object, per
status and severity) and a finding's JSON text or CSV row is joined from the parts. The text is the
one ``Finding.to_json`` encodes to, byte for byte (``tests/test_listed_findings.py`` holds the two
paths to each other); the few findings a waiver changed are written through their objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import repeat

import numpy as np

from audit.finding_table import (
    SEVERITIES,
    STATUSES,
    FindingTable,
    Subjects,
    as_table,
    by_code,
    distinct,
    message_texts,
)
from audit.findings import Finding, Status
from audit.json_text import encode_item, optional_text, string_text, strings_text
from audit.safe_csv import safe_cell
from audit.safe_text import capped


def listed_rows(findings: Iterable[Finding], statuses: frozenset[Status] | None) -> tuple[FindingTable, list[int]]:
    """The table and the rows of its findings of these statuses (all when None), sorted by
    fingerprint (ties in the table's order, as ``sorted`` of the findings would leave them)."""
    table = as_table(findings)
    rows = list(range(len(table))) if statuses is None else table.status_mask(statuses).nonzero()[0].tolist()
    prints = table.fingerprints(rows)
    return table, [rows[n] for n in sorted(range(len(rows)), key=prints.__getitem__)]


def json_texts(table: FindingTable, rows: list[int]) -> Iterator[str]:
    """Each finding's ``to_json()`` as ``encode_item`` writes it, in ``rows``' order, joined as it is read.

    A finding's text is eight pieces: the fingerprint's rule part and object part (a string's JSON
    is its characters' escapes, so the two halves are escaped apart), the rule's fields, the
    object's, the status and severity, the level and mode, the message (each distinct one
    encoded once: some 800 among 16,000 findings that carry one) and the object's links. Each
    piece's column is looked up for all rows at once (lists of shared strings, not text), and
    each finding's pieces are joined only when the writer reads it."""
    changes = table.changes
    rule, subject = table.rule[rows], table.subject[rows]
    per_rule = [('{"fingerprint": ' + string_text(f"{r.rule_id}:{r.entity_type}:")[:-1],
                 f', "rule_id": {string_text(r.rule_id)}, "entity_type": {string_text(r.entity_type)}, ',
                 f'"level": {encode_item("info" if r.level is None else r.level)}, '
                 f'"mode": {string_text(r.mode.value)}, "message": ',
                 string_text(capped(r.title))) for r in table.rules]
    status_severity = [f'"status": {string_text(status.value)}, "original_status": null, '
                       f'"severity": {string_text(severity.value)}, ' for status in STATUSES for severity in SEVERITIES]
    present = distinct(subject)[0].tolist()
    opening, rule_part, level_part, title = (by_code(list(part), rule) for part in list(zip(*per_rule)) or [()] * 4)
    print_tail, object_part, closing = (by_code(part, subject, present)
                                        for part in _object_parts(table.subjects, present))
    messages = message_texts(table.message[rows], title, lambda text: string_text(capped(text)))
    status = by_code(status_severity, table.status[rows].astype(np.int64) * len(SEVERITIES) + table.severity[rows])
    texts = map("".join, zip(opening, print_tail, rule_part, object_part, status, level_part, messages, closing,
                             strict=True))
    changed = set(changes.waivers) | set(changes.original_status)
    if not changed:
        yield from texts
        return
    for row, text in zip(rows, texts, strict=True):
        # A waiver's fields: rare, through the finding itself.
        yield encode_item(table.finding(row).to_json()) if row in changed else text


def _object_parts(subjects: Subjects, present: list[int]) -> tuple[list[str], list[str], list[str]]:
    """The objects' three pieces of their findings' JSON text, per object at ``present``: the
    fingerprint's tail (the id and sub-key, escaped, and the closing quote), the id, name and
    sub-key, and the links (a list of teams or services repeats across objects: encoded once)."""
    ids = [subjects.entity_ids[p] for p in present]
    sub_keys = [subjects.sub_keys[p] for p in present]
    id_texts = list(map(string_text, ids))
    tails = [string_text(tail)[1:] for tail in subjects.tails(present)]
    names = map(string_text, map(capped, [subjects.names[p] for p in present]))
    lists: dict[tuple[str, ...], str] = {}
    services, teams = ([lists.get(values) or lists.setdefault(values, strings_text(values))
                        for values in (column[p] for p in present)]
                       for column in (subjects.service_ids, subjects.team_ids))
    links = map(optional_text, [subjects.html_urls[p] for p in present])
    return (tails,
            list(map("".join, zip(repeat('"entity_id": '), id_texts, repeat(', "entity_name": '), names,
                                  repeat(', "sub_key": '), map(optional_text, sub_keys), repeat(", ")))),
            list(map("".join, zip(repeat(', "service_ids": '), services, repeat(', "team_ids": '), teams,
                                  repeat(', "html_url": '), links,
                                  repeat(', "waiver": null, "waiver_expired": false}')))))


def csv_field(cell: str) -> str:
    """A cell as the csv module's default writer writes it (``QUOTE_MINIMAL``, CRLF lines): quoted, its
    quotes doubled, when it holds the delimiter, a quote or either line-ending character."""
    return '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES(cell) else cell


_NEEDS_QUOTES = re.compile('[,"\r\n]').search


def csv_lines(table: FindingTable, rows: list[int]) -> Iterator[str]:
    """Each finding's row of spreadsheet-safe cells in ``csv_findings.COLUMNS`` order (its count: 1), as
    ``spreadsheet_writer`` writes it, joined as it is read from columns of the cells a rule's or an
    object's findings share (each encoded once, each distinct message once; the csv module took
    0.3 s for the million cells of 70,000 rows). A fingerprint's cell is its rule's head and its
    object's tail: only the head can start a formula, and either can make the cell quoted."""
    rules, subjects = table.rules, table.subjects
    rule, subject = table.rule[rows], table.subject[rows]
    present = distinct(subject)[0].tolist()
    heads = [safe_cell(f"{r.rule_id}:{r.entity_type}:") for r in rules]
    tails, object_cells, count_cells = _object_cells(subjects, present)
    print_head, print_tail = by_code(heads, rule), by_code(tails, subject, present)
    quoted = {n for n, head in enumerate(heads) if _NEEDS_QUOTES(head)}
    quoted_tails = {position for position, tail in zip(present, tails, strict=True) if _NEEDS_QUOTES(tail)}
    if quoted or quoted_tails:
        for at, (rule_code, position) in enumerate(zip(rule.tolist(), subject.tolist(), strict=True)):
            if rule_code in quoted or position in quoted_tails:
                print_head[at] = '"' + print_head[at].replace('"', '""')
                print_tail[at] = print_tail[at].replace('"', '""') + '"'
    level_mode_type = ["," + ",".join(csv_cell(v) for v in ("info" if r.level is None else r.level,
                                                                         r.mode.value, r.entity_type)) + ","
                       for r in rules]
    yield from map("".join, zip(
        print_head, print_tail, by_code([f",{csv_cell(r.rule_id)}," for r in rules], rule),
        by_code([csv_cell(s.value) + "," for s in STATUSES], table.status[rows]),
        by_code([csv_cell(s.value) for s in SEVERITIES], table.severity[rows]),
        by_code(level_mode_type, rule), by_code(object_cells, subject, present),
        message_texts(table.message[rows], by_code([csv_cell(capped(r.title)) for r in rules], rule),
                      lambda text: csv_cell(capped(text))),
        by_code(count_cells, subject, present), strict=True))


def _object_cells(subjects: Subjects, present: list[int]) -> tuple[list[str], list[str], list[str]]:
    """Per object at ``present``: its fingerprint tail (its id and sub-key, raw), its id, name and
    sub-key cells, and its services, teams, link and count cells."""
    ids = [subjects.entity_ids[p] for p in present]
    sub_keys = [subjects.sub_keys[p] for p in present]
    tails = subjects.tails(present)
    names = map(capped, [subjects.names[p] for p in present])
    services, teams = (map(" ".join, [column[p] for p in present])
                       for column in (subjects.service_ids, subjects.team_ids))
    links = [subjects.html_urls[p] for p in present]
    return (tails,
            list(map("".join, zip(map(csv_cell, ids), repeat(","), map(csv_cell, names), repeat(","),
                                  map(csv_cell, sub_keys), repeat(",")))),
            list(map("".join, zip(repeat(","), map(csv_cell, services), repeat(","), map(csv_cell, teams), repeat(","),
                                  map(csv_cell, links), repeat(",1\r\n")))))


def csv_cell(value: object) -> str:
    """A value as its spreadsheet-safe cell (``safe_cell``) written as the csv module writes it."""
    return csv_field(safe_cell(value))
