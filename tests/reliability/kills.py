"""Crash safety of the crawl: SIGKILL at a chosen moment, then ``--resume``; two crawls at once.

``kill_then_resume`` runs ``pd-audit crawl`` against a served emulator whose per-request latency
makes the crawl last seconds, SIGKILLs it once the emulator has received ``kill_after``
requests (a point in the request sequence, not in time), checks what the kill left on disk,
resumes with the same ``--since``/``--window`` and compares the result with a clean crawl's.
What the two runs asked for beyond a clean crawl is what the kill lost: at most the units that
were under way, which ``--workers`` bounds.

``kill_at_publish`` kills the crawl inside the publishing rename (the last step of a crawl), and
``race`` starts two crawls to one output at the same moment.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from audit.emulator.serve import EmulatorServer
from audit.errors import SnapshotError
from audit.snapshot import load, partial_path
from tests.reliability.harness import CLI_TIMEOUT, CliRun, cli_env, content_digests, crawl_argv, run_cli

POLL_SECONDS = 0.001
# After a kill, requests already sent may still be reaching the emulator: its count is read
# once it has stopped moving for this long.
SETTLE_SECONDS = 0.25
# A resume confirms the account with one request before fetching (audit.account_check): not work redone.
ACCOUNT_PROBE = 1


@dataclass(frozen=True)
class CleanCrawl:
    """The reference: what an uninterrupted crawl asked for and brought back."""

    requests: int
    digests: dict[str, str]


def clean_crawl(server: EmulatorServer, out: Path) -> CleanCrawl:
    server.app.stats.reset()
    run = run_cli(crawl_argv(server, out))
    if run.exit_code != 0:
        raise RuntimeError(f"the clean crawl failed: {run.stderr.strip()}")
    return CleanCrawl(server.app.stats.total, content_digests(load(out)))


@dataclass
class KillOutcome:
    """What a kill left behind and what the resume made of it."""

    kill_after: int
    workers: int
    clean: CleanCrawl
    received_by_kill: int = 0  # requests the emulator received from the killed crawl
    received_by_resume: int = 0
    finished_before_kill: bool = False
    leftovers: list[str] = field(default_factory=list)  # what is wrong with the disk after the kill
    resume: CliRun | None = None
    same_content: bool = False
    reported: int = 0  # requests the resumed snapshot's manifest says the crawl made, both runs together

    @property
    def refetched(self) -> int:
        """Requests the kill cost: both runs together against one clean crawl (the resume's account probe aside)."""
        probe = ACCOUNT_PROBE if self.received_by_resume else 0
        return self.received_by_kill + self.received_by_resume - probe - self.clean.requests

    def problems(self) -> list[str]:
        found = list(self.leftovers)
        if self.finished_before_kill:
            found.append(f"the crawl finished before its kill at request {self.kill_after}")
        if self.resume is None or self.resume.exit_code != 0:
            found.append(f"the resume failed: {self.resume.stderr.strip() if self.resume else 'not run'}")
        elif not self.same_content:
            found.append("the resumed snapshot differs from a clean crawl")
        if self.refetched > self.workers:
            found.append(f"{self.refetched} requests were made again, more than the {self.workers} workers "
                         "that can be under way at a kill")
        received = self.received_by_kill + self.received_by_resume
        # Only the requests under way at the kill can be miscounted: made but not yet journalled, or
        # counted (and journalled with another unit) but killed before they were sent.
        if self.resume is not None and self.resume.exit_code == 0 and abs(received - self.reported) > self.workers:
            found.append(f"the manifest counts {self.reported} requests; the emulator received {received}")
        return found


def kill_then_resume(server: EmulatorServer, out: Path, kill_after: int, clean: CleanCrawl,
                     workers: int = 4) -> KillOutcome:
    """SIGKILL a crawl once the emulator has had ``kill_after`` requests; resume it; compare."""
    outcome = KillOutcome(kill_after, workers, clean)
    argv = crawl_argv(server, out, "--workers", str(workers))
    server.app.stats.reset()
    crawler = subprocess.Popen(argv, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        while server.app.stats.total < kill_after and crawler.poll() is None and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        outcome.finished_before_kill = crawler.poll() is not None
    finally:
        crawler.kill()
        crawler.wait()
    outcome.received_by_kill = _settled_count(server)
    outcome.leftovers = check_interrupted(out)
    server.app.stats.reset()
    outcome.resume = run_cli(argv + ["--resume"])
    outcome.received_by_resume = server.app.stats.total
    if outcome.resume.exit_code == 0:
        resumed = load(out)
        outcome.same_content = content_digests(resumed) == clean.digests
        outcome.reported = resumed.manifest["requests"]["total"]
    return outcome


def _settled_count(server: EmulatorServer) -> int:
    count, since = server.app.stats.total, time.monotonic()
    while time.monotonic() - since < SETTLE_SECONDS:
        time.sleep(0.01)
        if server.app.stats.total != count:
            count, since = server.app.stats.total, time.monotonic()
    return count


def check_interrupted(out: Path) -> list[str]:
    """What is wrong with the disk after an interrupted crawl ([] when nothing is).

    Nothing may look like a finished snapshot: OUT does not exist, loading OUT says the
    crawl is unfinished, and the ``.partial`` directory is refused as a snapshot.
    """
    problems = []
    if out.exists():
        problems.append(f"{out} exists after the crawl was interrupted")
    if not partial_path(out).is_dir():
        problems.append(f"{partial_path(out)} is missing: nothing to resume from")
    for path, expected in ((out, "unfinished crawl"), (partial_path(out), "unfinished crawl")):
        try:
            load(path)
        except SnapshotError as exc:
            if expected not in str(exc):
                problems.append(f"load({path.name}) refused it for the wrong reason: {exc}")
        else:
            problems.append(f"load({path.name}) accepted an interrupted crawl")
    return problems


# Runs the CLI with os.rename replaced: the rename that publishes OUT.partial as OUT kills the
# process instead (SIGKILL, no clean-up), after the manifest is written.
_DIE_AT_PUBLISH = """
import os, signal, sys
from audit.cli import main
rename = os.rename
def rename_or_die(src, dst, *args, **kwargs):
    if str(src).endswith(".partial") and not str(dst).endswith(".partial"):
        os.kill(os.getpid(), signal.SIGKILL)
    return rename(src, dst, *args, **kwargs)
os.rename = rename_or_die
sys.exit(main(sys.argv[1:], prog_name="pd-audit"))
"""


def kill_at_publish(server: EmulatorServer, out: Path) -> CliRun:
    """Run a crawl that is SIGKILLed inside its publishing rename."""
    argv = crawl_argv(server, out)
    python = [sys.executable, "-c", _DIE_AT_PUBLISH, *argv[1:]]
    done = subprocess.run(python, env=cli_env(), capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
    return CliRun(tuple(python), done.returncode, done.stdout, done.stderr)


def race(server: EmulatorServer, out: Path) -> list[CliRun]:
    """Start two identical crawls to one output at the same moment; both run to their end."""
    argv = crawl_argv(server, out)
    crawlers = [subprocess.Popen(argv, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    runs = []
    for crawler in crawlers:
        stdout, stderr = crawler.communicate(timeout=CLI_TIMEOUT)
        runs.append(CliRun(tuple(argv), crawler.returncode, stdout, stderr))
    return runs
