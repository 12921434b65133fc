"""The PDFs: text read back with pypdf, page structure, footers, and a fetcher that serves bundled assets only."""

from __future__ import annotations

import re
import tempfile

import pypdf
import pytest

from audit.reports import plan_reports
from audit.reports.pdf import (
    BundledAssetFetcher,
    PdfJob,
    RefusedURL,
    pool_context,
    render_pdf,
    write_pdfs,
)
from tests.reports.conftest import HOSTILE_SERVICE, HOSTILE_TEAM, HOSTILE_USER

TEAM_NAMES = {"PTEAM01": "Payments", "PTEAM02": "Checkout", "PTEAM03": "Search", "PTEAM04": "Platform SRE",
              "PTEAM05": "Data", "PTEAM06": "Mobile", "PTEAM07": "Identity", "PTEAM08": "Warehouse Ops",
              "PTEAM09": "Returns"}


def page_texts(path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_org_pdf_opens_with_the_executive_summary(acme_pdf, acme):
    pages = page_texts(acme_pdf["org.pdf"].path)
    first = flat(pages[0])
    assert "Executive summary" in first and "ORG SCORE" in first
    assert f"{acme.scores.org.score:.0f}" in first
    assert "Teams ranked" not in first and flat(pages[1]).startswith("What needs attention")


def test_org_pdf_gives_each_team_its_own_page(acme_pdf, acme):
    pages = page_texts(acme_pdf["org.pdf"].path)
    team_ids = sorted(TEAM_NAMES)
    first_team_page = len(pages) - len(team_ids)
    # Expected page count: the org section, then exactly one page per team, in id order.
    assert acme_pdf["org.pdf"].pages == len(pages)
    assert not any(flat(p).startswith(tuple(TEAM_NAMES.values())) for p in pages[:first_team_page])
    for page, team_id in zip(pages[first_team_page:], team_ids):
        text = flat(page)
        group = acme.scores.teams[team_id]
        assert text.startswith(TEAM_NAMES[team_id] + " SCORE"), text[:80]
        assert f"SCORE {group.score:.0f}" in text
        for service_id in group.service_ids:
            service = acme.scores.services[service_id]
            assert service.service.name in text
            assert f"L{service.level}" in text


def test_every_page_has_number_and_audit_date_in_the_footer(acme_pdf, acme):
    date = acme.today.isoformat()  # the audit's one "as of" date, the one waivers were judged on
    for name, result in acme_pdf.items():
        pages = page_texts(result.path)
        for number, text in enumerate(pages, 1):
            assert f"Page {number} of {len(pages)}" in text, (name, number)
            assert f"audit of {date}" in flat(text), (name, number)


def test_team_pdf_holds_names_levels_and_scores(acme_pdf, acme):
    result = acme_pdf["team-payments-PTEAM01.pdf"]
    text = flat(" ".join(page_texts(result.path)))
    assert text.startswith("Payments Service ownership scorecard")
    assert f"TEAM SCORE {acme.scores.teams['PTEAM01'].score:.0f}" in text
    for service_id in acme.scores.teams["PTEAM01"].service_ids:
        service = acme.scores.services[service_id]
        assert re.search(re.escape(service.service.name) + r".{0,200}?" + f"L{service.level} {service.score:.0f}", text)
    assert "Fix first" in text and "Why it matters" in text and "How to fix" in text
    assert result.pages == len(page_texts(result.path)) >= 2


def test_printing_fetched_nothing(acme_pdf):
    assert all(result.refused == () for result in acme_pdf.values())


def test_hostile_names_print_as_text(hostile, tmp_path):
    plan = plan_reports(hostile, tmp_path, formats=("pdf",), team_id="PTEAM01")
    [result] = write_pdfs(plan.pdf, workers=1)
    text = flat(" ".join(page_texts(result.path)))
    assert HOSTILE_SERVICE in text and HOSTILE_TEAM in text and HOSTILE_USER in text
    assert "url(http://evil.invalid/x.png)" in re.sub(r"\s+", "", text)  # the description, wrapped
    assert result.refused == ()


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://evil.invalid/x.css", "https://evil.invalid/x.css",
    "data:text/css,body{}", "pd-audit-asset:../../etc/passwd", "pd-audit-asset:/etc/passwd",
    "pd-audit-asset:base.html", "pd-audit-asset:missing.css",
])
def test_fetcher_refuses_anything_but_bundled_assets(url):
    fetcher = BundledAssetFetcher()
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_serves_bundled_stylesheets():
    response = BundledAssetFetcher().fetch("pd-audit-asset:print.css")
    assert b"@page" in response.read() and response.content_type == "text/css"


def test_raw_markup_that_escaped_the_templates_still_fetches_nothing(tmp_path):
    # Defence in depth: even unescaped markup cannot make WeasyPrint read a file or the network.
    html = ("<style>@import url(http://evil.invalid/a.css); body { background: url(file:///etc/passwd) }</style>"
            "<p>Payments</p><img src='file:///etc/passwd'><link rel=stylesheet href='https://evil.invalid/b.css'>")
    result = render_pdf(PdfJob(html, tmp_path / "raw.pdf"))
    assert set(result.refused) >= {"file:///etc/passwd", "http://evil.invalid/a.css"}
    assert all(not url.startswith("pd-audit-asset:") for url in result.refused)
    assert "root:" not in flat(" ".join(page_texts(result.path)))


def test_pdf_workers_start_whatever_the_length_of_tmpdir(monkeypatch):
    # The forkserver's Unix socket lives under $TMPDIR and may not pass 107 bytes.
    monkeypatch.setattr(tempfile, "tempdir", "/tmp/" + "a-very-long-folder-name/" * 5)
    assert pool_context().get_start_method() == "spawn"
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    assert pool_context().get_start_method() == "forkserver"


def text_starts_beyond_the_page(path) -> list[tuple[int, str, float]]:
    """(page, text, x) of every piece of text that starts past the right edge of its page."""
    beyond = []
    for number, page in enumerate(pypdf.PdfReader(path).pages, start=1):
        width = float(page.mediabox.width)

        def visit(text, cm, tm, font_dict, font_size, number=number, width=width):
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            if text.strip() and x > width:
                beyond.append((number, text, round(x)))

        page.extract_text(visitor_text=visit)
    return beyond


def test_the_ranked_table_keeps_every_column_on_the_page(acme_pdf):
    # The trend columns are the ones a quarterly reader opens the report for; a table wider than the
    # page used to draw them past its edge (issue 19).
    path = acme_pdf["org.pdf"].path
    assert text_starts_beyond_the_page(path) == []
    ranked = next(flat(text) for text in page_texts(path) if "Teams ranked" in text)
    for header in ("OPEN FINDINGS", "SCORE CHANGE", "LEVEL CHANGE"):
        assert header in ranked.upper(), header
