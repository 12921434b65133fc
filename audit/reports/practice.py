"""Practice figures for the reports: what happened when the pager went off, per team, with its trend.

From the snapshot's incident history (the same lines the mode A rules judge), for one team's
services: the share of acknowledged incidents its own members acknowledged, the share of
high-urgency incidents that timed out to level 2, the median minutes to acknowledge them and
the sleep-hour interruptions a week per person paged. With a previous snapshot that holds
incidents too, each figure carries the earlier value, so the scorecard shows the trend.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from audit.assess import Assessment
from audit.facts.incidents import WEEK_SECONDS


@dataclasses.dataclass(frozen=True)
class PracticeFigure:
    label: str
    value: float | None
    previous: float | None
    unit: str  # "%", "min" or "a week"
    lower_is_better: bool

    @property
    def change(self) -> float | None:
        return None if self.value is None or self.previous is None else self.value - self.previous

    @property
    def improved(self) -> bool | None:
        change = self.change
        if change is None or change == 0:
            return None
        return (change < 0) is self.lower_is_better


@dataclasses.dataclass(frozen=True)
class Practice:
    incidents: int
    since: str
    until: str
    figures: tuple[PracticeFigure, ...]


@dataclasses.dataclass(frozen=True)
class _History:
    table: pd.DataFrame
    weeks: float
    since: str
    until: str
    # Row positions of each service's incidents: a team's figures read its own rows, not the whole table
    # (600 teams over 200,000 incidents would otherwise scan 120 million rows).
    rows_of: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def of_services(self, service_ids: set[str]) -> pd.DataFrame:
        chosen = [self.rows_of[s] for s in sorted(service_ids) if s in self.rows_of]
        return self.table.iloc[np.sort(np.concatenate(chosen))] if chosen else self.table.iloc[0:0]


def _history(assessment: Assessment | None) -> _History | None:
    if assessment is None or assessment.facts.incidents is None:
        return None
    span = assessment.snapshot.manifest.get("incidents") or {}
    table = assessment.facts.incidents
    since, until = span.get("since"), span.get("until")
    if since and until:
        weeks = (pd.Timestamp(until) - pd.Timestamp(since)).total_seconds() / WEEK_SECONDS
    else:
        weeks = 0.0
    rows_of = {str(service): np.asarray(rows) for service, rows in table.groupby("service_id").indices.items()}
    return _History(table, weeks, str(since or ""), str(until or ""), rows_of)


def _figures(history: _History, service_ids: set[str], members: set[str]) -> tuple[int, dict[str, float | None]]:
    table = history.of_services(service_ids)
    acked = table[table["acknowledged_user_ids"].map(bool).astype(bool)]
    own = acked["acknowledged_user_ids"].map(lambda users: bool(members & set(users))).astype(bool)
    high = table[table["urgency"] == "high"]
    paged = {user for users in table["assigned_user_ids"] for user in users}

    def share(part: int, whole: int) -> float | None:
        return 100.0 * part / whole if whole else None

    median = high["seconds_to_first_ack"].median()
    sleep = float(table["sleep_hour_interruptions"].sum())
    return len(table), {
        "owner": share(int(own.sum()), len(acked)),
        "timeouts": share(int((high["timeout_escalation_count"] > 0).sum()), len(high)),
        "tta": None if pd.isna(median) else float(median) / 60,
        "night": sleep / len(paged) / history.weeks if paged and history.weeks > 0 else None,
    }


LABELS = (
    ("owner", "Acknowledged by the team", "%", False),
    ("timeouts", "Timed out to level 2", "%", True),
    ("tta", "Median time to acknowledge", "min", True),
    ("night", "Night interruptions per person", "a week", True),
)


class PracticeIndex:
    """Each assessment's incident table, read once; figures per team on demand."""

    def __init__(self, assessment: Assessment, previous: Assessment | None = None):
        self.current = _history(assessment)
        self.previous = _history(previous)
        self._known: dict[tuple[frozenset[str], frozenset[str]], Practice] = {}  # the org report asks again

    def for_team(self, service_ids: Iterable[str], members: Iterable[str]) -> Practice | None:
        if self.current is None:
            return None
        services, people = set(service_ids), set(members)
        key = (frozenset(services), frozenset(people))
        if key not in self._known:
            self._known[key] = self._practice(self.current, services, people)
        return self._known[key]

    def _practice(self, current: _History, services: set[str], people: set[str]) -> Practice:
        count, now = _figures(current, services, people)
        before: Mapping[str, float | None] = _figures(self.previous, services, people)[1] if self.previous else {}
        return Practice(
            incidents=count,
            since=current.since,
            until=current.until,
            figures=tuple(PracticeFigure(label, now[key], before.get(key), unit, lower)
                          for key, label, unit, lower in LABELS),
        )
