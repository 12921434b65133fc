"""What the reliability checks share: the example account, crawls of it, and their content.

A crawl runs either in-process (the real ``ApiClient`` on ``httpx2.WSGITransport``, with time
that passes only when someone sleeps, so back-offs and 429 waits cost nothing) or as a person
runs it: ``pd-audit crawl`` in a subprocess against the emulator served over TLS on loopback.
Two crawls hold the same objects when their ``content_digests`` are equal: per collection, its
status and a hash of its objects as sorted canonical JSON lines (the order requests finished
in does not matter).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.client import ApiClient
from audit.crawl import Window, crawl_to_snapshot, iso
from audit.emulator.serve import EmulatorServer
from audit.snapshot import Snapshot, load
from tests.crawl.conftest import ACME, SINCE, TOKEN, SharedClock, crawl

WINDOW_DAYS = 28
WINDOW = f"{WINDOW_DAYS}d"
SINCE_TEXT = iso(SINCE)
# The console script of the interpreter running the checks (the project's virtualenv).
PD_AUDIT = Path(sys.executable).with_name("pd-audit")
CLI_TIMEOUT = 180.0  # seconds a CLI run may take before the check fails (a hang is a failure)


def content_digests(snapshot: Snapshot) -> dict[str, str]:
    """Per collection: a hash of its status and of its objects as sorted canonical JSON."""
    digests = {}
    for name, info in sorted(snapshot.manifest["collections"].items()):
        if name == "incidents":  # left out of the CLI crawls here (see crawl_argv)
            continue
        lines = sorted(json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                       for obj in snapshot.iter(name))
        text = "\n".join([info["status"], *lines])
        digests[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return digests


def crawl_in_process(app: Any, out: Path, **options: Any) -> Snapshot:
    """Crawl the app into ``out`` on emulated time (sleeps are free); returns the snapshot.

    ``client_options`` go to the ``ApiClient``; the rest to ``crawl_to_snapshot``.
    """
    time = SharedClock(SINCE)
    client_options = {"clock": time.clock, "sleep": time.sleep, **options.pop("client_options", {})}
    snapshot, _ = crawl(app, out, client_options=client_options, **options)
    return snapshot


@dataclass(frozen=True)
class CliRun:
    """One finished ``pd-audit`` run: exit code and what it printed."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()

    def refused_cleanly(self, exit_code: int) -> bool:
        """Exit ``exit_code`` with exactly one ``pd-audit: error:`` line and no traceback."""
        lines = self.error_lines
        return (self.exit_code == exit_code and len(lines) == 1 and lines[0].startswith("pd-audit: error: ")
                and "internal error" not in lines[0] and "Traceback" not in self.stderr + self.stdout)


def cli_env() -> dict[str, str]:
    """The environment of a CLI crawl: the token in PAGERDUTY_TOKEN, as in CI."""
    return {**os.environ, "PAGERDUTY_TOKEN": TOKEN}


def crawl_argv(server: EmulatorServer, out: Path, *extra: str) -> list[str]:
    # --max-rate: the loopback emulator need not be spared like PagerDuty (900/min by default).
    # --skip incidents: these crawls are about the configuration's faults; the incident history
    # (whose window follows the real clock) has its own tests (tests/crawl/test_incidents_crawl.py).
    return [str(PD_AUDIT), "crawl", "--api-url", server.url, "--ca-bundle", str(server.ca_path),
            "--max-rate", "100000", "--since", SINCE_TEXT, "--window", WINDOW, "--output", str(out),
            "--quiet", "--skip", "incidents", *extra]


def run_cli(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = CLI_TIMEOUT) -> CliRun:
    """Run ``pd-audit`` to the end (at most ``timeout`` seconds), with ``env`` laid over ``cli_env()``."""
    done = subprocess.run(argv, env={**cli_env(), **(env or {})}, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return CliRun(tuple(argv), done.returncode, done.stdout, done.stderr)


def example_account() -> dict[str, Any]:
    return json.loads(ACME.read_text(encoding="utf-8"))


def crawl_served(server: EmulatorServer, out: Path, **client_options: Any) -> Snapshot:
    """Crawl a served emulator over TLS through an in-process ``ApiClient`` (real time)."""
    options = {"max_rate_per_minute": 1_000_000, "backoff_base": 0.01, "backoff_cap": 0.05, **client_options}
    client = ApiClient(TOKEN, base_url=server.url, ca_bundle=str(server.ca_path), **options)
    try:
        path, _ = crawl_to_snapshot(client, out, Window(SINCE, WINDOW_DAYS))
    finally:
        client.close()
    return load(path)
