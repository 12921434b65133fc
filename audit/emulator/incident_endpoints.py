"""Incident history endpoints: the Analytics API's raw incidents, /incidents and /log_entries.

Behaviour emulated (PagerDuty's documentation and API reference):

* ``POST /analytics/raw/incidents``: a JSON body with ``filters`` (``created_at_start`` and
  ``created_at_end``, at most a year apart; ``service_ids``, ``team_ids``, ``urgency``),
  ``limit`` (1..1000, default 100), ``starting_after`` (the cursor: the ``last`` of the previous
  page), ``order`` (desc by default) by ``created_at``. The answer has ``data``, ``first``,
  ``last``, ``more``. Analytics data lags: an incident appears ``analytics_lag`` after it was
  created (24 h by default). Plans without the ``analytics`` ability get 402 (the app's gate).
  Analytics requests count against a daily quota (``daily-ratelimit-limit``, ``-remaining`` and
  ``-reset`` headers, 429 once spent) when the app is given one.
* ``GET /incidents``: ``since``/``until`` at most 6 months apart (400 otherwise; 30 days back
  from now by default), ``date_range=all``, ``service_ids[]``, ``team_ids[]``, ``urgencies[]``,
  ``statuses[]``; classic pagination with its 10,000-record cap; oldest first.
* ``GET /log_entries``: ``since``/``until`` (a month back by default), classic pagination with
  its cap, newest first, ``include[]=incidents`` expands the incident reference.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from werkzeug.datastructures import MultiDict

from audit.emulator.account import Account
from audit.emulator.incident_history import Incident, generate_history, read_spec
from audit.emulator.protocol import (
    ApiFailure,
    classic_page,
    include_param,
    invalid,
    list_param,
    paginate,
    time_param,
)
from audit.emulator.timeutil import BadTime, parse_datetime

ANALYTICS_MAX_LIMIT = 1000
ANALYTICS_DEFAULT_LIMIT = 100
ANALYTICS_MAX_SPAN = timedelta(days=366)
INCIDENTS_MAX_SPAN = timedelta(days=183)  # "six months"
DEFAULT_LAG = timedelta(hours=24)
DAY = 86400


class DailyQuota:
    """The analytics API's per-day request quota, reported in ``daily-ratelimit-*`` headers."""

    def __init__(self, limit: int, clock: Callable[[], datetime]):
        self.limit = limit
        self.clock = clock
        self.used: dict[int, int] = {}
        self.lock = threading.Lock()

    def take(self) -> tuple[bool, dict[str, str]]:
        now = self.clock().timestamp()
        day = int(now // DAY)
        with self.lock:
            used = self.used.get(day, 0)
            allowed = used < self.limit
            if allowed:
                self.used[day] = used + 1
            remaining = self.limit - self.used.get(day, 0)
        headers = {"daily-ratelimit-limit": str(self.limit), "daily-ratelimit-remaining": str(max(0, remaining)),
                   "daily-ratelimit-reset": str(int((day + 1) * DAY - now))}
        return allowed, headers


class IncidentEndpoints:
    def __init__(self, account: Account, now: Callable[[], datetime], *, analytics_lag: timedelta = DEFAULT_LAG,
                 analytics_daily_limit: int | None = None):
        self.account = account
        self.now = now
        self.analytics_lag = analytics_lag
        self.quota = DailyQuota(analytics_daily_limit, now) if analytics_daily_limit else None
        self._history: list[Incident] | None = None
        self._lock = threading.Lock()

    @property
    def history(self) -> list[Incident]:
        """The account's incidents, generated on first use (oldest first)."""
        with self._lock:
            if self._history is None:
                spec = read_spec(self.account.incident_history)
                history = generate_history(self.account, spec) if spec else []
                self._created = [incident.created_at for incident in history]
                self._position = {incident.id: n for n, incident in enumerate(history)}
                # Log entries by the second they are stamped with, then id: (epoch second, entry
                # number, incident position, entry position); rendered only when served.
                self._entries = sorted(
                    (int(event.moment.timestamp()), incident.entry_number(k), n, k)
                    for n, incident in enumerate(history) for k, event in enumerate(incident.events)
                )
                self._entry_times = [item[0] for item in self._entries]
                self._history = history
            return self._history

    def positions_between(self, since: datetime, until: datetime) -> range:
        """Positions in the history of the incidents created in [since, until)."""
        self.history  # noqa: B018 - builds the index
        return range(bisect.bisect_left(self._created, since), bisect.bisect_left(self._created, until))

    def log_entries_between(self, since: datetime, until: datetime) -> int:
        """How many log entries /log_entries lists over [since, until)."""
        first, last = self._entry_span(since, until)
        return last - first

    def _entry_span(self, since: datetime, until: datetime) -> tuple[int, int]:
        """The index range of the entries in [since, until): stamped to the second, so from ceil(since)."""
        self.history  # noqa: B018 - builds the entry index
        first, last = (bisect.bisect_left(self._entry_times, math.ceil(moment.timestamp())) for moment in (since, until))
        return first, last

    # -- analytics -----------------------------------------------------------------------------
    def quota_check(self) -> dict[str, str]:
        """Headers of the analytics quota; raises 429 once the day's quota is spent."""
        if self.quota is None:
            return {}
        allowed, headers = self.quota.take()
        if not allowed:
            failure = ApiFailure(429, 2020, "Daily analytics request limit reached")
            failure.headers = headers
            raise failure
        return headers

    def analytics_incidents(self, body: object) -> dict:
        if not isinstance(body, dict):
            raise invalid("the request body must be a JSON object")
        filters = body.get("filters") or {}
        if not isinstance(filters, dict):
            raise invalid("filters must be an object")
        now = self.now()
        try:
            start = parse_datetime(filters["created_at_start"]) if filters.get("created_at_start") else now - timedelta(days=30)
            end = parse_datetime(filters["created_at_end"]) if filters.get("created_at_end") else now
        except BadTime:
            raise invalid("created_at_start and created_at_end must be ISO 8601 timestamps") from None
        if end < start or end - start > ANALYTICS_MAX_SPAN:
            raise invalid("created_at_start and created_at_end must be at most one year apart, start first")
        limit = body.get("limit", ANALYTICS_DEFAULT_LIMIT)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= ANALYTICS_MAX_LIMIT:
            raise invalid(f"limit must be an integer from 1 to {ANALYTICS_MAX_LIMIT}")
        order = body.get("order", "desc")
        if order not in ("asc", "desc"):
            raise invalid("order must be asc or desc")
        services = set(filters.get("service_ids") or [])
        teams = set(filters.get("team_ids") or [])
        urgency = filters.get("urgency")
        visible_until = min(end, now - self.analytics_lag)
        history = self.history
        matching: Sequence[int] = self.positions_between(start, visible_until)
        if services or teams or urgency:
            matching = [
                n for n in matching
                if (not services or history[n].service["id"] in services)
                and (not teams or (history[n].team or {}).get("id") in teams)
                and (not urgency or history[n].urgency == urgency)
            ]
        cursor = body.get("starting_after")
        if cursor:
            # Positions ascend, so the cursor's place is found by bisection, not by a scan.
            at = self._position.get(cursor, -1)
            place = bisect.bisect_left(matching, at)
            if place == len(matching) or matching[place] != at:
                raise invalid("starting_after is not a cursor of this query")
            rest = matching[place + 1:] if order == "asc" else matching[:place][::-1]
        else:
            rest = matching if order == "asc" else matching[::-1]
        page = [history[n].analytics for n in rest[:limit]]
        return {
            "data": page, "first": page[0]["id"] if page else None, "last": page[-1]["id"] if page else None,
            "limit": limit, "more": len(rest) > limit, "order": order, "order_by": "created_at",
            "filters": filters, "time_zone": "Etc/UTC", "starting_after": cursor, "ending_before": None,
        }

    # -- REST incidents and log entries --------------------------------------------------------
    def _span(self, args: MultiDict, default: timedelta, most: timedelta | None) -> tuple[datetime, datetime]:
        now = self.now()
        since = time_param(args, "since") or now - default
        until = time_param(args, "until") or now
        if until < since:
            raise invalid("until must not be before since")
        if most is not None and until - since > most:
            raise invalid("The time range between since and until may not exceed 6 months")
        return since, until

    def incidents(self, args: MultiDict) -> dict:
        page = classic_page(args)
        since, until = self._span(args, timedelta(days=30), INCIDENTS_MAX_SPAN)
        if args.get("date_range") == "all":
            since, until = datetime.min.replace(tzinfo=since.tzinfo), datetime.max.replace(tzinfo=until.tzinfo)
        services = set(list_param(args, "service_ids"))
        teams = set(list_param(args, "team_ids"))
        urgencies = set(list_param(args, "urgencies"))
        statuses = set(list_param(args, "statuses"))
        history = self.history
        rows = [
            history[n] for n in self.positions_between(since, until)
            if (not services or history[n].service["id"] in services)
            and (not teams or set(history[n].team_ids) & teams)
            and (not urgencies or history[n].urgency in urgencies)
            and (not statuses or "resolved" in statuses)  # every generated incident is resolved
        ]
        return paginate("incidents", rows, page, lambda incident: incident.incident)

    def log_entries(self, args: MultiDict) -> dict:
        page = classic_page(args)
        since, until = self._span(args, timedelta(days=30), None)
        first, last = self._entry_span(since, until)
        chosen = self._entries[first:last][::-1]  # newest first, as PagerDuty lists them
        with_incidents = "incidents" in include_param(args)
        return paginate("log_entries", chosen, page, lambda item: self._entry(item, with_incidents))

    def _entry(self, item: tuple[int, int, int, int], with_incident: bool) -> dict:
        incident = self.history[item[2]]
        entry = incident.log_entry(item[3])
        return {**entry, "incident": incident.incident} if with_incident else entry
