"""JSON: the assessment (findings, services, teams, org), sorted for stable diffs, written as it is made."""

from __future__ import annotations

from audit.assess import Assessment
from audit.json_text import TextOut, write_json
from audit.outputs.summary import summarize


def write(assessment: Assessment, out: TextOut, *, all_findings: bool = False) -> None:
    write_json(out, summarize(assessment, all_findings=all_findings))

