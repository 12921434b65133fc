"""Commands that judge one snapshot and print: ``facts``, ``score``, ``init``, ``rules``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from audit.commands import leaving
from audit.commands.console import echo
from audit.commands.options import (
    PathType,
    RulesOptions,
    command,
    group,
    one_team,
    rule_packs_option,
    rules_options,
    snapshot_argument,
    takes,
    team_option,
)
from audit.errors import UserError


def one_assessment(command_body: Callable[[Any], None]) -> Callable[[Any], None]:
    """Run a command that makes one assessment, writes it and ends, with the cyclic collector paused.

    The collector would only scan the assessment's millions of objects again (a full pass as
    assess() ends, more while writing: 2-3 s of 20 at 12,000 services) and free nothing. When the
    collector is back, the assessment is gone, or kept for a process about to end without
    freeing it (``audit.commands.leaving``).
    """

    @functools.wraps(command_body)
    def run(options: Any) -> None:
        from audit.facts.collector import collector_paused

        with collector_paused():
            command_body(options)

    return run


def assess_with(snapshot_path: Any, rules: RulesOptions) -> Any:
    """Judge a snapshot with the rule packs, config, modes and as-of date given.

    The snapshot is opened, and its people side (most of its bytes) started on the second core of
    a large account, before the rest of pd-audit and pandas are loaded: those imports take the
    first half second of the command, and the people side is what the facts stage waits for."""
    from audit.facts.roster import read_beside
    from audit.snapshot import Snapshot, load

    snapshot = snapshot_path if isinstance(snapshot_path, Snapshot) else load(snapshot_path)
    people_side = read_beside(snapshot)
    try:
        from audit.assess import ALL_MODES, STATIC_ONLY, assess
    except BaseException:
        people_side.abandon()
        raise
    return assess(
        snapshot,
        rules_dirs=rules.rules_dirs,
        config_path=rules.config_path,
        modes=STATIC_ONLY if rules.mode == "static" else ALL_MODES,
        today=rules.as_of.date() if rules.as_of else None,
        people_side=people_side,
    )


def snapshot_assessor(rules: RulesOptions) -> Callable[[Any, dt.date], Any]:
    """How a folder of snapshots is judged (``history``, ``report --history``): today's rules, waivers as of
    each snapshot's crawl date (or --as-of)."""
    def assess_snapshot(snapshot: Any, crawled_on: dt.date) -> Any:
        as_of = rules.as_of or dt.datetime.combine(crawled_on, dt.datetime.min.time())
        return assess_with(snapshot, dataclasses.replace(rules, as_of=as_of))

    return assess_snapshot


ENTITIES = ["service", "escalation_policy", "policy_level", "schedule", "team", "user"]


@dataclass(frozen=True)
class FactsCommand:
    snapshot: Path
    entity: str
    fmt: str


@command()
@snapshot_argument()
@click.option("--entity", type=click.Choice(ENTITIES), required=True, help="Which fact table.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True,
              help="How to print the table.")
@takes(FactsCommand)
def facts(options: FactsCommand) -> None:
    """Print one fact table of a snapshot (what the rules judge)."""
    from audit.facts.build import facts_table

    echo(facts_table(options.snapshot, options.entity, options.fmt), nl=False, machine=True)


@dataclass(frozen=True)
class ScoreCommand:
    snapshot: Path
    fmt: str
    teams: tuple[str, ...]
    all_findings: bool
    rules: RulesOptions


@command()
@snapshot_argument()
@rules_options()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="How to print the findings, levels and scores.")
@team_option("Only this team's services and findings")
@click.option("--all", "all_findings", is_flag=True, help="json, csv: list every finding (by default passes, "
              "not-applicable and excluded findings are counted per rule and team).")
@takes(ScoreCommand)
@one_assessment
def score(options: ScoreCommand) -> None:
    """Judge a snapshot: findings, maturity levels and scores."""
    team = one_team(options.teams, "score")
    assessment = assess_with(options.snapshot, options.rules)  # first: see assess_with
    from audit.outputs import destination
    from audit.outputs.score_writers import SCORE_WRITERS

    if team is not None:
        assessment = assessment.for_team(assessment.resolve_team(team))
    with destination.output_to(destination.STDOUT) as out:  # written as made: never whole in memory
        SCORE_WRITERS[options.fmt](assessment, out, all_findings=options.all_findings)
    leaving.keep(assessment)


@dataclass(frozen=True)
class InitCommand:
    snapshot: Path
    output: Path


@command()
@snapshot_argument()
@click.option("-o", "--output", type=PathType(dir_okay=False, path_type=Path), default=Path("pd-audit.toml"),
              show_default=True, help="Where to write the config (an existing file is never overwritten).")
@takes(InitCommand)
def init(options: InitCommand) -> None:
    """Write a starter pd-audit.toml from SNAPSHOT: tiers proposed from the account's own signals
    (each with a comment saying why), every threshold at its default, an example waiver."""
    from audit.outputs.run_summary import starter_written
    from audit.starter_config import write_starter

    proposals = write_starter(options.snapshot, options.output)
    echo(starter_written(proposals, options.snapshot, options.output))


@dataclass(frozen=True)
class RulesCommand:
    rules_dirs: tuple[str, ...]


@group(invoke_without_command=True)
@rule_packs_option
@takes(RulesCommand)
def rules(options: RulesCommand) -> None:
    """List the rule catalog (built-in packs and --rules folders)."""
    from audit.facts.columns import column_names
    from audit.rules import load_packs

    ctx = click.get_current_context()
    pack = load_packs([Path(d) for d in options.rules_dirs], column_names())
    ctx.obj = pack  # for `rules explain`
    if ctx.invoked_subcommand is None:
        from audit.outputs import rule_list

        echo(rule_list.render(pack), nl=False)


@dataclass(frozen=True)
class RulesExplain:
    rule_id: str


@rules.command("explain")
@click.argument("rule_id")
@takes(RulesExplain)
def rules_explain(options: RulesExplain) -> None:
    """Show a rule's rationale, parameters and how to fix it in PagerDuty."""
    from audit.outputs import rule_list

    pack = click.get_current_context().obj  # the catalog `rules` loaded, with its --rules folders
    rule = pack.resolve(options.rule_id.upper())
    if rule is None:
        raise UserError(f"no rule {options.rule_id}; `pd-audit rules` lists them")
    echo(rule_list.explain(rule))
