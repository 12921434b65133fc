"""How the collections are fetched from PagerDuty: partitions, concurrency, resuming.

The crawler runs every collection described in ``audit.crawl_specs.SPECS`` (what
to fetch) through ``audit.client.ApiClient`` and hands finished units of work (a
page of a list, one object's detail) to ``audit.snapshot.SnapshotWriter``. It
keeps the thread pool, the journal and the units of work, and never
presents a partial collection as whole:

* Classic pagination stops at ``offset + limit <= 10000``: ``audit.crawl_lists`` reads a list
  whole past that cap (partitions by ``team_ids[]``, sweeps for objects of no team, users by id
  and by ``query``), or marks it ``incomplete``, or fails (exit 3).
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
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from audit import crawl_lists
from audit.account_check import API_BASE, SUBDOMAIN, AccountCheck, check_api_base
from audit.client import ApiClient, ApiError, Gone, Unavailable
from audit.crawl_incidents import IncidentsWindow
from audit.crawl_specs import (
    CAP,
    PAGE,
    SKIPPABLE,
    SPEC_BY_NAME,
    SPECS,
    CollectionSpec,
    ListSpec,
    Window,
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
        crawl_lists.fill_by_reference(self)

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

    # ---------------------------------------------------------------- lists (read whole: audit.crawl_lists)

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
              keep: bool = True) -> tuple[int | None, bool, list[str]]:
        """Page through one (filtered) list: (total, complete, ids), see ``audit.crawl_lists.sweep``."""
        return crawl_lists.sweep(self, spec, extra, label, keep=keep)

    def crawl_list(self, spec: ListSpec, keep: bool = True) -> set[str]:
        """Every object of a list endpoint, partitioned past the cap: ``audit.crawl_lists.crawl_list``."""
        return crawl_lists.crawl_list(self, spec, keep)

    def note_shortfall(self, spec: ListSpec, total: int) -> None:
        """A list left objects out of reach: fetch them by reference once every collection is in."""
        with self._lock:
            self._shortfalls[spec.collection] = (spec, total)

    def shortfalls(self) -> list[tuple[str, tuple[ListSpec, int]]]:
        return sorted(self._shortfalls.items())

    def status(self, name: str) -> dict[str, Any]:
        """The manifest's entry for a crawled collection (its status, count, and what else it says)."""
        return self._collected.status[name]

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
        check_object_ids(team_ids, "--team")  # they go into URL paths
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
