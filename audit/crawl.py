"""How the collections are fetched from PagerDuty: partitions, concurrency, resuming.

The crawler runs every collection described in ``audit.crawl_specs.SPECS`` (what
to fetch) through ``audit.client.ApiClient`` and hands finished units of work (a
page of a list, one object's detail) to ``audit.snapshot.SnapshotWriter``. It
keeps the thread pool, the journal and pagination, and never presents a partial
collection as whole:

* Classic pagination stops at ``offset + limit <= 10000``. A list whose ``total``
  is past that cap is partitioned by ``team_ids[]`` (batches of teams, split in
  half until each batch fits), and the objects that belong to no team are found by
  sweeping the unfiltered list (ascending, then descending where the endpoint can
  sort) until the count matches ``total``; users still missing are fetched by id, then
  by ``query`` (``audit.crawl_queries``), else marked ``incomplete``. Other lists fail (exit 3).
* Every unit is journalled; ``--resume`` skips the units already done, so a crawl
  that gave up continues from where it stopped, after confirming it reads the same
  account (``audit.account_check``).
* A per-object request for an object deleted since a list named it (``Gone``) is a
  finished unit with nothing in it: journalled with why, and listed in the manifest
  under its collection's ``vanished`` (``snapshot info`` shows them).

Requests run concurrently in a thread pool, paced by the client's ``Pacer``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from audit.account_check import API_BASE, SUBDOMAIN, AccountCheck, check_api_base
from audit.client import ApiClient, ApiError, Gone, Unavailable
from audit.crawl_incidents import IncidentsWindow
from audit.crawl_queries import find_by_query
from audit.crawl_specs import (
    CAP,
    PAGE,
    SKIPPABLE,
    SPEC_BY_NAME,
    SPECS,
    TEAM_BATCH,
    CollectionSpec,
    ListSpec,
    Window,
    batch_label,
    in_batches,
    iso,
    multi,
)
from audit.errors import CrawlError
from audit.object_ids import check_object_ids
from audit.snapshot import READABLE, CollectionStatus, SnapshotWriter

__all__ = ["CAP", "PAGE", "SKIPPABLE", "Crawler", "Progress", "Window", "crawl_to_snapshot", "iso"]

class ProgressSink(Protocol):
    """What the crawler reports progress to (the CLI's StderrProgress, or the silent Progress)."""

    def update(self, collection: str, count: int) -> None: ...

    def done(self, collection: str, count: int, status: CollectionStatus, reason: str | None = None) -> None: ...


class Progress:
    """Reports per-collection progress (the CLI draws it on stderr; tests pass None)."""

    def update(self, collection: str, count: int) -> None:  # pragma: no cover - interface
        pass

    def done(self, collection: str, count: int, status: CollectionStatus,
             reason: str | None = None) -> None:  # pragma: no cover - interface
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
        progress: ProgressSink | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        incidents: IncidentsWindow | None = None,
    ):
        self.client = client
        self.incidents_window = incidents
        self.incidents_info: dict[str, Any] = {}  # the manifest's "incidents": source, window, completeness
        self.writer = writer
        self.window = window
        self.scope_team_ids = team_ids
        self.skip = set(skip)
        unknown = self.skip - set(SKIPPABLE)
        if unknown:
            raise CrawlError(f"--skip: {', '.join(sorted(unknown))} cannot be skipped "
                             f"(choose from {', '.join(SKIPPABLE)})")
        self.workers = workers
        self.progress: ProgressSink = progress or Progress()
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
        self.account = AccountCheck(client, writer.state, resuming=bool(writer.done_units))
        self.units_fetched = 0  # units this run asked the API for (none: nothing worth resuming)
        for spec in SPECS:
            self._collected.seen[spec.name] = {spec.identity(obj) for obj in writer.existing(spec.name)}

    # ---------------------------------------------------------------- running

    def run(self) -> dict[str, Any]:
        """Crawl everything; return the manifest fields the crawl knows."""
        started = self.writer.state.get("crawl_started_at") or iso(self.now())
        if "crawl_started_at" not in self.writer.state:
            self.writer.write_unit("start", None, [], state={"crawl_started_at": started,
                                                             API_BASE: self.client.base_url})
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
            "incidents": self.incidents_info or None,
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
        for spec in SPECS:  # the leaders first, in order: every partitioned list needs their ids
            if spec.leads:
                self._collection(spec)
        # The rest run side by side; a collection that needs another's objects waits on it.
        followers = [spec for spec in SPECS if not spec.leads and spec.wanted(self)]
        with ThreadPoolExecutor(max_workers=len(followers), thread_name_prefix="pd-audit-collection") as tasks:
            started: dict[str, Future[None]] = {}

            def start(spec: CollectionSpec) -> None:
                deps = [started[d] for d in spec.after]

                def run() -> None:
                    for dep in deps:
                        dep.result()
                    missing = [d for d in spec.after if not self.complete(d)]
                    if missing:
                        self._unavailable(spec.name, None, f"needs {', '.join(missing)}, which was unavailable")
                        return
                    self._collection(spec)

                started[spec.name] = tasks.submit(run)

            for spec in followers:
                start(spec)
            for future in started.values():
                future.result()
        self._fill_by_reference()

    def _collection(self, spec: CollectionSpec) -> None:
        if spec.name in self.skip:
            self._unavailable(spec.name, None, "skipped (--skip)")
            return
        try:
            spec.fetch(self)
        except Unavailable as exc:
            self._unavailable(spec.name, exc.status, exc.message)
            return
        count = self.count(spec.name)
        self._collected.status[spec.name] = {"status": CollectionStatus.COMPLETE.value, "count": count}
        self.progress.done(spec.name, count, CollectionStatus.COMPLETE)

    def _unavailable(self, name: str, http_status: int | None, reason: str) -> None:
        self._collected.status[name] = {
            "status": CollectionStatus.UNAVAILABLE.value,
            "count": 0,
            "http_status": http_status,
            "reason": reason,
        }
        self.progress.done(name, 0, CollectionStatus.UNAVAILABLE, reason)

    def complete(self, name: str) -> bool:
        """Whether a collection has been crawled whole."""
        return self._collected.status.get(name, {}).get("status") == CollectionStatus.COMPLETE

    def crawled(self, name: str) -> bool:  # whole, or with objects out of reach
        return self._collected.status.get(name, {}).get("status") in READABLE

    def seen(self, name: str) -> set[str]:
        """The identities of the objects of a collection crawled so far."""
        return self._collected.seen[name]

    def count(self, name: str) -> int:
        return len(self._collected.seen[name])

    # ---------------------------------------------------------------- units

    def unit(
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
            gone = None
            self.account.confirm()
            try:
                body = fetch()
            except Gone as exc:  # deleted since a list named it: nothing to keep, nothing to ask again
                body, gone = None, (collection or unit.split(":")[0], exc.record())
            with self._lock:
                try:
                    objects = extract(body) if body is not None else []
                    memo = remember(body or {})
                    fresh = self._fresh(collection, objects)
                except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
                    raise ApiError(self.client.last_endpoint(), 200, None,
                                   f"the answer lacks what PagerDuty sends ({exc.__class__.__name__}: {exc})") from None
                state = {**({unit: memo} if memo else {}), **(self.account.observe(body) or {})}
                self.writer.write_unit(unit, collection, fresh, state=state or None,
                                       requests=self._unjournalled_requests(), gone=gone)
                self.units_fetched += 1
                if collection is not None:
                    self.progress.update(collection, len(self._collected.seen[collection]))
        return memo

    def _fresh(self, collection: str | None, objects: list[Any]) -> list[Any]:
        """The objects not seen before (call holding ``_lock``); they are counted as seen."""
        fresh = []
        if collection is not None:
            seen = self._collected.seen[collection]
            identity = SPEC_BY_NAME[collection].identity
            for obj in objects:
                key = identity(obj)
                if key not in seen:
                    seen.add(key)
                    fresh.append(obj)
        return fresh

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``fn`` (one request's worth of work) over items on the request pool.

        ``fn`` must not wait on the pool itself; work that does (a partition that pages
        through its own list) goes through ``coordinate`` instead, or the pool's
        workers would all wait on tasks that have no worker left to run them.
        """
        return _gather([self._pool.submit(fn, item) for item in items])

    def coordinate(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``fn`` over items on threads of their own: for work that itself calls ``map``."""
        work = list(items)
        if len(work) <= 1:
            return [fn(item) for item in work]
        with ThreadPoolExecutor(max_workers=min(len(work), self.workers),
                                thread_name_prefix="pd-audit-partition") as partitions:
            return _gather([partitions.submit(fn, item) for item in work])

    # ---------------------------------------------------------------- lists

    def page(self, spec: ListSpec, extra: tuple[tuple[str, Any], ...], label: str, offset: int,
             limit: int = PAGE, keep: bool = True,
             observe: Callable[[list[Any]], None] | None = None) -> dict[str, Any]:
        """One page of a (filtered) list as one unit; ``observe`` sees the objects fetched."""
        params = list(spec.params) + list(extra) + [("limit", limit), ("offset", offset), ("total", "true")]

        def extract(body: dict[str, Any]) -> list[Any]:
            objects = list(body.get(spec.key) or []) if keep else []
            if observe is not None:
                observe(objects)
            return objects

        def remember(body: dict[str, Any]) -> dict[str, Any]:
            # Ids are kept for lists read only for their ids (schedules: the details
            # carry everything), so a resumed crawl need not list them again.
            total = body.get("total")  # a total that is not a count is no total (and no crash)
            memo: dict[str, Any] = {"total": total if type(total) is int and total >= 0 else None,
                                    "more": bool(body.get("more"))}
            if not keep:
                memo["ids"] = [o["id"] for o in body.get(spec.key) or []]
            return memo

        return self.unit(
            f"{spec.collection}:{label}:{offset}",
            lambda: self.client.get(spec.path, multi(params)),
            spec.collection if keep else None,
            extract,
            remember,
        )

    def sweep(self, spec: ListSpec, extra: tuple[tuple[str, Any], ...], label: str, *,
               keep: bool = True, over_cap_pages: bool = False, reach: int | None = None,
               enough: Callable[[], bool] = lambda: False) -> tuple[int | None, bool, list[str]]:
        """Page through one (filtered) list.

        Returns (total, complete, ids): complete means every object of this query
        was reached. A query whose total is over the cap returns after its first
        page unless ``reach`` asks for its first ``reach`` objects (fetched side by
        side) or ``over_cap_pages`` for pages one by one until ``enough``.
        """
        first = self.page(spec, extra, label, 0, keep=keep)
        total = first.get("total")
        memos = [first]
        if not first["more"]:
            return total, True, _ids(memos)
        if total is not None and reach is not None and total > CAP:
            offsets = range(PAGE, math.ceil(min(reach, CAP) / PAGE) * PAGE, PAGE)
            memos += self.map(lambda off: self.page(spec, extra, label, off, keep=keep), offsets)
            return total, False, _ids(memos)
        if total is not None and total <= CAP:
            offsets = range(PAGE, math.ceil(total / PAGE) * PAGE, PAGE)
            memos += self.map(lambda off: self.page(spec, extra, label, off, keep=keep), offsets)
            offset = max([0, *offsets]) + PAGE
            # The list grew while we paged: follow `more` to the end.
            while memos[-1]["more"] and offset + PAGE <= CAP:
                memos.append(self.page(spec, extra, label, offset, keep=keep))
                offset += PAGE
            return total, not memos[-1]["more"], _ids(memos)
        if total is not None and not over_cap_pages:
            return total, False, _ids(memos)
        # Unknown total, or a sweep asked to go as far as the cap allows: sequentially.
        offset = PAGE
        while memos[-1]["more"] and offset + PAGE <= CAP and not enough():
            memos.append(self.page(spec, extra, label, offset, keep=keep))
            offset += PAGE
        return total, not memos[-1]["more"], _ids(memos)

    # Over the complexity limit (pagination, cap partitioning and the no-team sweep in one loop);
    # split it when next changed.
    def crawl_list(self, spec: ListSpec, keep: bool = True) -> set[str]:  # noqa: C901
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
        total, complete, ids = self.sweep(spec, (), "all", keep=keep)
        reached(ids)
        if complete:
            return seen
        if spec.sortable and total is not None and total <= 2 * CAP:
            # Both ends of the name order: the first 10,000 ascending and the rest
            # descending cover the list in as many pages as it has, with no partition.
            for _, _, part_ids in self.coordinate(
                lambda part: self.sweep(spec, part[0], part[1], keep=keep, reach=part[2]),
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
        team_ids = self.team_ids()
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
            reached(self.sweep(spec, order, label, keep=keep, over_cap_pages=True,
                                enough=lambda: len(seen) >= total)[2])
        if len(seen) < total and spec.referenced_ids:
            # Users cannot be sorted: those with no team past the cap are fetched by id once
            # every collection that names people is in, the rest found by query (_fill_by_reference).
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
        ids: list[str] = []
        for part in self.coordinate(lambda batch: self._crawl_batch(spec, batch, keep),
                                    in_batches(team_ids, TEAM_BATCH)):
            ids += part
        return ids

    def _crawl_batch(self, spec: ListSpec, batch: list[str], keep: bool) -> list[str]:
        extra = tuple(("team_ids[]", t) for t in batch)
        label = "teams-" + batch_label(batch)
        total, complete, ids = self.sweep(spec, extra, label, keep=keep)
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
        """Fetch, one by one, the objects a list could not reach but others refer to, then partition
        the list by query for the rest. What remains is out of reach: the collection is marked
        incomplete (how many, why) rather than called whole; a list with no query filter fails."""
        for name, (spec, total) in sorted(self._shortfalls.items()):
            seen = self._collected.seen[name]
            missing = sorted(spec.referenced_ids(self.writer) - seen) if spec.referenced_ids else []
            params = multi(spec.params)

            def fetch(object_id: str, spec: ListSpec = spec, name: str = name, params: dict[str, Any] = params) -> None:
                self.detail(name, f"{name}:ref:{object_id}", spec.detail_path or "", object_id,
                            params, spec.detail_key or "")

            self.map(fetch, missing)
            status = self._collected.status[name]
            if len(seen) < total and spec.searchable:
                status["query_partition"] = find_by_query(self, spec, total).to_json()
            status["count"] = len(seen)
            if len(seen) >= total:
                continue
            reason = (f"they have no team, lie past the {CAP:,}-record pagination cap, are named by no team, "
                      "schedule, policy or on-call, and no query on their names or e-mails reached them")
            if not spec.searchable:
                raise CrawlError(
                    f"{spec.path}: the API reports {total:,} objects but only {len(seen):,} could be reached "
                    f"({total - len(seen):,} have no team, lie past the {CAP:,}-record pagination cap and are "
                    "named by no team, schedule, policy or on-call); crawl with --teams to scope it"
                )
            status.update(status=CollectionStatus.INCOMPLETE.value, missing=total - len(seen), reason=reason)
            self.progress.done(name, len(seen), CollectionStatus.INCOMPLETE,
                               f"{total - len(seen):,} of {total:,} out of reach")

    def team_ids(self) -> list[str] | None:
        if self.scope_team_ids:
            return list(self.scope_team_ids)
        if not self.complete("teams"):
            return None
        return sorted(self._collected.seen["teams"])

    def detail(self, collection: str, unit: str, path: str, object_id: str,
               params: dict[str, Any], key: str) -> None:
        """One object's detail (``body[key]``) as one unit; one deleted since it was listed is left out."""
        self.unit(unit, lambda: self.client.get(path, multi(params.items()), id=object_id), collection,
                  lambda body: [body[key]] if body.get(key) else [])

    # ---------------------------------------------------------------- accounting

    def lower_bound(self) -> dict[str, int]:
        """The fewest requests the API allows for what was crawled, by complete collection."""
        bound = {spec.name: spec.lower_bound(self) for spec in SPECS if self.crawled(spec.name)}
        bound["total"] = sum(bound.values())
        return bound


def _ids(memos: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for memo in memos:
        ids += memo.get("ids", [])
    return ids


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
    progress: ProgressSink | None = None,
    subdomain: str | None = None,
    now: Callable[[], datetime] | None = None,
    incidents: IncidentsWindow | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Crawl into ``out`` and publish the snapshot; return (path, manifest fields).

    ``now`` is the API's clock (default: the real one); the demo's emulator pins its own, and
    the crawl times recorded must agree with it, as they are the audit's "as of" instant.

    ``window`` None on a resume means "the window the interrupted crawl used".
    On failure the partial snapshot stays on disk, journalled, for ``--resume``.
    """
    if team_ids is not None:
        check_object_ids(team_ids, "--teams")  # they go into URL paths
    writer = SnapshotWriter(out, resume=resume, force=force)
    if resume:
        try:
            check_api_base(writer.state, client.base_url)
        except BaseException:
            writer.close()
            raise
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
                          progress=progress, incidents=incidents, **({"now": now} if now else {}))
    except BaseException:
        writer.close(discard=not resume)
        raise
    try:
        fields = crawler.run()
    except BaseException:
        # A crawl that fetched nothing (a wrong token, an unreachable host) leaves nothing behind:
        # a partial snapshot would only refuse the next crawl into the same --output.
        writer.close(discard=not resume and crawler.units_fetched == 0)
        raise
    fields["subdomain"] = subdomain or writer.state.get(SUBDOMAIN)
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
