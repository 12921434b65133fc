"""Pictures of the reports' first pages for the README and the issues: ``make screenshots``.

Run: ``.venv/bin/python -m tests.reports.screenshots [FOLDER]`` (default ``docs/screenshots``).

The example account is crawled as ``pd-audit demo`` crawls it, and once more as it stood a quarter
earlier (``previous_acme``: the report tests' previous quarter, crawled 91 days before), so the first pages show the
distribution then and now; both are judged with the bundled config. The org PDF's and the Payments
scorecard's first pages are rendered to PNG by poppler's ``pdftoppm`` (Debian: poppler-utils).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from audit.assess import assess
from audit.crawl import Window, crawl_to_snapshot
from audit.crawl_incidents import IncidentsWindow
from audit.demo import (
    DEMO_INCIDENT_DAYS,
    DEMO_SINCE,
    DEMO_WINDOW_DAYS,
    bundled_account_path,
    bundled_config_path,
    in_process_client,
)
from audit.reports import write_reports
from tests.reports.conftest import previous_acme

PAGES = {"org.pdf": "org-first-page.png", "team-payments-PTEAM01.pdf": "team-payments-first-page.png"}
RESOLUTION = 70  # dots per inch: an A4 page 579 px wide, legible and small in git


QUARTER = dt.timedelta(days=91)


def crawl(account: Path, out: Path, since: dt.datetime) -> Path:
    """The account crawled as on ``since`` (the emulator's clock pinned there), as ``pd-audit demo`` does."""
    client = in_process_client(account, now=since)
    try:
        path, _ = crawl_to_snapshot(client, out, Window(since, DEMO_WINDOW_DAYS), force=True,
                                    subdomain="acme", now=lambda: since,
                                    incidents=IncidentsWindow.ending_before(DEMO_INCIDENT_DAYS, since))
    finally:
        client.close()
    return Path(path)


def render(folder: Path) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("make screenshots needs pdftoppm (Debian: apt-get install poppler-utils; "
                         "macOS: brew install poppler)")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="pd-audit-screenshots-") as tmp:
        work = Path(tmp)
        old_account = work / "previous-account.json"
        old_account.write_text(json.dumps(previous_acme(json.loads(bundled_account_path().read_text()))))
        now = assess(crawl(bundled_account_path(), work / "now", DEMO_SINCE), config_path=bundled_config_path(),
                     today=DEMO_SINCE.date())
        then = assess(crawl(old_account, work / "then", DEMO_SINCE - QUARTER), config_path=bundled_config_path(),
                      today=(DEMO_SINCE - QUARTER).date())
        write_reports(now, work / "report", formats=("pdf",), previous=then)
        for pdf, png in PAGES.items():
            target = folder / png
            subprocess.run(["pdftoppm", "-png", "-r", str(RESOLUTION), "-f", "1", "-l", "1", "-singlefile",
                            str(work / "report" / pdf), str(target.with_suffix(""))], check=True)
            written.append(target)
    return written


if __name__ == "__main__":
    for path in render(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
