"""The pd-audit command line: click commands only.

Each command parses its options, calls one stage function, prints, and exits
with a named code (``audit.errors.ExitCode``). Errors from the stages arrive as
``AuditError`` and leave as one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from audit import __version__
from audit.errors import AuditError, CrawlError, ExitCode, UserError
from audit.findings import DEFAULT_FAIL_ON, FAIL_ON_CHOICES
from audit.safe_text import for_terminal, one_line, without_surrogates

if TYPE_CHECKING:  # the rest is imported where used: startup time
    from audit.snapshot import CollectionStatus

PROG = "pd-audit"


class AuditGroup(click.Group):
    """Turns stage errors into one line and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditError as exc:
            _report(ctx, str(exc), exc)
            ctx.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            echo(f"{PROG}: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: still one line, unless --debug
            _report(ctx, f"internal error: {exc.__class__.__name__}: {exc}", exc)
            ctx.exit(int(ExitCode.USAGE))


def _report(ctx: click.Context, message: str, exc: BaseException) -> None:
    if ctx.find_root().params.get("debug"):
        traceback.print_exception(exc, file=sys.stderr)
    echo(f"{PROG}: error: {one_line(message)}", err=True)


def echo(text: str, *, nl: bool = True, err: bool = False, machine: bool = False) -> None:
    """Print through ``audit.safe_text``: what is meant for a person has every control, escape
    sequence and bidi mark replaced (names, ids and file contents reach it); a machine format
    (JSON, CSV, SARIF) keeps its characters, less the lone surrogates that have no UTF-8 form."""
    click.echo(without_surrogates(text) if machine else for_terminal(text), nl=nl, err=err)


class WindowType(click.ParamType):
    """An on-call window length: ``28d``, ``4w`` or a number of days (1 to ``most``, 90 by default)."""

    name = "window"

    def __init__(self, most: int = 90, why: str = "PagerDuty renders on-calls 90 days ahead"):
        self.most = most
        self.why = why

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            days = value
        else:
            match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", str(value))
            if not match:
                self.fail(f"{value!r} is not a window length like 28d or 4w", param, ctx)
            days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        if not 1 <= days <= self.most:
            self.fail(f"{value!r}: the window must be 1 to {self.most} days ({self.why})", param, ctx)
        return days


class InstantType(click.ParamType):
    """An ISO 8601 instant; a value without an offset is taken as UTC."""

    name = "instant"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date-time like 2027-01-04T00:00:00Z", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def crawl_options(fn: Any) -> Any:
    """The connection and scope options every command that crawls shares."""
    options = [
        click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path),
                     help="File holding the API token (default: $PAGERDUTY_TOKEN)."),
        click.option("--region", type=click.Choice(["us", "eu"]), default="us", show_default=True,
                     help="PagerDuty service region."),
        click.option("--api-url", help="Base URL of any PagerDuty-compatible API (https)."),
        click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False),
                     help="CA bundle for a private CA (e.g. the emulator's)."),
        click.option("--teams", "teams", help="Scope the crawl to these team ids (comma-separated)."),
        click.option("--since", type=InstantType(), help="Start of the on-call window (default: now)."),
        click.option("--window", type=WindowType(), default="28d", show_default=True,
                     help="Length of the on-call window (up to 90d)."),
        click.option("--incidents-window", type=WindowType(365, "PagerDuty's analytics answer a year at most"),
                     default="90d", show_default=True,
                     help="Incident history to judge practice by (mode A rules), ending a day before the crawl "
                          "(analytics lag); 0 days is not allowed, --skip incidents leaves it out."),
        click.option("--max-rate", type=click.FloatRange(min=1), default=900, show_default=True,
                     help="Requests per minute (PagerDuty allows 960 per credential)."),
        click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True,
                     help="Concurrent requests."),
        click.option("--timeout", type=click.FloatRange(min=1),
                     help="Seconds to wait for one answer before retrying (default: 30)."),
        click.option("--max-attempts", type=click.IntRange(1, 20),
                     help="Tries per request on 5xx, timeouts and dropped connections before the crawl stops "
                          "with exit 3 (default: 8)."),
        click.option("--skip", help="Collections to leave out, comma-separated (e.g. service_dependencies)."),
        click.option("--resume", is_flag=True, help="Continue an interrupted crawl into the same snapshot path."),
        click.option("--force", is_flag=True, help="Replace an existing snapshot at that path."),
        click.option("--quiet", is_flag=True, help="No progress on stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group(cls=AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name=PROG)
def main(debug: bool) -> None:
    """Audit service ownership in a PagerDuty account."""


# ---------------------------------------------------------------- crawl


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


class StderrProgress:
    """One line per collection on stderr (redrawn in place on a terminal)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()

    def update(self, collection: str, count: int) -> None:
        if not self.quiet and self.tty:
            click.echo(f"\r  {collection:<22} {count:>8,}", err=True, nl=False)

    def done(self, collection: str, count: int, status: CollectionStatus, reason: str | None = None) -> None:
        from audit.snapshot import CollectionStatus

        if not self.quiet:
            prefix = "\r" if self.tty else ""
            if status == CollectionStatus.COMPLETE:
                detail = f"{count:>8,}"
            elif status == CollectionStatus.INCOMPLETE:
                detail = f"{count:>8,} ({one_line(f'{status}: {reason}')})"
            else:
                detail = f"       - ({one_line(f'{status}: {reason}')})"
            click.echo(f"{prefix}  {collection:<22} {detail}", err=True)


def _run_crawl(client: Any, output: Path, opts: dict[str, Any], subdomain: str | None = None) -> Path:
    from audit.crawl import Window, crawl_to_snapshot
    from audit.crawl_incidents import IncidentsWindow
    from audit.object_ids import parse_object_ids

    window = None
    team_ids = parse_object_ids(opts["teams"], "--teams")
    skip = [s.strip() for s in opts["skip"].split(",") if s.strip()] if opts["skip"] else []
    now = datetime.now(UTC).replace(microsecond=0)
    if opts["since"] is not None or not opts["resume"]:
        window = Window(opts["since"] or now, opts["window"])
        if "oncalls" not in skip:
            window.check_oncalls_reach(now)
    # Analytics lag up to a day: the incidents window ends a day before the crawl (or the on-call
    # window's start, when that is earlier).
    incidents = IncidentsWindow.ending_before(opts["incidents_window"], min(now, window.since) if window else now)
    path, fields = crawl_to_snapshot(
        client, output, window, team_ids=team_ids, skip=skip, resume=opts["resume"], force=opts["force"],
        workers=opts["workers"], progress=StderrProgress(opts["quiet"]), subdomain=subdomain,
        incidents=incidents,
    )
    if not opts["quiet"]:
        from audit.outputs.manifest import requests_summary

        echo(requests_summary(fields["requests"]), err=True)
    return path


def _api_client(opts: dict[str, Any], token: str, transport: Any = None) -> Any:
    from audit.client import REGION_URLS, ApiClient

    base_url = opts.get("api_url") or REGION_URLS[opts.get("region") or "us"]
    # Only what was given: the client's own defaults stand otherwise (not imported eagerly: startup time).
    tuning = {name: opts[name] for name in ("timeout", "max_attempts") if opts.get(name) is not None}
    return ApiClient(token, base_url=base_url, ca_bundle=opts.get("ca_bundle"), transport=transport,
                     max_rate_per_minute=opts["max_rate"], **tuning)


@main.command()
@crawl_options
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Snapshot directory to write.")
@click.option("--strict", is_flag=True,
              help="Exit 3 when a collection is incomplete (objects out of reach); the snapshot is still written.")
def crawl(output: Path, strict: bool, **opts: Any) -> None:
    """Crawl a PagerDuty account into a snapshot."""
    path = crawl_live(output, opts)
    echo(str(path))
    if strict:
        from audit.snapshot import load

        incomplete = load(path, verify=False).incomplete()
        if incomplete:
            raise CrawlError(f"--strict: {path} is incomplete: "
                             + "; ".join(f"{name}: {what}" for name, what in incomplete.items()))


# ---------------------------------------------------------------- snapshot


@main.group()
def snapshot() -> None:
    """Inspect snapshots."""


@snapshot.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def snapshot_info(path: Path, as_json: bool) -> None:
    """Print a snapshot's manifest: when, from where, what and how much."""
    from audit.json_text import json_text
    from audit.outputs import manifest
    from audit.snapshot import load

    snap = load(path)
    if as_json:
        echo(json_text(snap.manifest, sort_keys=True), nl=False, machine=True)
        return
    echo(manifest.render(snap.manifest))


# ---------------------------------------------------------------- emulator and demo


@main.command()
@click.option("--account", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Account file to serve (see examples/README.md).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (default: any free port).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".pd-audit-emulator"),
              show_default=True, help="Where the generated CA and certificate go.")
