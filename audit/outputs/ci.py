"""Output registries of the CI commands: ``check``, ``diff`` and ``history``.

``CHECK_WRITERS`` maps a format name to ``write(GateResult, out)``, which writes
the output as it is made (``CHECK_FORMATS``: the same as one string); they are
separate from the score's because these render a gate result (an assessment
compared with a baseline), not an assessment. The check's ``json`` and ``text``
renderers live here; SARIF, JUnit and Markdown have their own modules.
``DIFF_WRITERS`` write an ``AssessmentDiff``, ``HISTORY_WRITERS`` a ``History``, the same way
(``*_FORMATS``: as one string).
Explicit registries: nothing registers itself by being imported.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from audit.baseline import BaselineEntry
from audit.diff import AssessmentDiff
from audit.facts.collector import collector_paused
from audit.findings import Finding, Status
from audit.gate import BaselineState, GateResult
from audit.history import History
from audit.json_text import Streamed, TextOut, write_json
from audit.outputs import diff_formats, history_formats, junit, markdown, sarif
from audit.safe_text import for_terminal, printable


def _finding(result: GateResult, finding: Finding) -> dict[str, Any]:
    return {**finding.to_json(), "baseline_state": result.state_of(finding).value,
            "blocking": result.is_blocking(finding)}


def _entry(entry: BaselineEntry) -> dict[str, Any]:
    return {**entry.to_json(), "baseline_state": "absent"}


CHECK_FORMAT = "pd-audit/check-v1"
Rendered = TypeVar("Rendered")


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


def whole_writer(render: Callable[[Rendered], str]) -> Callable[[Rendered, TextOut], None]:
    """A writer for a format rendered whole (Markdown, the verdict: short lists, cut where long)."""
    def write(subject: Rendered, out: TextOut) -> None:
        out.write(render(subject))
    return write


def as_text(write: Callable[[Rendered, TextOut], None]) -> Callable[[Rendered], str]:
    """A writer's output as one string (for tests and callers that want it whole)."""
    def render(subject: Rendered) -> str:
        out = io.StringIO()
        write(subject, out)
        return out.getvalue()
    return render


render_json = as_text(write_json_result)


def verdict_lines(result: GateResult) -> Iterator[str]:
    """The terminal summary: the verdict, then the new violations and the fixed ones, one line each
    (made one at a time: against an empty baseline, every violation of the account is new)."""
    verdict = "PASSED" if result.passed else "FAILED"
    yield f"pd-audit check {verdict}: {markdown.summary_line(result)}"
    for finding in result.new:
        state = "WORSE" if result.state_of(finding) is BaselineState.UPDATED else "NEW"
        if result.is_blocking(finding):
            mark = state
        elif finding.status is Status.WARN:
            mark = f"{state.lower()} warning"
        else:
            mark = f"{state.lower()} (below threshold)"
        yield (f"  {mark:<22} {finding.severity.value:<8} {finding.rule_id:<7} {finding.entity_type} "
               f"{printable(finding.entity_name, 40)} ({printable(finding.entity_id)}): {printable(finding.message)}")
    for entry in result.absent:
        yield (f"  {'fixed':<22} {entry.severity.value:<8} {entry.rule_id:<7} {entry.entity_type} "
               f"{printable(entry.entity_name, 40)} ({printable(entry.entity_id)})")


def write_text(result: GateResult, out: TextOut) -> None:
    for line in verdict_lines(result):
        out.write(for_terminal(line + "\n"))


CHECK_WRITERS: dict[str, Callable[[GateResult, TextOut], None]] = {
    "sarif": sarif.write,
    "junit": junit.write,
    "markdown": whole_writer(markdown.render),
    "json": write_json_result,
    "text": write_text,
}


def check_writers(*, every_object: bool = False,
                  sarif_plan: sarif.SarifPlan | None = None) -> dict[str, Callable[[GateResult, TextOut], None]]:
    """``CHECK_WRITERS``, the JUnit one listing every judged object if asked (``check --all``), the
    SARIF one with the plan the caller worked out (it also warns from it)."""
    return {**CHECK_WRITERS, "junit": functools.partial(junit.write, every_object=every_object),
            "sarif": functools.partial(sarif.write, chosen=sarif_plan)}


CHECK_FORMATS: dict[str, Callable[[GateResult], str]] = {name: as_text(w) for name, w in CHECK_WRITERS.items()}

DIFF_WRITERS: dict[str, Callable[[AssessmentDiff, TextOut], None]] = {
    "table": diff_formats.write_table,
    "json": diff_formats.write_json,
    "markdown": diff_formats.write_markdown,
}
DIFF_FORMATS: dict[str, Callable[[AssessmentDiff], str]] = {name: as_text(w) for name, w in DIFF_WRITERS.items()}

HISTORY_WRITERS: dict[str, Callable[[History, TextOut], None]] = {
    "table": history_formats.write_table,
    "csv": history_formats.write_csv,
    "json": history_formats.write_json_trend,
}
HISTORY_FORMATS: dict[str, Callable[[History], str]] = {name: as_text(w) for name, w in HISTORY_WRITERS.items()}
