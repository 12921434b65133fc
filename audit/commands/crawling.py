"""Commands that read an account: ``crawl``, ``snapshot info``; and the crawl every command that
crawls shares (``crawl_live``: crawl, audit, check --live, plan --live)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from audit.commands.console import PROG, StderrProgress, echo
from audit.commands.options import (
    CrawlOptions,
    PathType,
    command,
    crawl_options,
    group,
    renamed,
    snapshot_argument,
    takes,
    team_option,
)
from audit.errors import CrawlError, UserError


def read_token(token_file: Path | None) -> str:
    """The API token, from --token-file or $PAGERDUTY_TOKEN (never echoed)."""
    if token_file is not None:
        source = f"--token-file {token_file}"
        try:
            mode = token_file.stat().st_mode
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"{source}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UserError(f"{source}: not a text file (the token must be printable ASCII)") from None
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            echo(f"{PROG}: warning: {token_file} is readable by other users; chmod 600 it", err=True)
    else:
        source = "PAGERDUTY_TOKEN"
        token = os.environ.get("PAGERDUTY_TOKEN", "").strip()
    if not token:
        raise UserError("no API token: set PAGERDUTY_TOKEN or pass --token-file")
    # PagerDuty keys are printable ASCII; anything else cannot go in an HTTP header, and would fail
    # later as a "network error" retried for half a minute. Never echo the token itself.
    if not all("!" <= char <= "~" for char in token):
        raise UserError(f"{source}: the token holds spaces, line breaks or non-ASCII characters; "
                        "it must be one line of printable ASCII")
    return token


def api_client(options: CrawlOptions, token: str, transport: Any = None) -> Any:
    """The API client the crawl options describe (region or --api-url, CA, pacing, retries)."""
    from audit.client import REGION_URLS, ApiClient

    base_url = REGION_URLS[options.region] if options.api_url is None else options.api_url
    # Only what was given: the client's own defaults stand otherwise (not imported eagerly: startup time).
    given = {"timeout": options.timeout, "max_attempts": options.max_attempts}
    tuning: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    return ApiClient(token, base_url=base_url, ca_bundle=options.ca_bundle, transport=transport,
                     max_rate_per_minute=options.max_rate, **tuning)


def crawl_live(output: Path, options: CrawlOptions, teams: tuple[str, ...] = ()) -> Path:
    """Crawl the account ``options`` reach into ``output``, scoped to ``teams`` (ids or names)."""
    token = read_token(options.token_file)
    client = api_client(options, token)
    del token  # the client holds it; nothing else should
    try:
        return _run_crawl(client, output, options, teams)
    finally:
        client.close()


def _run_crawl(client: Any, output: Path, options: CrawlOptions, teams: tuple[str, ...]) -> Path:
    from audit.crawl import Window, crawl_to_snapshot
    from audit.crawl_incidents import IncidentsWindow
    from audit.team_scope import resolve_scope

    window = None
    now = datetime.now(UTC).replace(microsecond=0)
    if options.since is not None or not options.resume:
        window = Window(options.since or now, options.window)
        if "oncalls" not in options.skip:
            window.check_oncalls_reach(now)
    # Analytics lag up to a day: the incidents window ends a day before the crawl (or the on-call
    # window's start, when that is earlier).
    incidents = IncidentsWindow.ending_before(options.incidents_window, min(now, window.since) if window else now)
    path, fields = crawl_to_snapshot(
        client, output, window, team_ids=resolve_scope(client, teams), skip=list(options.skip),
        resume=options.resume, force=options.force, workers=options.workers,
        progress=StderrProgress(options.quiet), incidents=incidents,
    )
    if not options.quiet:
        from audit.outputs.manifest import requests_summary

        echo(requests_summary(fields["requests"]), err=True)
    return path


@dataclass(frozen=True)
class CrawlCommand:
    output: Path
    teams: tuple[str, ...]
    strict: bool
    crawl: CrawlOptions


@command()
@click.option("-o", "--output", type=PathType(path_type=Path), required=True, metavar="SNAPSHOT",
              help="Snapshot folder to write.")
@team_option("Crawl only these teams' services, policies and schedules", crawl_scope=True)
@crawl_options
@click.option("--strict", is_flag=True,
              help="Exit 3 when a collection is incomplete (objects out of reach); the snapshot is still written.")
@takes(CrawlCommand)
def crawl(options: CrawlCommand) -> None:
    """Crawl a PagerDuty account into a snapshot."""
    path = crawl_live(options.output, options.crawl, options.teams)
    echo(str(path))
    if options.strict:
        from audit.snapshot import load

        incomplete = load(path, verify=False).incomplete()
        if incomplete:
            raise CrawlError(f"--strict: {path} is incomplete: "
                             + "; ".join(f"{name}: {what}" for name, what in incomplete.items()))


@group()
def snapshot() -> None:
    """Inspect snapshots."""


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot: Path
    fmt: str


@snapshot.command("info")
@snapshot_argument()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: what, when, from where and how much; json: the manifest itself.")
@renamed("--json", "--format json", "fmt", is_flag=True, carries=lambda given: "json")
@takes(SnapshotInfo)
def snapshot_info(options: SnapshotInfo) -> None:
    """Print a snapshot's manifest: when, from where, what and how much."""
    from audit.json_text import json_text
    from audit.outputs import manifest
    from audit.snapshot import load

    snap = load(options.snapshot)
    if options.fmt == "json":
        echo(json_text(snap.manifest, sort_keys=True), nl=False, machine=True)
        return
    echo(manifest.render(snap.manifest))
