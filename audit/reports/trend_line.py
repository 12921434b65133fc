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
from audit.history import History, HistoryPoint, before, history_point, point_key


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
    now = history_point(current, None, teams=False)
    # The folder's copy of --previous (or of the current snapshot) is the same audit, not another point.
    seen = {point_key(now)}
    before_now: list[tuple[str, HistoryPoint]] = []  # (when it sorts, point)
    earlier = None
    if previous is not None and previous.snapshot.path.resolve() != current.snapshot.path.resolve():
        earlier = history_point(previous, None, teams=False)
        seen.add(point_key(earlier))
    points = list(history.points) if history else []
    points = [points[i] for i in before([point_key(p) for p in points], point_key(now))]
    for point in points:
        if point_key(point) not in seen:
            seen.add(point_key(point))
            before_now.append((point.crawled_at, point))
    if earlier is not None:  # given as the previous audit, it is: it sorts before this one whenever it was crawled
        before_now.append((min(earlier.crawled_at, now.crawled_at or earlier.crawled_at), earlier))
    before_now.sort(key=lambda item: item[0])  # stable: the folder's order stands among crawls of the same second
    return (*(_point(p, current.today) for _, p in before_now), _point(now, current.today))
