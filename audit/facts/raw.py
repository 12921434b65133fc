"""Defensive reading of raw PagerDuty API objects, shared by the fact-table builders.

The snapshot holds objects exactly as the API returned them, and legal data is
often odd: ``null`` where a list is expected, references without ids, fields a
plan does not return. These helpers turn such values into plain, predictable
Python (an empty list, ``None``) so the builders never branch on them, and read
the snapshot's on-call window into aware datetimes.

Raw objects come from JSON, so the builders test for ``dict``, not ``Mapping``: a dict
check is one C type comparison, while the ABC check cost a 10,000-service account
a quarter of a second of its facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from audit.errors import SnapshotError

REFERENCE_SUFFIX = "_reference"


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty list (``null`` and absent fields alike)."""
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def ref_id(reference: Any) -> str | None:
    """The id of a reference or object, or None when there is none."""
    if isinstance(reference, dict):
        value = reference.get("id")
        if isinstance(value, str) and value:
            return value
    return None


def ref_ids(references: Any) -> list[str]:
    """Ids of a list of references, first appearance first, without duplicates."""
    return list(dict.fromkeys(i for i in map(ref_id, as_list(references)) if i is not None))


def base_type(type_name: Any) -> str:
    """``phone_contact_method_reference`` -> ``phone_contact_method`` (references name their object's type)."""
    return as_text(type_name).removesuffix(REFERENCE_SUFFIX)


# Past this a number from the API is not a quantity of anything (10**400 has no float at all).
MAX_QUANTITY = 1e15


def as_minutes(value: Any) -> float:
    """A non-negative number of minutes, or NaN when absent, not a number, or beyond any real quantity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_QUANTITY:
        return float("nan")
    return float(value)


def by_id(objects: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Objects keyed by id (objects without an id are skipped; the last of duplicates wins)."""
    return {obj["id"]: obj for obj in objects if ref_id(obj) is not None}


def parse_window(window: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The manifest's on-call window as aware datetimes, or a one-line SnapshotError."""
    try:
        since = datetime.fromisoformat(str(window["since"]))
        until = datetime.fromisoformat(str(window["until"]))
    except (KeyError, TypeError, ValueError):
        raise SnapshotError(f"the snapshot's window {dict(window)!r} needs ISO-8601 'since' and 'until'") from None
    if since.utcoffset() is None or until.utcoffset() is None:
        raise SnapshotError("the snapshot's window has timestamps without a UTC offset")
    if until <= since:
        raise SnapshotError(f"the snapshot's window ends ({window['until']}) before it starts ({window['since']})")
    return since, until
