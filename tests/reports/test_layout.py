"""Every report reads whole (issue 19): nothing past a PDF page's edge, every HTML column header in
the PDF, no table wider than its column at 1280 px or on a 390 px phone, no WCAG 2.1 AA violation
(axe-core in Chromium); a team PDF's overview (all before its findings) in a page per five services,
printed in 8 pt or more.

Run on Acme with ``--previous`` (every HTML and PDF, the trend columns included). The generated
account's slice is in ``test_layout_generated.py``; the full 600-team account is ``make check-reports``.
"""

from __future__ import annotations

import fcntl
import math
import os
from pathlib import Path

import pdfplumber
import pytest

from audit.reports import write_reports
from tests.reports.conftest import chromium_required
from tests.reports.layout_checks import (
    axe_script,
    axe_violations,
    chars_outside_page,
    headers_missing_from_pdf,
    overflowing_tables,
    read_pdf,
    section_headings,
    stranded_headings,
    table_headers,
)

ACME_TEAMS = ["payments-PTEAM01", "checkout-PTEAM02", "search-PTEAM03", "platform-sre-PTEAM04", "data-PTEAM05",
              "mobile-PTEAM06", "identity-PTEAM07", "warehouse-ops-PTEAM08", "returns-PTEAM09"]
REPORTS = ["index", *(f"team-{stem}" for stem in ACME_TEAMS)]
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture(scope="session")
def acme_pdfs(tmp_path_factory, acme, acme_previous) -> Path:
    """Every PDF report of Acme against the previous quarter (its HTML beside it), printed once per run:
    under xdist the workers share one folder, and the first to take the lock prints it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "acme-reports-all"
    with open(shared / "acme-reports-all.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "printed").exists():
            write_reports(acme, out, formats=("html", "pdf"), previous=acme_previous, workers=2)
            (out / "printed").touch()
    return out


def pdf_of(report: str) -> str:
    return "org.pdf" if report == "index" else f"{report}.pdf"


def test_every_pdf_reads_whole(acme_pdfs):
    # One test for every PDF: printing them all is the slow part, and this way one worker does it.
    problems = {}
    for report in REPORTS:
        text = read_pdf(acme_pdfs / pdf_of(report))
        headers = table_headers((acme_pdfs / f"{report}.html").read_text(encoding="utf-8"))
        assert len(headers) >= 5, report  # the check reads real tables
        missing = headers_missing_from_pdf(headers, text)
        if text.outside or missing:
            problems[report] = {"outside the page": text.outside[:10], "headers missing": missing}
    assert problems == {}


def test_no_pdf_leaves_a_section_heading_at_a_page_foot(acme_pdfs):
    stranded = {}
    for report in REPORTS:
        html = (acme_pdfs / f"{report}.html").read_text(encoding="utf-8")
        assert len(section_headings(html)) >= 4, report  # the check reads real headings
        if found := stranded_headings(acme_pdfs / pdf_of(report), section_headings(html)):
            stranded[report] = found
    assert stranded == {}


def test_the_demos_org_pdf_keeps_each_heading_with_its_section(tmp_path):
    # The demo (incident history, no previous audit): "Practice beside configuration" and its lead
    # ended page 2 of the org PDF, its table on page 3.
    from audit.assess import assess
    from audit.demo import DEMO_SINCE, bundled_config_path, run_demo
    from audit.reports import plan_reports
    from audit.reports.pdf import render_pdf

    demo = assess(run_demo(tmp_path / "demo"), config_path=bundled_config_path(), today=DEMO_SINCE.date())
    org = plan_reports(demo, tmp_path, formats=("pdf",)).pdf[0]
    headings = section_headings(org.html)
    assert org.path.name == "org.pdf" and "Practice beside configuration" in headings
    assert stranded_headings(render_pdf(org).path, headings) == []


def test_the_foot_check_finds_a_heading_left_with_its_lead_only(tmp_path):
    """Some amount of text before a section leaves its heading and lead at the foot of page 1, the table
    on page 2; print.css's rule (the lead goes with what follows) moves them over with it."""
    from audit.reports.pdf import PdfJob, render_pdf

    section = ("<h2 style='font-size: 14pt'>Practice</h2><p class='lead' style='font-size: 10pt'>What happened."
               "</p><table style='font-size: 8pt'><tr><td>Data</td><td>49</td></tr></table>")

    def stranded(lines: int, style: str) -> list[str]:
        filler = "<p style='font-size: 10pt; margin: 0'>Filler.</p>" * lines
        page = f"<style>@page {{ size: A6; margin: 10mm 10mm 18mm }} {style}</style>"
        path = render_pdf(PdfJob(page + filler + section, tmp_path / f"{lines}.pdf")).path
        return stranded_headings(path, ["Practice"])

    assert any(stranded(lines, "") == ["Practice"] for lines in range(14, 30))
    assert not any(stranded(lines, "p.lead { break-after: avoid }") for lines in range(14, 30))


