"""Every collection the crawler reads, each described once.

A ``CollectionSpec`` says what one collection of a snapshot is: its name and what a
line of it holds, how it is fetched, which collections it waits for, whether a crawl
may skip it, what makes two of its objects the same object, and the fewest requests
the API allows for it. ``audit.crawl.Crawler`` runs the specs in ``SPECS`` (thread
pool, journal, pagination); the snapshot reads its collection names from here.

Adding a collection is one entry in ``SPECS`` and its fetch function. The module is
imported by snapshot readers too, so it imports nothing heavy (the API client is
only named for type checking).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from audit.crawl_incidents import fetch_incidents
from audit.errors import CrawlError, UserError

if TYPE_CHECKING:
    from audit.crawl import Crawler
    from audit.snapshot import SnapshotWriter

PAGE = 100
CAP = 10_000  # offset + limit may not exceed this on classic pagination
V3_PAGE = 1_000
TEAM_BATCH = 40  # team or policy ids per request: keeps URLs short (each id costs ~24 bytes)
SCORES_BATCH = 100  # /standards/scores takes at most 100 ids


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


MAX_WINDOW_DAYS = 90
ONCALLS_REACH = timedelta(days=90)  # GET /oncalls looks at most this far past now


@dataclasses.dataclass(frozen=True)
class Window:
    """The on-call window the crawl renders schedules and on-calls over."""

    since: datetime
    days: int

    def __post_init__(self) -> None:
        if not 1 <= self.days <= MAX_WINDOW_DAYS:
            raise ValueError(f"the window must be 1 to {MAX_WINDOW_DAYS} days")

    @property
    def until(self) -> datetime:
        return self.since + timedelta(days=self.days)

    def to_json(self) -> dict[str, Any]:
        return {"since": iso(self.since), "until": iso(self.until), "days": self.days}

    def check_oncalls_reach(self, now: datetime) -> None:
        """Refuse a window whose end /oncalls cannot see: PagerDuty looks at most 90 days past now,
        so the on-calls (and the hand-off rules of the people on call) would be silently cut short."""
        limit = now + ONCALLS_REACH
        if self.until > limit:
            raise UserError(
                f"the on-call window ends {iso(self.until)}, more than 90 days from now; PagerDuty's /oncalls "
                f"looks no further than {iso(limit)}: choose an earlier --since or a shorter --window "
                "(or --skip oncalls)"
            )


def pages(count: int, size: int = PAGE) -> int:
    """Requests a list of ``count`` objects needs at ``size`` a page (an empty list still costs one)."""
    return max(1, math.ceil(count / size))


def in_batches(ids: Iterable[str], size: int) -> list[list[str]]:
    """Ids cut into consecutive batches of at most ``size`` (for filters that take a list of ids)."""
    work = list(ids)
    return [work[i : i + size] for i in range(0, len(work), size)]


def batch_label(ids: list[str]) -> str:
    # A short stable label for a batch of ids (journal keys must not grow with the batch).
    return f"{ids[0]}+{len(ids) - 1}-" + hashlib.sha1(",".join(ids).encode()).hexdigest()[:10]


def multi(params: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Turn repeated (key, value) pairs into the dict of lists httpx2 encodes as key=a&key=b."""
    out: dict[str, Any] = {}
    for key, value in params:
        if key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(value)
        else:
            out[key] = value
    return out


@dataclasses.dataclass(frozen=True)
class ListSpec:
    """A classic-paginated list endpoint and how it may be partitioned."""

    collection: str
    path: str
    key: str  # the wrapper key of the list in the response body
    params: tuple[tuple[str, Any], ...] = ()
    by_team: bool = True  # accepts team_ids[]
    sortable: bool = False  # accepts sort_by=name:desc
    # Objects other collections refer to can be fetched one by one (GET detail_path) when
    # the list cannot reach them (no team, past the cap): only users have this need.
    detail_path: str | None = None
    detail_key: str | None = None  # the wrapper key of one object at detail_path
    referenced_ids: Callable[[SnapshotWriter], set[str]] | None = None
    # The fields the list's `query` filter matches a substring of: objects still out of reach
    # are then found by partitioning the list by query (audit.crawl_queries).
    searchable: Callable[[Any], tuple[Any, ...]] | None = None


