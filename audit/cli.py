"""The pd-audit command line: click commands only.

Each command parses its options, calls one stage function, prints, and exits
with a named code (``audit.errors.ExitCode``). Errors from the stages arrive as
``AuditError`` and leave as one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from audit import __version__
from audit.errors import AuditError, ExitCode, UserError

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
            click.echo(f"{PROG}: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: still one line, unless --debug
            _report(ctx, f"internal error: {exc.__class__.__name__}: {exc}", exc)
            ctx.exit(int(ExitCode.USAGE))


def _report(ctx: click.Context, message: str, exc: BaseException) -> None:
    if ctx.find_root().params.get("debug"):
        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"{PROG}: error: {_one_line(message)}", err=True)


def _one_line(text: str) -> str:
    # Strings from an API or a file may hold newlines or control characters.
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


class WindowType(click.ParamType):
    """An on-call window length: ``28d``, ``4w`` or a number of days (1 to 90)."""

    name = "window"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            days = value
        else:
            match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", str(value))
            if not match:
                self.fail(f"{value!r} is not a window length like 28d or 4w", param, ctx)
            days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        if not 1 <= days <= 90:
            self.fail(f"{value!r}: the window must be 1 to 90 days (PagerDuty renders on-calls 90 days ahead)",
                      param, ctx)
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
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


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
        click.option("--max-rate", type=click.FloatRange(min=1), default=900, show_default=True,
                     help="Requests per minute (PagerDuty allows 960 per credential)."),
        click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True,
                     help="Concurrent requests."),
        click.option("--skip", help="Collections to leave out, comma-separated (e.g. service_dependencies)."),
        click.option("--resume", is_flag=True, help="Continue an interrupted crawl into the same --output."),
        click.option("--force", is_flag=True, help="Replace an existing snapshot at --output."),
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
        try:
            mode = token_file.stat().st_mode
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"--token-file {token_file}: {exc.strerror}") from None
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            click.echo(f"{PROG}: warning: {token_file} is readable by other users; chmod 600 it", err=True)
    else:
        token = os.environ.get("PAGERDUTY_TOKEN", "").strip()
    if not token:
        raise UserError("no API token: set PAGERDUTY_TOKEN or pass --token-file")
    return token


class StderrProgress:
    """One line per collection on stderr (redrawn in place on a terminal)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()

    def update(self, collection: str, count: int) -> None:
        if not self.quiet and self.tty:
            click.echo(f"\r  {collection:<22} {count:>8,}", err=True, nl=False)

    def done(self, collection: str, count: int, status: str) -> None:
        if not self.quiet:
            prefix = "\r" if self.tty else ""
            detail = f"{count:>8,}" if status == "complete" else f"       - ({_one_line(status)})"
            click.echo(f"{prefix}  {collection:<22} {detail}", err=True)


def _run_crawl(client: Any, output: Path, opts: dict[str, Any], subdomain: str | None = None) -> Path:
    from audit.crawl import Window, crawl_to_snapshot

    window = None
    if opts["since"] is not None or not opts["resume"]:
        window = Window(opts["since"] or datetime.now(timezone.utc).replace(microsecond=0), opts["window"])
    team_ids = [t.strip() for t in opts["teams"].split(",") if t.strip()] if opts["teams"] else None
    skip = [s.strip() for s in opts["skip"].split(",") if s.strip()] if opts["skip"] else []
    path, fields = crawl_to_snapshot(
        client, output, window, team_ids=team_ids, skip=skip, resume=opts["resume"], force=opts["force"],
        workers=opts["workers"], progress=StderrProgress(opts["quiet"]), subdomain=subdomain,
    )
    if not opts["quiet"]:
        click.echo(_requests_summary(fields["requests"]), err=True)
    return path


def _requests_summary(requests: dict[str, Any]) -> str:
    bound = requests["lower_bound"]["total"]
    ratio = requests["total"] / bound if bound else 0
    return (
        f"requests: {requests['total']:,} (lower bound {bound:,}, {ratio:.2f}x); "
        f"429s: {requests['throttled']:,}; retries: {requests['retries']:,}"
    )


def _api_client(opts: dict[str, Any], token: str, transport: Any = None) -> Any:
    from audit.client import REGION_URLS, ApiClient

    base_url = opts.get("api_url") or REGION_URLS[opts.get("region") or "us"]
    return ApiClient(token, base_url=base_url, ca_bundle=opts.get("ca_bundle"), transport=transport,
                     max_rate_per_minute=opts["max_rate"])


@main.command()
@crawl_options
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Snapshot directory to write.")
def crawl(output: Path, **opts: Any) -> None:
    """Crawl a PagerDuty account into a snapshot."""
    token = read_token(opts["token_file"])
    client = _api_client(opts, token)
    del token
    try:
        path = _run_crawl(client, output, opts)
    finally:
        client.close()
    click.echo(str(path))


# ---------------------------------------------------------------- snapshot


@main.group()
def snapshot() -> None:
    """Inspect snapshots."""


@snapshot.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def snapshot_info(path: Path, as_json: bool) -> None:
    """Print a snapshot's manifest: when, from where, what and how much."""
    from audit.snapshot import load

    snap = load(path)
    if as_json:
        click.echo(json.dumps(snap.manifest, indent=2, sort_keys=True))
        return
    click.echo(format_manifest(snap.manifest))


