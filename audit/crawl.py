"""What to fetch from PagerDuty, in which partitions, and how to resume.

The crawler reads every collection an ownership audit needs through
``audit.client.ApiClient`` and hands finished units of work (a page of a list,
one object's detail) to ``audit.snapshot.SnapshotWriter``. It never presents a
partial collection as whole:

* Classic pagination stops at ``offset + limit <= 10000``. A list whose ``total``
  is past that cap is partitioned by ``team_ids[]`` (batches of teams, split in
  half until each batch fits), and the objects that belong to no team are found by
  sweeping the unfiltered list (ascending, then descending where the endpoint can
  sort) until the count matches ``total``. If it cannot be made to match, the
  crawl fails (exit 3) and says how many objects were out of reach.
* Every unit is journalled; ``--resume`` skips the units already done, so a crawl
  that gave up continues from where it stopped.

Requests run concurrently in a thread pool, paced by the client's ``Pacer``.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

from audit.client import ApiClient, ApiError, Unavailable
from audit.errors import CrawlError
from audit.snapshot import COLLECTIONS, SnapshotWriter

PAGE = 100
CAP = 10_000  # offset + limit may not exceed this on classic pagination
V3_PAGE = 1_000
TEAM_BATCH = 40  # team ids per request: keeps URLs short (each id costs ~24 bytes)
SCORES_BATCH = 100  # /standards/scores takes at most 100 ids
MAX_WINDOW_DAYS = 90
# Collections a crawl may leave out on purpose (rules that need them report "excluded").
# Service dependencies cost one request per service: the largest share of a big crawl.
SKIPPABLE = ("service_dependencies", "standards", "standards_scores", "oncalls", "handoff_rules",
             "business_services")


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


@dataclasses.dataclass(frozen=True)
class ListSpec:
    """A classic-paginated list endpoint and how it may be partitioned."""

    collection: str
    path: str
    key: str  # the wrapper key of the list in the response body
    params: tuple[tuple[str, Any], ...] = ()
    by_team: bool = True  # accepts team_ids[]
    sortable: bool = False  # accepts sort_by=name:desc
    # Objects other collections refer to can be fetched one by one (GET path/{id}) when
    # the list cannot reach them (no team, past the cap): only users have this need.
    fill_by_reference: str | None = None


SERVICES = ListSpec("services", "/services", "services", (("include[]", "integrations"),), sortable=True)
USERS = ListSpec(
    "users",
    "/users",
    "users",
    (("include[]", "contact_methods"), ("include[]", "notification_rules"), ("include[]", "teams")),
    fill_by_reference="/users/{id}",
)
POLICIES = ListSpec("escalation_policies", "/escalation_policies", "escalation_policies", sortable=True)
SCHEDULE_LIST = ListSpec("schedules", "/schedules", "schedules")
TEAMS = ListSpec("teams", "/teams", "teams", by_team=False)
BUSINESS_SERVICES = ListSpec("business_services", "/business_services", "business_services", by_team=False)


class Progress:
    """Reports per-collection progress (the CLI draws it on stderr; tests pass None)."""

    def update(self, collection: str, count: int) -> None:  # pragma: no cover - interface
        pass

    def done(self, collection: str, count: int, status: str) -> None:  # pragma: no cover
        pass


@dataclasses.dataclass
class _Collected:
    """Ids seen so far per collection (dedup across partitions and resumes)."""

    seen: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    status: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


class Crawler:
    """Crawls one account into one snapshot."""

    def __init__(
        self,
        client: ApiClient,
        writer: SnapshotWriter,
        window: Window,
        *,
        team_ids: list[str] | None = None,
        skip: Iterable[str] = (),
        workers: int = 8,
        progress: Progress | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        self.client = client
        self.writer = writer
        self.window = window
        self.scope_team_ids = team_ids
        self.skip = set(skip)
        unknown = self.skip - set(SKIPPABLE)
        if unknown:
            raise CrawlError(f"--skip: {', '.join(sorted(unknown))} cannot be skipped "
                             f"(choose from {', '.join(SKIPPABLE)})")
        self.workers = workers
        self.progress = progress or Progress()
        self.now = now
        self._lock = threading.Lock()
        self._journalled: dict[str, int] = {}  # this run's request counts as last journalled
        self._collected = _Collected()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pd-audit-request")
        # Collection and partition threads fetch first pages outside the pool: this caps the
        # units under way (fetched, not yet journalled) at `workers` wherever they run, so
        # --workers bounds concurrent requests and what a crash can lose.
        self._unit_slots = threading.BoundedSemaphore(workers)
        self._shortfalls: dict[str, tuple[ListSpec, int]] = {}
        for name in COLLECTIONS:
            self._collected.seen[name] = {
                _identity(name, obj) for obj in writer.existing(name)
            }

    # ---------------------------------------------------------------- running

    def run(self) -> dict[str, Any]:
        """Crawl everything; return the manifest fields the crawl knows."""
        started = self.writer.state.get("crawl_started_at") or iso(self.now())
        if "crawl_started_at" not in self.writer.state:
            self.writer.write_unit("start", None, [], state={"crawl_started_at": started})
        try:
            self._run_collections()
        except BaseException:
            self._pool.shutdown(wait=True, cancel_futures=True)
            with self._lock:
                self.writer.write_unit(f"requests-{len(self.writer.done_units)}", None, [],
                                       requests=self._unjournalled_requests())
            raise
        self._pool.shutdown(wait=True)
        merged = self._requests_so_far()
        return {
            "api_base": self.client.base_url,
            "crawl_started_at": started,
            "crawl_finished_at": iso(self.now()),
            "window": self.window.to_json(),
            "scope": {"team_ids": self.scope_team_ids} if self.scope_team_ids else None,
            "collections": self._collected.status,
            "requests": {
                "total": sum(merged.values()),
                "by_endpoint": dict(sorted(merged.items())),
                "lower_bound": self.lower_bound(),
                "throttled": self.client.throttled,
                "retries": self.client.retries,
            },
        }

    def _requests_so_far(self) -> dict[str, int]:
        merged = collections.Counter(self.writer.journalled_requests)  # by the runs this one resumes
        merged.update(self.client.request_counts())
        return dict(merged)

    def _unjournalled_requests(self) -> dict[str, int]:
        """The requests made since the last journal entry (call holding ``_lock``, which orders entries)."""
        now = self.client.request_counts()
        fresh = {endpoint: count - self._journalled.get(endpoint, 0) for endpoint, count in now.items()}
        self._journalled = now
        return {endpoint: count for endpoint, count in fresh.items() if count}

    def _run_collections(self) -> None:
        # Teams come first: every partitioned list needs their ids.
        self._collection("abilities", self._crawl_abilities)
        self._collection("teams", self._crawl_teams)
        # The rest run side by side; a task that needs another's ids waits on it.
        with ThreadPoolExecutor(max_workers=12, thread_name_prefix="pd-audit-collection") as tasks:
            started: dict[str, Future[None]] = {}

            def start(name: str, fn: Callable[[], None], after: Iterable[str] = ()) -> None:
                deps = [started[d] for d in after]

                def run() -> None:
                    for dep in deps:
                        dep.result()
                    missing = [d for d in after if self._collected.status[d]["status"] != "complete"]
                    if missing:
                        self._unavailable(name, None, f"needs {', '.join(missing)}, which was unavailable")
                        return
                    self._collection(name, fn)

                started[name] = tasks.submit(run)

            start("team_members", self._crawl_team_members)
            start("users", lambda: self._crawl_list(USERS))
            start("services", lambda: self._crawl_list(SERVICES))
            start("escalation_policies", lambda: self._crawl_list(POLICIES))
            start("schedules", self._crawl_schedules)
            start("schedules_v3", self._crawl_schedules_v3)
            start("business_services", lambda: self._crawl_list(BUSINESS_SERVICES))
            start("standards", self._crawl_standards)
            start("oncalls", self._crawl_oncalls, after=["escalation_policies"])
            start("handoff_rules", self._crawl_handoff_rules, after=["oncalls"])
            start("service_dependencies", self._crawl_dependencies, after=["services", "business_services"])
            start("standards_scores", self._crawl_standards_scores, after=["services", "standards"])
            for future in started.values():
                future.result()
        self._fill_by_reference()

    def _collection(self, name: str, fn: Callable[[], None]) -> None:
        if name in self.skip:
            self._unavailable(name, None, "skipped (--skip)")
            return
        try:
            fn()
        except Unavailable as exc:
            self._unavailable(name, exc.status, exc.message)
            return
        count = len(self._collected.seen[name])
        self._collected.status[name] = {"status": "complete", "count": count}
        self.progress.done(name, count, "complete")

    def _unavailable(self, name: str, http_status: int | None, reason: str) -> None:
        self._collected.status[name] = {
            "status": "unavailable",
            "count": 0,
            "http_status": http_status,
            "reason": reason,
        }
        self.progress.done(name, 0, f"unavailable: {reason}")

    # ---------------------------------------------------------------- units

    def _unit(
        self,
        unit: str,
        fetch: Callable[[], dict[str, Any]],
        collection: str | None,
        extract: Callable[[dict[str, Any]], list[Any]],
        remember: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: {},
    ) -> dict[str, Any]:
        """Run one unit of work once: fetch, keep the new objects, journal it.

        Returns what ``remember`` kept of the answer (journalled, so that a resumed
        crawl gets it back without asking the API again).
        """
        with self._lock:
            if unit in self.writer.done_units:
                return self.writer.state.get(unit, {})
        with self._unit_slots:
            body = fetch()
            objects = extract(body)
            memo = remember(body)
            with self._lock:
                fresh = []
                if collection is not None:
                    seen = self._collected.seen[collection]
                    for obj in objects:
                        key = _identity(collection, obj)
                        if key not in seen:
                            seen.add(key)
                            fresh.append(obj)
                self.writer.write_unit(unit, collection, fresh, state={unit: memo} if memo else None,
                                       requests=self._unjournalled_requests())
                if collection is not None:
                    self.progress.update(collection, len(self._collected.seen[collection]))
        return memo

    def _map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``fn`` (one request's worth of work) over items on the request pool.

        ``fn`` must not wait on the pool itself; work that does (a partition that pages
        through its own list) goes through ``_coordinate`` instead, or the pool's
        workers would all wait on tasks that have no worker left to run them.
        """
        return _gather([self._pool.submit(fn, item) for item in items])

    def _coordinate(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``fn`` over items on threads of their own: for work that itself calls ``_map``."""
        work = list(items)
        if len(work) <= 1:
            return [fn(item) for item in work]
        with ThreadPoolExecutor(max_workers=min(len(work), self.workers),
                                thread_name_prefix="pd-audit-partition") as partitions:
            return _gather([partitions.submit(fn, item) for item in work])

    # ---------------------------------------------------------------- lists

    def _page(self, spec: ListSpec, extra: tuple[tuple[str, Any], ...], label: str, offset: int,
              limit: int = PAGE, keep: bool = True) -> dict[str, Any]:
        params = list(spec.params) + list(extra) + [("limit", limit), ("offset", offset), ("total", "true")]

        def extract(body: dict[str, Any]) -> list[Any]:
            return list(body.get(spec.key) or []) if keep else []

        def remember(body: dict[str, Any]) -> dict[str, Any]:
            # Ids are kept for lists read only for their ids (schedules: the details
            # carry everything), so a resumed crawl need not list them again.
            memo = {"total": body.get("total"), "more": bool(body.get("more"))}
            if not keep:
                memo["ids"] = [o["id"] for o in body.get(spec.key) or []]
            return memo

        return self._unit(
            f"{spec.collection}:{label}:{offset}",
            lambda: self.client.get(spec.path, _multi(params)),
            spec.collection if keep else None,
            extract,
            remember,
        )

    def _sweep(self, spec: ListSpec, extra: tuple[tuple[str, Any], ...], label: str, *,
               keep: bool = True, over_cap_pages: bool = False, reach: int | None = None,
               enough: Callable[[], bool] = lambda: False) -> tuple[int | None, bool, list[str]]:
        """Page through one (filtered) list.

        Returns (total, complete, ids): complete means every object of this query
        was reached. A query whose total is over the cap returns after its first
        page unless ``reach`` asks for its first ``reach`` objects (fetched side by
        side) or ``over_cap_pages`` for pages one by one until ``enough``.
        """
        first = self._page(spec, extra, label, 0, keep=keep)
        total = first.get("total")
        memos = [first]
        if not first["more"]:
            return total, True, _ids(memos)
        if total is not None and reach is not None and total > CAP:
            offsets = range(PAGE, math.ceil(min(reach, CAP) / PAGE) * PAGE, PAGE)
            memos += self._map(lambda off: self._page(spec, extra, label, off, keep=keep), offsets)
            return total, False, _ids(memos)
        if total is not None and total <= CAP:
            offsets = range(PAGE, math.ceil(total / PAGE) * PAGE, PAGE)
            memos += self._map(lambda off: self._page(spec, extra, label, off, keep=keep), offsets)
            offset = max([0, *offsets]) + PAGE
            # The list grew while we paged: follow `more` to the end.
            while memos[-1]["more"] and offset + PAGE <= CAP:
                memos.append(self._page(spec, extra, label, offset, keep=keep))
                offset += PAGE
            return total, not memos[-1]["more"], _ids(memos)
        if total is not None and not over_cap_pages:
            return total, False, _ids(memos)
        # Unknown total, or a sweep asked to go as far as the cap allows: sequentially.
        offset = PAGE
        while memos[-1]["more"] and offset + PAGE <= CAP and not enough():
            memos.append(self._page(spec, extra, label, offset, keep=keep))
            offset += PAGE
        return total, not memos[-1]["more"], _ids(memos)

    def _crawl_list(self, spec: ListSpec, keep: bool = True) -> set[str]:
        """Every object of a list endpoint, partitioned past the cap; returns their ids.

        ``keep=False`` reads the list for its ids only (schedules: the details carry
        everything); the objects are then not written to the snapshot.
        """
        seen = self._collected.seen[spec.collection] if keep else set()

        def reached(ids: Iterable[str]) -> None:
            # Kept objects are counted by _unit as they are written; ids-only sweeps return theirs.
            if not keep:
                seen.update(ids)

        if self.scope_team_ids and spec.by_team:
            reached(self._crawl_team_batches(spec, self.scope_team_ids, keep))
            return seen
        total, complete, ids = self._sweep(spec, (), "all", keep=keep)
        reached(ids)
        if complete:
            return seen
        if spec.sortable and total is not None and total <= 2 * CAP:
            # Both ends of the name order: the first 10,000 ascending and the rest
            # descending cover the list in as many pages as it has, with no partition.
            for _, _, part_ids in self._coordinate(
                lambda part: self._sweep(spec, part[0], part[1], keep=keep, reach=part[2]),
                [((), "all", CAP), ((("sort_by", "name:desc"),), "desc", total - CAP)],
            ):
                reached(part_ids)
            if len(seen) >= total:
                return seen
        if not spec.by_team:
            raise CrawlError(
                f"{spec.path}: {total} objects, past the {CAP:,}-record pagination cap, "
                "and the endpoint has no filter to partition by"
            )
        team_ids = self._team_ids()
        if team_ids is None:
            raise CrawlError(
                f"{spec.path}: {total} objects, past the {CAP:,}-record pagination cap, and teams "
                "are unavailable to partition by"
            )
        reached(self._crawl_team_batches(spec, team_ids, keep))
        if total is None:
            raise CrawlError(
                f"{spec.path}: the list runs past the {CAP:,}-record pagination cap and the API gives "
                "no total, so the objects with no team cannot be proven complete"
            )
        # What is still missing belongs to no team: sweep the unfiltered list for it.
        for order, label in ((), "all"), ((("sort_by", "name:desc"),), "desc"):
            if len(seen) >= total:
                break
            if order and not spec.sortable:
                break
            reached(self._sweep(spec, order, label, keep=keep, over_cap_pages=True,
                                enough=lambda: len(seen) >= total)[2])
        if len(seen) < total and spec.fill_by_reference:
            # Users cannot be sorted: those with no team past the cap are fetched by id
            # once every collection that names people is in (_fill_by_reference).
            with self._lock:
                self._shortfalls[spec.collection] = (spec, total)
            return seen
        if len(seen) < total:
            raise CrawlError(
                f"{spec.path}: the API reports {total:,} objects but only {len(seen):,} could be reached "
                f"({total - len(seen):,} have no team and lie past the {CAP:,}-record pagination cap); "
                "crawl with --teams to scope it"
            )
        return seen

    def _crawl_team_batches(self, spec: ListSpec, team_ids: list[str], keep: bool = True) -> list[str]:
        batches = [team_ids[i : i + TEAM_BATCH] for i in range(0, len(team_ids), TEAM_BATCH)]
        ids: list[str] = []
        for part in self._coordinate(lambda batch: self._crawl_batch(spec, batch, keep), batches):
            ids += part
        return ids

    def _crawl_batch(self, spec: ListSpec, batch: list[str], keep: bool) -> list[str]:
        extra = tuple(("team_ids[]", t) for t in batch)
        label = "teams-" + _batch_label(batch)
        total, complete, ids = self._sweep(spec, extra, label, keep=keep)
        if complete:
            return ids
        if len(batch) == 1:
            raise CrawlError(
                f"{spec.path}: team {batch[0]} alone has {total:,} objects, past the {CAP:,}-record "
                "pagination cap; PagerDuty offers no finer filter"
            )
        half = len(batch) // 2
        return self._crawl_batch(spec, batch[:half], keep) + self._crawl_batch(spec, batch[half:], keep)

    def _fill_by_reference(self) -> None:
        """Fetch, one by one, the objects a list could not reach but others refer to.

        What remains missing after that is referred to by nothing the audit reads;
        it is still missing, so the crawl fails rather than call the collection whole.
        """
        for name, (spec, total) in sorted(self._shortfalls.items()):
            seen = self._collected.seen[name]
            missing = sorted(_referenced_user_ids(self.writer) - seen)
            params = _multi(list(spec.params))

            def fetch(object_id: str) -> None:
                self._detail(name, f"{name}:ref:{object_id}", spec.fill_by_reference or "", object_id,
                             params, spec.key.rstrip("s"))

            self._map(fetch, missing)
            if len(seen) < total:
                raise CrawlError(
                    f"{spec.path}: the API reports {total:,} objects but only {len(seen):,} could be reached "
                    f"({total - len(seen):,} have no team, lie past the {CAP:,}-record pagination cap and are "
                    "named by no team, schedule, policy or on-call); crawl with --teams to scope it"
                )
            self._collected.status[name]["count"] = len(seen)

    def _team_ids(self) -> list[str] | None:
        if self.scope_team_ids:
            return list(self.scope_team_ids)
        if self._collected.status.get("teams", {}).get("status") != "complete":
            return None
        return sorted(self._collected.seen["teams"])

    # ---------------------------------------------------------------- collections

    def _crawl_abilities(self) -> None:
        self._unit("abilities", lambda: self.client.get("/abilities"), "abilities",
                   lambda body: list(body.get("abilities") or []))

    def _crawl_teams(self) -> None:
        if self.scope_team_ids:
            for team_id in self.scope_team_ids:
                try:
                    self._unit(f"teams:{team_id}", lambda t=team_id: self.client.get("/teams/{id}", id=t),
                               "teams", lambda body: [body["team"]])
                except ApiError as exc:
                    if exc.status == 404:
                        raise CrawlError(f"--teams: team {team_id} does not exist in this account") from None
                    raise
            return
        self._crawl_list(TEAMS)

    def _crawl_team_members(self) -> None:
        team_ids = self._team_ids()
        if team_ids is None:
            raise Unavailable("GET /teams/{id}/members", 0, "teams are unavailable")

        def members(team_id: str) -> None:
            offset, more = 0, True
            while more:
                memo = self._unit(
                    f"team_members:{team_id}:{offset}",
                    lambda o=offset: self.client.get(
                        "/teams/{id}/members", {"limit": PAGE, "offset": o, "total": "true"}, id=team_id),
                    "team_members",
                    lambda body: [{"team_id": team_id, "member": m} for m in body.get("members") or []],
                    lambda body: {"more": bool(body.get("more"))},
                )
                more = memo["more"]
                offset += PAGE
                if more and offset + PAGE > CAP:
                    raise CrawlError(f"GET /teams/{team_id}/members: more than {CAP:,} members")

        self._map(members, team_ids)

    def _crawl_schedules(self) -> None:
        ids = self._schedule_ids()
        # No time_zone: asked for one, the API renders in it and reports it as the
        # schedule's own, and hand-off hours are judged in the schedule's real zone.
        params = {"since": iso(self.window.since), "until": iso(self.window.until)}

        def detail(schedule_id: str) -> None:
            self._detail("schedules", f"schedules:detail:{schedule_id}", "/schedules/{id}", schedule_id,
                         params, "schedule")

        self._map(detail, ids)

    def _schedule_ids(self) -> list[str]:
        """The v2 schedule ids (the list is only read for ids: details carry everything)."""
        return sorted(self._crawl_list(SCHEDULE_LIST, keep=False))

    def _detail(self, collection: str, unit: str, path: str, object_id: str,
                params: dict[str, Any], key: str) -> None:
        def fetch() -> dict[str, Any]:
            try:
                return self.client.get(path, _multi(list(params.items())), id=object_id)
            except ApiError as exc:
                if exc.status == 404:  # deleted between the list and the detail: nothing to keep
                    return {}
                raise

        self._unit(unit, fetch, collection, lambda body: [body[key]] if body.get(key) else [])

    def _crawl_schedules_v3(self) -> None:
        ids: list[str] = []
        offset, more = 0, True
        base: list[tuple[str, Any]] = []
        if self.scope_team_ids:
            base = [("team_ids[]", t) for t in self.scope_team_ids]
        while more:
            memo = self._unit(
                f"schedules_v3:list:{offset}",
                lambda o=offset: self.client.get("/v3/schedules", _multi(base + [("limit", V3_PAGE), ("offset", o)])),
                None,
                lambda body: [],
                lambda body: {"more": bool(body.get("more")),
                              "ids": [s["id"] for s in body.get("schedules") or []]},
            )
            ids += memo["ids"]
            more = memo["more"] and bool(memo["ids"])
            offset += V3_PAGE
        params = {"since": iso(self.window.since), "until": iso(self.window.until),
                  "include[]": "final_schedule"}

        def detail(schedule_id: str) -> None:
            self._detail("schedules_v3", f"schedules_v3:detail:{schedule_id}", "/v3/schedules/{id}",
                         schedule_id, params, "schedule")

        self._map(detail, list(dict.fromkeys(ids)))

    def _crawl_oncalls(self) -> None:
        base = (("since", iso(self.window.since)), ("until", iso(self.window.until)), ("time_zone", "UTC"))
        spec = ListSpec("oncalls", "/oncalls", "oncalls", base, by_team=False)
        policy_ids = sorted(self._collected.seen["escalation_policies"])
        if self.scope_team_ids:
            batches = [policy_ids[i : i + TEAM_BATCH] for i in range(0, len(policy_ids), TEAM_BATCH)]
        else:
            total, complete, _ = self._sweep(spec, (), "all")
            if complete:
                return
            batches = [policy_ids[i : i + TEAM_BATCH] for i in range(0, len(policy_ids), TEAM_BATCH)]

        def batch(ids: list[str]) -> None:
            extra = tuple(("escalation_policy_ids[]", p) for p in ids)
            total, complete, _ = self._sweep(spec, extra, "eps-" + _batch_label(ids))
            if not complete:
                raise CrawlError(f"/oncalls: {total:,} on-call entries for {len(ids)} policies, past the cap")

        self._coordinate(batch, batches)

    def _crawl_handoff_rules(self) -> None:
        """Hand-off notification rules of the users on call in the window (RCH-05).

        PagerDuty serves them per user, apart from the user object; only the people
        on call are judged, so only they are asked for (one request each).
        """
        on_call = sorted({
            (entry.get("user") or {}).get("id")
            for entry in self.writer.existing("oncalls")
            if (entry.get("user") or {}).get("id")
        })

        def rules(user_id: str) -> None:
            self._unit(
                f"handoff_rules:{user_id}",
                lambda: self.client.get("/users/{id}/oncall_handoff_notification_rules", id=user_id),
                "handoff_rules",
                lambda body: [{"user_id": user_id, "oncall_handoff_notification_rules":
                               list(body.get("oncall_handoff_notification_rules") or [])}],
            )

        self._map(rules, on_call)

    def _crawl_dependencies(self) -> None:
        def relationships(kind_id: tuple[str, str]) -> None:
            kind, object_id = kind_id
            self._unit(
                f"service_dependencies:{kind}:{object_id}",
                lambda: self.client.get(f"/service_dependencies/{kind}/{{id}}", id=object_id),
                "service_dependencies",
                lambda body: list(body.get("relationships") or []),
            )

        work = [("business_services", i) for i in sorted(self._collected.seen["business_services"])]
        work += [("technical_services", i) for i in sorted(self._collected.seen["services"])]
        self._map(relationships, work)

    def _crawl_standards(self) -> None:
        self._unit("standards", lambda: self.client.get("/standards"), "standards",
                   lambda body: list(body.get("standards") or []))

    def _crawl_standards_scores(self) -> None:
        service_ids = sorted(self._collected.seen["services"])
        batches = [service_ids[i : i + SCORES_BATCH] for i in range(0, len(service_ids), SCORES_BATCH)]

        def scores(ids: list[str]) -> None:
            self._unit(
                "standards_scores:" + _batch_label(ids),
                lambda: self.client.get("/standards/scores/{resource_type}", _multi([("ids[]", i) for i in ids]),
                                        resource_type="technical_services"),
                "standards_scores",
                lambda body: list(body.get("resources") or []),
            )

        self._map(scores, batches)

    # ---------------------------------------------------------------- accounting

    def lower_bound(self) -> dict[str, int]:
        """The fewest requests the API allows for what was crawled, by collection."""
        seen = self._collected.seen

        def pages(n: int, size: int = PAGE) -> int:
            return max(1, math.ceil(n / size))

        status = self._collected.status
        bound = {
            "abilities": 1,
            "teams": pages(len(seen["teams"])),
            "team_members": sum(
                pages(n) for n in _members_per_team(self.writer.existing("team_members"), seen["teams"])
            ) if status.get("team_members", {}).get("status") == "complete" else 0,
            "users": pages(len(seen["users"])),
            "services": pages(len(seen["services"])),
            "escalation_policies": pages(len(seen["escalation_policies"])),
            "schedules": pages(len(seen["schedules"])) + len(seen["schedules"]),
            "schedules_v3": pages(len(seen["schedules_v3"]), V3_PAGE) + len(seen["schedules_v3"]),
            "oncalls": pages(len(seen["oncalls"])),
            "handoff_rules": len(seen["handoff_rules"]),
            "business_services": pages(len(seen["business_services"])),
            "service_dependencies": len(seen["business_services"]) + len(seen["services"]),
            "standards": 1,
            "standards_scores": pages(len(seen["services"]), SCORES_BATCH),
        }
        bound = {k: v for k, v in bound.items() if status.get(k, {}).get("status") == "complete"}
        bound["total"] = sum(bound.values())
        return bound


def _referenced_user_ids(writer: SnapshotWriter) -> set[str]:
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


def _members_per_team(lines: Iterator[dict[str, Any]], team_ids: set[str]) -> list[int]:
    counts = dict.fromkeys(team_ids, 0)
    for line in lines:
        counts[line["team_id"]] = counts.get(line["team_id"], 0) + 1
    return list(counts.values())


def _identity(collection: str, obj: Any) -> str:
    """What makes an object one object, for dedup across pages and partitions."""
    if collection == "abilities":
        return str(obj)
    if collection == "team_members":
        return f"{obj['team_id']}/{obj['member'].get('user', {}).get('id')}"
    if collection == "oncalls":
        return "|".join(
            str(x)
            for x in (
                (obj.get("escalation_policy") or {}).get("id"),
                obj.get("escalation_level"),
                (obj.get("schedule") or {}).get("id"),
                (obj.get("user") or {}).get("id"),
                obj.get("start"),
                obj.get("end"),
            )
        )
    if collection == "handoff_rules":
        return str(obj["user_id"])
    if collection == "standards_scores":
        return f"{obj.get('resource_type')}/{obj.get('resource_id')}"
    return str(obj.get("id"))


def _ids(memos: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for memo in memos:
        ids += memo.get("ids", [])
    return ids


def _batch_label(ids: list[str]) -> str:
    # A short stable label for a batch of ids (journal keys must not grow with the batch).
    return f"{ids[0]}+{len(ids) - 1}-" + hashlib.sha1(",".join(ids).encode()).hexdigest()[:10]


def _multi(params: list[tuple[str, Any]] | Iterable[tuple[str, Any]]) -> dict[str, Any]:
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


def crawl_to_snapshot(
    client: ApiClient,
    out: Any,
    window: Window | None,
    *,
    team_ids: list[str] | None = None,
    skip: Iterable[str] = (),
    resume: bool = False,
    force: bool = False,
    workers: int = 8,
    progress: Progress | None = None,
    subdomain: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Crawl into ``out`` and publish the snapshot; return (path, manifest fields).

    ``window`` None on a resume means "the window the interrupted crawl used".
    On failure the partial snapshot stays on disk, journalled, for ``--resume``.
    """
    writer = SnapshotWriter(out, resume=resume, force=force)
    if window is None:
        saved = writer.state.get("window")
        if saved is None:
            writer.close()
            raise CrawlError("no on-call window: pass --since and --window")
        window = Window(datetime.fromisoformat(saved["since"]), int(saved["days"]))
    if resume and "window" in writer.state and writer.state["window"] != window.to_json():
        saved = writer.state["window"]
        writer.close()
        raise CrawlError(
            f"--resume: the interrupted crawl used the window {saved['since']} + {saved['days']}d; "
            "pass the same --since and --window"
        )
    if "window" not in writer.state:
        writer.write_unit("window", None, [], state={"window": window.to_json()})
    try:
        crawler = Crawler(client, writer, window, team_ids=team_ids, skip=skip, workers=workers,
                          progress=progress)
    except BaseException:
        writer.close()
        raise
    try:
        fields = crawler.run()
    except BaseException:
        writer.close()
        raise
    fields["subdomain"] = subdomain
    path = writer.finish(fields)
    return path, fields


def _gather(futures: list[Future[Any]]) -> list[Any]:
    """Every future's result, in order; the first failure is raised once all have ended
    (the others' finished work is journalled, so a resume need not redo it)."""
    results = []
    error: BaseException | None = None
    for future in futures:
        try:
            results.append(future.result())
        except BaseException as exc:
            error = error or exc
    if error is not None:
        raise error
    return results