def by_id(obj: Any) -> str:
    return str(obj.get("id"))


@dataclasses.dataclass(frozen=True)
class CollectionSpec:
    """One collection of a snapshot and how the crawler fills it."""

    name: str
    holds: str  # what one line of the collection file is
    fetch: Callable[[Crawler], None]
    lower_bound: Callable[[Crawler], int]  # fewest requests for what was crawled
    identity: Callable[[Any], str] = by_id  # what makes an object one object (dedup)
    after: tuple[str, ...] = ()  # collections whose objects it needs, complete
    leads: bool = False  # crawled before the others start (they read its ids)
    skippable: bool = False  # --skip may leave it out (rules that need it report "excluded")
    # Whether this crawl asks for the collection at all; one not asked for is left out of the
    # manifest (readers say "the snapshot has no ... collection"): incidents need a window.
    wanted: Callable[[Crawler], bool] = lambda crawler: True


# ---------------------------------------------------------------- list endpoints

TEAMS = ListSpec("teams", "/teams", "teams", by_team=False)
USERS_INCLUDES = (("include[]", "contact_methods"), ("include[]", "notification_rules"), ("include[]", "teams"))
SERVICES = ListSpec("services", "/services", "services", (("include[]", "integrations"),), sortable=True)
POLICIES = ListSpec("escalation_policies", "/escalation_policies", "escalation_policies", sortable=True)
SCHEDULE_LIST = ListSpec("schedules", "/schedules", "schedules")
BUSINESS_SERVICES = ListSpec("business_services", "/business_services", "business_services", by_team=False)


def listed(spec: ListSpec) -> Callable[[Crawler], None]:
    def fetch(crawler: Crawler) -> None:
        crawler.crawl_list(spec)

    return fetch


def list_pages(name: str, size: int = PAGE) -> Callable[[Crawler], int]:
    return lambda crawler: pages(crawler.count(name), size)


# ---------------------------------------------------------------- fetch functions

def fetch_abilities(crawler: Crawler) -> None:
    crawler.unit("abilities", lambda: crawler.client.get("/abilities"), "abilities",
                 lambda body: list(body.get("abilities") or []))


def fetch_teams(crawler: Crawler) -> None:
    if not crawler.scope_team_ids:
        crawler.crawl_list(TEAMS)
        return
    from audit.client import Gone  # not at import: snapshot readers import this module

    def scoped_team(team_id: str) -> dict[str, Any]:
        try:
            return crawler.client.get("/teams/{id}", id=team_id)
        except Gone:  # a team the user named, not one a list named: a mistake, not a deletion
            raise CrawlError(f"--team: team {team_id} does not exist in this account") from None

    for team_id in crawler.scope_team_ids:
        crawler.unit(f"teams:{team_id}", lambda t=team_id: scoped_team(t), "teams", lambda body: [body["team"]])


def fetch_team_members(crawler: Crawler) -> None:
    team_ids = crawler.team_ids()
    if team_ids is None:
        from audit.client import Unavailable

        raise Unavailable("GET /teams/{id}/members", 0, "teams are unavailable")

    def members(team_id: str) -> None:
        offset, more = 0, True
        while more:
            memo = crawler.unit(
                f"team_members:{team_id}:{offset}",
                lambda o=offset: crawler.client.get(
                    "/teams/{id}/members", {"limit": PAGE, "offset": o, "total": "true"}, id=team_id),
                "team_members",
                lambda body: [{"team_id": team_id, "member": m} for m in body.get("members") or []],
                lambda body: {"more": bool(body.get("more"))},
            )
            more = memo["more"]
            offset += PAGE
            if more and offset + PAGE > CAP:
                raise CrawlError(f"GET /teams/{team_id}/members: more than {CAP:,} members")

    crawler.map(members, team_ids)


