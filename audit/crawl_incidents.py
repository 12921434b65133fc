"""The incidents collection: incident behaviour over the incidents window, from either source.

PagerDuty's Analytics API (``POST /analytics/raw/incidents``) gives one record per incident with
every field the practice rules need; it is plan-gated (402/403 without analytics), lags up to a
day, and has a daily request quota (``daily-ratelimit-*`` headers). Without it, ``GET
/incidents`` (at most six months per query, 10,000 records per query) and ``GET /log_entries``
carry the same facts; :func:`records_from_log_entries` computes the analytics fields from them,
so either source gives the same lines and the same findings. The manifest's ``incidents`` says
which source served, the window, and, when the crawl could not finish (a spent quota), what
is missing: the configuration crawl is kept either way.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from audit.crawl import Crawler

ANALYTICS_PAGE = 1_000
REST_SPAN = timedelta(days=180)  # /incidents takes at most six months per query
REST_PAGE = 100
REST_CAP = 10_000
MAX_INCIDENT_DAYS = 366
ANALYTICS_LAG = timedelta(days=1)
SOURCE_ANALYTICS = "analytics"
SOURCE_REST = "incidents+log_entries"
SLEEP_HOURS = (22, 8)  # PagerDuty analytics: sleep hours 22:00-08:00 local
BUSINESS_HOURS = (8, 18)  # business hours 08:00-18:00 on weekdays; off hours the rest


@dataclasses.dataclass(frozen=True)
class IncidentsWindow:
    """The incidents window: ``days`` ending at ``until`` (a day before the crawl: analytics lag)."""

    days: int
    until: datetime

    def __post_init__(self) -> None:
        if not 1 <= self.days <= MAX_INCIDENT_DAYS:
            raise ValueError(f"the incidents window must be 1 to {MAX_INCIDENT_DAYS} days")

    @property
    def since(self) -> datetime:
        return self.until - timedelta(days=self.days)

    @classmethod
    def ending_before(cls, days: int, moment: datetime) -> IncidentsWindow:
        """``days`` ending a day before ``moment``'s UTC midnight (data lags up to 24 hours)."""
        midnight = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(days, midnight - ANALYTICS_LAG)

    def to_json(self) -> dict[str, Any]:
        return {"since": _iso(self.since), "until": _iso(self.until), "days": self.days}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_incidents(crawler: Crawler) -> None:
    """Analytics first; on 402/403 the REST fallback; a spent quota ends the collection short."""
    from audit.client import QuotaSpent, Unavailable  # the client is heavy; snapshot readers import this module
    window = crawler.incidents_window
    assert window is not None, "the incidents spec is wanted only with a window"
    info = crawler.incidents_info
    info.update(window.to_json())
    try:
        info["source"] = SOURCE_ANALYTICS
        _crawl_analytics(crawler, window)
    except QuotaSpent as spent:
        info["complete"] = False
        info["reason"] = (f"the Analytics API's daily quota was spent after {crawler.count('incidents'):,} incidents"
                          + (f"; it resets in {spent.reset_seconds / 3600:.1f} h" if spent.reset_seconds else "")
                          + "; run the crawl again to finish them")
        raise Unavailable(spent.endpoint, spent.status, info["reason"]) from None
    except Unavailable as refused:
        info["source"] = SOURCE_REST
        info["analytics_refused"] = f"HTTP {refused.status}"
        _crawl_rest(crawler, window)
    info["complete"] = True


def _crawl_analytics(crawler: Crawler, window: IncidentsWindow) -> None:
    """Cursor pagination, oldest first: one request per 1,000 incidents."""
    filters = {"created_at_start": _iso(window.since), "created_at_end": _iso(window.until)}
    cursor: str | None = None
    while True:
        body: dict[str, Any] = {"filters": filters, "limit": ANALYTICS_PAGE, "order": "asc"}
        if cursor:
            body["starting_after"] = cursor
        memo = crawler.unit(
            f"incidents:analytics:{cursor or 'first'}",
            functools.partial(crawler.client.post, "/analytics/raw/incidents", body),
            "incidents",
            lambda answer: [dict(row, source=SOURCE_ANALYTICS) for row in answer.get("data") or []],
            lambda answer: {"more": bool(answer.get("more")), "last": answer.get("last")},
        )
        if not memo.get("more") or not memo.get("last"):
            return
        cursor = memo["last"]


def _spans(since: datetime, until: datetime, most: timedelta) -> list[tuple[datetime, datetime]]:
    spans = []
    while since < until:
        end = min(until, since + most)
        spans.append((since, end))
        since = end
    return spans


def _classic(crawler: Crawler, path: str, key: str, since: datetime, until: datetime,
             extra: Iterable[tuple[str, Any]] = ()) -> list[dict]:
    """Every object of a classic list over [since, until), halving the span past the 10,000 cap.

    Once the first page gives the span's total, its other pages are fetched side by side on the
    crawler's pool, and the two halves of a span past the cap are read side by side: a large
    account's fallback is some 14,000 requests, which one after the other would take the
    latency times that, not the rate limit's time.
    """
    from audit.client import Unavailable
    extra = tuple(extra)

    def page(offset: int) -> dict[str, Any]:
        params = [("since", _iso(since)), ("until", _iso(until)), ("limit", REST_PAGE), ("offset", offset),
                  ("total", "true"), *extra]
        return crawler.client.get(path, _multi(params))

    first = page(0)
    total = first.get("total")
    if isinstance(total, int) and total > REST_CAP and until - since > timedelta(minutes=2):
        middle = since + (until - since) / 2
        halves = crawler.coordinate(lambda span: _classic(crawler, path, key, span[0], span[1], extra),
                                    [(since, middle), (middle, until)])
        return halves[0] + halves[1]
    bodies = [first]
    if first.get("more") and isinstance(total, int):
        bodies += crawler.map(page, range(REST_PAGE, min(total, REST_CAP), REST_PAGE))
    offset = REST_PAGE * len(bodies)
    while bodies[-1].get("more"):  # no total, or the list grew while it was read: page on to its end
        if offset + REST_PAGE > REST_CAP:
            raise Unavailable(path, 400, f"more than {REST_CAP:,} records in one minute from {_iso(since)}")
        bodies.append(page(offset))
        offset += REST_PAGE
    return [obj for body in bodies for obj in body.get(key) or []]


