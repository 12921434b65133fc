"""The crawl benchmark: pd-audit's crawl and a naive serial crawler against a large emulated account.

Run: ``.venv/bin/python -m tests.benchmarks.bench_crawl [--scale 1.0] [--latency 0.02] [--rate 9600]
[--workers 16] [--skip service_dependencies] [--skip-naive] [--naive-sample 300] [--incidents 200000]
[--skip-fallback] [--skip-score]``.

The issue's account (12,000 services, 3,000 policies, 4,000 schedules, 15,000 users, 600 teams,
times ``--scale``) is generated into a temporary directory and served by the emulator over TLS on
127.0.0.1 with a per-request latency and a per-token rate limit. The defaults are PagerDuty's
limits time-scaled by ten (960 requests/minute becomes 9,600; a 200 ms answer becomes 20 ms), so a
run takes about two minutes while keeping the ratio of latency to rate.

Each crawler runs in a child process of its own (spawned, so its peak RSS is its own): pd-audit's
``crawl_to_snapshot`` through the real ``ApiClient``, paced at pd-audit's default share of the
limit (900/960), and the naive crawler of ``naive_crawler.py``. The emulator counts the requests
it receives. Every object of the account must be in pd-audit's snapshot exactly once. The figures
and a PASS/FAIL per target of the issue are printed.

The account has an incident history (issue 15): ``--incidents`` (200,000 at scale 1, times
``--scale``) over the 90 days before the emulator's "now", which runs ahead of the real clock so that
the generated rotations (from 2026-12-07) hold every incident. pd-audit's crawl reads it from the
Analytics API (cursor pages of 1,000: the bound is one request per 1,000 incidents plus the
partitions it needs, none for a window under a year). Then, unless ``--skip-fallback``, a second
crawl of the same account with the analytics ability withdrawn reads the same incidents from
``/incidents`` and ``/log_entries`` (classic pages of 100, spans halved past the 10,000 cap; every
other skippable collection skipped), and, unless ``--skip-score``, ``assess()`` is timed on the
snapshot with its incidents (target: under 15 s).

``time_scale`` (the smoke test's knob, ``--time-scale``) makes the client's clock and the
emulator's rate-limit window run that many times faster than real time, so a rate limit can bite
(a 60-second window, then a wait until it resets) in a test that lasts seconds. Times are then
reported in emulated seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from audit.assess import assess
from audit.client import DEFAULT_MAX_RATE, ApiClient
from audit.crawl import SKIPPABLE, Window, crawl_to_snapshot, iso
from audit.crawl_incidents import IncidentsWindow
from audit.emulator.generate import generate_account, write_account
from audit.emulator.ratelimit import RateLimiter
from audit.emulator.serve import start_server
from audit.errors import CrawlError, UserError
from audit.snapshot import load
from tests.benchmarks.bench_score import write_config
from tests.benchmarks.naive_crawler import NaiveResult, naive_crawl

TOKEN = "y_NbAkKc66ryYTWUXYEu"  # a made-up key of PagerDuty's shape; the emulator accepts only it
PAGERDUTY_LIMIT = 960  # requests/minute per credential; pd-audit paces at DEFAULT_MAX_RATE of it
ISSUE_SIZES = {"services": 12_000, "policies": 3_000, "schedules": 4_000, "users": 15_000, "teams": 600,
               # issue 12: users in no team and named by nothing, sorting past the cap (found by query)
               "loners": 460,
               # issue 15: the incidents of a large account over the incidents window
               "incidents": 200_000}
# The generated rotations start on 2026-12-07: a window from there has every schedule on call.
WINDOW = Window(datetime(2026, 12, 7, tzinfo=UTC), 28)
# Collections whose objects have ids and must arrive exactly once (account key -> snapshot name).
CHECKED = ("teams", "users", "services", "escalation_policies", "schedules", "schedules_v3")
MEMORY_LIMIT = 1.5 * 2**30  # bytes
# The incident history fills the 90 days before the emulator's "now" (a day of analytics lag
# before it); the emulator's clock runs that far ahead of the real one, moving as it does.
INCIDENTS_WINDOW = IncidentsWindow(90, datetime(2027, 3, 8, tzinfo=UTC))
EMULATED_NOW = INCIDENTS_WINDOW.until + timedelta(days=1)
ANALYTICS_ENDPOINT = "/analytics/raw/incidents"  # as the emulator counts requests
REST_ENDPOINTS = ("/incidents", "/log_entries")
SCORE_TARGET_SECONDS = 15.0

# The issue's targets.
REQUESTS_OVER_BOUND = 1.05
WALL_OVER_FLOOR = 1.2
SPEEDUP_OVER_NAIVE = 5.0
THROTTLED_SHARE = 0.01


@dataclass(frozen=True)
class BenchOptions:
    """One benchmark run. Rates are per minute; times are in (emulated) seconds."""

    scale: float = 1.0
    latency: float = 0.02
    rate: int = 9_600
    workers: int = 16
    skip: tuple[str, ...] = ()
    naive: bool = True
    naive_sample: int | None = 300  # per-object loop cap for the naive crawler; None: run it whole
    v3_schedules: int = 0  # at scale 1 (the issue's account has none)
    seed: int = 0
    time_scale: float = 1.0
    client_rate: float | None = None  # None: pd-audit's default share of ``rate``
    timeout: float = 900.0  # real seconds a crawler's process may run before it is stopped
    incidents: int = ISSUE_SIZES["incidents"]  # at scale 1 (0: no incident history)
    fallback: bool = True  # crawl the incidents again from /incidents + /log_entries
    score: bool = True  # time assess() on the snapshot with its incidents

    @property
    def pd_audit_rate(self) -> float:
        return self.client_rate or self.rate * DEFAULT_MAX_RATE / PAGERDUTY_LIMIT

    def sizes(self) -> dict[str, int]:
        sizes = {name: max(1, round(count * self.scale)) for name, count in ISSUE_SIZES.items()}
        sizes["incidents"] = round(self.incidents * self.scale)
        sizes["v3_schedules"] = round(self.v3_schedules * self.scale)
        return sizes


@dataclass(frozen=True)
class TimeScale:
    """A clock and a sleep running ``factor`` times faster than real time (1: real time)."""

    factor: float = 1.0

    def clock(self) -> float:
        return time.monotonic() * self.factor

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / self.factor)


@dataclass
class Completeness:
    """One collection of the account against what a crawler brought back."""

    expected: int
    fetched: int  # objects returned, duplicates included
    missing: int
    duplicates: int  # objects returned more than once (extra copies)
    unexpected: int  # ids the account does not have

    @property
    def exact(self) -> bool:
        return self.fetched == self.expected and not (self.missing or self.duplicates or self.unexpected)


def compare_ids(expected: Iterable[str], fetched: list[str]) -> Completeness:
    wanted = set(expected)
    counts = Counter(fetched)
    return Completeness(
        expected=len(wanted), fetched=len(fetched), missing=len(wanted - counts.keys()),
        duplicates=sum(n - 1 for n in counts.values()), unexpected=len(counts.keys() - wanted))


@dataclass
class CrawlFigures:
    """What one crawler cost and how complete its result was."""

    name: str
    requests: int  # as received by the emulator (an estimate when ``estimated``)
    throttled: int  # 429s received
    seconds: float  # wall time of the crawl
    peak_rss: int  # bytes, of the crawler's process
    completeness: dict[str, Completeness]
    estimated: bool = False
    notes: list[str] = field(default_factory=list)
    failure: str | None = None  # the crawl stopped with this error; the figures are up to then

    def floor_seconds(self, rate_per_minute: float) -> float:
        return self.requests / rate_per_minute * 60

    @property
    def missing(self) -> int:
        return sum(c.missing for c in self.completeness.values())


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    limit: str
    passed: bool | None  # None: not measured in this run


@dataclass
class IncidentFigures:
    """The incident history's crawl from one source, against the API's bound for it."""

    source: str  # "analytics" or "incidents+log_entries"
    completeness: Completeness  # the emulator's incidents in the window against the snapshot's
    requests: int  # to the source's endpoints, as received by the emulator
    pages: int  # the fewest requests the source's pagination allows
    partitions: int  # further requests the partition by time needs (probes of spans past the cap)
    seconds: float | None = None  # wall time of the crawl it was part of (the fallback's: alone)
    peak_rss: int | None = None
    log_entries: int | None = None  # the fallback reads these beside the incidents
    failure: str | None = None  # the crawl stopped with this error; the figures are up to then

    @property
    def bound(self) -> int:
        return self.pages + self.partitions

    @property
    def expected(self) -> int:
        return self.completeness.expected


@dataclass
class ScoreFigures:
    """``assess()`` on the snapshot with its incidents."""

    seconds: float
    findings: int
    peak_rss: int


@dataclass
class BenchReport:
    options: BenchOptions
    sizes: dict[str, int]
    lower_bound: dict[str, int]
    query_partition: dict[str, int] | None  # the users found by query, and what it cost
    pd_audit: CrawlFigures
    requests_by_endpoint: dict[str, int]
    naive: CrawlFigures | None
    targets: list[Target]
    incidents: list[IncidentFigures] = field(default_factory=list)
    score: ScoreFigures | None = None


# ------------------------------------------------------------------------------ child processes

def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def emulated_clock(offset: timedelta) -> Callable[[], datetime]:
    """The emulated account's "now": the real clock moved ``offset`` ahead."""
    return lambda: datetime.now(UTC) + offset


