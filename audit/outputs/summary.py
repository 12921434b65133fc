"""The assessment as plain data: what the score's JSON and CSV start from.

Failing, warned and waived findings are listed in full; passes, not-applicable and excluded
findings are counted per rule and per rule and team (a 12,000-service account has some 300,000
of them, and no reader goes through them one by one) unless every finding is asked for
(``--all``). ``FORMAT`` names the shape (the README's "The score as JSON and CSV"); the shape
before it had no ``format`` field and listed every finding.
"""

from __future__ import annotations

import json
import json.encoder
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from audit.assess import Assessment
from audit.finding_table import STATUSES, FindingTable, as_table, distinct
from audit.findings import Finding, Status
from audit.json_text import Streamed
from audit.outputs.listed_findings import json_texts, listed_rows
from audit.safe_text import capped
from audit.scoring import SCORE_EXPLAINED, GroupScore, ServiceScore
from audit.teams import team_label, team_names


def _group(group: GroupScore, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": capped(team_label(group.id, names)),
        "service_ids": list(group.service_ids),
        "level_distribution": {str(level): count for level, count in group.level_distribution.items()},
        "score": _round(group.score),
        "checks_passing": _round(group.checks_passing),
        "rules": {
            rule_id: {"pass_rate": _round(tally.pass_rate), "counts": {s.value: n for s, n in tally.counts.items()}}
            for rule_id, tally in group.rules.items()
        },
    }


