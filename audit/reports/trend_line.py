"""The org's trend line: one point per audit the report knows of, oldest first.

The points come from ``pd-audit history`` (a folder of snapshots, each re-scored with today's
rules: ``audit.history``), from ``--previous``, and from this audit itself, which is always the
last point. The same snapshot given twice (in the folder and as ``--previous``, or the current
snapshot inside the folder) is one point; snapshots crawled after this one are left out, so a
report on last quarter's snapshot does not show the future. A point's date is its crawl's day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from audit.assess import Assessment
from audit.history import History, HistoryPoint, history_point


@dataclasses.dataclass(frozen=True)
class TrendPoint:
    day: dt.date  # when the snapshot was crawled
    snapshot: str  # its folder's name
    mean_level: float | None
    score: float | None
    services: int
    failing: int


def _day(point: HistoryPoint, fallback: dt.date) -> dt.date:
    try:
        return dt.datetime.fromisoformat(point.crawled_at.replace("Z", "+00:00")).date()
    except ValueError:
        return fallback


def _point(point: HistoryPoint, fallback: dt.date) -> TrendPoint:
    org = point.org
    return TrendPoint(_day(point, fallback), point.snapshot, org.mean_level, org.score, org.services, org.failing)


def trend_points(current: Assessment, previous: Assessment | None = None,
                 history: History | None = None) -> tuple[TrendPoint, ...]:
    """Every audit known, oldest first, ending with ``current`` (one point when nothing else is known)."""
    now = history_point(current, previous)
    # A snapshot is known by its folder's name and crawl time: the folder's copy of --previous (or of
    # the current snapshot) is the same audit, not another point.
    seen = {(now.snapshot, now.crawled_at)}
    before: list[tuple[str, HistoryPoint]] = []  # (when it sorts, point)
    earlier = None
    if previous is not None and previous.snapshot.path.resolve() != current.snapshot.path.resolve():
        earlier = history_point(previous, None)
        seen.add((earlier.snapshot, earlier.crawled_at))
    points = list(history.points) if history else []
    keys = [(p.snapshot, p.crawled_at) for p in points]
    if (now.snapshot, now.crawled_at) in keys:  # this snapshot is in the folder: its past is what precedes it
        points = points[:keys.index((now.snapshot, now.crawled_at))]
    elif now.crawled_at:  # else what was crawled before it, not its future
        points = [p for p in points if p.crawled_at <= now.crawled_at]
    for point in points:
        if (point.snapshot, point.crawled_at) not in seen:
            seen.add((point.snapshot, point.crawled_at))
            before.append((point.crawled_at, point))
    if earlier is not None:  # given as the previous audit, it is: it sorts before this one whenever it was crawled
        before.append((min(earlier.crawled_at, now.crawled_at or earlier.crawled_at), earlier))
    before.sort(key=lambda item: item[0])  # stable: the folder's order stands among crawls of the same second
    return (*(_point(p, current.today) for _, p in before), _point(now, current.today))
