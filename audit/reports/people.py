"""Who is on call, for the reports: one row per person on call in the window, made once per run.

The org report lists everyone; each team's scorecard lists the people on call for its services.
A person's row is the same on every scorecard that lists them (their hours, night hours and pages
are theirs, not a team's), so the rows are built once from the user table and each scorecard picks
its own: building them per team from the table took half the time of making 600 scorecards.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from audit.reports.cells import Link, number, pseudonym, text


@dataclasses.dataclass(frozen=True)
class PersonLoadRow:
    person: Link
    teams: tuple[str, ...]
    hours: float
    night_hours: float
    night_share_pct: float | None
    services: int
    on_call_share_pct: float | None = None  # of the window, any level (PPL-01)
    sole_services: int = 0  # services whose level 1 pages this person alone (PPL-02)
    night_pages_per_week: float | None = None  # sleep-hour interruptions (OC-09); None without incidents
    incidents: int | None = None  # incidents assigned in the incidents window


def _busiest_first(row: PersonLoadRow) -> tuple[Any, ...]:
    # Most loaded first: time on call, then night pages.
    return (-row.hours, -(row.night_pages_per_week or 0), row.person.name)


class OnCallPeople:
    """The rows of everyone on call in the window (``users``: the user fact table), by user id."""

    def __init__(self, users: Any, team_name: Callable[[str], str], *, anonymize: bool = False):
        self.rows: dict[str, PersonLoadRow] = {}  # in the table's order
        self.of_service: Mapping[str, set[str]] = collections.defaultdict(set)
        if users.empty:
            return
        on_call = users[users["on_call"]]
        absent = [None] * len(on_call)
        incidents = on_call["incidents_assigned"] if "incidents_assigned" in on_call else absent  # only with incidents
        night_pages = on_call["sleep_hour_pages_per_week"] if "sleep_hour_pages_per_week" in on_call else absent
        for (user_id, name, url, team_ids, service_ids, hours, night_share, share, sole, pages,
             assigned) in zip(on_call["id"], on_call["name"], on_call["html_url"], on_call["team_ids"],
                              on_call["service_ids"], on_call["on_call_hours"], on_call["night_share_pct"],
                              on_call["on_call_share_pct"], on_call["sole_l1_service_count"], night_pages, incidents):
            on_call_hours = number(hours) or 0.0
            night_share_pct = number(night_share)
            self.rows[str(user_id)] = PersonLoadRow(
                person=Link(pseudonym(str(user_id)), None) if anonymize else Link(str(name), text(url)),
                teams=tuple(team_name(t) for t in team_ids),
                hours=on_call_hours,
                night_hours=on_call_hours * (night_share_pct or 0.0) / 100,
                night_share_pct=night_share_pct,
                services=len(service_ids),
                on_call_share_pct=number(share),
                sole_services=int(sole),
                night_pages_per_week=number(pages),
                incidents=None if assigned is None else int(assigned),
            )
            for service_id in service_ids:
                self.of_service[str(service_id)].add(str(user_id))

    def everyone(self) -> tuple[PersonLoadRow, ...]:
        """Everyone on call, busiest first."""
        return tuple(sorted(self.rows.values(), key=_busiest_first))

    def for_services(self, service_ids: Iterable[str]) -> tuple[PersonLoadRow, ...]:
        """The people on call for any of these services, busiest first (ties by user id)."""
        user_ids = set().union(*(self.of_service.get(s, ()) for s in service_ids))
        return tuple(sorted((self.rows[user_id] for user_id in sorted(user_ids)), key=_busiest_first))
