"""Output registries of the CI commands: ``check``, ``diff`` and ``history``.

``CHECK_FORMATS`` maps a format name to ``render(GateResult) -> str``; it is
separate from ``SCORE_FORMATS`` because these render a gate result (an
assessment compared with a baseline), not an assessment. The check's ``json``
and ``text`` renderers live here; SARIF, JUnit and Markdown have their own
modules. ``DIFF_FORMATS`` render an ``AssessmentDiff``, ``HISTORY_FORMATS`` a
``History``. Explicit registries: nothing registers itself by being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audit.baseline import BaselineEntry
from audit.diff import AssessmentDiff
from audit.findings import Finding, Status
from audit.gate import BaselineState, GateResult
from audit.history import History
from audit.json_text import json_text
from audit.outputs import diff_formats, history_formats, junit, markdown, sarif
from audit.safe_text import printable


def _finding(result: GateResult, finding: Finding) -> dict[str, Any]:
    return {**finding.to_json(), "baseline_state": result.state_of(finding).value,
            "blocking": result.is_blocking(finding)}


def _entry(entry: BaselineEntry) -> dict[str, Any]:
    return {**entry.to_json(), "baseline_state": "absent"}


def render_json(result: GateResult) -> str:
    data = {
        "result": "pass" if result.passed else "fail",
        "exit_code": int(result.exit_code),
        "fail_on": result.threshold,
        "team_id": result.team_id,
        "baseline": {"name": result.baseline_name, "updated": result.baseline.updated.isoformat(),
                     "entries": len(result.baseline)},
        "snapshot": {k: result.assessment.snapshot.manifest.get(k)
                     for k in ("api_base", "subdomain", "crawl_finished_at")},
        "counts": result.counts(),
        "new": [_finding(result, f) for f in result.new],
        "fixed": [_entry(e) for e in result.absent],
        "unchanged": [_finding(result, f) for f in result.unchanged],
        "waived": [_finding(result, f) for f in result.waived],
        "unjudged": [e.to_json() for e in result.unjudged],
        "expired_waivers": [w.to_json() for w in result.assessment.waivers.expired],
    }
    return json_text(data)


def render_text(result: GateResult) -> str:
    """The terminal summary: the verdict and the new violations, one line each."""
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [f"pd-audit check {verdict}: {markdown.summary_line(result)}"]
    for finding in result.new:
        state = "WORSE" if result.state_of(finding) is BaselineState.UPDATED else "NEW"
        if result.is_blocking(finding):
            mark = state
        elif finding.status is Status.WARN:
            mark = f"{state.lower()} warning"
        else:
            mark = f"{state.lower()} (below threshold)"
        lines.append(f"  {mark:<22} {finding.severity.value:<8} {finding.rule_id:<7} {finding.entity_type} "
                     f"{printable(finding.entity_name, 40)} ({printable(finding.entity_id)}): "
                     f"{printable(finding.message)}")
    for entry in result.absent:
        lines.append(f"  {'fixed':<22} {entry.severity.value:<8} {entry.rule_id:<7} {entry.entity_type} "
                     f"{printable(entry.entity_name, 40)} ({printable(entry.entity_id)})")
    return "\n".join(lines) + "\n"


CHECK_FORMATS: dict[str, Callable[[GateResult], str]] = {
    "sarif": sarif.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "json": render_json,
    "text": render_text,
}

DIFF_FORMATS: dict[str, Callable[[AssessmentDiff], str]] = {
    "table": diff_formats.render_table,
    "json": diff_formats.render_json,
    "markdown": diff_formats.render_markdown,
}

HISTORY_FORMATS: dict[str, Callable[[History], str]] = {
    "table": history_formats.render_table,
    "csv": history_formats.render_csv,
    "json": history_formats.render_json,
}
