"""Rule message templates: which names a message may use, and how a value reads in it.

Messages are ``str.format`` templates whose fields may only be column or parameter
names (no attribute or index access): missing values read "n/a", lists are comma-joined.
"""

from __future__ import annotations

import math
import string
from typing import Any

import numpy as np
import pandas as pd


class _MessageFormatter(string.Formatter):
    """``str.format`` over a row: missing values read "n/a", lists are comma-joined."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if is_missing(value):
            return "n/a"
        if isinstance(value, (list, tuple, set, np.ndarray)):
            return ", ".join(str(item) for item in value)
        try:
            return super().format_field(value, format_spec)
        except (TypeError, ValueError):  # a spec like ".0%" on a value of another type
            return str(value)


FORMATTER = _MessageFormatter()


def template_fields(template: str) -> set[str]:
    """The names a message uses; ValueError for anything but ``{name}`` / ``{name:spec}``."""
    try:
        parsed = list(FORMATTER.parse(template))
    except ValueError as exc:
        raise ValueError(f"invalid template ({exc})") from None
    fields: set[str] = set()
    for _, field, spec, _ in parsed:
        if field is None:
            continue
        if not field.isidentifier() or field.startswith("_"):
            raise ValueError(f"field {{{field}}} must be a plain column or parameter name")
        if spec and "{" in spec:
            raise ValueError(f"field {{{field}}} may not nest fields in its format spec")
        fields.add(field)
    return fields


def is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))

