"""Ending a command that made one large assessment without freeing it object by object.

At 12,000 services an assessment is millions of small objects (facts, findings, scores). When
the command returns, and again as the interpreter shuts down, Python frees them one at a time:
0.5-1 s of CPU that frees nothing anyone will use, since the process is about to end. So the
console script (``audit.cli.run``) ends such a command with ``os._exit`` once its output is
flushed, as mypy does for the same reason (``mypy.util.hard_exit``).

A command opts in by handing its assessment to :func:`keep` after its output is written (a
failure before that frees normally). Only the console script arms this: when ``main`` runs
inside a test runner (click's ``CliRunner``), :func:`keep` holds nothing and nothing exits
early, so tests neither leak assessments nor lose their process.
"""

from __future__ import annotations

import gc
import os
import sys

_kept: list[object] = []
_armed = False


def arm() -> None:
    """Let :func:`keep` hold objects until :func:`leave_if_kept` ends the process (the console script only)."""
    global _armed
    _armed = True


def keep(built: object) -> None:
    """Hold ``built`` (an assessment, what was made of it) until the process ends, when armed: it is not
    freed as the command returns.

    Everything alive then is also put out of the cyclic collector's sight (``gc.freeze``): the
    collector comes back as the command returns (``audit.facts.collector``), and its first full pass
    would walk the assessment's millions of objects to free none of them (0.15-0.2 s at 12,000
    services). Freezing is one list splice; the process ends moments later."""
    if _armed:
        _kept.append(built)
        gc.freeze()


def kept() -> int:
    """How many objects are held (for tests)."""
    return len(_kept)


def leave_if_kept(code: int) -> None:
    """End the process with ``code`` at once if a command kept its assessment; otherwise return.

    What is skipped is freeing memory and the interpreter's shutdown: every output file was
    closed by the command, and the standard streams are flushed here (a reader that has gone
    away loses nothing it wanted, and the exit code stays the command's).
    """
    if not _kept:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to deliver
            pass
    os._exit(code)