@click.option("--rate-limit", type=click.IntRange(min=1), help="Requests per minute before answering 429.")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, help="Seconds added to every response.")
@click.option("--token", "tokens", multiple=True, help="Accept only this token (repeatable).")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests answered with an injected fault (e.g. 0.05).")
@click.option("--fault-seed", type=int, default=0, show_default=True,
              help="Seed of the fault sequence: the same seed fails the same request numbers.")
@click.option("--fault-kinds", help="Kinds --fault-rate draws from, comma-separated (default: all).")
@click.option("--fault", "endpoint_faults", multiple=True, metavar="ENDPOINT=KIND",
              help="Fail every request to an endpoint, e.g. '/schedules/{id}=503' (repeatable); besides the "
                   "random kinds: 404 (deleted), 400, echo400 and echo403 (echo the Authorization header).")
def emulator(account: Path, host: str, port: int, state_dir: Path, rate_limit: int | None,
             latency: float, tokens: tuple[str, ...], fault_rate: float, fault_seed: int, fault_kinds: str | None,
             endpoint_faults: tuple[str, ...]) -> None:
    """Serve a PagerDuty-compatible REST API from an account file, over TLS on loopback.

    Faults (for rehearsing failures): 500, 502, 503, drop (connection closed unanswered),
    truncate (a 200 with its JSON cut short), slow (answered after 35 s, past the client's
    timeout), 429storm (5 consecutive 429s).
    """
    from audit.emulator.faults import FAULT_KINDS, FaultPolicy, parse_endpoint_faults
    from audit.emulator.serve import serve

    kinds = tuple(k.strip() for k in fault_kinds.split(",") if k.strip()) if fault_kinds else FAULT_KINDS
    faults = FaultPolicy(rate=fault_rate, seed=fault_seed, per_endpoint=parse_endpoint_faults(endpoint_faults),
                         kinds=kinds)
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise UserError("the emulator serves on loopback only (127.0.0.1, localhost or ::1)")

    def ready(url: str, ca_path: Path) -> None:
        # On stdout, for scripts (`url=$(pd-audit emulator ... | head -1)`); diagnostics go to stderr.
        echo(f"serving {account} at {url}")
        echo(f"CA certificate: {ca_path}  (pass it to crawl with --ca-bundle)")
        if faults.active:
            always = "".join(f"; {endpoint} always {kind}" for endpoint, kind in faults.per_endpoint.items())
            echo(f"injecting faults: {fault_rate:g} of requests (seed {fault_seed}, kinds "
                 f"{','.join(kinds)}){always}", err=True)

    serve(account, host=host, port=port, state_dir=state_dir, rate_limit_per_minute=rate_limit,
          latency_seconds=latency, tokens=list(tokens) or None, ready=ready, faults=faults)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("pd-audit-demo"),
              show_default=True, help="Folder for the demo's snapshot and reports.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def demo(out: Path, quiet: bool) -> None:
    """Audit the bundled example account through the in-process emulator (no token, no network)."""
    from audit.assess import assess
    from audit.demo import DEMO_SINCE, bundled_config_path, run_demo
    from audit.outputs import text_table
    from audit.reports import write_reports
    from audit.safe_write import write_file

    snapshot_path = run_demo(out, progress=StderrProgress(quiet))
    # Waivers are judged as of the window's start, so the demo reads the same every day.
    assessment = assess(snapshot_path, config_path=bundled_config_path(), today=DEMO_SINCE.date())
    write_file(out / "score.txt", text_table.render(assessment))

    written = write_reports(assessment, out / "report")
    org = assessment.scores.org
    echo(f"snapshot:  {snapshot_path}")
    echo(f"scores:    {out / 'score.txt'}  (org score "
         f"{'-' if org.score is None else f'{org.score:.1f}'}, {len(assessment.failing())} failing findings)")
    echo(f"reports:   {out / 'report' / 'index.html'}  ({len(written)} files: org and team HTML and PDF)")


