"""The snapshot: one immutable, self-describing record of a crawl.

Layout of a snapshot directory::

    SNAP/
      manifest.json              what was crawled, when, from where, counts, checksums
      collections/NAME.jsonl     the raw API objects, one JSON value per line, as returned

A crawl writes into ``SNAP.partial/`` and renames it to ``SNAP`` only once every
collection is finished and the manifest is written, so a directory named like a
finished snapshot always is one (rename(2) of a directory is atomic). The partial
directory keeps a journal of finished units of work, so ``crawl --resume`` can
carry on from there; an exclusive lock on it keeps two crawls apart.

The format is versioned (``format_version``); ``load`` reads every version up to
``FORMAT_VERSION`` and refuses newer ones with a clear message. The token is never
handed to this module, so it cannot end up in a snapshot.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from audit import __version__
from audit.crawl_specs import COLLECTIONS
from audit.errors import SnapshotError, UserError

FORMAT = "pd-audit-snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
JOURNAL = "journal.jsonl"
LOCK = ".lock"

def _utf8_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


class CollectionStatus(enum.StrEnum):
    """How a collection of a snapshot ended (the manifest's ``status`` of each collection)."""

    COMPLETE = "complete"  # every object the API has was crawled
    INCOMPLETE = "incomplete"  # crawled, but some objects were out of reach (``missing`` of them, ``reason``)
    UNAVAILABLE = "unavailable"  # not crawled: the plan, the token or --skip kept it out (with a reason)


# Statuses whose collection file is there to read (an incomplete one says what it lacks).
READABLE = (CollectionStatus.COMPLETE, CollectionStatus.INCOMPLETE)


class SnapshotWriter:
    """Writes a snapshot into ``OUT.partial/`` and publishes it atomically.

    Units of work (a page of a list, one object's detail) are appended whole:
    their lines first, then a journal entry recording the collection file's size.
    On resume every collection file is cut back to the last journalled size, so a
    unit that was being written when the crawl died is fetched again, not doubled.
    """

    def __init__(self, out: Path, *, resume: bool = False, force: bool = False):
        self.out = Path(out)
        if not self.out.name or self.out.name in (".", ".."):
            raise UserError(f"{self.out}: name a snapshot folder of its own (e.g. snapshots/q1)")
        self.partial = partial_path(self.out)
        if _exists(self.out):
            if not force:
                raise UserError(
                    f"{self.out} already exists; choose another snapshot path or pass --force to replace it"
                )
            refuse_unless_snapshot(self.out)
        if self.partial.exists() and not resume:
            if _locked(self.partial / LOCK):  # not interrupted: running
                raise UserError(f"another crawl is writing {self.partial}")
            raise UserError(
                f"{self.partial} holds an interrupted crawl; pass --resume to continue it "
                "or delete it to start over"
            )
        if resume and not self.partial.exists():
            raise UserError(f"nothing to resume: {self.partial} does not exist")
        if resume:
            self._lock_file = _lock(self.partial)
        else:
            self._lock_file = _create_locked(self.partial)
        self.done_units: set[str] = set()
        self.state: dict[str, Any] = {}
        # Requests the interrupted runs made, by endpoint: each journal entry carries those made
        # since the one before, so a resumed crawl reports them even after a SIGKILL.
        self.journalled_requests: collections.Counter[str] = collections.Counter()
        # Objects deleted while the crawl ran (404 on a per-object request), by collection.
        self.vanished: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self._files: dict[str, Any] = {}
        sizes: dict[str, int] = {}
        journal = self.partial / JOURNAL
        if journal.exists():
            for line in journal.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    break  # a journal line cut short by a crash: everything after it is redone
                self.done_units.add(entry["unit"])
                if entry.get("collection"):
                    sizes[entry["collection"]] = entry["size"]
                self.state.update(entry.get("state", {}))
                self.journalled_requests.update(entry.get("requests", {}))
                if entry.get("gone"):
                    self.vanished[entry["gone"]["collection"]].append(entry["gone"]["object"])
            # Rewrite the journal without a torn tail line.
            journal.write_text(
                "".join(_utf8_json(e) + "\n" for e in self._journal_entries(journal)),
                encoding="utf-8",
            )
        for path in (self.partial / "collections").glob("*.jsonl"):
            name = path.stem
            keep = sizes.get(name, 0)
            if path.stat().st_size != keep:
                with open(path, "r+b") as fh:
                    fh.truncate(keep)
        self._journal = open(journal, "a", encoding="utf-8")

    @staticmethod
    def _journal_entries(journal: Path) -> Iterator[dict[str, Any]]:
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                return

    def existing(self, collection: str) -> Iterator[Any]:
        """Objects already written to a collection (by an earlier, resumed run)."""
        path = self.partial / "collections" / f"{collection}.jsonl"
        if path.exists():
            with open(path, "rb") as fh:
                for number, line in enumerate(fh, 1):
                    yield _parse_line(line, path, number)

    def write_unit(
        self,
        unit: str,
        collection: str | None,
        objects: list[Any],
        state: dict[str, Any] | None = None,
        requests: Mapping[str, int] | None = None,
        gone: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """Append one finished unit of work and journal it (durably), with the requests made since the last.

        ``gone`` is (collection, record) for a unit whose object was deleted since a list named it.
        """
        entry: dict[str, Any] = {"unit": unit}
        if collection is not None:
            if collection not in COLLECTIONS:
                raise ValueError(f"unknown collection {collection}")
            fh = self._files.get(collection)
            if fh is None:
                fh = open(self.partial / "collections" / f"{collection}.jsonl", "a", encoding="utf-8")
                self._files[collection] = fh
            if objects:
                try:
                    fh.write("".join(_utf8_json(o) + "\n" for o in objects))
                except UnicodeEncodeError:  # nothing was written: the text is encoded before it is
                    # A lone surrogate ("\\ud800") is legal in the API's JSON but has no UTF-8 form: keep
                    # this unit's text escaped, which reads back to exactly the same strings.
                    fh.write("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objects))
            fh.flush()
            os.fsync(fh.fileno())
            entry["collection"] = collection
            entry["size"] = fh.tell()
        if state:
            entry["state"] = state
            self.state.update(state)
        if requests:
            entry["requests"] = dict(requests)
        if gone is not None:
            entry["gone"] = {"collection": gone[0], "object": gone[1]}
            self.vanished[gone[0]].append(gone[1])
        self._journal.write(_utf8_json(entry) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self.done_units.add(unit)

    def finish(self, manifest: dict[str, Any]) -> Path:
        """Checksum the collections, write the manifest and publish the snapshot."""
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        collections = manifest.setdefault("collections", {})
        for path in sorted((self.partial / "collections").glob("*.jsonl")):
            info = collections.setdefault(path.stem, {"status": CollectionStatus.COMPLETE.value, "count": 0})
            info["file"] = f"collections/{path.name}"
            info["sha256"] = _sha256(path)
        for name, records in self.vanished.items():
            info = collections.setdefault(name, {"status": CollectionStatus.COMPLETE.value, "count": 0})
            info["vanished"] = sorted(records, key=lambda record: (str(record.get("id")), str(record.get("endpoint"))))
        for name, info in collections.items():
            if info.get("status") in READABLE and "file" not in info:
                # A complete collection with no objects still gets its (empty) file,
                # so "empty" and "missing" are never confused by a reader.
                path = self.partial / "collections" / f"{name}.jsonl"
                path.touch()
                info["file"] = f"collections/{path.name}"
                info["sha256"] = _sha256(path)
        full = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tool_version": __version__,
            **manifest,
        }
        tmp = self.partial / (MANIFEST + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(full, fh, indent=2, ensure_ascii=False, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.partial / MANIFEST)
        self._journal.close()
        replaced = None
        if _exists(self.out):  # only reachable with force=True, and checked again now: it may have changed
            refuse_unless_snapshot(self.out)
            # Moved aside, not deleted, until the new snapshot is in place.
            replaced = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.replaced-", dir=self.out.parent))
            os.rename(self.out, replaced / self.out.name)
        os.rename(self.partial, self.out)
        _fsync_dir(self.out.parent)
        if replaced is not None:
            shutil.rmtree(replaced)
        # The journal goes only once the snapshot is published: a crawl killed before the
        # rename resumes with every unit done, instead of starting over with nothing.
        (self.out / JOURNAL).unlink()
        (self.out / LOCK).unlink(missing_ok=True)
        self._lock_file.close()
        return self.out

    def close(self, *, discard: bool = False) -> None:
        """Leave the partial snapshot in place for --resume (after an error), or, with ``discard``,
        remove it (a crawl that did no work: nothing to resume, and it would block the next one)."""
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        if not self._journal.closed:
            self._journal.close()
        if discard:  # still holding the lock: no other crawl can have taken the folder over
            shutil.rmtree(self.partial, ignore_errors=True)
        self._lock_file.close()


# What a finished snapshot folder holds (a crawl killed while publishing leaves its journal and lock).
_SNAPSHOT_ENTRIES = frozenset({MANIFEST, "collections", JOURNAL, LOCK})
_MANIFEST_READ_LIMIT = 64 << 20  # bytes: a real manifest is a few kilobytes


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def refuse_unless_snapshot(path: Path) -> None:
    """UserError unless ``path`` is recognisably a pd-audit snapshot and nothing else: a real
    folder (not a link) holding a snapshot manifest, its collections and nothing of anyone else's.
    ``--force`` replaces only such a folder: never a parent folder, a home or a user's files."""
    refusal = f"{path} is not a pd-audit snapshot; --force replaces only a snapshot folder (choose another one)"
    if path.is_symlink() or not path.is_dir():
        raise UserError(refusal)
    try:
        entries = {entry.name for entry in os.scandir(path)}
        manifest = _read_manifest_text(path / MANIFEST)
        document = json.loads(manifest)
    except (OSError, ValueError, RecursionError, SnapshotError):
        raise UserError(refusal) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not entries <= _SNAPSHOT_ENTRIES:
        raise UserError(refusal)
    collections = path / "collections"
    if collections.is_symlink() or (collections.exists() and not collections.is_dir()):
        raise UserError(refusal)


def _read_manifest_text(path: Path) -> str:
    """A manifest's text, opening only a regular file and reading a bounded amount: a FIFO would
    hang the read, a link to /dev/zero would never end it."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of waiting for a writer
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise SnapshotError(f"{path}: not a regular file; a snapshot's manifest is one")
        data = fh.read(_MANIFEST_READ_LIMIT + 1)
    if len(data) > _MANIFEST_READ_LIMIT:
        raise SnapshotError(f"{path}: larger than {_MANIFEST_READ_LIMIT >> 20} MiB; not a pd-audit snapshot manifest")
    return data.decode("utf-8")


def _lock(partial: Path) -> IO[str]:
    """Hold the crawl lock of an existing partial snapshot, or say who holds it."""
    lock_file = open(partial / LOCK, "w")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        raise UserError(f"another crawl is writing {partial}") from None
    return lock_file


def _create_locked(partial: Path) -> IO[str]:
    """Create ``partial`` already locked, so no other crawl ever sees it unlocked.

    It is built under a hidden name and renamed into place: of two crawls started to one
    output at once, exactly one rename succeeds (the other finds a non-empty directory).
    """
    partial.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{partial.name}-", dir=partial.parent))
    (staging / "collections").mkdir()
    lock_file = _lock(staging)
    try:
        os.rename(staging, partial)
    except OSError:
        lock_file.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise UserError(f"another crawl is writing {partial}") from None
    return lock_file


def _locked(lock_path: Path) -> bool:
    """Whether a live process holds the crawl lock (a crashed one's lock is released)."""
    try:
        with open(lock_path, "a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A finished snapshot, read back. Collections are read lazily, line by line."""

    path: Path
    manifest: dict[str, Any]

    @property
    def window(self) -> dict[str, Any]:
        return self.manifest["window"]

    def available(self, name: str) -> bool:
        return self.manifest["collections"].get(name, {}).get("status") in READABLE

    def unavailable_reason(self, name: str) -> str | None:
        info = self.manifest["collections"].get(name)
        if info is None:
            return f"the snapshot has no {name} collection"
        if info.get("status") not in READABLE:
            return info.get("reason") or f"{name} was unavailable"
        return None

    def incomplete(self) -> dict[str, str]:
        """Collections crawled with objects out of reach: name -> what is missing and why."""
        return {
            name: f"{info.get('missing', '?'):,} of {info.get('count', 0) + info.get('missing', 0):,} "
                  f"could not be reached ({info.get('reason') or 'no reason given'})"
            if isinstance(info.get("missing"), int) else str(info.get("reason") or "some could not be reached")
            for name, info in sorted(self.manifest["collections"].items())
            if info.get("status") == CollectionStatus.INCOMPLETE
        }

    def iter(self, name: str) -> Iterator[Any]:
        """The raw objects of a collection, in the order they were crawled."""
        info = self.manifest["collections"].get(name)
        if info is None or info.get("status") not in READABLE:
            return
        path = self.path / info["file"]
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
        with fh:
            for number, line in enumerate(fh, 1):
                yield _parse_line(line, path, number)

    def collection(self, name: str) -> list[Any]:
        return list(self.iter(name))


def _parse_line(line: bytes, path: Path, number: int) -> Any:
    """One JSON line of a collection file.

    orjson reads the large collections twice as fast as ``json``; it is stricter, though
    (lone surrogates such as ``"\\ud800"``, integers past 64 bits), and such values are
    legal in what the API may send, so ``json`` gets the last word before a line is corrupt.
    """
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SnapshotError(f"{path}: line {number} is not valid JSON (the snapshot is corrupt)") from None
    except RecursionError:
        raise SnapshotError(f"{path}: line {number} is nested too deeply to be an API object") from None


# Over the complexity limit (one check per way a snapshot can be broken); split it when next changed.
def load(path: str | os.PathLike[str], *, verify: bool = True) -> Snapshot:  # noqa: C901
    """Open a finished snapshot, checking format, version and (optionally) checksums."""
    root = Path(path)
    if not root.exists():
        if partial_path(root).exists():
            raise SnapshotError(
                f"{root} is an unfinished crawl ({partial_path(root).name}); resume it with crawl --resume"
            )
        raise SnapshotError(f"{root}: no such snapshot")
    if root.name.endswith(".partial"):
        raise SnapshotError(f"{root} is an unfinished crawl; resume it with crawl --resume")
    if not root.is_dir():
        raise SnapshotError(f"{root} is not a snapshot directory")
    manifest_path = root / MANIFEST
    try:
        manifest = json.loads(_read_manifest_text(manifest_path))
    except FileNotFoundError:
        raise SnapshotError(f"{root}: no {MANIFEST}; not a pd-audit snapshot") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{manifest_path}: not valid JSON ({exc.__class__.__name__})") from None
    except RecursionError:
        raise SnapshotError(f"{manifest_path}: not a pd-audit snapshot manifest (nested too deeply)") from None
    except OSError as exc:  # a directory, or unreadable
        raise SnapshotError(f"{manifest_path}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SnapshotError(f"{manifest_path}: not a pd-audit snapshot manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise SnapshotError(f"{manifest_path}: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise SnapshotError(
            f"{root} is snapshot format {version}, newer than this pd-audit reads "
            f"({FORMAT_VERSION}); upgrade pd-audit"
        )
    manifest = _upgrade(manifest)
    for key in ("window", "collections"):
        if not isinstance(manifest.get(key), dict):
            raise SnapshotError(f"{manifest_path}: missing or invalid {key!r}")
    _check_fields(manifest, manifest_path)
    to_verify: list[tuple[Path, Any]] = []
    for name, info in manifest["collections"].items():
        if not isinstance(info, dict) or info.get("status") not in tuple(CollectionStatus):
            raise SnapshotError(f"{manifest_path}: collection {name!r} has no valid status")
        if info["status"] not in READABLE:
            continue
        if not _is_count(info.get("count")):
            raise SnapshotError(f"{manifest_path}: collection {name!r} has no valid count")
        if info["status"] == CollectionStatus.INCOMPLETE and not _is_count(info.get("missing")):
            raise SnapshotError(f"{manifest_path}: incomplete collection {name!r} does not say how many are missing")
        file = root / str(info.get("file", ""))
        if not file.is_file() or file.resolve().parent != (root / "collections").resolve():
            raise SnapshotError(f"{root}: collection file for {name!r} is missing")
        to_verify.append((file, info.get("sha256")))
    if verify:
        _verify_checksums(to_verify)
    return Snapshot(root, manifest)


def _verify_checksums(files: list[tuple[Path, Any]]) -> None:
    """Check each file's SHA-256 against the manifest; the first problem, in manifest order, is the error.

    Hashed on two threads: hashlib lets go of the GIL while it hashes, and the large collections
    (users, on-calls, schedules) are most of a large snapshot's bytes.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        digests = list(pool.map(_sha256_or_error, [file for file, _ in files]))
    for (file, recorded), digest in zip(files, digests, strict=True):
        if isinstance(digest, OSError):
            raise SnapshotError(f"{file}: cannot be read ({digest.strerror or digest.__class__.__name__})")
        if digest != recorded:
            raise SnapshotError(f"{file}: checksum mismatch (the snapshot was modified or is corrupt)")


def _sha256_or_error(path: Path) -> str | OSError:
    try:
        return _sha256(path)
    except OSError as exc:
        return exc


def _check_fields(manifest: dict[str, Any], manifest_path: Path) -> None:
    """The window and request figures have the shape readers rely on, so a damaged or
    hand-edited manifest is refused here rather than failing later in a report."""
    window = manifest["window"]
    if not (_is_instant(window.get("since")) and _is_instant(window.get("until"))
            and _is_count(window.get("days"))):
        raise SnapshotError(f"{manifest_path}: invalid 'window' (needs since, until and days)")
    requests = manifest.get("requests")
    if requests is None:
        return
    if not (isinstance(requests, dict)
            and all(_is_count(requests.get(key)) for key in ("total", "throttled", "retries"))
            and isinstance(requests.get("by_endpoint"), dict)
            and all(_is_count(count) for count in requests["by_endpoint"].values())
            and isinstance(requests.get("lower_bound"), dict)
            and _is_count(requests["lower_bound"].get("total"))):
        raise SnapshotError(f"{manifest_path}: invalid 'requests' figures")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_instant(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value) is not None
    except ValueError:
        return False


def _upgrade(manifest: dict[str, Any]) -> dict[str, Any]:
    """Bring an older manifest up to FORMAT_VERSION (one step per version)."""
    # Version 1 is the first format; later versions add their steps here, so a
    # snapshot from any earlier release stays readable.
    return manifest
