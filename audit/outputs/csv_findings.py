"""CSV: one row per listed finding, then one per rule, team and counted status (``count``).

Rows are safe to open in a spreadsheet (``audit.safe_csv``) and written as they are made. As in
the JSON (``audit.outputs.summary``), failing, warned and waived findings have a row each and
passes, not-applicable and excluded findings are counted per rule and team, unless ``--all``: a
counted row has no fingerprint, the team in ``team_ids`` and how many in ``count``.
"""

from __future__ import annotations

from audit.assess import Assessment
from audit.facts.collector import collector_paused
from audit.json_text import TextOut
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
    for finding in listed(assessment.findings, all_findings):
        row = finding.to_json()
        row["service_ids"] = " ".join(finding.service_ids)
        row["team_ids"] = " ".join(finding.team_ids)
        row["count"] = 1
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
    for (rule_id, team_id, status), count in sorted(counted(assessment.findings, all_findings).items(),
                                                    key=lambda item: (item[0][0], item[0][1] or "", item[0][2])):
        row = {"rule_id": rule_id, "status": status, "team_ids": team_id or "", "count": count}
        writer.writerow([safe_cell(row.get(column)) for column in COLUMNS])

