"""How a command speaks: text for a person made safe for the terminal, machine formats kept whole,
warnings and progress on stderr."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from audit.outputs import destination
from audit.safe_text import for_terminal, one_line, without_surrogates

if TYPE_CHECKING:  # the snapshot module is imported where used: startup time
    from audit.snapshot import CollectionStatus

PROG = "pd-audit"


def echo(text: str, *, nl: bool = True, err: bool = False, machine: bool = False) -> None:
    """Print through ``audit.safe_text``: what is meant for a person has every control, escape
    sequence and bidi mark replaced (names, ids and file contents reach it); a machine format
    (JSON, CSV, SARIF) keeps its characters, less the lone surrogates that have no UTF-8 form."""
    try:
        click.echo(without_surrogates(text) if machine else for_terminal(text), nl=nl, err=err)
    except BrokenPipeError:
        if err:
            raise
        # `pd-audit check ... | head`: the command goes on quietly, so its exit code still says
        # what it found.
        destination.discard_stdout()


def warn(text: str) -> None:
    """One warning line on stderr."""
    echo(f"{PROG}: warning: {one_line(text)}", err=True)


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