def team_members_bound(crawler: Crawler) -> int:
    counts = dict.fromkeys(crawler.seen("teams"), 0)
    for line in crawler.writer.existing("team_members"):
        counts[line["team_id"]] = counts.get(line["team_id"], 0) + 1
    return sum(pages(n) for n in counts.values())


def team_member_identity(line: Any) -> str:
    return f"{line['team_id']}/{line['member'].get('user', {}).get('id')}"


# Over the complexity limit (one branch per collection that names users); split it when next changed.
def referenced_user_ids(writer: SnapshotWriter) -> set[str]:  # noqa: C901
    """Every user id that the crawled teams, policies, schedules and on-calls name."""
    found: set[str] = set()
    for line in writer.existing("team_members"):
        found.add((line["member"].get("user") or {}).get("id"))
    for policy in writer.existing("escalation_policies"):
        for rule in policy.get("escalation_rules") or []:
            for target in rule.get("targets") or []:
                if target.get("type") in ("user", "user_reference"):
                    found.add(target.get("id"))
    for schedule in writer.existing("schedules"):
        for layer in schedule.get("schedule_layers") or []:
            found.update((member.get("user") or {}).get("id") for member in layer.get("users") or [])
        for part in ("final_schedule", "overrides_subschedule"):
            for entry in (schedule.get(part) or {}).get("rendered_schedule_entries") or []:
                found.add((entry.get("user") or {}).get("id"))
    for schedule in writer.existing("schedules_v3"):
        for rotation in schedule.get("rotations") or []:
            for event in rotation.get("events") or []:
                for member in (event.get("assignment_strategy") or {}).get("members") or []:
                    found.add(member.get("user_id"))
        for entry in (schedule.get("final_schedule") or {}).get("computed_shift_assignments") or []:
            found.add((entry.get("member") or {}).get("user_id"))
    for entry in writer.existing("oncalls"):
        found.add((entry.get("user") or {}).get("id"))
    found.discard(None)
    return found


USERS = ListSpec("users", "/users", "users", USERS_INCLUDES, detail_path="/users/{id}", detail_key="user",
                 referenced_ids=referenced_user_ids,
                 searchable=lambda user: (user.get("name"), user.get("email")))


def window_params(crawler: Crawler) -> dict[str, Any]:
    return {"since": iso(crawler.window.since), "until": iso(crawler.window.until)}


def fetch_schedules(crawler: Crawler) -> None:
    # The list is read for ids only (details carry everything). No time_zone: asked for one,
    # the API renders in it and reports it as the schedule's own, and hand-off hours are
    # judged in the schedule's real zone.
    ids = sorted(crawler.crawl_list(SCHEDULE_LIST, keep=False))
    params = window_params(crawler)
    crawler.map(lambda schedule_id: crawler.detail("schedules", f"schedules:detail:{schedule_id}",
                                                   "/schedules/{id}", schedule_id, params, "schedule"), ids)


def fetch_schedules_v3(crawler: Crawler) -> None:
    ids: list[str] = []
    offset, more = 0, True
    base = [("team_ids[]", t) for t in crawler.scope_team_ids or ()]
    while more:
        memo = crawler.unit(
            f"schedules_v3:list:{offset}",
            lambda o=offset: crawler.client.get("/v3/schedules", multi(base + [("limit", V3_PAGE), ("offset", o)])),
            None,
            lambda body: [],
            lambda body: {"more": bool(body.get("more")),
                          "ids": [s["id"] for s in body.get("schedules") or []]},
        )
        ids += memo["ids"]
        more = memo["more"] and bool(memo["ids"])
        offset += V3_PAGE
    params = {**window_params(crawler), "include[]": "final_schedule"}
    crawler.map(lambda schedule_id: crawler.detail("schedules_v3", f"schedules_v3:detail:{schedule_id}",
                                                   "/v3/schedules/{id}", schedule_id, params, "schedule"),
                list(dict.fromkeys(ids)))


def detailed_pages(name: str, size: int = PAGE) -> Callable[[Crawler], int]:
    """A list read for its ids, then one request per object."""
    return lambda crawler: pages(crawler.count(name), size) + crawler.count(name)


