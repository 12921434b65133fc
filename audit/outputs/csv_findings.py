"""CSV: one row per finding, safe to open in a spreadsheet.

A cell that a spreadsheet would read as a formula (starting with = + - @, a tab
or a carriage return) is prefixed with an apostrophe: service names come from
PagerDuty and anyone who can name a service could otherwise plant a formula.
"""

from __future__ import annotations

import csv
import io

from audit.assess import Assessment

COLUMNS = ("fingerprint", "rule_id", "status", "severity", "level", "mode", "entity_type", "entity_id",
           "entity_name", "sub_key", "message", "service_ids", "team_ids", "html_url")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render(assessment: Assessment) -> str:
    out = io.StringIO()
    # The csv module's default \r\n terminator: it also makes csv quote a field that
    # holds a bare carriage return (a hostile name), which "\n" would leave unquoted.
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for finding in sorted(assessment.findings, key=lambda f: f.fingerprint):
        row = finding.to_json()
        row["service_ids"] = " ".join(finding.service_ids)
        row["team_ids"] = " ".join(finding.team_ids)
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
    return out.getvalue()
