"""Commands that compare snapshots over time: ``diff`` (two) and ``history`` (a folder of them).

Every snapshot is judged with today's rules and config, so only the account's changes show.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from audit.commands.judging import assess_with, snapshot_assessor
from audit.commands.options import (
    PathType,
    RulesOptions,
    command,
    one_team,
    rules_options,
    snapshot_argument,
    takes,
    team_option,
)
from audit.errors import UserError


@dataclass(frozen=True)
class DiffCommand:
    old: Path
    new: Path
    fmt: str
    teams: tuple[str, ...]
    rules: RulesOptions


@command("diff")
@snapshot_argument("old", "OLD")
@snapshot_argument("new", "NEW")
@rules_options()
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="How to print what changed.")
@team_option("Only this team's services and findings")
@takes(DiffCommand)
def diff_command(options: DiffCommand) -> None:
    """What changed from snapshot OLD to NEW: findings new, fixed and unchanged; levels and scores.

    Both are judged with today's rules and config, so only the account's changes show.
    """
    from audit.diff import diff_assessments
    from audit.outputs import destination
    from audit.outputs.ci import DIFF_WRITERS

    team = one_team(options.teams, "diff")
    old, new = assess_with(options.old, options.rules), assess_with(options.new, options.rules)
    if team is not None:
        if team not in old.scores.teams and team not in new.scores.teams:
            raise UserError(f"--team {team}: no service of either snapshot belongs to that team")
        old, new = old.for_team(team), new.for_team(team)
    with destination.output_to(destination.STDOUT) as out:  # written as made: never whole in memory
        DIFF_WRITERS[options.fmt](diff_assessments(old, new), out)


@dataclass(frozen=True)
class HistoryCommand:
    folder: Path
    fmt: str
    teams: tuple[str, ...]
    rules: RulesOptions


@command()
@click.argument("folder", metavar="DIR", type=PathType(path_type=Path))
@rules_options()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="How to print the trend.")
@team_option("Only this team (and the org)")
@takes(HistoryCommand)
def history(options: HistoryCommand) -> None:
    """Re-score every snapshot in DIR with today's rules: the org's and each team's trend.

    Waivers are judged as of each snapshot's crawl date (or --as-of).
    """
    from audit.history import build_history
    from audit.outputs import destination
    from audit.outputs.ci import HISTORY_WRITERS

    team = one_team(options.teams, "history")
    trend = build_history(options.folder, snapshot_assessor(options.rules), team_id=team)
    with destination.output_to(destination.STDOUT) as out:
        HISTORY_WRITERS[options.fmt](trend, out)
