"""Commands that write reports: ``report`` (from a snapshot), ``audit`` (the quarterly run: crawl,
score, report) and ``demo`` (the bundled example account through the in-process emulator)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from audit.commands import leaving
from audit.commands.console import StderrProgress, echo
from audit.commands.crawling import crawl_live
from audit.commands.judging import assess_with, snapshot_assessor
from audit.commands.options import (
    CrawlOptions,
    PathType,
    ReportOptions,
    RulesOptions,
    command,
    crawl_options,
    one_team,
    renamed,
    report_options,
    rule_packs_and_config,
    rules_options,
    snapshot_argument,
    takes,
    team_option,
)

PREVIOUS = "--previous"
history_option = click.option(
    "--history", type=PathType(file_okay=False, path_type=Path), metavar="DIR",
    help="A folder of earlier snapshots (as `history` reads): the org report's trend line over all of them; "
         "without --previous, the newest crawled before this one is the previous audit.")


def _write_reports(assessment: Any, previous: Any, options: ReportOptions, team: str | None,
                   history: Any = None) -> None:
    from audit.outputs.run_summary import reports_written
    from audit.reports import write_reports

    team_id = assessment.resolve_team(team) if team else None
    written = write_reports(assessment, options.report_dir, formats=list(options.formats), previous=previous,
                            team_id=team_id, workers=options.pdf_workers, anonymize_people=options.anonymize_people,
                            history=history)
    echo(reports_written(written))


def _judged(assessment: Any, previous_path: Path | None, folder: Path | None, rules: RulesOptions) -> Any:
    """The previous audit (--previous, else the folder's newest snapshot before this one) and the history.

    Each snapshot is judged once: the folder's copy of this snapshot and its future are not judged at all."""
    previous = assess_with(previous_path, rules) if previous_path else None
    if folder is None:
        return previous, None
    from audit.history import trend_history

    history, newest_before = trend_history(folder, snapshot_assessor(rules), assessment.snapshot,
                                           with_previous=previous is None, known=[previous] if previous else [])
    return previous or newest_before, history


@dataclass(frozen=True)
class ReportCommand:
    snapshot: Path
    previous: Path | None
    history: Path | None
    teams: tuple[str, ...]
    rules: RulesOptions
    report: ReportOptions


@command()
@snapshot_argument()
@click.option(PREVIOUS, type=PathType(path_type=Path), metavar="SNAPSHOT",
              help="An earlier snapshot: adds the trend, new and fixed findings.")
@history_option
@rules_options()
@report_options
@team_option("Only this team's scorecard")
@takes(ReportCommand)
def report(options: ReportCommand) -> None:
    """Write the org report and one scorecard per team, in HTML and PDF."""
    # Both snapshots are judged with today's rules and config, each as of its own crawl (or --as-of).
    team = one_team(options.teams, "report")
    assessment = assess_with(options.snapshot, options.rules)
    previous, history = _judged(assessment, options.previous, options.history, options.rules)
    _write_reports(assessment, previous, options.report, team, history)
    leaving.keep((assessment, previous, history))


@dataclass(frozen=True)
class AuditRun:
    output: Path
    previous: Path | None
    history: Path | None
    teams: tuple[str, ...]
    rules: RulesOptions
    report: ReportOptions
    crawl: CrawlOptions


@command("audit")
@click.option("-o", "--output", type=PathType(path_type=Path), required=True, metavar="SNAPSHOT",
              help="Snapshot folder to write.")
@report_options
@click.option(PREVIOUS, type=PathType(path_type=Path), metavar="SNAPSHOT",
              help="Last quarter's snapshot, for the trend.")
@history_option
@team_option("Crawl only these teams; with one team, write only its scorecard", crawl_scope=True)
@rule_packs_and_config
@crawl_options
@takes(AuditRun)
def audit_command(options: AuditRun) -> None:
    """The quarterly run: crawl, score and write the reports in one go (every rule mode)."""
    # One team: its scorecard only, as `report --team`; several: the reports of what was crawled.
    team = options.teams[0] if len(options.teams) == 1 else None
    snapshot_path = crawl_live(options.output, options.crawl, options.teams)
    assessment = assess_with(snapshot_path, options.rules)
    previous, history = _judged(assessment, options.previous, options.history, options.rules)
    echo(f"snapshot: {snapshot_path}")
    _write_reports(assessment, previous, options.report, team, history)
    leaving.keep((assessment, previous, history))


@dataclass(frozen=True)
class DemoCommand:
    output: Path
    quiet: bool


@command()
@click.option("-o", "--output", type=PathType(file_okay=False, path_type=Path), default=Path("pd-audit-demo"),
              metavar="DIR",
              show_default=True, help="Folder for the demo's snapshot, score table and reports.")
@renamed("--out", "--output", "output")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@takes(DemoCommand)
def demo(options: DemoCommand) -> None:
    """Audit the bundled example account through the in-process emulator (no token, no network)."""
    from audit.assess import assess
    from audit.demo import DEMO_SINCE, bundled_config_path, run_demo
    from audit.outputs import text_table
    from audit.outputs.run_summary import demo_written
    from audit.reports import write_reports
    from audit.safe_write import write_file

    out = options.output
    snapshot_path = run_demo(out, progress=StderrProgress(options.quiet))
    # Waivers are judged as of the window's start, so the demo reads the same every day.
    assessment = assess(snapshot_path, config_path=bundled_config_path(), today=DEMO_SINCE.date())
    write_file(out / "score.txt", text_table.render(assessment))
    written = write_reports(assessment, out / "report")
    echo(demo_written(snapshot_path, out / "score.txt", out / "report" / "index.html", assessment, len(written)))