# ---------------------------------------------------------------- facts, score, rules


def rules_options(fn: Any) -> Any:
    """The rule packs and config every judging command shares."""
    options = [
        click.option("--rules", "rules_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
                     help="A folder of extra rule packs (*.yaml); repeatable."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False),
                     help="Config file (default: ./pd-audit.toml if present)."),
        click.option("--mode", type=click.Choice(["static", "all"]), default="all", show_default=True,
                     help="static: configuration rules only (deterministic); all: window rules too."),
        click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
                     help="The audit's as-of date, for waiver expiry and the report header "
                          "(default: the day the snapshot was crawled)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _assess(snapshot_path: Any, opts: dict[str, Any]) -> Any:
    from audit.assess import ALL_MODES, STATIC_ONLY, assess

    return assess(
        snapshot_path,
        rules_dirs=opts["rules_dirs"],
        config_path=opts["config_path"],
        modes=STATIC_ONLY if opts["mode"] == "static" else ALL_MODES,
        today=opts["as_of"].date() if opts["as_of"] else None,
    )


@main.command()
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@click.option("--entity", type=click.Choice(["service", "escalation_policy", "policy_level", "schedule", "team",
                                             "user"]), required=True, help="Which fact table.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def facts(snapshot_path: Path, entity: str, fmt: str) -> None:
    """Print one fact table of a snapshot (what the rules judge)."""
    from audit.facts.build import facts_table

    echo(facts_table(snapshot_path, entity, fmt), nl=False, machine=True)


@main.command()
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@rules_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--team", "team_id", help="Only this team's services and findings (its id or name).")
@click.option("--all", "all_findings", is_flag=True, help="json, csv: list every finding (by default passes, "
              "not-applicable and excluded findings are counted per rule and team).")
def score(snapshot_path: Path, fmt: str, team_id: str | None, all_findings: bool, **opts: Any) -> None:
    """Judge a snapshot: findings, maturity levels and scores."""
    from audit.outputs import SCORE_WRITERS, destination

    assessment = _assess(snapshot_path, opts)
    if team_id is not None:
        assessment = assessment.for_team(assessment.resolve_team(team_id))
    with destination.output_to(destination.STDOUT) as out:  # written as made: never whole in memory
        SCORE_WRITERS[fmt](assessment, out, all_findings=all_findings)


@main.command()
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("pd-audit.toml"),
              show_default=True, help="Where to write the config (an existing file is never overwritten).")
