"""A corpus of broken snapshots, made from a real one, and the check that each is refused cleanly.

``make_corpus(good, into)`` writes one bad input per entry of ``BAD_INPUTS`` (truncated,
corrupted, empty, from a future format version, random bytes, ...) derived from the finished
snapshot ``good``; random bytes come from a seeded generator, so the corpus is the same on
every run. ``refusal(path)`` runs ``pd-audit snapshot info PATH``, which must exit 2 with one
line on stderr and no traceback.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audit.snapshot import MANIFEST
from tests.reliability.harness import PD_AUDIT, CliRun, run_cli

SEED = 20270104


def _copy(good: Path, dest: Path) -> Path:
    shutil.copytree(good, dest)
    return dest


def _manifest_bytes(transform: Callable[[bytes], bytes]) -> Callable[[Path, Path], Path]:
    def build(good: Path, dest: Path) -> Path:
        _copy(good, dest)
        path = dest / MANIFEST
        path.write_bytes(transform(path.read_bytes()))
        return dest
    return build


def _manifest_json(transform: Callable[[dict[str, Any]], Any]) -> Callable[[Path, Path], Path]:
    def edit(data: bytes) -> bytes:
        return json.dumps(transform(json.loads(data))).encode("utf-8")
    return _manifest_bytes(edit)


def _largest_collection(snapshot: Path) -> Path:
    return max((snapshot / "collections").glob("*.jsonl"), key=lambda p: p.stat().st_size)


def _collection_bytes(transform: Callable[[bytes], bytes]) -> Callable[[Path, Path], Path]:
    def build(good: Path, dest: Path) -> Path:
        path = _largest_collection(_copy(good, dest))
        path.write_bytes(transform(path.read_bytes()))
        return dest
    return build


def _random_bytes(size: int, salt: str) -> bytes:
    return random.Random(f"{SEED}:{salt}").randbytes(size)


def _flip_middle_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x20]) + data[middle + 1:]


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def transform(manifest: dict[str, Any]) -> dict[str, Any]:
        return {**manifest, key: value}
    return transform


def _without(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda manifest: {k: v for k, v in manifest.items() if k != key}


def _edit_collection(name: str, edit: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def transform(manifest: dict[str, Any]) -> dict[str, Any]:
        collections = dict(manifest["collections"])
        collections[name] = edit(dict(collections[name]))
        return {**manifest, "collections": collections}
    return transform


def _not_a_directory(good: Path, dest: Path) -> Path:
    dest.write_bytes(_random_bytes(4096, "file"))
    return dest


def _empty_directory(good: Path, dest: Path) -> Path:
    dest.mkdir()
    return dest


def _no_manifest(good: Path, dest: Path) -> Path:
    (_copy(good, dest) / MANIFEST).unlink()
    return dest


def _manifest_is_a_directory(good: Path, dest: Path) -> Path:
    (_copy(good, dest) / MANIFEST).unlink()
    (dest / MANIFEST).mkdir()
    return dest


def _collection_file_missing(good: Path, dest: Path) -> Path:
    _largest_collection(_copy(good, dest)).unlink()
    return dest


def _collection_file_is_a_directory(good: Path, dest: Path) -> Path:
    path = _largest_collection(_copy(good, dest))
    path.unlink()
    path.mkdir()
    return dest


def _unfinished(good: Path, dest: Path) -> Path:
    partial = dest.with_name(dest.name + ".partial")
    _copy(good, partial)
    return partial


def _missing(good: Path, dest: Path) -> Path:
    return dest


# name -> builder(good snapshot, destination) -> the path to hand to `snapshot info`
BAD_INPUTS: dict[str, Callable[[Path, Path], Path]] = {
    "missing": _missing,
    "not-a-directory": _not_a_directory,
    "empty-directory": _empty_directory,
    "unfinished-partial": _unfinished,
    "no-manifest": _no_manifest,
    "manifest-is-a-directory": _manifest_is_a_directory,
    "empty-manifest": _manifest_bytes(lambda data: b""),
    "truncated-manifest": _manifest_bytes(lambda data: data[: len(data) // 2]),
    "random-bytes-manifest": _manifest_bytes(lambda data: _random_bytes(len(data), "manifest")),
    "nul-bytes-in-manifest": _manifest_bytes(lambda data: data[:40] + b"\x00" * 16 + data[40:]),
    "utf16-manifest": _manifest_bytes(lambda data: data.decode("utf-8").encode("utf-16")),
    "deeply-nested-manifest": _manifest_bytes(lambda data: b"[" * 100_000 + b"]" * 100_000),
    "manifest-is-a-list": _manifest_json(lambda manifest: [manifest]),
    "wrong-format": _manifest_json(_set("format", "something-else")),
    "future-version": _manifest_json(_set("format_version", 99)),
    "version-as-text": _manifest_json(_set("format_version", "1")),
    "version-zero": _manifest_json(_set("format_version", 0)),
    "no-window": _manifest_json(_without("window")),
    "window-without-dates": _manifest_json(_set("window", {})),
    "window-with-wrong-types": _manifest_json(_set("window", {"since": 1, "until": None, "days": "28"})),
    "collections-as-list": _manifest_json(_set("collections", [])),
    "collection-without-status": _manifest_json(_edit_collection("services", lambda info: {"count": 1})),
    "collection-without-count": _manifest_json(
        _edit_collection("services", lambda info: {k: v for k, v in info.items() if k != "count"})),
    "collection-file-outside": _manifest_json(
        _edit_collection("services", lambda info: {**info, "file": "../manifest.json"})),
    "requests-malformed": _manifest_json(_set("requests", "lots")),
    "collection-file-missing": _collection_file_missing,
    "collection-file-is-a-directory": _collection_file_is_a_directory,
    "truncated-collection": _collection_bytes(lambda data: data[: len(data) // 2]),
    "corrupted-collection": _collection_bytes(_flip_middle_byte),
    "emptied-collection": _collection_bytes(lambda data: b""),
    "random-bytes-collection": _collection_bytes(lambda data: _random_bytes(len(data), "collection")),
}


def make_corpus(good: Path, into: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write the bad inputs (all, or ``names``) under ``into``; return name -> path to try."""
    into.mkdir(parents=True, exist_ok=True)
    return {name: BAD_INPUTS[name](good, into / name) for name in (names or list(BAD_INPUTS))}


def refusal(path: Path) -> CliRun:
    """``pd-audit snapshot info PATH``: a bad input must give exit 2 and one clean line."""
    return run_cli([str(PD_AUDIT), "snapshot", "info", str(path)])
