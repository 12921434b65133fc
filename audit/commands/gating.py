"""The CI gate's commands: ``baseline create``/``update``, ``check`` and ``plan``.

They judge static rules by default (``rules_options("static")``): a calendar change must not
break a build, and a baseline is recorded with the modes the check runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from audit.commands import leaving
from audit.commands.console import echo, warn
from audit.commands.crawling import crawl_live
from audit.commands.judging import assess_with, one_assessment
from audit.commands.options import (
    CrawlOptions,
    GateFiles,
    PathType,
    RulesOptions,
    command,
    crawl_options,
    fail_on_option,
    gate_files,
    group,
    one_team,
    rules_options,
    snapshot_argument,
    takes,
    team_option,
)
from audit.errors import UserError
from audit.findings import DEFAULT_FAIL_ON
from audit.safe_text import one_line

if TYPE_CHECKING:  # imported where used: startup time
    from audit.baseline import Baseline

BASELINE = Path("pd-audit-baseline.json")


@group("baseline")
def baseline_group() -> None:
    """Record the violations a CI check accepts as known debt."""


@dataclass(frozen=True)
class BaselineCreate:
    snapshot: Path
    output: Path
    force: bool
    rules: RulesOptions


@baseline_group.command("create")
@snapshot_argument()
@rules_options("static")
@click.option("-o", "--output", type=PathType(dir_okay=False, path_type=Path), default=BASELINE,
              show_default=True, help="Baseline file to write.")
@click.option("--force", is_flag=True, help="Replace an existing baseline (prefer `baseline update`).")
@takes(BaselineCreate)
@one_assessment
def baseline_create(options: BaselineCreate) -> None:
    """Record every failing finding of SNAPSHOT in a new baseline file."""
    if options.output.exists() and not options.force:
        raise UserError(f"{options.output} exists; `pd-audit baseline update` merges into it "
                        "(or pass --force to replace it)")
    assessment = assess_with(options.snapshot, options.rules)  # first: see assess_with
    from audit.baseline import create_baseline, snapshot_source, write_baseline

    baseline = create_baseline(assessment.findings, assessment.today, snapshot_source(assessment.snapshot.manifest))
    write_baseline(baseline, options.output)
    echo(f"{options.output}: {len(baseline)} failing findings recorded")
    leaving.keep(assessment)


@dataclass(frozen=True)
class BaselineUpdate:
    snapshot: Path
    baseline: Path
    output: Path | None
    rules: RulesOptions


@baseline_group.command("update")
@snapshot_argument()
@rules_options("static")
@click.option("--baseline", type=PathType(dir_okay=False, path_type=Path), default=BASELINE,
              show_default=True, help="Baseline file to update in place.")
@click.option("-o", "--output", type=PathType(dir_okay=False, path_type=Path),
              help="Write the updated baseline here instead of in place.")
@takes(BaselineUpdate)
@one_assessment
def baseline_update(options: BaselineUpdate) -> None:
    """Accept SNAPSHOT's new failing findings and drop the fixed ones."""
    from audit.baseline import load_baseline, snapshot_source, update_baseline, write_baseline
    from audit.gate import Judged
    from audit.outputs.run_summary import baseline_change

    old = load_baseline(options.baseline)
    assessment = assess_with(options.snapshot, options.rules)
    judged = Judged.of(assessment)
    change = update_baseline(judged.canonical_baseline(old), assessment.findings, judged, assessment.today,
                             snapshot_source(assessment.snapshot.manifest))
    target = write_baseline(change.baseline, options.output or options.baseline)
    echo(baseline_change(change, target))
    leaving.keep(assessment)


@dataclass(frozen=True)
class CheckCommand:
    snapshot: Path
    baseline: str
    fail_on: str | None
    teams: tuple[str, ...]
    live: bool
    all_findings: bool
    files: GateFiles
    rules: RulesOptions
    crawl: CrawlOptions


@command()
@snapshot_argument()
@click.option("--baseline", type=PathType(dir_okay=False), required=True, metavar="FILE",
              help="Baseline file of accepted violations (from `pd-audit baseline create`).")
@fail_on_option("new")
@team_option("Judge only this team's services and findings; with --live, crawl only these teams", crawl_scope=True)
@gate_files
@click.option("--live", is_flag=True, help="Crawl into SNAPSHOT first (takes the crawl options).")
@click.option("--all", "all_findings", is_flag=True, help="--junit: a test case for every judged object (by "
              "default each rule's passes and objects not judged are one case each, with the count).")
@rules_options("static")
@crawl_options
@takes(CheckCommand)
def check(options: CheckCommand) -> None:
    """Exit 1 if SNAPSHOT has failing findings the baseline does not accept.

    Exit codes: 0 no new violation at or above --fail-on; 1 new violations; 2 bad
    input; 3 crawl error (with --live). Static rules only unless --mode all.
    """
    from audit.baseline import load_baseline
    from audit.facts.collector import collector_paused

    baseline = load_baseline(options.baseline)  # before a --live crawl: a typo should not cost a crawl
    # With --live, several teams scope the crawl, and what was crawled is judged; one team also filters.
    team = None if options.live and len(options.teams) > 1 else one_team(options.teams, "check")
    snapshot_path = crawl_live(options.snapshot, options.crawl, options.teams) if options.live else options.snapshot
    with collector_paused():  # after the crawl, whose cyclic garbage the collector does free
        _gate(options, snapshot_path, baseline, team)