def init(snapshot_path: Path, output: Path) -> None:
    """Write a starter pd-audit.toml from SNAPSHOT: tiers proposed from the account's own signals
    (each with a comment saying why), every threshold at its default, an example waiver."""
    import collections

    from audit.starter_config import write_starter

    proposals = write_starter(snapshot_path, output)
    per_tier = collections.Counter(p.tier for p in proposals)
    tiers = ", ".join(f"tier {tier}: {count}" for tier, count in sorted(per_tier.items())) or "no services"
    click.echo(f"wrote {output} ({tiers}); review the proposed tiers, then run "
               f"`pd-audit score {snapshot_path} --config {output}`")


@main.group(invoke_without_command=True)
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A folder of extra rule packs (*.yaml); repeatable.")
@click.pass_context
def rules(ctx: click.Context, rules_dirs: tuple[str, ...]) -> None:
    """List the rule catalog (built-in packs and --rules folders)."""
    from audit.facts.columns import column_names
    from audit.rules import load_packs

    pack = load_packs([Path(d) for d in rules_dirs], column_names())
    ctx.obj = pack
    if ctx.invoked_subcommand is None:
        from audit.outputs import rule_list

        echo(rule_list.render(pack), nl=False)


@rules.command("explain")
@click.argument("rule_id")
@click.pass_obj
def rules_explain(pack: Any, rule_id: str) -> None:
    """Show a rule's rationale, parameters and how to fix it in PagerDuty."""
    from audit.outputs import rule_list

    rule = pack.resolve(rule_id.upper())
    if rule is None:
        raise UserError(f"no rule {rule_id}; `pd-audit rules` lists them")
    echo(rule_list.explain(rule))


