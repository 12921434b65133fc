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
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from audit.errors import UserError
from audit.safe_text import one_line, without_surrogates


def encoded(text: str) -> bytes:
    """``text`` as UTF-8, lone surrogates as U+FFFD."""
    return without_surrogates(text).encode("utf-8")


def write_file(path: str | os.PathLike[str], content: str | bytes, *, what: str = "output",
               overwrite: bool = True) -> Path:
    """Write ``content`` to ``path`` atomically (see the module); a failure is one ``UserError``.

    ``overwrite=False``: publish only if nothing (not even a dangling link) is at ``path`` yet,
    else ``FileExistsError``; the check and the publishing are one step (a hard link)."""
    target = Path(path)
    data = encoded(content) if isinstance(content, str) else content
    try:
        if overwrite and _is_stream(target):
            with open(target, "wb") as stream:
                stream.write(data)
            return target
        _replace(target, data, overwrite)
    except FileExistsError:
        raise
    except OSError as exc:
        raise UserError(f"{one_line(target)}: cannot write the {what} ({exc.strerror or exc.__class__.__name__})") \
            from None
    return target


def _is_stream(target: Path) -> bool:
    try:
        mode = target.stat().st_mode  # follows a link: /dev/stdout is one
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _replace(target: Path, data: bytes, overwrite: bool) -> None:
    # mkstemp: a random name, O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600 (widened below once whole).
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".partial", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
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
