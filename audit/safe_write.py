"""Writing an output file whole or not at all, never through a planted link.

Every file pd-audit writes (reports, PDFs, SARIF/JUnit/Markdown/JSON, baselines, the demo's
score) goes through ``write_file``: the bytes go to a temporary file with an unpredictable name
created exclusively (``O_EXCL``, so a symlink or file planted at any name cannot be written
through) in the target's own folder, are flushed to disk, and the file is renamed over the
target. A reader sees the old file or the new one, never half of one or an empty one; a failure
(a full disk, an unencodable string) removes the temporary file and leaves the target as it was.
A symlink at the target itself is replaced, not followed.

Text is encoded as UTF-8 with lone surrogates (legal in the API's JSON, no UTF-8 form) written
as U+FFFD. A target that exists and is not a regular file (``/dev/stdout``, a FIFO) is a stream
the user chose: it is written straight through, since a stream cannot be replaced.

``open_output`` is the same, for a large output written as it is produced (a score's findings, a
SARIF log): the caller writes text piece by piece into an ``OutputFile``; the temporary file is
published when the ``with`` block ends without an error, and removed when it raises.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from audit.errors import UserError
from audit.safe_text import one_line, without_surrogates


def encoded(text: str) -> bytes:
    """``text`` as UTF-8, lone surrogates as U+FFFD."""
    try:
        return text.encode("utf-8")  # only a lone surrogate fails: then, and only then, replace them
    except UnicodeEncodeError:
        return without_surrogates(text).encode("utf-8")


class OutputFile:
    """Text (or bytes) written to an open binary file, text encoded as ``encoded`` does."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw

    def write(self, content: str | bytes) -> None:
        self.raw.write(encoded(content) if isinstance(content, str) else content)


def write_file(path: str | os.PathLike[str], content: str | bytes, *, what: str = "output",
               overwrite: bool = True) -> Path:
    """Write ``content`` to ``path`` atomically (see the module); a failure is one ``UserError``.

    ``overwrite=False``: publish only if nothing (not even a dangling link) is at ``path`` yet,
    else ``FileExistsError``; the check and the publishing are one step (a hard link)."""
    with open_output(path, what=what, overwrite=overwrite) as out:
        out.write(content)
    return Path(path)


@contextlib.contextmanager
def open_output(path: str | os.PathLike[str], *, what: str = "output", overwrite: bool = True) -> Iterator[OutputFile]:
    """An ``OutputFile`` to write ``path``'s content into piece by piece, published atomically
    when the block ends (see the module); a failure to write is one ``UserError``."""
    target = Path(path)
    try:
        if overwrite and _is_stream(target):
            with open(target, "wb") as stream:
                yield OutputFile(stream)
            return
        with _replacing(target, overwrite) as stream:
            yield OutputFile(stream)
    except FileExistsError:
        raise
    except OSError as exc:
        raise UserError(f"{one_line(target)}: cannot write the {what} ({exc.strerror or exc.__class__.__name__})") \
            from None


def _is_stream(target: Path) -> bool:
    try:
        mode = target.stat().st_mode  # follows a link: /dev/stdout is one
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextlib.contextmanager
def _replacing(target: Path, overwrite: bool) -> Iterator[BinaryIO]:
    # mkstemp: a random name, O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600 (widened below once whole).
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".partial", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "wb", buffering=1 << 20) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        if overwrite:
            os.replace(temporary, target)
        else:
            os.link(temporary, target, follow_symlinks=False)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
