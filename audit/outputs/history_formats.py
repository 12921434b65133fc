"""``pd-audit history``'s formats: the trend of the org and each team, as a table, CSV or JSON.

One row per snapshot and group (the org first, then each team): mean level,
score, failing findings, and for the org what was new and fixed since the
previous snapshot. The HTML chart lives with the reports, not here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from audit.history import GroupPoint, History, HistoryPoint
from audit.json_text import json_text
from audit.safe_csv import safe_cell, spreadsheet_writer
from audit.safe_text import printable

CSV_COLUMNS = ("snapshot", "crawled_at", "group_id", "group_name", "services", "mean_level", "score", "failing",
               "new", "fixed")


def _rows(history: History) -> Iterator[tuple[HistoryPoint, GroupPoint, bool]]:
    """(point, group, is_org) for the org then every team, snapshot by snapshot."""
    order = history.team_ids
    for point in history.points:
        yield point, point.org, True
        for team_id in order:
            if team_id in point.teams:
                yield point, point.teams[team_id], False


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _group_json(group: GroupPoint) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "services": group.services, "mean_level": _round(group.mean_level),
            "score": _round(group.score), "failing": group.failing}


def render_json(history: History) -> str:
    data = [{
        "snapshot": point.snapshot,
        "crawled_at": point.crawled_at,
        "new": point.new,
        "fixed": point.fixed,
        "org": _group_json(point.org),
        "teams": [_group_json(point.teams[t]) for t in history.team_ids if t in point.teams],
    } for point in history.points]
    return json_text({"points": data})


def render_csv(history: History) -> str:
    out = io.StringIO()
    writer = spreadsheet_writer(out)
    writer.writerow(CSV_COLUMNS)
    for point, group, is_org in _rows(history):
        values = (point.snapshot, point.crawled_at, group.id, group.name, group.services, _round(group.mean_level),
                  _round(group.score), group.failing, point.new if is_org else None, point.fixed if is_org else None)
        writer.writerow([safe_cell(value) for value in values])
    return out.getvalue()


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_table(history: History) -> str:
    header = (f"{'snapshot':<24} {'crawled':<20} {'group':<28} {'svcs':>4} {'level':>5} {'score':>5} {'fail':>5} "
              f"{'new':>4} {'fixed':>5}")
    lines = [header]
    for point, group, is_org in _rows(history):
        if is_org and len(lines) > 1:
            lines.append("")
        changes = (f"{'-' if point.new is None else point.new:>4} {'-' if point.fixed is None else point.fixed:>5}"
                   if is_org else "")
        name = printable(group.name, 26) if is_org else "  " + printable(group.name, 24)
        lines.append(f"{printable(point.snapshot, 24):<24} {printable(point.crawled_at[:19], 20):<20} {name:<28} "
                     f"{group.services:>4} {_cell(group.mean_level):>5} {_cell(group.score):>5} {group.failing:>5} "
                     f"{changes}".rstrip())
    return "\n".join(lines) + "\n"
