"""CSV safe to open in a spreadsheet: every CSV pd-audit writes (findings, facts, history) uses it.

A cell that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with an apostrophe: names come from PagerDuty, and anyone who can name a
service could otherwise plant a formula in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_writer(out: Any) -> Any:  # any object with write(str)
    """A CSV writer with the csv module's default CRLF terminator: that also makes it quote a
    field holding a bare carriage return (a hostile name), which a spreadsheet would otherwise
    read as the end of the row, and the rest of the name as a new row, formula and all."""
    return csv.writer(out)


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
