"""Scorecard pages made by two processes at once: this one and a fork of it.

On 600 teams, making and rendering the scorecards is most of a report's time, all of it Python: one
process keeps one core busy. Once the org report is made (its work on every team's findings is what
the scorecards reuse), a forked child takes the second half of the teams. It inherits the assessment
and the report's index as they are (nothing copied or pickled on the way in), writes its pages and
sends back their paths; this process writes the first half meanwhile. Only where ``os.fork`` exists,
with two usable cores or more, and for enough teams to be worth a process; otherwise, and for one
worker, everything runs here. The pages are the same either way: each is made from the same index.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path

from audit.errors import UserError

MIN_TEAMS = 60  # below this a report takes a second or two; a process is not worth it


def usable_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit, not the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def split_between_processes(write: Callable[[Sequence[str], list[Path]], None], team_ids: Sequence[str],
                            workers: int, written: list[Path]) -> None:
    """``write(team_ids, written)`` for the first half here and the second half in a forked child; ``write``
    appends each page to ``written`` once it is whole, and so does this with the child's, in the order of
    ``team_ids``. A failure in either is raised here once both have finished, what they wrote recorded."""
    if workers < 2 or len(team_ids) < MIN_TEAMS or not hasattr(os, "fork"):
        write(team_ids, written)
        return
    cut = (len(team_ids) + 1) // 2
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which leaves by os._exit (no coverage is saved)
        os.close(reader)
        _child(write, team_ids[cut:], writer)
    os.close(writer)
    try:
        write(team_ids[:cut], written)
    finally:
        with os.fdopen(reader, "rb") as pipe:
            answer = pipe.read()
        _, status = os.waitpid(child, 0)
        outcome = pickle.loads(answer) if answer else ("error", [], False, f"exit status {status}")
        written.extend(Path(path) for path in outcome[1])
    if outcome[0] != "ok":
        _, _, user_error, message = outcome
        raise UserError(message) if user_error else RuntimeError(f"the second scorecard process failed: {message}")


def _child(write: Callable[[Sequence[str], list[Path]], None], team_ids: Sequence[str], pipe_fd: int) -> None:
    status, written = 1, []  # type: ignore[var-annotated]
    try:
        try:
            write(team_ids, written)
            outcome: tuple[object, ...] = ("ok", [str(path) for path in written])
            status = 0
        except BaseException as exc:  # everything goes back to the parent, which raises it
            outcome = ("error", [str(path) for path in written], isinstance(exc, UserError),
                       str(exc) or type(exc).__name__)
        with os.fdopen(pipe_fd, "wb") as pipe:
            pickle.dump(outcome, pipe)
    finally:
        os._exit(status)  # no atexit handlers, no flushing of the parent's buffers a second time