def fetch_oncalls(crawler: Crawler) -> None:
    base = (("since", iso(crawler.window.since)), ("until", iso(crawler.window.until)), ("time_zone", "UTC"))
    spec = ListSpec("oncalls", "/oncalls", "oncalls", base, by_team=False)
    if not crawler.scope_team_ids:
        _, complete, _ = crawler.sweep(spec, (), "all")
        if complete:
            return

    def batch(ids: list[str]) -> None:
        extra = tuple(("escalation_policy_ids[]", p) for p in ids)
        total, complete, _ = crawler.sweep(spec, extra, "eps-" + batch_label(ids))
        if not complete:
            raise CrawlError(f"/oncalls: {total:,} on-call entries for {len(ids)} policies, past the cap")

    crawler.coordinate(batch, in_batches(sorted(crawler.seen("escalation_policies")), TEAM_BATCH))


def oncall_identity(entry: Any) -> str:
    return "|".join(
        str(x)
        for x in (
            (entry.get("escalation_policy") or {}).get("id"),
            entry.get("escalation_level"),
            (entry.get("schedule") or {}).get("id"),
            (entry.get("user") or {}).get("id"),
            entry.get("start"),
            entry.get("end"),
        )
    )


def fetch_handoff_rules(crawler: Crawler) -> None:
    """Hand-off notification rules of the users on call in the window (RCH-05).

    PagerDuty serves them per user, apart from the user object, unpaginated (the body
    is the wrapper key alone: no limit, offset or more); only the people on call are
    judged, so only they are asked for (one request each).
    """
    on_call = sorted({
        (entry.get("user") or {}).get("id")
        for entry in crawler.writer.existing("oncalls")
        if (entry.get("user") or {}).get("id")
    })

    def rules(user_id: str) -> None:
        crawler.unit(
            f"handoff_rules:{user_id}",
            lambda: crawler.client.get("/users/{id}/oncall_handoff_notification_rules", id=user_id),
            "handoff_rules",
            lambda body: [{"user_id": user_id, "oncall_handoff_notification_rules":
                           list(body.get("oncall_handoff_notification_rules") or [])}],
        )

    crawler.map(rules, on_call)


def fetch_dependencies(crawler: Crawler) -> None:
    def relationships(kind_id: tuple[str, str]) -> None:
        kind, object_id = kind_id
        crawler.unit(
            f"service_dependencies:{kind}:{object_id}",
            lambda: crawler.client.get(f"/service_dependencies/{kind}/{{id}}", id=object_id),
            "service_dependencies",
            lambda body: list(body.get("relationships") or []),
        )

    work = [("business_services", i) for i in sorted(crawler.seen("business_services"))]
    work += [("technical_services", i) for i in sorted(crawler.seen("services"))]
    crawler.map(relationships, work)


def fetch_standards(crawler: Crawler) -> None:
    crawler.unit("standards", lambda: crawler.client.get("/standards"), "standards",
                 lambda body: list(body.get("standards") or []))


def fetch_standards_scores(crawler: Crawler) -> None:
    from audit.client import ApiError  # not at import: snapshot readers import this module

    def scores(ids: list[str]) -> None:
        try:
            crawler.unit(
                "standards_scores:" + batch_label(ids),
                lambda: crawler.client.get("/standards/scores/{resource_type}", multi([("ids[]", i) for i in ids]),
                                           resource_type="technical_services"),
                "standards_scores",
                lambda body: list(body.get("resources") or []),
            )
        except ApiError as exc:
            if exc.status != 404:
                raise
            # A service of the batch was deleted: ask for each one, so that only it is left out (Gone).
            for service_id in ids:
                crawler.unit(f"standards_scores:{service_id}",
                             lambda i=service_id: crawler.client.get("/standards/scores/{resource_type}/{id}",
                                                                     resource_type="technical_services", id=i),
                             "standards_scores", lambda body: [body] if body.get("resource_id") else [])

    crawler.map(scores, in_batches(sorted(crawler.seen("services")), SCORES_BATCH))


