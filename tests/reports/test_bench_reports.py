"""The report benchmark in miniature: it runs end to end and its figures add up (no wall-time assertions)."""

from __future__ import annotations

import pytest

from tests.benchmarks.bench_reports import Figures, report, run


@pytest.mark.slow
def test_benchmark_figures_are_consistent():
    figures = run(services=16, teams=2, pdf_teams=1, workers=2, rules=[])
    assert figures.services == 16 and 1 <= figures.teams <= 2
    assert figures.pdf_documents == 2  # the org PDF and one team's
    assert figures.pdf_pages >= 1 + figures.teams  # the summary, then a page per team in the org PDF
    assert min(figures.model, figures.org_html, figures.team_html) > 0
    assert figures.html_total == pytest.approx(figures.model + figures.org_html + figures.team_html)
    assert figures.weasyprint_alone > 0 and figures.pdf_serial > 0 and figures.pdf_parallel > 0
    printed = report(figures)
    assert f"{figures.pdf_ratio:.2f}x WeasyPrint alone" in printed
    assert "all HTML:" in printed and "target < 30 s" in printed


def test_report_without_pdfs_prints_html_figures_only():
    figures = Figures(services=10_000, teams=600, findings=250_000, model=4.0, org_html=1.5, team_html=12.0)
    printed = report(figures)
    assert "all HTML:                              17.50 s   target < 30 s: PASS" in printed
    assert "PDFs" not in printed