# ---------------------------------------------------------------- CI: baseline, check, diff, history


def static_by_default(fn: Any) -> Any:
    """Make ``rules_options``' --mode default to static for the gate's commands.

    A calendar change (a holiday override, a new month) must not break a build, and
    a baseline must be recorded with the modes the check runs. Applied under
    ``@rules_options``, it changes only this command's own copy of the option.
    """
    for param in getattr(fn, "__click_params__", []):
        if param.name == "mode":
            param.default = "static"
    return fn


def _write_output(path: str, text: str) -> None:
    """Write one output file ('-' is stdout); a directory is created if needed."""
    from audit.outputs.destination import output_to

    with output_to(path) as out:
        out.write(text)


def crawl_live(output: Path, opts: dict[str, Any]) -> Path:
    """Crawl with the token and ``crawl_options`` into ``output`` (crawl, check --live, audit)."""
    token = read_token(opts["token_file"])
    client = _api_client(opts, token)
    del token  # the client holds it; nothing else should
    try:
        return _run_crawl(client, output, opts)
    finally:
        client.close()


@main.group("baseline")
def baseline_group() -> None:
    """Record the violations a CI check accepts as known debt."""


@baseline_group.command("create")
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@static_by_default
@rules_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("pd-audit-baseline.json"), show_default=True, help="Baseline file to write.")
@click.option("--force", is_flag=True, help="Replace an existing baseline (prefer `baseline update`).")
def baseline_create(snapshot_path: Path, output: Path, force: bool, **opts: Any) -> None:
    """Record every failing finding of SNAPSHOT in a new baseline file."""
    from audit.baseline import create_baseline, snapshot_source, write_baseline

    if output.exists() and not force:
        raise UserError(f"{output} exists; `pd-audit baseline update` merges into it (or pass --force to replace it)")
    assessment = _assess(snapshot_path, opts)
    baseline = create_baseline(assessment.findings, assessment.today, snapshot_source(assessment.snapshot.manifest))
    write_baseline(baseline, output)
    echo(f"{output}: {len(baseline)} failing findings recorded")


@baseline_group.command("update")
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@static_by_default
@rules_options
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("pd-audit-baseline.json"), show_default=True, help="Baseline file to update in place.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the updated baseline here instead of in place.")
def baseline_update(snapshot_path: Path, baseline_path: Path, output: Path | None, **opts: Any) -> None:
    """Accept SNAPSHOT's new failing findings and drop the fixed ones."""
    from audit.baseline import (
        load_baseline,
        snapshot_source,
        update_baseline,
        write_baseline,
    )
    from audit.gate import Judged
    from audit.safe_text import printable

    old = load_baseline(baseline_path)
    assessment = _assess(snapshot_path, opts)
    judged = Judged.of(assessment)
    change = update_baseline(judged.canonical_baseline(old), assessment.findings, judged, assessment.today,
                             snapshot_source(assessment.snapshot.manifest))
    target = write_baseline(change.baseline, output or baseline_path)
    for label, entries in (("added", change.added), ("dropped (fixed)", change.dropped)):
        for entry in entries:
            echo(f"  {label:<16} {entry.rule_id:<7} {entry.entity_type} {printable(entry.entity_name)} "
                 f"({printable(entry.entity_id)})")
    echo(f"{target}: {len(change.added)} added, {len(change.dropped)} dropped, {len(change.kept)} kept")


