"""JSON: the assessment (findings, services, teams, org), sorted for stable diffs, written as it is made."""

from __future__ import annotations

from audit.assess import Assessment
from audit.facts.collector import collector_paused
from audit.json_text import TextOut, write_json
from audit.outputs.summary import summarize


def write(assessment: Assessment, out: TextOut, *, all_findings: bool = False) -> None:
    # Hundreds of thousands of short-lived dicts and tuples beside millions of live objects: the
    # cyclic collector would scan the live ones again and again (see audit.facts.collector).
    with collector_paused():
        write_json(out, summarize(assessment, all_findings=all_findings))