# ---------------------------------------------------------------- the collections

SPECS: tuple[CollectionSpec, ...] = (
    CollectionSpec("abilities", "an ability name (string), from GET /abilities",
                   fetch_abilities, lambda crawler: 1, identity=str, leads=True),
    # Teams lead: every list past the cap is partitioned by their ids.
    CollectionSpec("teams", "a team object, from GET /teams", fetch_teams, list_pages("teams"), leads=True),
    CollectionSpec("team_members", '{"team_id": ID, "member": object from GET /teams/{id}/members}',
                   fetch_team_members, team_members_bound, identity=team_member_identity),
    CollectionSpec("users", "a user object with contact_methods, notification_rules and teams included",
                   listed(USERS), list_pages("users")),
    CollectionSpec("services", "a service object with integrations included",
                   listed(SERVICES), list_pages("services")),
    CollectionSpec("escalation_policies", "an escalation policy object with its escalation_rules",
                   listed(POLICIES), list_pages("escalation_policies")),
    CollectionSpec("schedules", "a v2 schedule from GET /schedules/{id}?since&until (layers, overrides, "
                   "final_schedule)", fetch_schedules, detailed_pages("schedules")),
    CollectionSpec("schedules_v3", "a shift-based schedule from GET /v3/schedules/{id}?include[]=final_schedule",
                   fetch_schedules_v3, detailed_pages("schedules_v3", V3_PAGE)),
    CollectionSpec("business_services", "a business service object", listed(BUSINESS_SERVICES),
                   list_pages("business_services"), skippable=True),
    CollectionSpec("extensions", "an outbound extension from GET /extensions; extension_objects names the "
                   "services it serves", listed(ListSpec("extensions", "/extensions", "extensions", by_team=False)),
                   list_pages("extensions")),
    CollectionSpec("standards", "a service standard, from GET /standards", fetch_standards,
                   lambda crawler: 1, skippable=True),
    CollectionSpec("oncalls", "an on-call entry from GET /oncalls over the window", fetch_oncalls,
                   list_pages("oncalls"), identity=oncall_identity, after=("escalation_policies",), skippable=True),
    CollectionSpec("handoff_rules", '{"user_id": ID, "oncall_handoff_notification_rules": [...]}, for each '
                   "user on call", fetch_handoff_rules, lambda crawler: crawler.count("handoff_rules"),
                   identity=lambda line: str(line["user_id"]), after=("oncalls",), skippable=True),
    # One request per service: the largest share of a big crawl, hence skippable.
    CollectionSpec("service_dependencies", "a dependency relationship (deduplicated by id)", fetch_dependencies,
                   lambda crawler: crawler.count("business_services") + crawler.count("services"),
                   after=("services", "business_services"), skippable=True),
    CollectionSpec("standards_scores", "a resource's standards score, from GET /standards/scores/"
                   "technical_services", fetch_standards_scores, list_pages("services", SCORES_BATCH),
                   identity=lambda score: f"{score.get('resource_type')}/{score.get('resource_id')}",
                   after=("services", "standards"), skippable=True),
    # Incident behaviour over the incidents window (audit.crawl_incidents): analytics, or the
    # /incidents + /log_entries fallback, which needs the users' zones for interruptions.
    CollectionSpec("incidents", "an incident's Analytics API raw record (source: analytics), or the same "
                   "fields computed from GET /incidents and /log_entries (source: incidents+log_entries)",
                   fetch_incidents, list_pages("incidents", 1_000), after=("users",), skippable=True,
                   wanted=lambda crawler: crawler.incidents_window is not None),
)

SPEC_BY_NAME = {spec.name: spec for spec in SPECS}
# Every collection a snapshot may hold, and what one line of it is. Lines are the API's
# objects exactly as returned, except where a sub-collection needs its parent named.
COLLECTIONS: dict[str, str] = {spec.name: spec.holds for spec in SPECS}
SKIPPABLE = tuple(spec.name for spec in SPECS if spec.skippable)
