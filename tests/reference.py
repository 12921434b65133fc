"""Where tests find the reference files the project may not ship, and what they do without them.

PagerDuty's OpenAPI description and the rules catalog are published without a licence that
lets this repository carry them, so they live in a reference folder beside the checkout
(``../shared``, laid there by the project's CI), found through one setting:
``PD_AUDIT_REFERENCE_DIR``. A test that needs one of them is marked
``@pytest.mark.reference("pagerduty-api/openapiv3.json")`` (or calls ``require_reference``) and
skips, naming the missing file and the setting, where it is absent: `make test` passes on a
fresh clone. Browser tests skip the same way where Chromium is missing.

CI must run them all: ``PD_AUDIT_REQUIRE_ALL=1`` (set by ``.ci/run``) turns every such skip
into a failure. ``tests/conftest.py`` counts the skips by cause at the end of the run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR_SETTING = "PD_AUDIT_REFERENCE_DIR"
REQUIRE_ALL_SETTING = "PD_AUDIT_REQUIRE_ALL"
# Skip reasons start with these, so the end-of-run summary can count skips by cause.
REFERENCE_CAUSE = "reference file absent"
BROWSER_CAUSE = "browser absent"

OPENAPI_FULL = "pagerduty-api/openapiv3.json"
OPENAPI_SUBSET = "pagerduty-api/openapi-subset.json"
RULES_CATALOG = "rules-catalog.md"


def reference_dir() -> Path:
    """The reference folder: $PD_AUDIT_REFERENCE_DIR, else ``shared`` beside the repository."""
    configured = os.environ.get(REFERENCE_DIR_SETTING, "").strip()
    return Path(configured).expanduser() if configured else REPO_ROOT.parent / "shared"


def reference_file(relative: str) -> Path:
    """Where a reference file is (or would be): check ``is_file()`` or call ``require_reference``."""
    return reference_dir() / relative


def require_all() -> bool:
    return os.environ.get(REQUIRE_ALL_SETTING, "").strip() not in ("", "0")


def skip_unless_required(reason: str) -> None:
    """Skip with ``reason``; where every test must run (CI), fail with it instead."""
    if require_all():
        pytest.fail(f"{reason} [{REQUIRE_ALL_SETTING} is set: this test must run here]", pytrace=False)
    pytest.skip(reason)


def require_reference(relative: str) -> Path:
    """The reference file's path; skips (fails under PD_AUDIT_REQUIRE_ALL) when it is absent."""
    path = reference_file(relative)
    if not path.is_file():
        skip_unless_required(f"{REFERENCE_CAUSE}: {path} (set {REFERENCE_DIR_SETTING} to the folder holding "
                             f"{relative}; it may not be copied into the project)")
    return path
