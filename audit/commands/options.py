"""The options commands share, declared once: value types, option groups, renamed spellings.

One name per idea across every command (the README's "Options" section): ``-o/--output`` is the
one thing a command creates, ``--report-dir`` the report folder, ``--snapshot`` a snapshot folder
given as an option, ``--team`` restricts to teams (repeatable or comma-separated, ids or names),
``--format`` how stdout is printed, ``--sarif/--junit/--markdown/--json FILE`` files written beside.

A command's options reach it as one frozen dataclass (``@takes(CheckOptions)``), built once from
click's parameters: a field whose type is itself a dataclass (``CrawlOptions``, ``RulesOptions``...)
is built from the parameters its option group declared. Old spellings (``renamed``) keep working
for one release, hidden from --help, with a one-line note on stderr naming the new spelling.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from audit.commands.console import warn
from audit.errors import UserError
from audit.findings import FAIL_ON_CHOICES

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
Options = TypeVar("Options")


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


class PathType(click.Path):
    """A file or folder path. An empty value is refused, not taken as the current folder: in a
    script, ``--report-dir "$OUT"`` with ``OUT`` unset would otherwise write into wherever it runs."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            raise UserError(f"{_spelling(param)}: an empty value; give a {self.name}")
        return super().convert(value, param, ctx)


class UrlType(click.ParamType):
    """An API base URL; an empty one is refused rather than read as "the default". Its form
    (https, a host) is checked by the client, which is imported only when a crawl starts."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not str(value).strip():
            raise UserError(f"{_spelling(param)}: an empty value; give an https:// URL such as "
                            "https://api.pagerduty.com, or leave the option out for --region's")
        return str(value)


def _spelling(param: click.Parameter | None) -> str:
    """How the parameter is known: its long spelling (``--output``, not ``-o``), or an argument's metavar."""
    if param is None:
        return "a value"
    return max(param.opts, key=len) if isinstance(param, click.Option) else param.human_readable_name


