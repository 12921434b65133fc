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
from collections.abc import Mapping, Sequence
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


def render_rows(template: str, values: Mapping[str, Sequence[Any]], count: int) -> list[str]:
    """``template`` for each of ``count`` rows; ``values``: name -> its value on each row (columns and
    parameters alike). The same text as ``str.format`` with this module's formatter, row by row.

    Worked column by column: each alternative is parsed once, each row takes the first whose fields
    all have a value, and a field's value is formatted once per distinct value (numbers, flags and
    short codes repeat across thousands of rows).
    """
    choices = []
    for alternative in alternatives(template):
        pieces = list(FORMATTER.parse(alternative))
        choices.append((pieces, [field for _, field, _, _ in pieces if field is not None]))
    present: dict[str, list[bool]] = {}

    def has(field: str) -> list[bool]:
        if field not in present:
            present[field] = [has_value(value) for value in values[field]] if field in values else [False] * count
        return present[field]

    chosen = [len(choices) - 1] * count  # the last alternative is taken when no other fits
    undecided = list(range(count))
    for index, (_, fields) in enumerate(choices[:-1]):
        columns = [has(field) for field in fields]
        fits = [row for row in undecided if all(column[row] for column in columns)]
        for row in fits:
            chosen[row] = index
        undecided = [row for row in undecided if chosen[row] == len(choices) - 1] if fits else undecided
    texts = [""] * count
    for index, (pieces, _) in enumerate(choices):
        rows = [row for row in range(count) if chosen[row] == index]
        if not rows:
            continue
        parts: list[Sequence[str]] = []
        for literal, field, spec, conversion in pieces:
            parts.append([literal] * len(rows))
            if field is not None:
                column = values[field]
                parts.append(_formatted([column[row] for row in rows], spec or "", conversion))
        for row, pieces_of_row in zip(rows, zip(*parts, strict=True), strict=True):
            texts[row] = polish("".join(pieces_of_row))
    return texts


_CACHED_TYPES = (int, str, bool)  # not float: 0.0 == -0.0 as keys, yet they read differently


def _formatted(column: Sequence[Any], spec: str, conversion: str | None) -> list[str]:
    """Each value as the message reads it; a value of a plain type formatted once however often it repeats."""
    known: dict[tuple[type, Any], str] = {}
    texts = []
    if not spec and conversion is None and all(type(value) is str for value in column):
        return list(column)  # names, ids: a string read as itself
    for value in column:
        key = (type(value), value) if type(value) in _CACHED_TYPES else None
        text = known.get(key) if key is not None else None
        if text is None:
            converted = value if conversion is None else FORMATTER.convert_field(value, conversion)
            text = FORMATTER.format_field(converted, spec)
            if key is not None:
                known[key] = text
        texts.append(text)
    return texts


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