def format_manifest(m: dict[str, Any]) -> str:
    window = m["window"]
    lines = [
        f"snapshot format {m['format_version']} (pd-audit {m.get('tool_version', '?')})",
        f"api:       {m.get('api_base', '?')}" + (f"  (subdomain {m['subdomain']})" if m.get("subdomain") else ""),
        f"crawled:   {m.get('crawl_started_at', '?')} .. {m.get('crawl_finished_at', '?')}",
        f"window:    {window['since']} .. {window['until']} ({window['days']} days)",
    ]
    if m.get("scope"):
        lines.append(f"scope:     teams {', '.join(m['scope']['team_ids'])}")
    lines.append("collections:")
    for name, info in sorted(m["collections"].items()):
        if info["status"] == "complete":
            lines.append(f"  {name:<22} {info['count']:>8,}")
        else:
            lines.append(f"  {name:<22} {'-':>8}  unavailable (HTTP {info.get('http_status')}): {info.get('reason')}")
    requests = m.get("requests")
    if requests:
        lines.append(_requests_summary(requests))
        for endpoint, count in requests["by_endpoint"].items():
            lines.append(f"  {endpoint:<52} {count:>8,}")
    return "\n".join(lines)


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
              help="Fail every request to an endpoint, e.g. '/schedules/{id}=503' (repeatable).")
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
        click.echo(f"serving {account} at {url}", err=True)
        click.echo(f"CA certificate: {ca_path}  (pass it to crawl with --ca-bundle)", err=True)
        if faults.active:
            always = "".join(f"; {endpoint} always {kind}" for endpoint, kind in faults.per_endpoint.items())
            click.echo(f"injecting faults: {fault_rate:g} of requests (seed {fault_seed}, kinds "
                       f"{','.join(kinds)}){always}", err=True)

    serve(account, host=host, port=port, state_dir=state_dir, rate_limit_per_minute=rate_limit,
          latency_seconds=latency, tokens=list(tokens) or None, ready=ready, faults=faults)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("pd-audit-demo"),
              show_default=True, help="Folder for the demo's snapshot and reports.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def demo(out: Path, quiet: bool) -> None:
    """Audit the bundled example account through the in-process emulator (no token, no network)."""
    from audit.demo import run_demo

    from audit.assess import assess
    from audit.demo import DEMO_SINCE, bundled_config_path
    from audit.outputs import text_table

    snapshot_path = run_demo(out, progress=StderrProgress(quiet))
    # Waivers are judged as of the window's start, so the demo reads the same every day.
    assessment = assess(snapshot_path, config_path=bundled_config_path(), today=DEMO_SINCE.date())
    (out / "score.txt").write_text(text_table.render(assessment), encoding="utf-8")
    org = assessment.scores.org
    click.echo(f"snapshot:  {snapshot_path}")
    click.echo(f"scores:    {out / 'score.txt'}  (org score "
               f"{'-' if org.score is None else f'{org.score:.1f}'}, {len(assessment.failing())} failing findings)")


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
                     help="Judge waiver expiry as of this date (default: today)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _assess(snapshot_path: Path, opts: dict[str, Any]) -> Any:
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

    click.echo(facts_table(snapshot_path, entity, fmt), nl=False)


@main.command()
@click.argument("snapshot_path", metavar="SNAPSHOT", type=click.Path(path_type=Path))
@rules_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--team", "team_id", help="Only this team's services and findings.")
def score(snapshot_path: Path, fmt: str, team_id: str | None, **opts: Any) -> None:
    """Judge a snapshot: findings, maturity levels and scores."""
    from audit.outputs import SCORE_FORMATS

    assessment = _assess(snapshot_path, opts)
    if team_id is not None:
        if team_id not in assessment.scores.teams:
            raise UserError(f"--team {team_id}: no service of this snapshot belongs to that team")
        assessment = assessment.for_team(team_id)
    click.echo(SCORE_FORMATS[fmt](assessment), nl=False)


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
        for rule in pack:
            click.echo(f"{rule.id:<7} {rule.mode.value}  L{rule.level!s:<4} {rule.severity.value:<8} "
                       f"{rule.entity:<17} {rule.title}")


@rules.command("explain")
@click.argument("rule_id")
@click.pass_obj
def rules_explain(pack: Any, rule_id: str) -> None:
    """Show a rule's rationale, parameters and how to fix it in PagerDuty."""
    rule = pack.resolve(rule_id.upper())
    if rule is None:
        raise UserError(f"no rule {rule_id}; `pd-audit rules` lists them")
    sources = {"G": "given by the guides", "I": "implied by the guides", "P": "PagerDuty's own behaviour",
               "T": "pd-audit's default"}
    lines = [
        f"{rule.id}: {rule.title}",
        f"  judges:   {rule.entity} ({'configuration' if rule.mode.value == 'S' else 'the on-call window' if rule.mode.value == 'W' else 'incident analytics'})",
        f"  level:    {rule.level}    severity: {rule.severity.value}",
    ]
    if rule.aliases:
        lines.append(f"  formerly: {', '.join(rule.aliases)}")
    lines += ["", "Why it matters:", f"  {rule.rationale.strip()}"]
    if rule.guide:
        lines.append(f"  ({rule.guide.name}: {rule.guide.url})")
    if rule.params:
        lines += ["", "Parameters (override in pd-audit.toml under [thresholds." + rule.id + "]):"]
        for name, param in rule.params.items():
            lines.append(f"  {name} = {param.default!r}  ({sources[param.source]}): {param.description}")
    lines += ["", "How to fix it in PagerDuty:", f"  {rule.fix.strip()}"]
    click.echo("\n".join(lines))