def crawl_with_pd_audit(url: str, ca_path: str, out: str, options: BenchOptions,
                        skip: tuple[str, ...] | None = None, offset: timedelta = timedelta(0)) -> dict[str, Any]:
    """In a child process: pd-audit's crawl into ``out``; the manifest fields, wall time and peak RSS."""
    scale = TimeScale(options.time_scale)
    client = ApiClient(TOKEN, base_url=url, ca_bundle=ca_path, max_rate_per_minute=options.pd_audit_rate,
                       clock=scale.clock, sleep=scale.sleep)
    incidents = INCIDENTS_WINDOW if options.sizes()["incidents"] else None
    try:
        started = time.monotonic()
        path, fields = crawl_to_snapshot(client, Path(out), WINDOW, skip=options.skip if skip is None else skip,
                                         workers=options.workers, incidents=incidents, now=emulated_clock(offset))
        seconds = (time.monotonic() - started) * options.time_scale
    finally:
        client.close()
    return {"snapshot": str(path), "fields": fields, "seconds": seconds, "peak_rss": _peak_rss()}


def score_snapshot(snapshot_path: str, config_path: str) -> ScoreFigures:
    """In a child process: ``assess()`` once on the snapshot, as ``pd-audit score`` runs it."""
    snapshot = load(snapshot_path)
    started = time.perf_counter()
    assessment = assess(snapshot, config_path=config_path, today=EMULATED_NOW.date())
    return ScoreFigures(time.perf_counter() - started, len(assessment.findings), _peak_rss())


