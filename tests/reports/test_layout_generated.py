"""The layout checks on a generated account with --previous (issue 19): a 30-team slice in CI.

The org report of 30 teams (its ranked table, trend columns and a page per team in the PDF) and two
team reports, through the same checks as Acme's. ``make check-reports`` runs them on 600 teams
(``tests/benchmarks/check_reports.py``).
"""

from __future__ import annotations

from tests.benchmarks.check_reports import check_pages, run
from tests.reports.conftest import CHROMIUM, chromium_required
from tests.reports.layout_checks import axe_script


def test_a_generated_account_reads_whole():
    chromium_required()
    # Two workers: the PDFs printed and read back in a process pool, the HTML shared by two Chromium pages.
    checked = run(teams=30, per_team=2, pdf_teams=2, browser_teams=2, chromium=str(CHROMIUM), workers=2)
    assert checked.pdfs == 3 and checked.pdf_pages >= 1 + 30  # the org PDF has a page per team
    assert checked.html_pages == 3
    assert checked.problems == []


def test_a_table_that_overflows_only_on_a_phone_is_found_after_the_resize(tmp_path):
    # check-reports loads each report once at 1280 px and narrows the same page to 390 px: the
    # phone layout (media queries) must be laid out again and checked, not the desktop one twice.
    chromium_required()
    page = tmp_path / "phone-only.html"
    page.write_text("<html lang=en><title>t</title><style>@media (max-width: 500px) { td { min-width: 600px } }"
                    "</style><main><div class='table-wrap' id='wide'><table><tr><th>a</th><td>b</td></tr></table>"
                    "</div></main></html>")
    problems = check_pages([page], str(CHROMIUM), axe_script(), lambda: None)
    assert [p.split(":")[0] for p in problems] == ["phone-only.html at 390 px"]