def _gate(options: CheckCommand, snapshot_path: Path, baseline: Baseline, team: str | None) -> None:
    from audit.gate import fail_on_threshold, run_gate
    from audit.outputs import destination, sarif
    from audit.outputs.ci import check_writers, verdict_lines

    assessment = assess_with(snapshot_path, options.rules)
    recorded, crawled = baseline.snapshot.get("subdomain"), assessment.snapshot.manifest.get("subdomain")
    if recorded and crawled and recorded != crawled:
        warn(f"the baseline was recorded on account {one_line(recorded)!r}, the snapshot is "
             f"of {one_line(crawled)!r}: every finding will look new")
    threshold, warnings_fail = fail_on_threshold(options.fail_on or assessment.config.fail_on or DEFAULT_FAIL_ON.value)
    team_id = assessment.resolve_team(team) if team is not None else None
    result = run_gate(assessment, baseline, fail_on=threshold, team_id=team_id, baseline_name=options.baseline,
                      fail_on_warnings=warnings_fail)
    files = options.files.given()
    chosen = sarif.plan(result) if options.files.sarif else None  # once, for the log and the warning
    writers = check_writers(every_object=options.all_findings, sarif_plan=chosen)
    for fmt, path in files.items():
        with destination.output_to(path) as out:  # written as it is made: never whole in memory
            writers[fmt](result, out)
    if chosen is not None and (note := sarif.limit_note(result, chosen)):  # known debt summed up: said once
        warn(note)
    # The verdict goes to stderr when an output took stdout, so that output stays parseable.
    for line in verdict_lines(result):  # one at a time: against an empty baseline every violation is new
        echo(line, err="-" in files.values())
    leaving.keep((assessment, result))
    click.get_current_context().exit(int(result.exit_code))


@dataclass(frozen=True)
class PlanCommand:
    plan: str
    snapshot: Path | None
    live: bool
    teams: tuple[str, ...]
    baseline: str | None
    fail_on: str | None
    tf_dirs: tuple[str, ...]
    files: GateFiles
    rules: RulesOptions
    crawl: CrawlOptions


@command("plan")
@click.argument("plan", metavar="PLAN.json", type=PathType(dir_okay=False))
@click.option("--snapshot", type=PathType(path_type=Path), metavar="SNAPSHOT",
              help="Apply the plan to this snapshot (default: the resources as the plan has them now).")
@click.option("--live", is_flag=True, help="Crawl the account into --snapshot first (takes the crawl options).")
@team_option("With --live, crawl only these teams", crawl_scope=True)
@click.option("--baseline", type=PathType(dir_okay=False), metavar="FILE",
              help="Violations already accepted (from `pd-audit baseline create`): never blocking.")
@fail_on_option("introduced")
@click.option("--tf-dir", "tf_dirs", multiple=True, type=PathType(file_okay=False), metavar="DIR",
              help="Folder of the root module's .tf files: findings point at file and line (repeatable).")
@gate_files
@rules_options("static")
@crawl_options
@takes(PlanCommand)
def plan_command(options: PlanCommand) -> None:
    """Judge a Terraform plan (`terraform show -json PLAN`) before it is applied.

    Exit codes as `check`: 0 the plan introduces no violation at or above --fail-on;
    1 it does; 2 bad input; 3 crawl error (with --live).
    """
    from audit.baseline import load_baseline
    from audit.outputs import destination
    from audit.plan.compare import judge_plan
    from audit.plan.locations import resource_blocks
    from audit.plan.outputs import PLAN_FORMATS, PLAN_WRITERS
    from audit.plan.reader import read_plan
    from audit.snapshot import load

    planned = read_plan(options.plan)  # every input is read before a --live crawl: a typo should not cost one
    accepted = load_baseline(options.baseline) if options.baseline else None
    locations = resource_blocks(options.tf_dirs)
    snapshot_path = options.snapshot
    if options.teams and not options.live:
        raise UserError("--team scopes the --live crawl of `plan`; the plan itself is judged whole")
    if options.live:
        if snapshot_path is None:
            raise UserError("--live needs --snapshot DIR to crawl the account into")
        snapshot_path = crawl_live(snapshot_path, options.crawl, options.teams)
    base = load(snapshot_path) if snapshot_path is not None else None
    result = judge_plan(planned, base, lambda snap: assess_with(snap, options.rules), accepted=accepted,
                        fail_on=options.fail_on, baseline_name=options.baseline or options.plan)
    result = dataclasses.replace(result, locations=locations)
    files = options.files.given()
    for fmt, path in files.items():
        with destination.output_to(path) as out:
            PLAN_WRITERS[fmt](result, out)
    echo(PLAN_FORMATS["text"](result), nl=False, err="-" in files.values())
    click.get_current_context().exit(int(result.gate.exit_code))