def crawl_naively(url: str, ca_path: str, options: BenchOptions) -> tuple[NaiveResult, int]:
    """In a child process: the naive crawl; its result and peak RSS."""
    window = {"since": iso(WINDOW.since), "until": iso(WINDOW.until), "time_zone": "UTC"}
    result = naive_crawl(TOKEN, url, ca_path, window, skip=options.skip, sample=options.naive_sample)
    return result, _peak_rss()


class ChildFailed(Exception):
    """A crawler's process died, or did not finish in time and was stopped (a hang, an endless retry)."""


def _child_main(connection: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        connection.send(("ok", fn(*args)))
    except BaseException as exc:  # sent to the parent, which re-raises it
        connection.send(("error", exc))
    finally:
        connection.close()


def in_child(fn: Callable[..., Any], *args: Any, timeout: float) -> Any:
    """Run ``fn(*args)`` in a freshly spawned process (its peak RSS is then its own).

    A child that has not answered after ``timeout`` seconds is terminated: a crawler that hangs
    (a deadlock, an endless retry) must fail the benchmark, not stall it.
    """
    context = get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, fn, args), name=f"bench-{fn.__name__}")
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise ChildFailed(f"{fn.__name__} did not finish within {timeout:,.0f} s; stopped")
        try:
            status, value = receiver.recv()
        except EOFError:
            child.join()
            raise ChildFailed(f"{fn.__name__}: its process died (exit code {child.exitcode})") from None
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receiver.close()
    if status == "error":
        raise value
    return value


# ------------------------------------------------------------------------------ the benchmark

