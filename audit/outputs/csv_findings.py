"""CSV: one row per finding, safe to open in a spreadsheet.

A cell that a spreadsheet would read as a formula (starting with = + - @, a tab
or a carriage return) is prefixed with an apostrophe: service names come from
PagerDuty and anyone who can name a service could otherwise plant a formula.
``safe_cell`` and ``spreadsheet_writer`` are shared with ``history``'s CSV.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from audit.assess import Assessment

COLUMNS = ("fingerprint", "rule_id", "status", "severity", "level", "mode", "entity_type", "entity_id",
           "entity_name", "sub_key", "message", "service_ids", "team_ids", "html_url")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_writer(out: io.StringIO) -> Any:
    """A CSV writer with the csv module's default CRLF terminator: that also makes it quote a
    field holding a bare carriage return (a hostile name), which a spreadsheet would otherwise
    read as the end of the row, and the rest of the name as a new row, formula and all."""
    return csv.writer(out)


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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
