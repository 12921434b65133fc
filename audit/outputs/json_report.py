"""JSON: the whole assessment (findings, services, teams, org), sorted for stable diffs."""

from __future__ import annotations

from audit.assess import Assessment
from audit.json_text import json_text
from audit.outputs.summary import summarize


def render(assessment: Assessment) -> str:
    return json_text(summarize(assessment))
