"""CSV: one row per listed finding, then one per rule, team and counted status (``count``).

Rows are safe to open in a spreadsheet (``audit.safe_csv``) and written as they are made. As in
the JSON (``audit.outputs.summary``), failing, warned and waived findings have a row each and
passes, not-applicable and excluded findings are counted per rule and team, unless ``--all``: a
counted row has no fingerprint, the team in ``team_ids`` and how many in ``count``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from audit.assess import Assessment
from audit.facts.collector import collector_paused
from audit.finding_table import by_code, ranks
from audit.json_text import TextOut
from audit.outputs.listed_findings import csv_cell, csv_lines
from audit.outputs.summary import COUNTED_STATUSES, TeamTally, counted, listed
from audit.safe_csv import spreadsheet_writer

COLUMNS = ("fingerprint", "rule_id", "status", "severity", "level", "mode", "entity_type", "entity_id",
           "entity_name", "sub_key", "message", "service_ids", "team_ids", "html_url", "count")


def write(assessment: Assessment, out: TextOut, *, all_findings: bool = False) -> None:
    with collector_paused():  # as json_report: many short-lived rows beside millions of live objects
        _write_rows(assessment, out, all_findings)


def _write_rows(assessment: Assessment, out: TextOut, all_findings: bool) -> None:
    writer = spreadsheet_writer(out)
    writer.writerow(COLUMNS)
    for line in csv_lines(*listed(assessment.findings, all_findings)):  # COLUMNS' cells, from the table
        out.write(line)
    for line in counted_lines(counted(assessment.findings, all_findings)):
        out.write(line)


def counted_lines(tally: TeamTally) -> Iterator[str]:
    """A row per rule, team and counted status (its ``rule_id``, ``status``, ``team_ids`` and ``count``
    cells, the rest empty) as ``spreadsheet_writer`` writes it, sorted by rule, team (no team as "")
    and status (ties in the tally's order), laid out from the tally's columns: 32,000 pairs at
    12,000 services, each row a dict written by the csv module before."""
    pair, column = np.nonzero(tally.counts)  # each pair's statuses in turn: the tally's order
    rule_rank, team_rank = tally.ranks()
    status_rank = ranks([status.value for status in COUNTED_STATUSES])
    order = np.lexsort((status_rank[column], team_rank[pair], rule_rank[pair]))
    pair, column = pair[order], column[order]
    # Empty cells between the four: as many commas as the columns between them say.
    rule_at, status_at, team_at = COLUMNS.index("rule_id"), COLUMNS.index("status"), COLUMNS.index("team_ids")
    rule_cells = ["," * rule_at + csv_cell(rule_id) + "," * (status_at - rule_at)
                  for rule_id in tally.rule_ids]
    team_cells = ["," * (team_at - status_at) + csv_cell(team_id or "") + "," * (len(COLUMNS) - 1 - team_at)
                  for team_id in tally.team_ids]
    status_cells = [csv_cell(status.value) for status in COUNTED_STATUSES]
    return map("".join, zip(by_code(rule_cells, tally.rule[pair]), by_code(status_cells, column),
                            by_code(team_cells, tally.team[pair]),
                            [f"{count}\r\n" for count in tally.counts[pair, column].tolist()], strict=True))
