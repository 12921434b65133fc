"""Output formats: one module per format, each exposing ``render(assessment) -> str``.

``SCORE_FORMATS`` is the explicit registry the ``score`` command chooses from;
no format registers itself by being imported.
"""

from __future__ import annotations

from collections.abc import Callable

from audit.assess import Assessment
from audit.outputs import csv_findings, json_report, text_table

SCORE_FORMATS: dict[str, Callable[[Assessment], str]] = {
    "table": text_table.render,
    "json": json_report.render,
    "csv": csv_findings.render,
}
