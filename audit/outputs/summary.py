"""The assessment as plain data: what the score's JSON and CSV start from.

Failing, warned and waived findings are listed in full; passes, not-applicable and excluded
findings are counted per rule and per rule and team (a 12,000-service account has some 300,000
of them, and no reader goes through them one by one) unless every finding is asked for
(``--all``). ``FORMAT`` names the shape (the README's "The score as JSON and CSV"); the shape
before it had no ``format`` field and listed every finding.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from audit.assess import Assessment
from audit.facts.forked import Forked
from audit.finding_table import STATUS_CODE, STATUSES, FindingTable, as_table, occurrences, ranks
from audit.findings import Finding, Status
from audit.json_text import LaidOut, Streamed, iter_json, number_text, optional_text, string_text, strings_text
from audit.outputs.listed_findings import json_texts, listed_rows
from audit.safe_text import capped
from audit.scoring import SCORE_EXPLAINED, GroupScore, RuleTally, ScoreReport, ServiceScore
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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _figure(value: float | None) -> str:
    """``_round(value)`` as ``encode_item`` writes it."""
    if value is None:
        return "null"
    if type(value) is float and value:  # not 0.0 or -0.0: they are one key and two texts
        return _float_figure(value)
    return number_text(round(value, 2))


@functools.lru_cache(maxsize=4096)
def _float_figure(value: float) -> str:
    """Scores and pass rates repeat (a team's 50 rules: 1.0, 0.5...); rounding and writing a float is
    a microsecond, a repeated one's text is looked up."""
    return number_text(round(value, 2))


def _service_text(service: ServiceScore) -> str:
    """A service's item: ``id``, ``name``, ``team_ids``, ``level``, ``score`` and ``checks_passing`` (rounded
    to 2 places) and ``next_level_blockers``, as ``encode_item`` writes that dict (12,000 services: each
    a dict encoded before)."""
    ref = service.service
    return (f'{{"id": {string_text(ref.id)}, "name": {string_text(capped(ref.name))}, '
            f'"team_ids": {strings_text(ref.team_ids)}, "level": {number_text(service.level)}, '
            f'"score": {_figure(service.score)}, "checks_passing": {_figure(service.checks_passing)}, '
            f'"next_level_blockers": {strings_text(service.next_level_rules)}}}')


_STATUS_KEYS = {status: string_text(status.value) + ": " for status in Status}
TallyKey = tuple[str, tuple[tuple[Status, int], ...]]


def _tally_text(rule_id: str, tally: RuleTally) -> str:
    """A rule's entry in ``_group``'s ``rules`` as ``encode_item`` writes it."""
    counts = ", ".join([f"{_STATUS_KEYS[status]}{count}" for status, count in tally.counts.items()])
    return f'{string_text(rule_id)}: {{"pass_rate": {_figure(tally.pass_rate)}, "counts": {{{counts}}}}}'


def _group_text(group: GroupScore, names: dict[str, str], tallies: dict[TallyKey, str]) -> str:
    """``_group(group, names)`` as ``encode_item`` writes it. ``tallies`` keeps each rule entry's text
    by its rule and counts (its pass rate is worked out from them) across teams: 722 teams tally
    36,800 rules with 3,300 distinct counts, and each tally was a dict of dicts encoded."""
    rules = []
    for rule_id, tally in group.rules.items():
        key = (rule_id, tuple(tally.counts.items()))
        text = tallies.get(key)
        if text is None:
            text = tallies[key] = _tally_text(rule_id, tally)
        rules.append(text)
    levels = ", ".join([f"{string_text(str(level))}: {count}" for level, count in group.level_distribution.items()])
    return (f'{{"id": {string_text(group.id)}, "name": {string_text(capped(team_label(group.id, names)))}, '
            f'"service_ids": {strings_text(group.service_ids)}, "level_distribution": {{{levels}}}, '
            f'"score": {_figure(group.score)}, "checks_passing": {_figure(group.checks_passing)}, '
            f'"rules": {{{", ".join(rules)}}}}}')


def _group_texts(teams: Mapping[str, GroupScore], names: dict[str, str]) -> Iterator[str]:
    tallies: dict[TallyKey, str] = {}
    return (_group_text(group, names, tallies) for _, group in sorted(teams.items()))


FORMAT = "pd-audit/score-v2"
LISTED_STATUSES = frozenset({Status.FAIL, Status.WARN, Status.WAIVED})
COUNTED_STATUSES = tuple(s for s in Status if s not in LISTED_STATUSES)  # pass, excluded, not_applicable


def listed(findings: Iterable[Finding], all_findings: bool) -> tuple[FindingTable, list[int]]:
    """The rows of the findings listed one by one, sorted by fingerprint: the open and waived ones,
    or all; written from the table's columns (``audit.outputs.listed_findings``)."""
    return listed_rows(findings, None if all_findings else LISTED_STATUSES)


def _tally(findings: Iterable[Finding], all_findings: bool) -> tuple[Counter[tuple[str, Status]], TeamTally]:
    """Findings per (rule, status), and the counted ones per (rule, team), from the columns."""
    table = as_table(findings)
    rule, rule_ids = table.rule_ids()
    per_rule = _counts((rule, table.status), (len(rule_ids), len(STATUSES)))
    ids = rule_ids.tolist()  # an Index read item by item is slow
    return Counter({(ids[r], STATUSES[s]): n for (r, s), n in per_rule}), _per_team(table, all_findings)


@dataclasses.dataclass(frozen=True)
class TeamTally:
    """The counted findings per (rule, team) pair that has any: the pairs' ``rule`` and ``team`` as codes
    into ``rule_ids`` and ``team_ids``, in code order, and per pair a count per ``COUNTED_STATUSES``."""

    rule_ids: list[str]
    team_ids: list[str | None]
    rule: np.ndarray
    team: np.ndarray
    counts: np.ndarray  # pairs x COUNTED_STATUSES

    def as_counter(self) -> Counter[tuple[str, str | None, Status]]:
        """(rule id, team id, status) -> count, for the combinations that occur."""
        return Counter({(self.rule_ids[r], self.team_ids[t], status): n
                        for r, t, by_status in zip(self.rule.tolist(), self.team.tolist(), self.counts.tolist(),
                                                   strict=True)
                        for status, n in zip(COUNTED_STATUSES, by_status, strict=True) if n})

    def ranks(self) -> tuple[np.ndarray, np.ndarray]:
        """Per pair, its rule's and its team's place among the ids sorted (no team as "")."""
        return ranks(self.rule_ids)[self.rule], ranks([team_id or "" for team_id in self.team_ids])[self.team]


def _per_team(table: FindingTable, all_findings: bool) -> TeamTally:
    none = np.zeros(0, dtype=np.int64)
    if all_findings:
        return TeamTally([], [], none, none, np.zeros((0, len(COUNTED_STATUSES)), dtype=np.int64))
    rows, team, team_ids = table.team_pairs(np.flatnonzero(table.status_mask(COUNTED_STATUSES)))
    rule, rule_ids = table.rule_ids()
    column = np.zeros(len(STATUSES), dtype=np.int64)  # a status code's column among COUNTED_STATUSES
    column[[STATUS_CODE[status] for status in COUNTED_STATUSES]] = np.arange(len(COUNTED_STATUSES))
    pair = rule[rows].astype(np.int64) * len(team_ids) + team
    values, counts = occurrences(pair * len(COUNTED_STATUSES) + column[table.status[rows]],
                                 len(rule_ids) * len(team_ids) * len(COUNTED_STATUSES))
    keys = values // len(COUNTED_STATUSES)
    first = np.ones(len(keys), dtype=bool)  # the first combination of each pair
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    pairs = keys[first]
    by_status = np.zeros((len(pairs), len(COUNTED_STATUSES)), dtype=np.int64)
    by_status[np.cumsum(first) - 1, values % len(COUNTED_STATUSES)] = counts
    width = max(len(team_ids), 1)
    return TeamTally(rule_ids.tolist(), team_ids, pairs // width, pairs % width, by_status)


def _counts(codes: tuple[np.ndarray, ...], sizes: tuple[int, ...]) -> list[tuple[tuple[int, ...], int]]:
    """How many times each combination of codes occurs (combinations that occur only)."""
    if not len(codes[0]):
        return []
    combined = np.ravel_multi_index(tuple(c.astype(np.int64) for c in codes), sizes)
    values, counts = occurrences(combined, int(np.prod(sizes)))
    keys = zip(*(codes.tolist() for codes in np.unravel_index(values, sizes)), strict=True)
    return list(zip(keys, counts.tolist(), strict=True))


def counted(findings: Iterable[Finding], all_findings: bool) -> TeamTally:
    """How many findings of each (rule, team, status) are counted rather than listed.

    A finding counts under each team it affects (a service two teams own: under both), and under
    team ``None`` when it affects none."""
    return _per_team(as_table(findings), all_findings)


def _rule_counts(per_rule: Counter[tuple[str, Status]]) -> dict[str, dict[str, int]]:
    """Rule id -> status -> how many findings (every status, listed or not), sorted."""
    return {rule_id: {status.value: per_rule[(rule_id, status)] for status in Status}
            for rule_id in sorted({rule_id for rule_id, _ in per_rule})}


def _counted_rows(tally: TeamTally) -> Iterator[str]:
    """Each (rule, team)'s counts as ``encode_item`` writes ``{"rule_id", "team_id", pass, excluded,
    not_applicable}``, sorted by rule and team (no team as ""; ties in code order): made as text
    from the tally's columns (32,000 rows at 12,000 services, each a dict encoded before)."""
    rule_part = ['{"rule_id": ' + string_text(rule_id) for rule_id in tally.rule_ids]
    team_part = [', "team_id": ' + optional_text(team_id) for team_id in tally.team_ids]
    layout = "{}{}" + "".join(f", {string_text(s.value)}: {{}}" for s in COUNTED_STATUSES) + "}}"
    rule_rank, team_rank = tally.ranks()
    order = np.lexsort((team_rank, rule_rank))  # stable: ties keep the pairs' code order
    for rule, team, by_status in zip(tally.rule[order].tolist(), tally.team[order].tolist(),
                                     tally.counts[order].tolist(), strict=True):
        yield layout.format(rule_part[rule], team_part[team], *by_status)


def score_sections(scores: ScoreReport, names: dict[str, str]) -> dict[str, str]:
    """The sections laid out from the scores (services, teams, the org), each as its JSON text at its
    place in the document. On a large account they are made beside the rest (``Assessment.scores_beside``):
    some 400 bytes a service, a tenth of the document, while the findings stream as they are made."""
    sections = {
        "services": Streamed(map(_service_text, (s for _, s in sorted(scores.services.items()))), encoded=True),
        "teams": Streamed(_group_texts(scores.teams, names), encoded=True),
        "org": _group(scores.org, names),
    }
    return {key: "".join(iter_json(section, 1)) for key, section in sections.items()}


def summarize(assessment: Assessment, *, all_findings: bool = False,
              scored: Forked[dict[str, str]] | None = None) -> dict[str, Any]:
    """Findings, services, teams and the org, as JSON-ready data (sorted, stable). The counted rows
    and findings are ``Streamed`` as text, each item's JSON laid out from the finding table's
    columns as it is written; the services, teams and org as the text ``score_sections`` lays out
    (each item the bytes ``encode_item`` writes for its dict: ``_service_text``, ``_group``). ``scored``:
    the ``score_sections`` already started (``Assessment.scores_beside``); else they are made in
    line when the writer reaches them."""
    names = team_names(assessment)
    manifest = assessment.snapshot.manifest
    findings = assessment.findings
    per_rule, per_team = _tally(findings, all_findings)
    sections = functools.cache((scored or Forked(lambda: score_sections(assessment.scores, names), fork=False)).result)
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
        "services": LaidOut(lambda: sections()["services"]),
        "teams": LaidOut(lambda: sections()["teams"]),
        "org": LaidOut(lambda: sections()["org"]),
        "notices": [notice.to_json() for notice in assessment.notices],
        "not_run": dict(sorted(assessment.evaluation.not_run.items())),
        "waivers": {
            "expired": [w.to_json() for w in assessment.waivers.expired],
            "unused": [w.to_json() for w in assessment.waivers.unused],
        },
    }