@main.command()
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), required=True,
              help="Baseline file of accepted violations (from `pd-audit baseline create`).")
@click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES),
              help="Fail on new violations of this severity or above; 'warn' fails on new warnings too "
                   "(default: [check] fail_on in the config, else low).")
@click.option("--team", "team_id", help="Judge only this team's services and findings (its id or name).")
@click.option("--sarif", "sarif_path", metavar="FILE", help="Write SARIF 2.1.0 here ('-' for stdout).")
@click.option("--junit", "junit_path", metavar="FILE", help="Write JUnit XML here.")
@click.option("--markdown", "markdown_path", metavar="FILE",
              help="Write a Markdown summary here (for a PR comment or $GITHUB_STEP_SUMMARY).")
@click.option("--json", "json_path", metavar="FILE", help="Write the result as JSON here.")
@click.option("--live", is_flag=True, help="Crawl into SNAPSHOT first (takes the crawl options).")
@static_by_default
@rules_options
@crawl_options
def check(snapshot_path: Path, baseline_path: str, fail_on: str | None, team_id: str | None, live: bool,
          sarif_path: str | None, junit_path: str | None, markdown_path: str | None, json_path: str | None,
          **opts: Any) -> None:
    """Exit 1 if SNAPSHOT has failing findings the baseline does not accept.

    Exit codes: 0 no new violation at or above --fail-on; 1 new violations; 2 bad
    input; 3 crawl error (with --live). Static rules only unless --mode all.
    """
    from audit.baseline import load_baseline
    from audit.gate import fail_on_threshold, run_gate
    from audit.outputs import destination, sarif
    from audit.outputs.ci import CHECK_FORMATS, CHECK_WRITERS

    baseline = load_baseline(baseline_path)  # before a --live crawl: a typo should not cost a crawl
    if live:
        snapshot_path = crawl_live(snapshot_path, opts)
    assessment = _assess(snapshot_path, opts)
    recorded, crawled = baseline.snapshot.get("subdomain"), assessment.snapshot.manifest.get("subdomain")
    if recorded and crawled and recorded != crawled:
        echo(f"{PROG}: warning: the baseline was recorded on account {one_line(recorded)!r}, the snapshot is "
             f"of {one_line(crawled)!r}: every finding will look new", err=True)
    threshold, warnings_fail = fail_on_threshold(fail_on or assessment.config.fail_on or DEFAULT_FAIL_ON.value)
    team_id = assessment.resolve_team(team_id) if team_id is not None else None
    result = run_gate(assessment, baseline, fail_on=threshold, team_id=team_id, baseline_name=baseline_path,
                      fail_on_warnings=warnings_fail)
    outputs = {"sarif": sarif_path, "junit": junit_path, "markdown": markdown_path, "json": json_path}
    for fmt, path in outputs.items():
        if path:
            with destination.output_to(path) as out:  # written as it is made: never whole in memory
                CHECK_WRITERS[fmt](result, out)
    if sarif_path and (note := sarif.limit_note(result)):  # known debt summed up: said once
        echo(f"{PROG}: warning: {note}", err=True)
    # The verdict goes to stderr when an output took stdout, so that output stays parseable.
    echo(CHECK_FORMATS["text"](result), nl=False, err="-" in outputs.values())
    click.get_current_context().exit(int(result.exit_code))


