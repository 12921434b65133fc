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
from typing import BinaryIO

from audit.errors import UserError
from audit.safe_write import OutputFile, open_output

STDOUT = "-"


def discard_stdout() -> None:
    """The reader of stdout went away (``pd-audit score SNAP --format json | head``): it has what it
    wanted. The rest goes nowhere, and so does Python's own flush at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# A large output (a score's JSON: 45 MB at 12,000 services, in some 100,000 pieces) written to a
# file through stdout's own buffer (the file system's block, 4 KiB) takes 0.14 s of writes, through
# 1 MiB 0.03 s. A terminal keeps stdout's buffer, so a person sees the text as it is made.
_STDOUT_BUFFER = 1 << 20


@contextlib.contextmanager
def _stdout_bytes() -> Iterator[BinaryIO]:
    """stdout's bytes: through a 1 MiB buffer unless stdout is a terminal or not a file at all
    (a test runner's stand-in). stdout's descriptor is never closed: the caller flushes, and only the
    wrapper around it goes when the block ends."""
    stream = sys.stdout.buffer
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        descriptor = None
    if descriptor is None or os.isatty(descriptor):
        yield stream
        return
    stream.flush()
    with open(descriptor, "wb", buffering=_STDOUT_BUFFER, closefd=False) as buffered:
        yield buffered


@contextlib.contextmanager
def output_to(path: str | Path, *, what: str = "output") -> Iterator[OutputFile]:
    """An ``OutputFile`` for ``path`` ('-': stdout, flushed when the block ends)."""
    if str(path) == STDOUT:
        sys.stdout.flush()  # what was printed before goes first
        with _stdout_bytes() as stream:
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
