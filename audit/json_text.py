"""JSON text every machine-readable output is written as: strict JSON, never NaN or Infinity.

Python's ``json`` writes a float NaN or infinity as the bare words ``NaN``/``Infinity``, which
strict parsers (``jq``, browsers, most languages) refuse. A number that is not finite carries no
figure, so it is written as ``null``, as a missing figure is.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every float NaN or infinity, however deep, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def json_text(data: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """``data`` as strict JSON text with a final newline (non-ASCII kept as it is)."""
    return json.dumps(finite(data), indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False) + "\n"
