"""Suite-wide test plumbing: the ``reference`` marker and the count of skips by cause.

``@pytest.mark.reference("rules-catalog.md")`` makes a test need a file of the reference folder
(``tests/reference.py`` says where it is and why it is not in the repository); the test skips
where the file is absent, or fails under ``PD_AUDIT_REQUIRE_ALL=1`` (CI). At the end of the run
the terminal summary says how many tests skipped and why, grouped by cause.
"""

from __future__ import annotations

import collections

import pytest

from tests.reference import (
    BROWSER_CAUSE,
    REFERENCE_CAUSE,
    REFERENCE_DIR_SETTING,
    REQUIRE_ALL_SETTING,
    reference_dir,
    require_reference,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reference(relative_path, ...): the test needs these files of the "
                                       f"reference folder (${REFERENCE_DIR_SETTING}, default ../shared)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("reference"):
        for relative in marker.args:
            require_reference(relative)


def _cause(reason: str) -> str:
    for cause in (REFERENCE_CAUSE, BROWSER_CAUSE):
        if cause in reason:
            return cause
    return "other"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons = collections.Counter()
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[_cause(reason)] += 1
    explain = {
        REFERENCE_CAUSE: f"need files of the reference folder {reference_dir()} (PagerDuty's OpenAPI "
                         f"description, the rules catalog), absent here; set {REFERENCE_DIR_SETTING} to run them",
        BROWSER_CAUSE: "need Chromium ($PD_AUDIT_CHROMIUM, default /usr/bin/chromium) and Playwright to drive the HTML reports",
        "other": "skipped for their own reasons (listed above)",
    }
    terminalreporter.section("skipped tests, by cause")
    terminalreporter.write_line(f"{len(skipped)} tests skipped:")
    for cause, count in reasons.most_common():
        terminalreporter.write_line(f"  {count:>4} {explain[cause]}")
    if reasons.keys() & {REFERENCE_CAUSE, BROWSER_CAUSE}:
        terminalreporter.write_line(f"CI sets {REQUIRE_ALL_SETTING}=1, which makes these fail instead of skip.")
