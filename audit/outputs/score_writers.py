"""The ``score`` command's formats: table, json and csv.

``SCORE_WRITERS`` is the explicit registry the ``score`` command chooses from: each writes an
assessment to a text output as it is made (``write(assessment, out, all_findings=...)``);
``SCORE_FORMATS`` renders the same as one string, for callers that want it whole. No format
registers itself by being imported.
"""

from __future__ import annotations

import io
from typing import Any, Protocol

from audit.assess import Assessment
from audit.json_text import TextOut
from audit.outputs import csv_findings, json_report, text_table
from audit.safe_text import for_terminal


class ScoreWriter(Protocol):
    def __call__(self, assessment: Assessment, out: TextOut, *, all_findings: bool = ...) -> Any: ...


def _write_table(assessment: Assessment, out: TextOut, *, all_findings: bool = False) -> None:
    # A page of figures for a person (small, it lists no findings): shown as the terminal shows text.
    out.write(for_terminal(text_table.render(assessment)))


SCORE_WRITERS: dict[str, ScoreWriter] = {
    "table": _write_table,
    "json": json_report.write,
    "csv": csv_findings.write,
}


def _rendered(writer: ScoreWriter) -> Any:
    def render(assessment: Assessment, *, all_findings: bool = False) -> str:
        out = io.StringIO()
        writer(assessment, out, all_findings=all_findings)
        return out.getvalue()
    return render


SCORE_FORMATS: dict[str, Any] = {name: _rendered(writer) for name, writer in SCORE_WRITERS.items()}