@main.command("plan")
@click.argument("plan_path", metavar="PLAN.json", type=click.Path(dir_okay=False))
@click.option("--snapshot", "snapshot_path", type=click.Path(path_type=Path),
              help="Apply the plan to this snapshot (default: the resources as the plan has them now).")
@click.option("--live", is_flag=True, help="Crawl the account into --snapshot first (takes the crawl options).")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="Violations already accepted (from `pd-audit baseline create`): never blocking.")
@click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES),
              help="Fail on introduced violations of this severity or above; 'warn' fails on introduced "
                   "warnings too (default: [check] fail_on in the config, else low).")
@click.option("--tf-dir", "tf_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Folder of the root module's .tf files: findings point at file and line (repeatable).")
@click.option("--sarif", "sarif_path", metavar="FILE", help="Write SARIF 2.1.0 here ('-' for stdout).")
@click.option("--junit", "junit_path", metavar="FILE", help="Write JUnit XML here.")
@click.option("--markdown", "markdown_path", metavar="FILE",
              help="Write a Markdown summary here (for a PR comment or $GITHUB_STEP_SUMMARY).")
@click.option("--json", "json_path", metavar="FILE", help="Write the result as JSON here.")
@static_by_default
@rules_options
@crawl_options
def plan_command(plan_path: str, snapshot_path: Path | None, live: bool, baseline_path: str | None,
                 fail_on: str | None,
                 tf_dirs: tuple[str, ...], sarif_path: str | None, junit_path: str | None,
                 markdown_path: str | None, json_path: str | None, **opts: Any) -> None:
    """Judge a Terraform plan (`terraform show -json PLAN`) before it is applied.

    Exit codes as `check`: 0 the plan introduces no violation at or above --fail-on;
    1 it does; 2 bad input; 3 crawl error (with --live).
    """
    import dataclasses

    from audit.baseline import load_baseline
    from audit.plan.compare import judge_plan
    from audit.plan.locations import resource_blocks
    from audit.plan.outputs import PLAN_FORMATS
    from audit.plan.reader import read_plan
    from audit.snapshot import load

    planned = read_plan(plan_path)  # every input is read before a --live crawl: a typo should not cost one
    accepted = load_baseline(baseline_path) if baseline_path else None
    locations = resource_blocks(tf_dirs)
    if live:
        if snapshot_path is None:
            raise UserError("--live needs --snapshot DIR to crawl the account into")
        snapshot_path = crawl_live(snapshot_path, opts)
    base = load(snapshot_path) if snapshot_path is not None else None
    result = judge_plan(planned, base, lambda snap: _assess(snap, opts), accepted=accepted,
                        fail_on=fail_on, baseline_name=baseline_path or plan_path)
    result = dataclasses.replace(result, locations=locations)
    outputs = {"sarif": sarif_path, "junit": junit_path, "markdown": markdown_path, "json": json_path}
    for fmt, path in outputs.items():
        if path:
            _write_output(path, PLAN_FORMATS[fmt](result))
    echo(PLAN_FORMATS["text"](result), nl=False, err="-" in outputs.values())
    click.get_current_context().exit(int(result.gate.exit_code))


@main.command("diff")
@click.argument("old_path", metavar="OLD", type=click.Path(path_type=Path))
@click.argument("new_path", metavar="NEW", type=click.Path(path_type=Path))
@rules_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True)
@click.option("--team", "team_id", help="Only this team's services and findings.")
def diff_command(old_path: Path, new_path: Path, fmt: str, team_id: str | None, **opts: Any) -> None:
    """What changed from snapshot OLD to NEW: findings new, fixed and unchanged; levels and scores.

    Both are judged with today's rules and config, so only the account's changes show.
    """
    from audit.diff import diff_assessments
    from audit.outputs.ci import DIFF_FORMATS

    old, new = _assess(old_path, opts), _assess(new_path, opts)
    if team_id is not None:
        if team_id not in old.scores.teams and team_id not in new.scores.teams:
            raise UserError(f"--team {team_id}: no service of either snapshot belongs to that team")
        old, new = old.for_team(team_id), new.for_team(team_id)
    echo(DIFF_FORMATS[fmt](diff_assessments(old, new)), nl=False, machine=fmt != "table")


