"""JSON: the whole assessment (findings, services, teams, org), sorted for stable diffs."""

from __future__ import annotations

import json

from audit.assess import Assessment
from audit.outputs.summary import summarize


def render(assessment: Assessment) -> str:
    return json.dumps(summarize(assessment), indent=2, ensure_ascii=False) + "\n"