MM = 72 / 25.4
PAGE_TOP, PAGE_BOTTOM = 15 * MM, 18 * MM  # print.css's @page margins: the band text may fill


def headings(path: Path) -> dict[str, tuple[int, float]]:
    """(page from 0, top in points) of each scorecard section heading (the 12.5 pt text), and "end"."""
    found: dict[str, tuple[int, float]] = {}
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            lines: dict[float, list[str]] = {}
            for word in page.extract_words(extra_attrs=["size"]):
                if word["size"] > 12:
                    lines.setdefault(round(word["top"]), []).append(word["text"])
            for top, words in lines.items():
                found.setdefault(" ".join(words), (number, float(top)))
        found["end"] = (len(pdf.pages), 0.0)
        height = float(pdf.pages[0].height)
    return {name: (page, top / (height - PAGE_TOP - PAGE_BOTTOM)) for name, (page, top) in found.items()}


def pages_between(start: tuple[int, float], end: tuple[int, float]) -> float:
    """How many pages of text lie between two headings (fractions of the text band of a page)."""
    return (end[0] + end[1]) - (start[0] + start[1])


def overview(path: Path, first_heading: str = "Failing rules") -> list[list[dict]]:
    """The characters of each page that come before ``first_heading`` (page footers left out)."""
    pages = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            words = page.extract_words(extra_attrs=["size"])
            heading = next((w for w in words if w["size"] > 12 and w["text"] == first_heading.split()[0]), None)
            limit = heading["top"] if heading else float(page.height) - PAGE_BOTTOM
            pages.append([c for c in page.chars if c["text"].strip() and c["bottom"] <= limit])
            if heading:
                return [chars for chars in pages if chars]
    raise AssertionError(f"{path.name} has no heading {first_heading!r}")


def overview_pages(path: Path) -> int:
    """How many pages hold the text before the findings."""
    return len(overview(path))


def service_count(acme, stem: str) -> int:
    return len(acme.scores.teams[stem.rsplit("-", 1)[1]].service_ids)


@pytest.mark.parametrize("stem", ACME_TEAMS)
def test_team_pdfs_take_a_page_per_five_services_plus_the_findings(acme_pdfs, acme, stem):
    # Before the findings: the standing, the fixes, who is on call and the services, in a page per five
    # services (at least one); the detail (next level, changes, coverage, practice, waivers) follows them.
    path = acme_pdfs / f"team-{stem}.pdf"
    budget = max(1, math.ceil(service_count(acme, stem) / 5))
    assert overview_pages(path) <= budget, (stem, headings(path))
    at = headings(path)
    order = ["Services", "Failing rules", "To reach the next level", "On-call coverage by escalation level"]
    assert [at[heading] for heading in order] == sorted(at[heading] for heading in order)


