"""The pd-audit command line: the click group, its error handling, and which commands it holds.

Each command (in ``audit.commands``, one module per family) receives its options as one frozen
dataclass, calls the stages, prints through ``audit.outputs``, and exits with a named code
(``audit.errors.ExitCode``). Errors from the stages arrive as ``AuditError`` and leave here as one
line on stderr; ``--debug`` adds the traceback. The commands are added below, explicitly.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

from audit import __version__
from audit.commands import crawling, emulating, gating, judging, leaving, reporting, trends
from audit.commands.console import PROG, echo
from audit.commands.options import CommandGroup
from audit.errors import AuditError, ExitCode
from audit.safe_text import one_line


class AuditGroup(CommandGroup):
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


@click.group(cls=AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name=PROG)
def main(debug: bool) -> None:
    """Audit service ownership in a PagerDuty account."""


COMMANDS = (
    # reading an account
    crawling.crawl, crawling.snapshot, emulating.emulator, reporting.demo,
    # judging a snapshot
    judging.facts, judging.init, judging.score, judging.rules,
    # reports
    reporting.report, reporting.audit_command,
    # the CI gate and trends
    gating.baseline_group, gating.check, gating.plan_command, trends.diff_command, trends.history,
)
for command in COMMANDS:
    main.add_command(command)


def run() -> None:
    """The ``pd-audit`` console script: ``main``, ending a one-assessment command without freeing it
    (``audit.commands.leaving``). Tests call ``main`` itself, which never ends the process early."""
    leaving.arm()
    try:
        main()
    except SystemExit as done:  # click's standalone mode always ends this way
        if done.code is None or isinstance(done.code, int):  # a message (str) is printed by Python itself
            leaving.leave_if_kept(done.code or 0)
        raise