def _service(service: ServiceScore) -> dict[str, Any]:
    return {
        "id": service.service.id,
        "name": capped(service.service.name),
        "team_ids": list(service.service.team_ids),
        "level": service.level,
        "score": _round(service.score),
        "checks_passing": _round(service.checks_passing),
        "next_level_blockers": list(service.next_level_rules),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


_text = json.encoder.encode_basestring  # a string as ``encode_item`` encodes it

FORMAT = "pd-audit/score-v2"
LISTED_STATUSES = frozenset({Status.FAIL, Status.WARN, Status.WAIVED})
COUNTED_STATUSES = tuple(s for s in Status if s not in LISTED_STATUSES)  # pass, excluded, not_applicable


def listed(findings: Iterable[Finding], all_findings: bool) -> tuple[FindingTable, list[int]]:
    """The rows of the findings listed one by one, sorted by fingerprint: the open and waived ones,
    or all; written from the table's columns (``audit.outputs.listed_findings``)."""
    return listed_rows(findings, None if all_findings else LISTED_STATUSES)


def _tally(findings: Iterable[Finding], all_findings: bool) -> tuple[Counter[tuple[str, Status]],
                                                                     Counter[tuple[str, str | None, Status]]]:
    """Findings per (rule, status), and the counted ones per (rule, team, status), from the columns."""
    table = as_table(findings)
    rule, rule_ids = table.rule_ids()
    per_rule = _counts((rule, table.status), (len(rule_ids), len(STATUSES)))
    ids = rule_ids.tolist()  # an Index read item by item is slow
    return (Counter({(ids[r], STATUSES[s]): n for (r, s), n in per_rule}),
            _per_team(table, all_findings))


def _per_team(table: FindingTable, all_findings: bool) -> Counter[tuple[str, str | None, Status]]:
    if all_findings:
        return Counter()
    rows, team, team_ids = table.team_pairs(np.flatnonzero(table.status_mask(COUNTED_STATUSES)))
    rule, rule_ids = table.rule_ids()
    counts = _counts((rule[rows], team, table.status[rows]), (len(rule_ids), len(team_ids), len(STATUSES)))
    ids = rule_ids.tolist()  # an Index read item by item is slow
    return Counter({(ids[r], team_ids[t], STATUSES[s]): n for (r, t, s), n in counts})


def _counts(codes: tuple[np.ndarray, ...], sizes: tuple[int, ...]) -> list[tuple[tuple[int, ...], int]]:
    """How many times each combination of codes occurs (combinations that occur only)."""
    if not len(codes[0]):
        return []
    combined = np.ravel_multi_index(tuple(c.astype(np.int64) for c in codes), sizes)
    values, counts = distinct(combined)
    keys = zip(*(codes.tolist() for codes in np.unravel_index(values, sizes)), strict=True)
    return list(zip(keys, counts.tolist(), strict=True))


def counted(findings: Iterable[Finding], all_findings: bool) -> dict[tuple[str, str | None, str], int]:
    """How many findings of each (rule, team, status) are counted rather than listed.

    A finding counts under each team it affects (a service two teams own: under both), and under
    team ``None`` when it affects none."""
    per_team = _per_team(as_table(findings), all_findings)
    return {(rule_id, team_id, status.value): n for (rule_id, team_id, status), n in per_team.items()}


def _rule_counts(per_rule: Counter[tuple[str, Status]]) -> dict[str, dict[str, int]]:
    """Rule id -> status -> how many findings (every status, listed or not), sorted."""
    return {rule_id: {status.value: per_rule[(rule_id, status)] for status in Status}
            for rule_id in sorted({rule_id for rule_id, _ in per_rule})}


def _counted_rows(counts: Counter[tuple[str, str | None, Status]]) -> Iterator[str]:
    """Each (rule, team)'s counts as ``encode_item`` writes ``{"rule_id", "team_id", pass, excluded,
    not_applicable}``: made as text (32,000 rows at 12,000 services, each a dict encoded before)."""
    by_key: dict[tuple[str, str | None], list[int]] = {}
    place = {status: n for n, status in enumerate(COUNTED_STATUSES)}
    for (rule_id, team_id, status), count in counts.items():
        by_key.setdefault((rule_id, team_id), [0] * len(place))[place[status]] = count
    rule_part: dict[str, str] = {}
    team_part: dict[str | None, str] = {}
    names = [f", {_text(s.value)}: " for s in COUNTED_STATUSES]
    for (rule_id, team_id), by_status in sorted(by_key.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        rule = rule_part.get(rule_id) or rule_part.setdefault(rule_id, '{"rule_id": ' + _text(rule_id))
        team = team_part.get(team_id) or team_part.setdefault(
            team_id, ', "team_id": ' + ("null" if team_id is None else _text(team_id)))
        yield "".join((rule, team, *(name + str(n) for name, n in zip(names, by_status, strict=True)), "}"))


def summarize(assessment: Assessment, *, all_findings: bool = False) -> dict[str, Any]:
    """Findings, services, teams and the org, as JSON-ready data (sorted, stable); the findings
    list is ``Streamed``: each finding's JSON is made as it is written."""
    names = team_names(assessment)
    manifest = assessment.snapshot.manifest
    findings = assessment.findings
    per_rule, per_team = _tally(findings, all_findings)
    return {
        "format": FORMAT,
        "findings_listed": "all" if all_findings else "open and waived",
        "score_explained": SCORE_EXPLAINED,
        "snapshot": {
            "path": str(assessment.snapshot.path),
            "api_base": manifest.get("api_base"),
            "crawl_finished_at": manifest.get("crawl_finished_at"),
            "window": manifest.get("window"),
        },
        "finding_counts": _rule_counts(per_rule),
        "counted_findings": Streamed(_counted_rows(per_team), encoded=True),
        "findings": Streamed(json_texts(*listed(findings, all_findings)), encoded=True),
        "services": Streamed(_service(s) for _, s in sorted(assessment.scores.services.items())),
        "teams": Streamed(_group(g, names) for _, g in sorted(assessment.scores.teams.items())),
        "org": _group(assessment.scores.org, names),
        "notices": [notice.to_json() for notice in assessment.notices],
        "not_run": dict(sorted(assessment.evaluation.not_run.items())),
        "waivers": {
            "expired": [w.to_json() for w in assessment.waivers.expired],
            "unused": [w.to_json() for w in assessment.waivers.unused],
        },
    }
