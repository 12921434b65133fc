"""CSV: one row per finding, safe to open in a spreadsheet (``audit.safe_csv``)."""

from __future__ import annotations

import io

from audit.assess import Assessment
from audit.safe_csv import safe_cell, spreadsheet_writer

COLUMNS = ("fingerprint", "rule_id", "status", "severity", "level", "mode", "entity_type", "entity_id",
           "entity_name", "sub_key", "message", "service_ids", "team_ids", "html_url")


def render(assessment: Assessment) -> str:
    out = io.StringIO()
    writer = spreadsheet_writer(out)
    writer.writerow(COLUMNS)
    for finding in sorted(assessment.findings, key=lambda f: f.fingerprint):
        row = finding.to_json()
        row["service_ids"] = " ".join(finding.service_ids)
        row["team_ids"] = " ".join(finding.team_ids)
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
    return out.getvalue()
