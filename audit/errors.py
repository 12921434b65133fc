"""The errors pd-audit reports to people, and the exit codes they map to.

Every stage raises one of these; only the CLI turns them into a single line on
stderr and an exit code (see ``audit.cli``). Anything else is a bug and shows
its traceback only with ``--debug``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    NEW_VIOLATIONS = 1
    USAGE = 2
    CRAWL = 3


class AuditError(Exception):
    """Base for errors that end a command with one line and an exit code."""

    exit_code: ExitCode = ExitCode.USAGE


class UserError(AuditError):
    """Bad input: a missing or broken file, an invalid option or config (exit 2)."""

    exit_code = ExitCode.USAGE


class SnapshotError(UserError):
    """A snapshot that cannot be read: missing, truncated, corrupt or from the future."""


class CrawlError(AuditError):
    """The API refused, failed or could not prove a collection complete (exit 3)."""

    exit_code = ExitCode.CRAWL
