"""Where a command's output goes: a file, written whole or not at all, or stdout ('-').

Both take text piece by piece (``audit.json_text.TextOut``), so a large output is written as it
is made; a reader of stdout that stops early (``| head``) ends the output quietly. A file's
missing folders are created; lone surrogates become U+FFFD either way (``audit.safe_write``).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from audit.errors import UserError
from audit.safe_write import OutputFile, open_output

STDOUT = "-"


def discard_stdout() -> None:
    """The reader of stdout went away (``pd-audit score SNAP --format json | head``): it has what it
    wanted. The rest goes nowhere, and so does Python's own flush at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@contextlib.contextmanager
def output_to(path: str | Path, *, what: str = "output") -> Iterator[OutputFile]:
    """An ``OutputFile`` for ``path`` ('-': stdout, flushed when the block ends)."""
    if str(path) == STDOUT:
        sys.stdout.flush()  # what was printed before goes first
        stream = sys.stdout.buffer
        try:
            yield OutputFile(stream)
            stream.flush()
        except BrokenPipeError:
            discard_stdout()
        return
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{target}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    with open_output(target, what=what) as out:
        yield out
