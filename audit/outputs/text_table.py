"""The terminal view of an assessment: org, teams ranked, services, failing findings.

Strings from PagerDuty are shown through ``audit.safe_text.printable`` (controls, ANSI and OSC
escapes, bidi steering replaced; long strings cut), so a name cannot move the cursor, recolour
or retitle the terminal, nor reorder what the reader sees; the CLI passes the whole table
through ``for_terminal`` besides.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from audit.assess import Assessment
from audit.facts.collector import collector_paused
from audit.finding_table import SEVERITIES, as_table, by_code, distinct, message_texts, ranks, with_status
from audit.findings import Finding, Status
from audit.safe_text import printable
from audit.scoring import SCORE_EXPLAINED, GroupScore
from audit.teams import team_label, team_names


def _score(value: float | None) -> str:
    return "   -" if value is None else f"{value:5.1f}"


def _passing(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _levels(group: GroupScore) -> str:
    return "  ".join(f"L{level} {count:>3}" for level, count in group.level_distribution.items())


def render(assessment: Assessment) -> str:
    # Made in line with the cyclic collector paused (tens of thousands of lines beside millions of live
    # objects). Laying out the scores' part in a forked child, as the JSON does, saved nothing here: the
    # finding lines take a tenth of a second, and the child's copied pages cost more than that.
    with collector_paused():
        names = team_names(assessment)
        return "\n".join([_score_text(assessment, names), *_finding_part(assessment)]) + "\n"


def _score_text(assessment: Assessment, names: dict[str, str]) -> str:
    """The head of the table: the org's (or the team's) figures, the teams ranked, the services."""
    window = assessment.snapshot.manifest["window"]
    scores = assessment.scores
    # Seen by one team (--team), the headline is that team's, not the org's.
    team_id = assessment.team_id
    headline, label = ((scores.teams[team_id], f"Team {printable(names.get(team_id, ''), 40)}")
                       if team_id is not None and team_id in scores.teams else (scores.org, "Org"))
    lines = [
        f"pd-audit score: {assessment.snapshot.path}  (window {window['since']} .. {window['until']})",
        "",
        f"{label:<10} score {_score(headline.score)}   {_levels(headline)}   "
        f"({len(headline.service_ids)} services, {_passing(headline.checks_passing)} of checks passing)",
        f"  {SCORE_EXPLAINED}",
        *(f"Notice ({notice.rule_id}): {notice.message}" for notice in assessment.notices),
    ]
    ranked = sorted(scores.teams.values(), key=lambda g: (g.score is None, -(g.score or 0), g.id))
    if headline is scores.org:
        lines += ["", "Teams, by score:"]
    for group in ranked if headline is scores.org else ():
        name = team_label(group.id, names)
        lines.append(f"  {printable(name, 28):<28} score {_score(group.score)}   {_levels(group)}   "
                     f"{_passing(group.checks_passing)} of checks passing")
    lines += ["", "Services:", f"  {'level':<5} {'score':>5}  {'service':<40} failing rules"]
    lines += [f"  {s.level:<5} {_score(s.score)}  {f'{printable(s.service.name, 30)} ({s.service.id})':<40} "
              f"{' '.join(s.failing_rules) or '-'}"
              for s in sorted(scores.services.values(), key=lambda s: (s.level, s.score or 0, s.service.name))]
    return "\n".join(lines)


def _finding_part(assessment: Assessment) -> list[str]:
    """The tail of the table: failing, warned and waived findings, waivers, rules not judged."""
    failing = finding_lines(assessment.findings, Status.FAIL)
    lines = ["", f"Failing findings ({len(failing)}):", *failing]
    warned = finding_lines(assessment.findings, Status.WARN)
    if warned:
        lines += ["", f"Warnings ({len(warned)}; they never block a level):", *warned]
    waived = with_status(assessment.findings, (Status.WAIVED,))
    if waived:
        lines += ["", f"Waived ({len(waived)}):"]
        for finding in waived:
            waiver = finding.waiver
            assert waiver is not None  # a waived finding carries its waiver
            lines.append(f"  {finding.rule_id:<7} {finding.entity_id}: until {waiver.expires}, "
                         f"approved by {printable(waiver.approved_by)}: {printable(waiver.reason)}")
    for title, waivers in (("Expired waivers (their findings are open again)", assessment.waivers.expired),
                           ("Unused waivers (no failing finding matched)", assessment.waivers.unused)):
        if waivers:
            lines += ["", f"{title}:"]
            lines += [f"  {w.rule} {w.object_id} (expires {w.expires})" for w in waivers]
    if assessment.evaluation.not_run:
        lines += ["", "Not judged:"]
        lines += [f"  {rule_id:<7} {reason}" for rule_id, reason in sorted(assessment.evaluation.not_run.items())]
    return lines


def finding_lines(findings: Iterable[Finding], status: Status) -> list[str]:
    """A line per finding of ``status``, sorted by rule id, object id and sub-key (ties in the table's
    order), read from the finding table's columns.

    A large account fails some 56,000 findings: making each one's ``Finding`` to read five fields
    cost more than the rest of the table. Every finding of a rule shares its id and every rule on a
    facts table judges the same objects, so each rule's and object's part is made once, and each
    distinct message made printable once. The severity column reads ``warn`` for warnings.
    """
    table = as_table(findings)
    rows = np.flatnonzero(table.status_mask((status,)))
    rules, subjects = table.rules, table.subjects
    ids, sub_keys = subjects.entity_ids, subjects.sub_keys
    # Sorted as (rule id, object id, sub-key or "") by each one's rank: ties keep the table's order.
    present = distinct(table.subject[rows])[0]
    id_rank, sub_key_rank = np.zeros(len(subjects), dtype=np.int64), np.zeros(len(subjects), dtype=np.int64)
    id_rank[present] = ranks([ids[p] for p in present.tolist()])
    sub_key_rank[present] = ranks([sub_keys[p] or "" for p in present.tolist()])
    position = table.subject[rows]
    rule_rank = ranks([r.rule_id for r in rules])
    rows = rows[np.lexsort((sub_key_rank[position], id_rank[position], rule_rank[table.rule[rows]]))]
    rule = table.rule[rows]
    types: dict[str, int] = {}
    type_code = np.array([types.setdefault(r.entity_type, len(types)) for r in rules], dtype=np.int64)
    # An object judged as two entity types shows as each: its text is made per object and type.
    object_key = table.subject[rows] * len(types) + type_code[rule]
    keys = distinct(object_key)[0].tolist()
    type_names = list(types)
    where = [f"{type_names[key % len(types)]} {printable(subjects.names[key // len(types)], 40)} "
             f"({ids[key // len(types)]}): " for key in keys]
    severities = [f"{'warn' if status is Status.WARN else severity.value:<8} " for severity in SEVERITIES]
    return list(map("".join, zip(
        by_code([f"  {r.rule_id:<7} " for r in rules], rule), by_code(severities, table.severity[rows]),
        by_code(where, object_key, keys),
        message_texts(table.message[rows], by_code([printable(r.title) for r in rules], rule), printable),
        strict=True)))