def comma_list(values: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """``a,b`` or (``a``, ``b,c``) -> the parts, stripped, in order, each once."""
    if values is None:
        return ()
    given = (values,) if isinstance(values, str) else values
    return tuple(dict.fromkeys(part.strip() for value in given for part in value.split(",") if part.strip()))


# ---------------------------------------------------------------- renamed spellings


class RenamedOption(click.Option):
    """An old spelling of another option: hidden, noted on stderr, its value handed to the new one."""

    def __init__(self, decls: list[str], *, new_param: str, new_spelling: str,
                 carries: Callable[[Any], Any] = lambda value: value, **kwargs: Any):
        super().__init__(decls, hidden=True, **kwargs)
        self.new_param = new_param
        self.new_spelling = new_spelling
        self.carries = carries


def renamed(old: str, new_spelling: str, new_param: str, *, is_flag: bool = False,
            carries: Callable[[Any], Any] = lambda value: value) -> Decorator:
    """``old`` as a deprecated spelling of the option whose parameter is ``new_param``."""
    name = "renamed_" + old.lstrip("-").replace("-", "_")
    return click.option(old, name, cls=RenamedOption, new_param=new_param, new_spelling=new_spelling,
                        is_flag=is_flag, carries=carries)


class RenamingCommand(click.Command):
    """A command whose renamed spellings are folded into their new options once parsed."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        targets = {param.name: param for param in self.params}
        for param in self.params:
            if not isinstance(param, RenamedOption):
                continue
            value = ctx.params.pop(param.name or "", None)
            if value in (None, False, ()):
                continue
            old = param.opts[0]
            if ctx.get_parameter_source(param.new_param) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
                raise click.UsageError(f"{old} is the old spelling of {param.new_spelling}: give only "
                                       f"{param.new_spelling}", ctx)
            warn(f"{old} is deprecated: use {param.new_spelling} (the old spelling goes in the next release)")
            target = targets[param.new_param]
            raw = param.carries(value)
            ctx.params[param.new_param] = target.process_value(ctx, (raw,) if target.multiple else raw)
        return rest


class CommandGroup(click.Group):
    """A group whose commands (and subgroups' commands) fold renamed spellings."""

    command_class = RenamingCommand
    group_class = type  # subgroups are of this group's own class


# ---------------------------------------------------------------- options as dataclasses


def takes(cls: type[Options]) -> Callable[[Callable[[Options], Any]], Callable[..., Any]]:
    """Hand the command one ``cls``, built from click's parameters (nested option groups included)."""

    def decorate(fn: Callable[[Options], Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def command(**params: Any) -> Any:
            options = _build(cls, params)
            if params:  # a parameter no field takes: the dataclass and the decorators disagree
                raise TypeError(f"{cls.__name__} has no field for {sorted(params)}")
            return fn(options)

        command.options_class = cls  # type: ignore[attr-defined]  # for the test that fields match options
        return command

    return decorate


def option_fields(cls: type, *, required: bool = False) -> set[str]:
    """The parameter names a ``takes`` dataclass is built from (nested option groups included);
    ``required``: only those without a default (``audit`` judges with every mode, as of the crawl)."""
    hints = typing.get_type_hints(cls)
    names = set()
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            names |= option_fields(kind, required=required)
        elif not required or field.default is dataclasses.MISSING:
            names.add(field.name)
    return names


def _build(cls: type[Options], params: dict[str, Any]) -> Options:
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        kind = hints[field.name]
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            values[field.name] = _build(kind, params)
        elif field.name in params:
            values[field.name] = params.pop(field.name)
    return cls(**values)


def _group(options: list[Decorator]) -> Decorator:
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


@dataclass(frozen=True)
class CrawlOptions:
    """How to reach the account and what to crawl (crawl, audit, check --live, plan --live)."""

    token_file: Path | None
    region: str
    api_url: str | None
    ca_bundle: str | None
    since: datetime | None
    window: int
    incidents_window: int
    max_rate: float
    workers: int
    timeout: float | None
    max_attempts: int | None
    skip: tuple[str, ...]
    resume: bool
    force: bool
    quiet: bool


crawl_options = _group([
    click.option("--token-file", type=PathType(dir_okay=False, path_type=Path),
                 help="File holding the API token (default: $PAGERDUTY_TOKEN)."),
    click.option("--region", type=click.Choice(["us", "eu"]), default="us", show_default=True,
                 help="PagerDuty service region."),
    click.option("--api-url", type=UrlType(), metavar="URL", help="Base URL of any PagerDuty-compatible API (https)."),
    click.option("--ca-bundle", type=PathType(exists=True, dir_okay=False),
                 help="CA bundle for a private CA (e.g. the emulator's)."),
    click.option("--since", type=InstantType(), help="Start of the on-call window (default: now)."),
    click.option("--window", type=WindowType(), default="28d", show_default=True,
                 help="Length of the on-call window (up to 90d)."),
    click.option("--incidents-window", type=WindowType(365, "PagerDuty's analytics answer a year at most"),
                 default="90d", show_default=True,
                 help="Incident history the analytics rules judge, ending a day before the crawl (analytics "
                      "lag); --skip incidents leaves it out."),
    click.option("--max-rate", type=click.FloatRange(min=1), default=900, show_default=True,
                 help="Requests per minute (PagerDuty allows 960 per credential)."),
    click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True,
                 help="Concurrent requests."),
    click.option("--timeout", type=click.FloatRange(min=1),
                 help="Seconds to wait for one answer before retrying (default: 30)."),
    click.option("--max-attempts", type=click.IntRange(1, 20),
                 help="Tries per request on 5xx, timeouts and dropped connections before the crawl stops "
                      "with exit 3 (default: 8)."),
    click.option("--skip", metavar="COLLECTION,...", callback=lambda ctx, param, value: comma_list(value),
                 help="Collections to leave out, comma-separated (e.g. service_dependencies)."),
    click.option("--resume", is_flag=True, help="Continue an interrupted crawl into the same snapshot path."),
    click.option("--force", is_flag=True, help="Replace an existing snapshot at that path."),
    click.option("--quiet", is_flag=True, help="No progress on stderr."),
])


def team_option(what: str, *, crawl_scope: bool = False) -> Decorator:
    """``--team``: restrict to teams, by id or name, repeatable or comma-separated (parameter ``teams``).

    ``what`` says what the restriction does in this command. Where the command crawls,
    ``--teams`` (comma-separated ids, the crawl's scope) is its old spelling.
    """
    team = click.option("--team", "teams", multiple=True, metavar="TEAM",
                        callback=lambda ctx, param, value: comma_list(value),
                        help=f"{what} (a team's id or name; repeatable or comma-separated).")
    if not crawl_scope:
        return team
    return _group([team, renamed("--teams", "--team", "teams")])


def one_team(teams: tuple[str, ...], command: str) -> str | None:
    """The one team a command judging a team at a time was given, if any."""
    if len(teams) > 1:
        raise UserError(f"--team: `{command}` judges one team at a time; give one team (not {', '.join(teams)})")
    return teams[0] if teams else None


@dataclass(frozen=True)
class RulesOptions:
    """The rule packs and config a judging command reads, and how it judges."""

    rules_dirs: tuple[str, ...]
    config_path: str | None
    mode: str = "all"
    as_of: datetime | None = None


_RULES = click.option("--rules", "rules_dirs", multiple=True, type=PathType(exists=True, file_okay=False),
                      metavar="DIR", help="A folder of extra rule packs (*.yaml); repeatable.")
_CONFIG = click.option("--config", "config_path", type=PathType(dir_okay=False), metavar="FILE",
                       help="Config file (default: ./pd-audit.toml if present).")
_AS_OF = click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                      help="The audit's as-of date, for waiver expiry and the report header "
                           "(default: the day the snapshot was crawled).")

rule_packs_option = _RULES
rule_packs_and_config = _group([_RULES, _CONFIG])


def rules_options(mode_default: str = "all") -> Decorator:
    """--rules, --config, --mode and --as-of. The gate's commands judge static rules by default:
    a calendar change (a holiday override, a new month) must not break a build, and a baseline
    must be recorded with the modes the check runs."""
    mode = click.option("--mode", type=click.Choice(["static", "all"]), default=mode_default, show_default=True,
                        help="static: configuration rules only (deterministic); all: window and analytics "
                             "rules too.")
    return _group([_RULES, _CONFIG, mode, _AS_OF])


@dataclass(frozen=True)
class ReportOptions:
    """Where and how the scorecards are written (report, audit)."""

    report_dir: Path
    formats: tuple[str, ...]
    anonymize_people: bool
    pdf_workers: int | None


report_options = _group([
    click.option("--report-dir", type=PathType(file_okay=False, path_type=Path), default=Path("pd-audit-report"),
                 metavar="DIR",
                 show_default=True, help="Folder for the reports (new, empty, or written by pd-audit before)."),
    renamed("--out", "--report-dir", "report_dir"),
    click.option("--format", "formats", default="html,pdf", show_default=True, metavar="FORMAT,...",
                 callback=lambda ctx, param, value: comma_list(value), help="Comma-separated: html, pdf."),
    click.option("--anonymize-people", is_flag=True,
                 help="Replace people's names with stable pseudonyms, for reports shared widely."),
    # Not --workers: `audit` also crawls, and the crawl's --workers means concurrent requests.
    click.option("--pdf-workers", type=click.IntRange(1, 64), help="Processes printing PDFs (default: the cores)."),
])


@dataclass(frozen=True)
class GateFiles:
    """The files a gate (check, plan) writes besides its verdict; '-' is stdout."""

    sarif: str | None
    junit: str | None
    markdown: str | None
    json: str | None

    def given(self) -> dict[str, str]:
        return {fmt: path for fmt, path in dataclasses.asdict(self).items() if path}


_GATE_FILE = PathType(dir_okay=False, allow_dash=True)
gate_files = _group([
    click.option("--sarif", type=_GATE_FILE, metavar="FILE", help="Write SARIF 2.1.0 here ('-' for stdout)."),
    click.option("--junit", type=_GATE_FILE, metavar="FILE", help="Write JUnit XML here."),
    click.option("--markdown", type=_GATE_FILE, metavar="FILE",
                 help="Write a Markdown summary here (for a PR comment or $GITHUB_STEP_SUMMARY)."),
    click.option("--json", type=_GATE_FILE, metavar="FILE", help="Write the result as JSON here."),
])


def fail_on_option(what: str) -> Decorator:
    """--fail-on for the gates: ``what`` the gate counts (new, introduced)."""
    return click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES),
                        help=f"Fail on {what} violations of this severity or above; 'warn' fails on {what} "
                             "warnings too (default: [check] fail_on in the config, else low).")


def snapshot_argument(name: str = "snapshot", metavar: str = "SNAPSHOT") -> Decorator:
    return click.argument(name, metavar=metavar, type=PathType(path_type=Path))


def command(name: str | None = None) -> Callable[[Callable[..., Any]], click.Command]:
    """A pd-audit command: its renamed spellings are folded into their new options."""
    return click.command(name, cls=RenamingCommand)


def group(name: str | None = None, **settings: Any) -> Callable[[Callable[..., Any]], click.Group]:
    """A group of pd-audit commands (``snapshot``, ``baseline``, ``rules``)."""
    return click.group(name, cls=CommandGroup, **settings)