def run_benchmark(options: BenchOptions, workdir: Path, log: Callable[[str], None] = lambda _: None) -> BenchReport:
    """Generate, serve, crawl with both crawlers, check and judge; see the module docstring."""
    sizes = options.sizes()
    log(f"generating the account: {sizes}")
    account = generate_account(services=sizes["services"], policies=sizes["policies"],
                               schedules=sizes["schedules"], users=sizes["users"], teams=sizes["teams"],
                               v3_schedules=sizes["v3_schedules"], seed=options.seed, loners=sizes["loners"])
    if sizes["incidents"]:
        add_incident_history(account, sizes["incidents"], options.seed)
    account_path = write_account(account, workdir / "account.json")
    expected = {name: [o["id"] for o in account[name]] for name in CHECKED}
    del account
    offset = EMULATED_NOW - datetime.now(UTC)
    server = start_server(account_path, state_dir=workdir / "emulator", tokens=[TOKEN],
                          rate_limit_per_minute=options.rate, latency_seconds=options.latency,
                          clock=emulated_clock(offset))
    with server:
        if sizes["incidents"]:
            started = time.monotonic()
            generated = len(server.app.incidents.history)  # generated up front, not during the crawl
            log(f"incident history: {generated:,} incidents generated in {time.monotonic() - started:.1f} s")
        if options.time_scale != 1.0:
            # start_server takes no clock: give the app a limiter whose 60-second window runs faster.
            server.app.limiter = RateLimiter(options.rate, TimeScale(options.time_scale).clock)
        log(f"pd-audit crawl ({options.workers} workers, paced at {options.pd_audit_rate:,.0f}/min)")
        server.app.stats.reset()
        started = time.monotonic()
        try:
            crawled = in_child(crawl_with_pd_audit, server.url, str(server.ca_path), str(workdir / "snapshot"),
                               options, None, offset, timeout=options.timeout)
        except (CrawlError, ChildFailed) as exc:
            # A failed crawl is a result, not a crash: report how far it got and why it stopped.
            log(f"pd-audit crawl failed: {exc}")
            seconds = (time.monotonic() - started) * options.time_scale
            pd_audit = CrawlFigures("pd-audit", server.app.stats.total, 0, seconds, 0, {}, failure=str(exc))
            lower_bound: dict[str, int] = {}
            partition = None
        else:
            pd_audit = _pd_audit_figures(crawled, server.app.stats.total, expected)
            lower_bound = crawled["fields"]["requests"]["lower_bound"]
            partition = crawled["fields"]["collections"]["users"].get("query_partition")
        by_endpoint = server.app.stats.by_endpoint
        incidents: list[IncidentFigures] = []
        score = None
        if sizes["incidents"] and pd_audit.failure is None:
            incidents.append(_incident_figures(server, load(crawled["snapshot"]), by_endpoint, pd_audit))
            if options.score:
                log("scoring the snapshot with its incidents (assess)")
                config = write_config(Path(crawled["snapshot"]), workdir)
                score = in_child(score_snapshot, crawled["snapshot"], str(config), timeout=options.timeout)
            if options.fallback:
                incidents.append(_crawl_fallback(server, workdir, options, offset, log))
        naive = None
        if options.naive:
            if options.time_scale != 1.0:  # a fresh window: the naive crawl must not pay for pd-audit's
                server.app.limiter = RateLimiter(options.rate, TimeScale(options.time_scale).clock)
            log("naive crawl (serial" + (f", per-object loops sampled to {options.naive_sample})"
                                        if options.naive_sample else ", whole)"))
            server.app.stats.reset()
            result, peak = in_child(crawl_naively, server.url, str(server.ca_path), options, timeout=options.timeout)
            naive = _naive_figures(result, peak, server.app.stats.total, expected, options.time_scale)
    return BenchReport(options, sizes, lower_bound, partition, pd_audit, by_endpoint, naive,
                       judge(options, pd_audit, lower_bound.get("total"), naive) + judge_incidents(incidents, score),
                       incidents, score)


def add_incident_history(account: dict[str, Any], incidents: int, seed: int) -> None:
    """Give the generated account about ``incidents`` incidents over the incidents window, served by analytics.

    The rate is spread over the services that can page (live, on a policy with levels); an
    incident fired when nobody holds level 1 is not generated, so the count is near, not exact.
    """
    policies = {policy["id"]: policy for policy in account["escalation_policies"]}
    paging = sum(1 for service in account["services"] if service.get("status") != "disabled"
                 and policies.get(service["escalation_policy"]["id"], {}).get("escalation_rules"))
    weeks = INCIDENTS_WINDOW.days / 7
    account["incident_history"] = {
        "seed": seed, "since": iso(INCIDENTS_WINDOW.since), "until": iso(INCIDENTS_WINDOW.until),
        "defaults": {"incidents_per_week": incidents / max(paging, 1) / weeks},
    }
    account["abilities"] = [*account["abilities"], "analytics"]


def _incident_figures(server: Any, snapshot: Any, by_endpoint: dict[str, int], crawl: CrawlFigures) -> IncidentFigures:
    """The analytics crawl: cursor pages of 1,000, no partition for a window under a year."""
    completeness = compare_ids(_window_incident_ids(server), [str(o.get("id")) for o in snapshot.iter("incidents")])
    return IncidentFigures("analytics", completeness, by_endpoint.get(ANALYTICS_ENDPOINT, 0),
                           pages=max(1, math.ceil(completeness.expected / 1_000)), partitions=0,
                           seconds=crawl.seconds, peak_rss=crawl.peak_rss)


