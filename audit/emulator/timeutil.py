"""Time parsing, formatting and wall-clock arithmetic shared by the emulator's renderers.

PagerDuty hands off rotations at the same local time every turn, so schedule maths is done on
the schedule's wall clock (naive local times) and only converted to UTC at the edges. Every
datetime that leaves this module is timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from audit.time_zones import iana_zone_name


class BadTime(ValueError):
    """A timestamp or time zone the emulator cannot read (the caller words the error)."""


def parse_datetime(text: str) -> datetime:
    """Read an ISO 8601 timestamp; a value without an offset is taken as UTC, like PagerDuty."""
    if not isinstance(text, str):
        raise BadTime(f"{text!r} is not an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise BadTime(f"{text!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``: an IANA id, or one of the Rails names PagerDuty also accepts."""
    if not isinstance(name, str) or not name:
        raise BadTime(f"{name!r} is not a time zone")
    iana = iana_zone_name(name)
    if iana is None:
        raise BadTime(f"unknown time zone {name!r}")
    return ZoneInfo(iana)


def to_wall(moment: datetime, tz: tzinfo) -> datetime:
    """The naive local wall-clock time of ``moment`` in ``tz``."""
    return moment.astimezone(tz).replace(tzinfo=None)


def from_wall(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of a naive wall-clock time in ``tz``.

    A wall time inside a spring-forward gap resolves with the offset before the change (so
    02:30 on the day New York skips 02:00-03:00 becomes 03:30 EDT), an ambiguous one to its
    first occurrence: the same choice zoneinfo makes with ``fold=0``.
    """
    return wall.replace(tzinfo=tz).astimezone(UTC)


def add_wall(moment: datetime, seconds: float, tz: tzinfo) -> datetime:
    """``moment`` moved by ``seconds`` of wall-clock time in ``tz`` (a "day" stays 24 local hours)."""
    return from_wall(to_wall(moment, tz) + timedelta(seconds=seconds), tz)


def format_in(moment: datetime, tz: tzinfo) -> str:
    """ISO 8601 with the local offset, as the v2 API writes times (``2026-03-09T09:00:00-04:00``)."""
    return moment.astimezone(tz).isoformat()


def format_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as the v3 schedules API writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