def _multi(params: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params:
        out.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in out.items()}


def _crawl_rest(crawler: Crawler, window: IncidentsWindow) -> None:
    """/incidents in six-month spans, then /log_entries over the window; the analytics fields computed."""
    incidents = [
        incident
        for since, until in _spans(window.since, window.until, REST_SPAN)
        for incident in _classic(crawler, "/incidents", "incidents", since, until,
                                 [("statuses[]", "resolved"), ("statuses[]", "acknowledged"),
                                  ("statuses[]", "triggered")])
    ]
    # Entries of an incident can come after the window ends (a late resolve): read a week more.
    entries = _classic(crawler, "/log_entries", "log_entries", window.since, window.until + timedelta(days=7))
    zones = {user["id"]: user.get("time_zone") for user in crawler.writer.existing("users") if "id" in user}
    records = records_from_log_entries(incidents, entries, zones)
    crawler.unit("incidents:rest", lambda: {}, "incidents", lambda _: records)


def interruption_kind(moment: datetime, time_zone: str | None) -> str:
    """sleep, business or off: PagerDuty's analytics hour classes, in the notified user's zone."""
    try:
        local = moment.astimezone(ZoneInfo(time_zone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(UTC)
    if local.hour >= SLEEP_HOURS[0] or local.hour < SLEEP_HOURS[1]:
        return "sleep"
    if local.isoweekday() <= 5 and BUSINESS_HOURS[0] <= local.hour < BUSINESS_HOURS[1]:
        return "business"
    return "off"


def _when(text: Any) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _ref_id(ref: Any) -> str | None:
    return ref.get("id") if isinstance(ref, dict) and isinstance(ref.get("id"), str) else None


def records_from_log_entries(
    incidents: Iterable[Mapping[str, Any]], entries: Iterable[Mapping[str, Any]], zones: Mapping[str, Any]
) -> list[dict]:
    """The Analytics API's raw-incident fields, from REST incidents and their log entries.

    Acknowledgers from ``acknowledge`` entries; assignees from ``assign`` and ``escalate``
    entries; a timeout escalation is an ``escalate`` entry on the ``timeout`` channel, a manual
    one any other; a reassignment is an ``assign`` entry a user made; auto-resolved is a
    ``resolve`` entry no user made; interruptions are ``notify`` entries of high-urgency
    incidents, classed by the notified user's local hour.
    """
    by_incident: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        incident_id = _ref_id(entry.get("incident"))
        if incident_id:
            by_incident.setdefault(incident_id, []).append(entry)
    records = []
    for incident in incidents:
        created = _when(incident["created_at"])
        log = sorted(by_incident.get(incident["id"], []), key=lambda e: str(e.get("created_at")))
        acked: list[str] = []
        assigned: list[str] = []
        first_ack: datetime | None = None
        timeouts = manual = reassignments = 0
        resolved_by: str | None = None
        auto = False
        resolved_at = incident.get("resolved_at")
        kinds = {"sleep": 0, "off": 0, "business": 0}
        for entry in log:
            kind = str(entry.get("type", "")).removesuffix("_reference").removesuffix("_log_entry")
            agent = entry.get("agent") or {}
            agent_user = _ref_id(agent) if str(agent.get("type", "")).startswith("user") else None
            when = _when(entry["created_at"])
            if kind == "acknowledge" and agent_user:
                acked.append(agent_user)
                first_ack = first_ack or when
            elif kind in ("assign", "escalate"):
                assigned += [u for u in (_ref_id(a) for a in entry.get("assignees") or []) if u]
                if kind == "escalate":
                    if (entry.get("channel") or {}).get("type") == "timeout":
                        timeouts += 1
                    else:
                        manual += 1
                elif agent_user:
                    reassignments += 1
            elif kind == "resolve":
                resolved_by, auto = agent_user, agent_user is None
                resolved_at = resolved_at or entry["created_at"]
            elif kind == "notify" and incident.get("urgency") == "high":
                user = _ref_id(entry.get("user"))
                kinds[interruption_kind(when, zones.get(user) if user else None)] += 1
        teams = [t for t in (_ref_id(t) for t in incident.get("teams") or []) if t]
        records.append({
            "id": incident["id"], "source": SOURCE_REST,
            "service_id": _ref_id(incident.get("service")), "team_id": teams[0] if teams else None,
            "escalation_policy_id": _ref_id(incident.get("escalation_policy")),
            "urgency": incident.get("urgency"), "created_at": incident["created_at"], "resolved_at": resolved_at,
            "seconds_to_first_ack": int((first_ack - created).total_seconds()) if first_ack else None,
            "acknowledged_user_ids": list(dict.fromkeys(acked)), "assigned_user_ids": list(dict.fromkeys(assigned)),
            "timeout_escalation_count": timeouts, "manual_escalation_count": manual,
            "reassignment_count": reassignments, "auto_resolved": auto, "resolved_by_user_id": resolved_by,
            "sleep_hour_interruptions": kinds["sleep"], "off_hour_interruptions": kinds["off"],
            "business_hour_interruptions": kinds["business"],
        })
    return records