def _crawl_fallback(server: Any, workdir: Path, options: BenchOptions, offset: timedelta,
                    log: Callable[[str], None]) -> IncidentFigures:
    """The same incidents from /incidents + /log_entries: the account's plan without analytics."""
    with_analytics = server.app.account
    # The plan gate reads the app's account: withdrawing the ability there makes analytics answer 402.
    server.app.account = dataclasses.replace(
        with_analytics, abilities=tuple(a for a in with_analytics.abilities if a != "analytics"))
    skip = tuple(name for name in SKIPPABLE if name != "incidents")
    log("pd-audit crawl of the incidents without analytics (/incidents + /log_entries; "
        f"skipping {', '.join(skip)})")
    server.app.stats.reset()
    if options.time_scale != 1.0:
        server.app.limiter = RateLimiter(options.rate, TimeScale(options.time_scale).clock)
    try:
        crawled = in_child(crawl_with_pd_audit, server.url, str(server.ca_path), str(workdir / "snapshot-fallback"),
                           options, skip, offset, timeout=options.timeout)
        fetched = [str(o.get("id")) for o in load(crawled["snapshot"]).iter("incidents")]
        failure = None
    except (CrawlError, ChildFailed) as exc:  # a result: the figures say how far it got
        log(f"the fallback crawl failed: {exc}")
        crawled, fetched, failure = {"seconds": None, "peak_rss": None}, [], str(exc)
    finally:
        server.app.account = with_analytics
    by_endpoint = server.app.stats.by_endpoint
    endpoints = server.app.incidents
    completeness = compare_ids(_window_incident_ids(server), fetched)
    # The crawl reads log entries a week past the window, for incidents resolved after it ends.
    entries = endpoints.log_entries_between(INCIDENTS_WINDOW.since, INCIDENTS_WINDOW.until + timedelta(days=7))
    pages = math.ceil(completeness.expected / 100) + math.ceil(entries / 100)
    requests = sum(by_endpoint.get(endpoint, 0) for endpoint in REST_ENDPOINTS)
    return IncidentFigures("incidents+log_entries", completeness, requests, pages=pages,
                           partitions=max(0, requests - pages), seconds=crawled["seconds"],
                           peak_rss=crawled["peak_rss"], log_entries=entries, failure=failure)


def _window_incident_ids(server: Any) -> list[str]:
    endpoints = server.app.incidents
    history = endpoints.history
    return [history[n].id for n in endpoints.positions_between(INCIDENTS_WINDOW.since, INCIDENTS_WINDOW.until)]


def judge_incidents(incidents: list[IncidentFigures], score: ScoreFigures | None) -> list[Target]:
    """PASS/FAIL for issue 15's speed targets (none when the run had no incident history)."""
    targets = []
    for figures in incidents:
        if figures.source == "analytics":
            targets.append(Target("analytics: requests <= 1 per 1,000 incidents + partitions",
                                  f"{figures.requests:,} for {figures.expected:,}", f"{figures.bound:,}",
                                  figures.requests <= figures.bound))
        exact = figures.completeness.exact
        targets.append(Target(f"{figures.source}: every incident exactly once", "exact" if exact else "NOT exact",
                              "exact", exact))
    if score is not None:
        targets.append(Target(f"scoring with incidents < {SCORE_TARGET_SECONDS:g} s", f"{score.seconds:.1f} s",
                              f"{SCORE_TARGET_SECONDS:g} s", score.seconds < SCORE_TARGET_SECONDS))
    return targets


def _pd_audit_figures(crawled: dict[str, Any], received: int, expected: dict[str, list[str]]) -> CrawlFigures:
    snapshot = load(crawled["snapshot"])
    completeness = {name: compare_ids(ids, [str(o.get("id")) for o in snapshot.iter(name)])
                    for name, ids in expected.items()}
    counted = crawled["fields"]["requests"]
    notes = []
    if counted["total"] != received:
        notes.append(f"the client counted {counted['total']:,} requests, the emulator received {received:,}")
    return CrawlFigures("pd-audit", received, counted["throttled"], crawled["seconds"], crawled["peak_rss"],
                        completeness, notes=notes)


