"""Output registries of the CI commands: ``check``, ``diff`` and ``history``.

``CHECK_WRITERS`` maps a format name to ``write(GateResult, out)``, which writes
the output as it is made (``CHECK_FORMATS``: the same as one string); they are
separate from the score's because these render a gate result (an assessment
compared with a baseline), not an assessment. The check's ``json`` and ``text``
renderers live here; SARIF, JUnit and Markdown have their own modules.
``DIFF_FORMATS`` render an ``AssessmentDiff``, ``HISTORY_FORMATS`` a ``History``.
Explicit registries: nothing registers itself by being imported.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from audit.baseline import BaselineEntry
from audit.diff import AssessmentDiff
from audit.facts.collector import collector_paused
from audit.findings import Finding, Status
from audit.gate import BaselineState, GateResult
from audit.history import History
from audit.json_text import Streamed, TextOut, write_json
from audit.outputs import diff_formats, history_formats, junit, markdown, sarif
from audit.safe_text import printable


def _finding(result: GateResult, finding: Finding) -> dict[str, Any]:
    return {**finding.to_json(), "baseline_state": result.state_of(finding).value,
            "blocking": result.is_blocking(finding)}


def _entry(entry: BaselineEntry) -> dict[str, Any]:
    return {**entry.to_json(), "baseline_state": "absent"}


CHECK_FORMAT = "pd-audit/check-v1"


def check_json(result: GateResult) -> dict[str, Any]:
    """The check's result as JSON-ready data; its lists of findings are made as they are written."""
    return {
        "format": CHECK_FORMAT,
        "result": "pass" if result.passed else "fail",
        "exit_code": int(result.exit_code),
        "fail_on": result.threshold,
        "team_id": result.team_id,
        "baseline": {"name": result.baseline_name, "updated": result.baseline.updated.isoformat(),
                     "entries": len(result.baseline)},
        "snapshot": {k: result.assessment.snapshot.manifest.get(k)
                     for k in ("api_base", "subdomain", "crawl_finished_at")},
        "counts": result.counts(),
        "new": Streamed(_finding(result, f) for f in result.new),
        "fixed": Streamed(_entry(e) for e in result.absent),
        "unchanged": Streamed(_finding(result, f) for f in result.unchanged),
        "waived": Streamed(_finding(result, f) for f in result.waived),
        "unjudged": Streamed(e.to_json() for e in result.unjudged),
        "expired_waivers": [w.to_json() for w in result.assessment.waivers.expired],
    }


def write_json_result(result: GateResult, out: TextOut) -> None:
    with collector_paused():  # as json_report: many short-lived dicts beside millions of live objects
        write_json(out, check_json(result))


def _whole(render: Callable[[GateResult], str]) -> Callable[[GateResult, TextOut], None]:
    """A writer for a format rendered whole (JUnit, Markdown: small once the known debt is summed up)."""
    def write(result: GateResult, out: TextOut) -> None:
        out.write(render(result))
    return write


def _rendered(write: Callable[[GateResult, TextOut], None]) -> Callable[[GateResult], str]:
    def render(result: GateResult) -> str:
        out = io.StringIO()
        write(result, out)
        return out.getvalue()
    return render


render_json = _rendered(write_json_result)


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


CHECK_WRITERS: dict[str, Callable[[GateResult, TextOut], None]] = {
    "sarif": sarif.write,
    "junit": _whole(junit.render),
    "markdown": _whole(markdown.render),
    "json": write_json_result,
    "text": _whole(render_text),
}
CHECK_FORMATS: dict[str, Callable[[GateResult], str]] = {name: _rendered(w) for name, w in CHECK_WRITERS.items()}

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
