"""JSON: the assessment (findings, services, teams, org), sorted for stable diffs, written as it is made.

On a large account the sections read from the scores are laid out on the second core while the
findings are written (``Assessment.scores_beside``): the scores are the last step of judging, and
the findings' part of the document needs none of them.
"""

from __future__ import annotations

import functools

from audit.assess import Assessment
from audit.facts.collector import collector_paused
from audit.json_text import TextOut, write_json
from audit.outputs.summary import score_sections, summarize
from audit.teams import team_names


def write(assessment: Assessment, out: TextOut, *, all_findings: bool = False) -> None:
    # Hundreds of thousands of short-lived dicts and tuples beside millions of live objects: the
    # cyclic collector would scan the live ones again and again (see audit.facts.collector).
    with collector_paused():
        scored = assessment.scores_beside(functools.partial(score_sections, names=team_names(assessment)))
        try:
            write_json(out, summarize(assessment, all_findings=all_findings, scored=scored))
        finally:
            scored.abandon()  # stopped if writing failed before its sections were taken; else nothing
