"""Crawls of the example account under injected faults, each compared with a clean crawl.

``random_faults`` crawls in-process under a ``FaultPolicy`` (emulated time, so 429 waits and
back-offs are free); ``served_faults`` crawls the emulator served over TLS, where a drop closes
the socket and a slow answer outlasts the client's (short) timeout; ``broken_endpoint`` makes
one endpoint fail every time, expects the crawl to give up naming it, lifts the fault and
resumes. Each returns what happened; the tests and ``tests.reliability.run`` judge it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from audit.emulator.faults import FaultPolicy
from audit.emulator.serve import start_server
from audit.errors import CrawlError
from audit.snapshot import partial_path
from tests.crawl.conftest import ACME, TOKEN, emulator_app
from tests.reliability.harness import content_digests, crawl_in_process, crawl_served

SERVED_TIMEOUT = 0.5  # the client's timeout against the served emulator (seconds)
SERVED_SLOW = 1.0  # how late a "slow" answer comes: past SERVED_TIMEOUT


@dataclass
class FaultRun:
    """One crawl under faults: what was injected and whether the crawl came out whole."""

    label: str
    injected: dict[str, int] = field(default_factory=dict)
    same_content: bool = False
    error: str | None = None  # the crawl's error, if it gave up

    @property
    def survived(self) -> bool:
        return self.error is None and self.same_content


def clean_digests(work: Path) -> dict[str, str]:
    """The content of a fault-free in-process crawl of the example account."""
    return content_digests(crawl_in_process(emulator_app(ACME), work / "clean-in-process"))


def random_faults(out: Path, policy: FaultPolicy, clean: dict[str, str]) -> FaultRun:
    app = emulator_app(ACME, faults=policy)
    run = FaultRun(f"in-process, rate {policy.rate:g}, seed {policy.seed}")
    try:
        run.same_content = content_digests(crawl_in_process(app, out)) == clean
    except CrawlError as exc:
        run.error = str(exc)
    run.injected = app.faults.injected
    return run


def served_faults(state_dir: Path, out: Path, policy: FaultPolicy, clean: dict[str, str]) -> FaultRun:
    with start_server(ACME, state_dir=state_dir, tokens=[TOKEN], faults=policy) as server:
        run = FaultRun(f"served over TLS, rate {policy.rate:g}, seed {policy.seed}")
        try:
            run.same_content = content_digests(crawl_served(server, out, timeout=SERVED_TIMEOUT)) == clean
        except CrawlError as exc:
            run.error = str(exc)
        run.injected = server.app.faults.injected
    return run


@dataclass
class BrokenEndpointRun:
    """A crawl against an endpoint that always fails, then its resume once the fault is lifted."""

    path: str
    kind: str
    error: str | None = None  # the crawl's CrawlError (there must be one)
    partial_left: bool = False
    resume_requests: dict[str, int] = field(default_factory=dict)  # by endpoint template
    same_content: bool = False


def broken_endpoint(out: Path, path: str, kind: str, clean: dict[str, str]) -> BrokenEndpointRun:
    run = BrokenEndpointRun(path, kind)
    failing = emulator_app(ACME, faults=FaultPolicy(per_endpoint={path: kind}))
    try:
        crawl_in_process(failing, out, client_options={"max_attempts": 3})
    except CrawlError as exc:
        run.error = str(exc)
    run.partial_left = partial_path(out).is_dir() and not out.exists()
    if run.error is None:
        return run
    healed = emulator_app(ACME)
    run.same_content = content_digests(crawl_in_process(healed, out, resume=True)) == clean
    run.resume_requests = healed.stats.by_endpoint
    return run