def _naive_figures(result: NaiveResult, peak: int, received: int, expected: dict[str, list[str]],
                   time_scale: float) -> CrawlFigures:
    completeness = {name: compare_ids(ids, result.ids.get(name, [])) for name, ids in expected.items()}
    notes = []
    if received != result.requests:
        notes.append(f"the library received {result.requests:,} answers, the emulator {received:,} requests")
    if result.cap_warnings:
        where = ", ".join(w.split(" at limit")[0].removeprefix("Stopping iter_all on ") for w in result.cap_warnings)
        notes.append(f"iter_all stopped at the 10,000 cap, with only a warning, on: {where} "
                     "(what lies past it is missing, and so are the requests it would have led to)")
    requests, seconds = received, result.seconds
    if result.sampled:
        requests = received + result.estimated_requests - result.requests
        seconds = result.estimated_seconds
        ran = ", ".join(f"{loop.name} {loop.visited:,}/{loop.objects:,}" for loop in result.loops if loop.skipped)
        notes.append(
            f"SAMPLED: lists read whole, per-object loops cut short ({ran}); requests and wall time "
            f"extrapolated per loop (time per object x objects): measured {result.requests:,} requests "
            f"in {result.seconds * time_scale:,.1f} s")
    return CrawlFigures("naive", requests, result.throttled, seconds * time_scale, peak, completeness,
                        estimated=result.sampled, notes=notes)


TARGET_NAMES = ("requests <= 1.05 x lower bound", "wall time <= 1.2 x requests/rate",
                "at least 5 x faster than naive (same requests)", "429s <= 1% of requests",
                "every object exactly once",
                "peak memory < 1.5 GB")


def naive_seconds_for(naive: CrawlFigures, requests: int) -> float:
    """The naive crawler's wall time for ``requests`` requests, at its measured time per request.

    Fetching a whole large account takes the naive crawler about the requests pd-audit makes (both
    read every list page and make the per-object requests the API forces), but as run it cannot:
    ``iter_all`` stops at 10,000 records. Its time per request is what it would pay for the rest.
    """
    return naive.seconds / naive.requests * requests


def judge(options: BenchOptions, pd_audit: CrawlFigures, lower_bound: int | None,
          naive: CrawlFigures | None) -> list[Target]:
    """PASS/FAIL per target of the issue (None: not measured in this run)."""
    if pd_audit.failure is not None or not lower_bound:
        return [Target(name, "crawl failed", "", False) for name in TARGET_NAMES]
    floor = pd_audit.floor_seconds(options.rate)
    exact = all(c.exact for c in pd_audit.completeness.values())
    targets = [
        Target(TARGET_NAMES[0], f"{pd_audit.requests / lower_bound:.3f} x",
               f"{REQUESTS_OVER_BOUND} x", pd_audit.requests <= REQUESTS_OVER_BOUND * lower_bound),
        Target(TARGET_NAMES[1], f"{pd_audit.seconds / floor:.3f} x", f"{WALL_OVER_FLOOR} x",
               pd_audit.seconds <= WALL_OVER_FLOOR * floor),
    ]
    if naive is not None:
        # Judged on the same work: the naive crawl as run stops at the 10,000 cap and so never makes
        # the requests for what lies past it (format_report prints the as-run figure beside this).
        speedup = naive_seconds_for(naive, pd_audit.requests) / pd_audit.seconds
        targets.append(Target(TARGET_NAMES[2], f"{speedup:.2f} x" + (" (est.)" if naive.estimated else ""),
                              f">= {SPEEDUP_OVER_NAIVE} x", speedup >= SPEEDUP_OVER_NAIVE))
    else:
        targets.append(Target(TARGET_NAMES[2], "not run", f">= {SPEEDUP_OVER_NAIVE} x", None))
    share = pd_audit.throttled / pd_audit.requests
    targets += [
        Target(TARGET_NAMES[3], f"{share:.2%}", f"{THROTTLED_SHARE:.0%}", share <= THROTTLED_SHARE),
        Target(TARGET_NAMES[4], "exact" if exact else "NOT exact", "exact", exact),
        Target(TARGET_NAMES[5], f"{pd_audit.peak_rss / 2**20:,.0f} MiB", f"{MEMORY_LIMIT / 2**20:,.0f} MiB",
               pd_audit.peak_rss < MEMORY_LIMIT),
    ]
    return targets


# ------------------------------------------------------------------------------ printing

