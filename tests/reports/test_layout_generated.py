"""The layout checks on a generated account with --previous (issue 19): a 30-team slice in CI.

The org report of 30 teams (its ranked table, trend columns and a page per team in the PDF) and two
team reports, through the same checks as Acme's. ``make check-reports`` runs them on 600 teams
(``tests/benchmarks/check_reports.py``).
"""

from __future__ import annotations

from tests.benchmarks.check_reports import run
from tests.reports.conftest import CHROMIUM, chromium_required


def test_a_generated_account_reads_whole():
    chromium_required()
    # Two workers: the PDFs printed and read back in a process pool, the HTML shared by two Chromium pages.
    checked = run(teams=30, per_team=2, pdf_teams=2, browser_teams=2, chromium=str(CHROMIUM), workers=2)
    assert checked.pdfs == 3 and checked.pdf_pages >= 1 + 30  # the org PDF has a page per team
    assert checked.html_pages == 3
    assert checked.problems == []
