"""``pd-audit history``'s formats: the trend of the org and each team, as a table, CSV or JSON.

One row per snapshot and group (the org first, then each team): mean level,
score, failing findings, and for the org what was new and fixed since the
previous snapshot. Each is written row by row as it is made (``write_*(history, out)``);
the JSON says ``"format": "pd-audit/history-v1"`` and has one team a line. The HTML chart
lives with the reports, not here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from audit.history import GroupPoint, History, HistoryPoint
from audit.json_text import Streamed, TextOut, write_json
from audit.safe_csv import safe_cell, spreadsheet_writer
from audit.safe_text import for_terminal, printable

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


HISTORY_FORMAT = "pd-audit/history-v1"


def history_json(history: History) -> dict[str, Any]:
    """The trend as JSON-ready data; each point's teams are made as they are written."""
    order = history.team_ids
    return {"format": HISTORY_FORMAT, "points": [{
        "snapshot": point.snapshot,
        "crawled_at": point.crawled_at,
        "new": point.new,
        "fixed": point.fixed,
        "org": _group_json(point.org),
        "teams": Streamed(_teams_json(point, order)),
    } for point in history.points]}


def _teams_json(point: HistoryPoint, order: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    # A function, not a generator expression in the list above: that would see the last point only.
    return (_group_json(point.teams[team_id]) for team_id in order if team_id in point.teams)


def write_json_trend(history: History, out: TextOut) -> None:
    write_json(out, history_json(history))


def write_csv(history: History, out: TextOut) -> None:
    writer = spreadsheet_writer(out)
    writer.writerow(CSV_COLUMNS)
    for point, group, is_org in _rows(history):
        values = (point.snapshot, point.crawled_at, group.id, group.name, group.services, _round(group.mean_level),
                  _round(group.score), group.failing, point.new if is_org else None, point.fixed if is_org else None)
        writer.writerow([safe_cell(value) for value in values])


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def write_table(history: History, out: TextOut) -> None:
    """For a person: each line shown as the terminal shows text."""
    out.write(f"{'snapshot':<24} {'crawled':<20} {'group':<28} {'svcs':>4} {'level':>5} {'score':>5} {'fail':>5} "
              f"{'new':>4} {'fixed':>5}\n")
    first = True
    for point, group, is_org in _rows(history):
        if is_org and not first:
            out.write("\n")
        first = False
        changes = (f"{'-' if point.new is None else point.new:>4} {'-' if point.fixed is None else point.fixed:>5}"
                   if is_org else "")
        name = printable(group.name, 26) if is_org else "  " + printable(group.name, 24)
        out.write(for_terminal(
            f"{printable(point.snapshot, 24):<24} {printable(point.crawled_at[:19], 20):<20} {name:<28} "
            f"{group.services:>4} {_cell(group.mean_level):>5} {_cell(group.score):>5} {group.failing:>5} "
            f"{changes}".rstrip() + "\n"))
