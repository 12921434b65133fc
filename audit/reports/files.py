"""The report folder: what the scorecard files are called, and which folder a run may write into.

Scorecards are named from the team's name as a safe slug plus its id (``team-payments-PTEAM01``),
so a folder listing reads as the teams do. Two teams whose stems would be one file, here or on a
case-insensitive file system (ids ``A.B``, ``A_B`` and ``A B`` all reduce to ``A_B``), each get a
short hash of their own id as well: every team has its file, and the stems do not depend on which
teams a run writes (``--team`` writes the file a whole run would).

A run writes into a folder only when the folder is new, empty or recognisably a report folder of
ours: one holding ``MARKER``, the list of files the last run wrote. Anything else (a home folder,
``..``, a folder of someone's documents) is refused before anything is written. After a run the
files the previous run wrote and this one did not (a team that has gone) are removed, so the folder
is the new report and nothing stale; no other file is ever touched.

Pages are written by ``PageWriter``, one thread beside the one rendering them: writing a page is
mostly waiting for the disk (each is flushed to it before it replaces the old one, ``safe_write``),
and 600 such waits in a row added seconds to a run that the rendering of the next page can fill.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from audit.errors import UserError
from audit.safe_write import write_file

MARKER = ".pd-audit-report.json"
MARKER_FORMAT = "pd-audit-report"
_MARKER_READ_LIMIT = 16 << 20
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_ID = re.compile(r"[^A-Za-z0-9_-]+")
_SLUG_LENGTH = 40
_ID_LENGTH = 40
PAGES_IN_FLIGHT = 2  # rendered pages waiting to be written, at most: memory stays a few pages


def slug(name: str) -> str:
    """``name`` in lower-case ASCII letters, digits and hyphens (accents dropped), at most 40 long."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")[:_SLUG_LENGTH].strip("-")


def scorecard_stems(teams: Mapping[str, str]) -> dict[str, str]:
    """Team id -> file stem for every team in ``teams`` (id -> name): unique, even ignoring case."""
    stems = {}
    for team_id, name in teams.items():
        parts = ["team", slug(name), _NOT_ID.sub("_", team_id)[:_ID_LENGTH] or "_"]
        stems[team_id] = "-".join(part for part in parts if part)
    by_stem: dict[str, list[str]] = {}
    for team_id, stem in stems.items():
        by_stem.setdefault(stem.casefold(), []).append(team_id)
    for colliding in (ids for ids in by_stem.values() if len(ids) > 1):
        for team_id in colliding:
            stems[team_id] += "-" + hashlib.sha256(team_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return stems


def claim_folder(out: Path) -> frozenset[str]:
    """Make ``out`` ready for a run (created if new); returns the files the last run recorded there.

    UserError if ``out`` holds anything and is not a report folder of ours (see the module)."""
    try:
        if out.exists() and not out.is_dir():
            raise UserError(f"{out} is not a folder; --report-dir names the folder for the reports")
        out.mkdir(parents=True, exist_ok=True)
        entries = {entry.name for entry in os.scandir(out)}
    except OSError as exc:
        raise UserError(f"cannot create the report directory {out}: {exc.strerror}") from None
    if not entries:
        return frozenset()
    refusal = (f"{out} holds files pd-audit did not write (no {MARKER}); write the reports to a new or empty "
               "folder (--out)")
    if MARKER not in entries:
        raise UserError(refusal)
    recorded = _read_marker(out / MARKER)
    if recorded is None:
        raise UserError(refusal)
    return recorded


def record_folder(out: Path, written: Iterable[Path], previous: Iterable[str], *, whole: bool) -> None:
    """Write the marker listing what the folder now holds of ours.

    ``whole``: this run wrote every team, so what the previous run wrote in the same formats and this
    one did not (a team that has gone) is removed. A one-team run adds its files to the list."""
    names = {path.name for path in written}
    kept = set(previous) - names
    if whole:
        suffixes = {Path(name).suffix for name in names}
        for stale in sorted(name for name in kept if Path(name).suffix in suffixes):
            _remove_our_file(out / stale)
            kept.discard(stale)
    document = {"format": MARKER_FORMAT, "files": sorted(names | {name for name in kept if (out / name).exists()})}
    write_file(out / MARKER, json.dumps(document, indent=2) + "\n", what="report folder's list of files")


def _read_marker(path: Path) -> frozenset[str] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            document = json.loads(fh.read(_MARKER_READ_LIMIT))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("format") != MARKER_FORMAT:
        return None
    files = document.get("files")
    if not isinstance(files, list):
        return None
    # Only plain names of files in this folder: a hand-edited marker cannot reach anywhere else.
    return frozenset(name for name in files if isinstance(name, str) and _is_plain_name(name))


def _is_plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..", MARKER) and "/" not in name and "\0" not in name


def _remove_our_file(path: Path) -> None:
    try:
        if path.is_symlink() or path.is_file():
            path.unlink()
    except OSError:
        pass  # a stale file left behind is untidy, not harmful


class PageWriter:
    """Writes pages (``write_file``: whole or not at all) on a thread of its own, in the order given.

    ``write`` returns once at most ``PAGES_IN_FLIGHT`` pages are still unwritten; a failed write is
    raised by the ``write`` or ``finish`` that collects it. Leaving the ``with`` block waits for every
    page given.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pd-audit-pages")
        self._pending: collections.deque[Future[Path]] = collections.deque()
        self._written: list[Path] = []

    def write(self, path: Path, page: str) -> None:
        self._pending.append(self._pool.submit(write_file, path, page, what="report"))
        while len(self._pending) > PAGES_IN_FLIGHT:
            self._written.append(self._pending.popleft().result())

    def finish(self, *, strict: bool = True) -> list[Path]:
        """Wait for every page given; the paths written whole, in the order given.

        ``strict``: raise the first failed write (else leave it out: after a failure, what is on disk)."""
        failure = None
        while self._pending:
            future = self._pending.popleft()
            error = future.exception()
            if error is None:
                self._written.append(future.result())
            elif failure is None:
                failure = error
        if failure is not None and strict:
            raise failure
        return list(self._written)

    def __enter__(self) -> PageWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(wait=True)