def format_report(report: BenchReport) -> str:
    options = report.options
    unit = "s" if options.time_scale == 1.0 else f"s (emulated, x{options.time_scale:g} time scale)"
    lines = [
        "pd-audit crawl benchmark",
        "account: " + ", ".join(f"{n:,} {name}" for name, n in report.sizes.items()),
        f"emulator: TLS on 127.0.0.1, latency {options.latency * 1000:g} ms, rate limit {options.rate:,}/min; "
        f"pd-audit paced at {options.pd_audit_rate:,.0f}/min with {options.workers} workers"
        + (f"; skipped: {', '.join(options.skip)}" if options.skip else ""),
        "",
    ]
    crawls = [report.pd_audit] + ([report.naive] if report.naive else [])
    bound = report.lower_bound.get("total")
    rows = [
        ("requests", [f"{c.requests:,}" + (" (est.)" if c.estimated else "") for c in crawls]),
        ("lower bound", [f"{bound:,}" if bound else "n/a"] * len(crawls)),
        ("requests / lower bound", [f"{c.requests / bound:.3f}" if bound else "n/a" for c in crawls]),
        ("429s received", [f"{c.throttled:,}" for c in crawls]),
        (f"wall time ({unit})", [f"{c.seconds:,.1f}" + (" (est.)" if c.estimated else "") for c in crawls]),
        ("requests/rate floor (s)", [f"{c.floor_seconds(options.rate):,.1f}" for c in crawls]),
        ("wall / floor", [f"{c.seconds / c.floor_seconds(options.rate):.3f}" for c in crawls]),
        ("wall time per request", [f"{c.seconds / c.requests * 1000:,.1f} ms" for c in crawls]),
        ("peak memory (MiB RSS)", [f"{c.peak_rss / 2**20:,.0f}" + (" (sample)" if c.estimated else "")
                                   for c in crawls]),
        ("objects missed", [f"{c.missing:,}" if c.completeness else "n/a" for c in crawls]),
    ]
    lines += _table(["", *(c.name for c in crawls)], rows)
    lines += ["", "completeness (expected / fetched / missing / duplicates / unexpected):"]
    for name in CHECKED:
        cells = []
        for crawl in crawls:
            c = crawl.completeness.get(name)
            cells.append(f"{c.expected:,}/{c.fetched:,}/{c.missing:,}/{c.duplicates:,}/{c.unexpected:,}" if c
                         else "n/a (no snapshot)")
        lines.append(f"  {name:<22}" + "  ".join(f"{crawl.name}: {cell:<32}" for crawl, cell in zip(crawls, cells)))
    lines += ["", "pd-audit requests by endpoint (as received) | lower bound by collection:"]
    endpoints = sorted(report.requests_by_endpoint.items(), key=lambda kv: -kv[1])
    bounds = sorted(((k, v) for k, v in report.lower_bound.items() if k != "total"), key=lambda kv: -kv[1])
    for i in range(max(len(endpoints), len(bounds))):
        left = f"{endpoints[i][1]:>8,}  {endpoints[i][0]}" if i < len(endpoints) else ""
        right = f"{bounds[i][1]:>8,}  {bounds[i][0]}" if i < len(bounds) else ""
        lines.append(f"  {left:<58}| {right}")
    if report.query_partition:
        lines.append(f"users past the cap found by query: {report.query_partition['found']:,}, for "
                     f"{report.query_partition['requests']:,} extra requests "
                     f"({report.query_partition['queries']:,} queries)")
    for crawl in crawls:
        if crawl.failure:
            lines.append(f"FAILED ({crawl.name}): {crawl.failure}")
        lines += [f"note ({crawl.name}): {note}" for note in crawl.notes]
    if report.naive and not report.pd_audit.failure:
        naive, pd_audit = report.naive, report.pd_audit
        equal_work = naive_seconds_for(naive, pd_audit.requests)
        lines.append(f"naive at pd-audit's {pd_audit.requests:,} requests would take {equal_work:,.0f} s: "
                     f"{equal_work / pd_audit.seconds:.2f} x pd-audit's wall time; as run (missing "
                     f"{naive.missing:,} objects) {naive.seconds / pd_audit.seconds:.2f} x")
    lines += _format_incidents(report)
    lines += ["", "targets:"]
    width = max(len(target.name) for target in report.targets)
    for target in report.targets:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[target.passed]
        lines.append(f"  {verdict}  {target.name:<{width}} measured {target.measured:<18} target {target.limit}")
    return "\n".join(lines)


