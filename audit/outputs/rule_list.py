"""The rule catalog as a terminal table (`pd-audit rules`), with a legend for its columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MODE_NAMES = {"S": "static", "W": "window", "A": "analytics"}
LEGEND = (
    "MODE   static     judged from configuration alone (deterministic; `check` judges only these by default)",
    "       window     judged from rendered schedules and on-calls over the crawl's window",
    "       analytics  judged from incident history, which pd-audit does not crawl: reported as excluded",
    "LEVEL  1-4        the maturity level a service cannot reach while the rule fails on it",
    "       info       informational: holds no level back",
    "`pd-audit rules explain ID` tells why a rule matters and how to fix it in PagerDuty.",
)


def render(rules: Iterable[Any]) -> str:
    """One line per rule under a header, then what the columns mean."""
    rows = [("ID", "MODE", "LEVEL", "SEVERITY", "ENTITY", "TITLE")]
    rows += [(rule.id, MODE_NAMES.get(rule.mode.value, rule.mode.value), str(rule.level), rule.severity.value,
              rule.entity, rule.title) for rule in rules]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths)) + "  " + row[5] for row in rows]
    return "\n".join([*lines, "", *LEGEND]) + "\n"
