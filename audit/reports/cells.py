"""What a report shows of a fact-table cell or a PagerDuty object: a number or text (no NaN), a link, a pseudonym."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Any


def number(value: Any) -> float | None:
    """A table cell as a float, or None for missing/NaN."""
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result


def text(value: Any) -> str | None:
    """A table cell as a string, or None for missing/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


@dataclasses.dataclass(frozen=True)
class Link:
    """A PagerDuty object named in a report, with its web-app link when there is one."""

    name: str
    url: str | None = None


def pseudonym(user_id: str) -> str:
    """A stable stand-in for a person's name (``--anonymize-people``): the same id, the same name."""
    return "Person " + hashlib.sha256(user_id.encode()).hexdigest()[:6].upper()
