"""CSV: one row per listed finding, then one per rule, team and counted status (``count``).

Rows are safe to open in a spreadsheet (``audit.safe_csv``) and written as they are made. As in
the JSON (``audit.outputs.summary``), failing, warned and waived findings have a row each and
passes, not-applicable and excluded findings are counted per rule and team, unless ``--all``: a
counted row has no fingerprint, the team in ``team_ids`` and how many in ``count``.
"""

from __future__ import annotations

import functools

from audit.assess import Assessment
from audit.facts.collector import collector_paused
from audit.json_text import TextOut
from audit.outputs.listed_findings import csv_lines
from audit.outputs.summary import counted, listed
from audit.safe_csv import safe_cell, spreadsheet_writer

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
    cell = functools.lru_cache(maxsize=None)(safe_cell)  # rule ids, statuses and teams repeat row after row
    blank = dict.fromkeys(COLUMNS, "")
    for (rule_id, team_id, status), count in sorted(counted(assessment.findings, all_findings).items(),
                                                    key=lambda item: (item[0][0], item[0][1] or "", item[0][2])):
        row = {**blank, "rule_id": cell(rule_id), "status": cell(status), "team_ids": cell(team_id or ""),
               "count": safe_cell(count)}
        writer.writerow(row.values())