def test_the_page_budget_counts_a_page_the_overview_spills_onto(acme_pdfs, acme, tmp_path):
    # The budget check can fail: a scorecard whose services table starts on a page of its own.
    from audit.reports.pdf import PdfJob, render_pdf

    html = (acme_pdfs / "team-returns-PTEAM09.html").read_text(encoding="utf-8")
    forced = html.replace('<h2 id="services">', '<h2 id="services" style="break-before: page">')
    assert forced != html
    path = render_pdf(PdfJob(forced, tmp_path / "spilled.pdf")).path
    assert service_count(acme, "returns-PTEAM09") <= 5 and overview_pages(path) == 2
    assert overview_pages(acme_pdfs / "team-returns-PTEAM09.pdf") == 1


def test_team_pdfs_print_the_overview_in_8_points_or_more(acme_pdfs):
    # Smaller type buys the page budget, down to 8 pt; the link arrow (a glyph at 80%) is decoration.
    small = {}
    for stem in ACME_TEAMS:
        chars = [c for page in overview(acme_pdfs / f"team-{stem}.pdf") for c in page if c["text"] != "\u2197"]
        assert len(chars) > 500
        tiny = "".join(c["text"] for c in chars if c["size"] < 7.95)
        if tiny:
            small[stem] = tiny[:80]
    assert small == {}


def test_the_header_check_finds_a_column_the_pdf_lost(acme_pdf):
    # The check itself: a header the PDF does not show, and one whose words are there but not as a header.
    pdf = read_pdf(acme_pdf["org.pdf"].path)
    assert headers_missing_from_pdf(["Open findings", "Findings open", "Mean level"], pdf) == ["Findings open"]


def test_the_page_check_finds_text_past_the_edge(tmp_path):
    from audit.reports.pdf import PdfJob, render_pdf

    html = "<style>@page { size: A6; margin: 10mm }</style><p style='margin-left: 120mm'>cut off</p><p>kept</p>"
    result = render_pdf(PdfJob(html, tmp_path / "wide.pdf"))
    outside = chars_outside_page(result.path)
    assert "".join(c.text for c in outside) == "cutoff" and {c.page for c in outside} == {1}


@pytest.fixture(scope="module")
def axe_source() -> str:
    chromium_required()
    return axe_script()


def open_report(browser, path: Path, width: int):
    # bypass_csp: the report's CSP admits only its own script, and axe-core is injected to inspect it.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("report", REPORTS)
def test_no_table_overflows(browser, acme_html, report, width):
    context, page = open_report(browser, acme_html / f"{report}.html", width)
    try:
        assert page.locator("table").count() >= 2
        assert overflowing_tables(page) == []
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1
    finally:
        context.close()


def test_the_overflow_check_finds_a_table_wider_than_its_column(browser, tmp_path):
    page_file = tmp_path / "wide.html"
    page_file.write_text("<main style='width: 300px'><div class='table-wrap' style='overflow-x: auto'>"
                         "<table><tr><th>a</th><td style='min-width: 600px'>wide</td></tr></table></div></main>")
    context, page = open_report(browser, page_file, 1280)
    try:
        assert [t["table"] > t["room"] for t in overflowing_tables(page)] == [True]
    finally:
        context.close()


@pytest.mark.parametrize("report", REPORTS)
def test_axe_core_finds_no_wcag_violation(browser, axe_source, acme_html, report):
    context, page = open_report(browser, acme_html / f"{report}.html", 1280)
    try:
        assert axe_violations(page, axe_source) == []
    finally:
        context.close()


def test_axe_core_finds_poor_contrast(browser, axe_source, tmp_path):
    # The orange of level 1 under white text, as the badges had it (2.95:1): the check can fail.
    page_file = tmp_path / "contrast.html"
    page_file.write_text("<html lang=en><title>t</title><main><span style='background:#e8772e;color:#fff;"
                         "font-size:12px'>L1</span></main></html>")
    context, page = open_report(browser, page_file, 1280)
    try:
        assert [v.split(":")[0] for v in axe_violations(page, axe_source)] == ["color-contrast"]
    finally:
        context.close()


def test_pdfs_are_tagged_for_screen_readers(acme_pdf):
    import pypdf

    for result in acme_pdf.values():
        root = pypdf.PdfReader(result.path).trailer["/Root"]
        assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root and root["/Lang"] == "en"
