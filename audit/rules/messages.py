"""Rule message templates: which names a message may use, and how a value reads in it.

Messages are ``str.format`` templates whose fields may only be column or parameter
names (no attribute or index access). They read as sentences, whatever the data:

* A template may give alternatives separated by `` || ``: each row takes the first whose
  fields all have a value (not missing, not an empty list or text), so a message can say
  what is missing in words ("no phone or SMS notification rule") instead of printing a
  placeholder. The last alternative is the fallback; a value still missing there reads
  "unknown".
* True/False read "yes"/"no"; lists are comma-joined, an empty one reads "none".
* ``N word(s)`` becomes "1 word" or "N words" ("1 person", "2 people"); "a-a h" becomes "a h".
"""

from __future__ import annotations

import math
import re
import string
from typing import Any

import numpy as np
import pandas as pd

ALTERNATIVES = " || "
_IRREGULAR_PLURALS = {"person": "people"}
_COUNTED = re.compile(r"\b(\d+(?:\.\d+)?) ((?:[A-Za-z/-]+ ){0,2}[A-Za-z][\w/-]*)\(s\)")
_SAME_RANGE = re.compile(r"\b(\d+(?:\.\d+)?)-\1\b")


class _MessageFormatter(string.Formatter):
    """``str.format`` over a row, reading as words: see the module docstring."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if is_missing(value):
            return "unknown"
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, (list, tuple, set, np.ndarray)):
            return ", ".join(str(item) for item in value) if len(value) else "none"
        try:
            return super().format_field(value, format_spec)
        except (TypeError, ValueError):  # a spec like ".0%" on a value of another type
            return str(value)


FORMATTER = _MessageFormatter()
MAX_FORMAT_WIDTH = 100


def alternatives(template: str) -> list[str]:
    return template.split(ALTERNATIVES)


def has_value(value: Any) -> bool:
    """Whether a message can say this value as it is (else the next alternative is tried)."""
    if is_missing(value):
        return False
    if isinstance(value, (list, tuple, set, np.ndarray, str)):
        return len(value) > 0
    return True


def polish(text: str) -> str:
    """Counted nouns agree with their number; a range from a value to itself is the value."""
    # Most messages have neither: the literal tests spare them both patterns (a rule engine
    # pass polishes a hundred thousand messages).
    if "(s)" in text:
        text = _COUNTED.sub(_agree, text)
    if "-" in text:
        text = _SAME_RANGE.sub(r"\1", text)
    return text


def _agree(match: re.Match[str]) -> str:
    number, noun = match.group(1), match.group(2)
    if float(number) == 1:
        return f"{number} {noun}"
    return f"{number} {_IRREGULAR_PLURALS.get(noun, noun + 's')}"


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
        widths = [int(digits) for digits in re.findall(r"\d+", spec or "")]
        if any(width > MAX_FORMAT_WIDTH for width in widths):
            # {name:>20000000} would build a 20 MB string per finding: a pack could exhaust memory.
            raise ValueError(f"field {{{field}}}: format widths and precisions go up to {MAX_FORMAT_WIDTH}, "
                             f"not {max(widths)}")
        fields.add(field)
    return fields


def is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))

