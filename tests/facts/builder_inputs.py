"""Realistic inputs for the fact-table builders, captured from real builds, for tests that hold a
builder's fast path to its plain definition.

Two accounts, each served by the emulator and crawled: the hostile Acme (attack payloads in every
name, odd contact set-ups, deleted targets, pending invitations, observers) and a generated account
of 200 services, 400 users and 25 teams (the benchmark's generator, its shapes at a small size).
Each is built in line (no fork), and every call of the spied builders is recorded with its arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from audit.emulator.generate import generate_account
from audit.facts import forked as forked_module
from audit.facts.build import build_facts
from audit.snapshot import load
from tests.ci.conftest import acme_account, crawl_account
from tests.robustness.hostile import hostile_acme

GENERATED_SIZES = {"services": 200, "policies": 60, "schedules": 80, "users": 400, "teams": 25}
GENERATED_SINCE = datetime.fromisoformat("2026-12-07T00:00:00+00:00")  # the generated rotations' start

Call = tuple[tuple[Any, ...], dict[str, Any]]


def crawled_accounts(root: Path) -> dict[str, Path]:
    """Account name -> snapshot path."""
    return {
        "hostile acme": crawl_account(hostile_acme(acme_account()), root / "acme"),
        "generated": crawl_account(generate_account(**GENERATED_SIZES), root / "generated", since=GENERATED_SINCE),
    }


def captured_calls(
    snapshot: Path, spied: dict[str, tuple[Any, str]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[Call]]:
    """Build ``snapshot``'s facts in line, recording each call of ``spied`` (name -> (module, function))."""
    calls: dict[str, list[Call]] = {name: [] for name in spied}
    with monkeypatch.context() as patch:
        patch.setattr(forked_module, "forking_helps", lambda: False)
        for name, (module, attribute) in spied.items():
            patch.setattr(module, attribute, _recording(getattr(module, attribute), calls[name]))
        build_facts(load(snapshot))
    return calls


def _recording(function: Callable[..., Any], calls: list[Call]) -> Callable[..., Any]:
    def recorded(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return function(*args, **kwargs)
    return recorded


def cells(table: Any) -> dict[str, Any]:
    """A table as exactly as a comparison can see it: columns, dtypes, index and every cell's repr
    (so -0.0 differs from 0.0, a list from a tuple, NaN from None)."""
    return {
        "columns": list(table.columns),
        "dtypes": [str(dtype) for dtype in table.dtypes],
        "index": list(table.index),
        **{name: [repr(value) for value in table[name].tolist()] for name in table.columns},
    }