@main.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@rules_options
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--team", "team_id", help="Only this team (and the org).")
def history(folder: Path, fmt: str, team_id: str | None, **opts: Any) -> None:
    """Re-score every snapshot in DIR with today's rules: the org's and each team's trend.

    Waivers are judged as of each snapshot's crawl date (or --as-of).
    """
    from audit.history import build_history
    from audit.outputs.ci import HISTORY_FORMATS

    def assess_snapshot(snapshot: Any, crawled_on: Any) -> Any:
        as_of = opts["as_of"] or datetime.combine(crawled_on, datetime.min.time())
        return _assess(snapshot, {**opts, "as_of": as_of})

    echo(HISTORY_FORMATS[fmt](build_history(folder, assess_snapshot, team_id=team_id)), nl=False,
         machine=fmt != "table")


# ---------------------------------------------------------------- reports and the quarterly run


def report_options(fn: Any) -> Any:
    """Where and how the scorecards are written (report, audit)."""
    options = [
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("pd-audit-report"), show_default=True, help="Folder for the reports."),
        click.option("--format", "formats", default="html,pdf", show_default=True,
                     help="Comma-separated: html, pdf."),
        click.option("--team", "team_id", help="Only this team's scorecard (its id or name)."),
        click.option("--anonymize-people", is_flag=True,
                     help="Replace people's names with stable pseudonyms, for reports shared widely."),
        # Not --workers: `audit` also crawls, and the crawl's --workers means concurrent requests.
        click.option("--pdf-workers", type=click.IntRange(1, 64), help="Processes printing PDFs (default: the cores)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _write_reports(assessment: Any, previous: Any, opts: dict[str, Any]) -> list[Path]:
    from audit.reports import write_reports

    formats = [f.strip() for f in opts["formats"].split(",") if f.strip()]
    team_id = assessment.resolve_team(opts["team_id"]) if opts["team_id"] else None
    return write_reports(assessment, opts["out_dir"], formats=formats, previous=previous,
                         team_id=team_id, workers=opts["pdf_workers"], anonymize_people=opts["anonymize_people"])


def _echo_written(paths: list[Path]) -> None:
    index = next((p for p in paths if p.name == "index.html"), None)
    echo(f"{len(paths)} files written to {paths[0].parent if paths else '-'}")
    if index is not None:
        echo(f"org report: {index}")


@main.command()
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@click.option("--previous", "previous_path", type=click.Path(path_type=Path),
              help="An earlier snapshot: adds the trend, new and fixed findings.")
@rules_options
@report_options
def report(snapshot_path: Path, previous_path: Path | None, **opts: Any) -> None:
    """Write the org report and one scorecard per team, in HTML and PDF."""
    # Both snapshots are judged with today's rules and config, each as of its own crawl (or --as-of).
    assessment = _assess(snapshot_path, opts)
    previous = _assess(previous_path, opts) if previous_path else None
    _echo_written(_write_reports(assessment, previous, opts))


@main.command("audit")
@crawl_options
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Snapshot directory to write.")
@click.option("--previous", "previous_path", type=click.Path(path_type=Path),
              help="Last quarter's snapshot, for the trend.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="A folder of extra rule packs (*.yaml); repeatable.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (default: ./pd-audit.toml if present).")
@report_options
def audit_command(output: Path, previous_path: Path | None, **opts: Any) -> None:
    """The quarterly run: crawl, score and write the reports in one go."""
    snapshot_path = crawl_live(output, opts)
    judging = {**opts, "mode": "all", "as_of": None}
    assessment = _assess(snapshot_path, judging)
    previous = _assess(previous_path, judging) if previous_path else None
    echo(f"snapshot: {snapshot_path}")
    _echo_written(_write_reports(assessment, previous, opts))