def _format_incidents(report: BenchReport) -> list[str]:
    if not report.incidents and report.score is None:
        return []
    window = INCIDENTS_WINDOW.to_json()
    lines = ["", f"incident history: {report.sizes['incidents']:,} asked for, over {window['since']} .. "
                 f"{window['until']} ({INCIDENTS_WINDOW.days} days)"]
    for figures in report.incidents:
        c = figures.completeness
        lines.append(f"  {figures.source}: {c.expected:,} incidents in the window, {c.fetched:,} fetched "
                     f"({c.missing:,} missing, {c.duplicates:,} duplicates)")
        if figures.source == "analytics":
            lines.append(f"    requests {figures.requests:,}; bound: one per 1,000 incidents = {figures.pages:,}, "
                         f"plus partitions {figures.partitions} = {figures.bound:,} "
                         f"({figures.requests / figures.bound:.3f} x)")
        else:
            lines.append(f"    requests {figures.requests:,} (GET /incidents and /log_entries); their pages of 100: "
                         f"{figures.pages:,} for {c.expected:,} incidents and {figures.log_entries or 0:,} "
                         f"log entries; spans halved past the 10,000 cap: {figures.partitions:,} requests more "
                         f"({figures.requests / figures.pages:.3f} x the pages)")
        if figures.failure:
            lines.append(f"    FAILED: {figures.failure}")
        if figures.seconds is not None:
            whole = "the whole crawl, configuration included" if figures.source == "analytics" else (
                "that crawl (the collections it cannot skip included)")
            lines.append(f"    wall time of {whole}: {figures.seconds:,.1f} s; peak RSS "
                         f"{(figures.peak_rss or 0) / 2**20:,.0f} MiB")
    if report.score is not None:
        lines.append(f"  scoring with the incidents (assess, one run): {report.score.seconds:.1f} s wall, "
                     f"{report.score.findings:,} findings, peak RSS {report.score.peak_rss / 2**20:,.0f} MiB")
    return lines


def _table(header: list[str], rows: list[tuple[str, list[str]]]) -> list[str]:
    widths = [max(len(header[0]), *(len(label) for label, _ in rows))]
    for column in range(1, len(header)):
        widths.append(max(len(header[column]), *(len(cells[column - 1]) for _, cells in rows)))
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for label, cells in rows:
        out.append("  ".join([label.ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells, widths[1:])]))
    return out


def parse_options(argv: list[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_crawl", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="account size relative to the issue's (1.0)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request (0.02)")
    parser.add_argument("--rate", type=int, default=9_600, help="the emulator's limit, requests/minute (9600)")
    parser.add_argument("--workers", type=int, default=16, help="pd-audit's request threads (16)")
    parser.add_argument("--skip", action="append", default=[], choices=SKIPPABLE, help="a collection to leave out")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive crawler")
    parser.add_argument("--naive-sample", type=int, default=300,
                        help="run each naive per-object loop on its first N objects and extrapolate (0: whole)")
    parser.add_argument("--v3-schedules", type=int, default=0, help="shift-based schedules at scale 1 (0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds a crawler may run before it is stopped as hung (900)")
    parser.add_argument("--incidents", type=int, default=ISSUE_SIZES["incidents"],
                        help="incidents over the 90-day window at scale 1 (200000; 0: none)")
    parser.add_argument("--skip-fallback", action="store_true",
                        help="do not crawl the incidents again from /incidents + /log_entries")
    parser.add_argument("--skip-score", action="store_true", help="do not time assess() with the incidents")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="run the rate-limit clocks this many times faster (for quick smoke runs)")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.latency < 0 or args.rate < 1 or args.workers < 1 or args.time_scale <= 0 \
            or args.timeout <= 0 or args.incidents < 0:
        parser.error("--scale, --rate, --workers, --time-scale and --timeout must be positive, "
                     "--latency and --incidents not negative")
    return BenchOptions(scale=args.scale, latency=args.latency, rate=args.rate, workers=args.workers,
                        skip=tuple(args.skip), naive=not args.skip_naive, naive_sample=args.naive_sample or None,
                        v3_schedules=args.v3_schedules, seed=args.seed, time_scale=args.time_scale,
                        timeout=args.timeout, incidents=args.incidents, fallback=not args.skip_fallback,
                        score=not args.skip_score)


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    with tempfile.TemporaryDirectory(prefix="pd-audit-bench-") as workdir:
        try:
            report = run_benchmark(options, Path(workdir),
                                   log=lambda message: print(message, file=sys.stderr, flush=True))
        except (UserError, CrawlError, ChildFailed) as exc:  # the naive crawl's, or the set-up's
            print(f"bench_crawl: error: {exc}", file=sys.stderr)
            return 2
    print(format_report(report))
    return 0 if all(t.passed is not False for t in report.targets) else 1


if __name__ == "__main__":
    sys.exit(main())
