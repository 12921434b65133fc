"""The report benchmark: render the org report and every scorecard of a large generated account.

Run: ``.venv/bin/python -m tests.benchmarks.bench_reports [--services 10000] [--teams 600]
[--pdf-teams all|N] [--workers N] [--rules DIR]``.

A generated account (``audit.emulator.generate``; by default 10,000 services and 600 teams, the
other collections in the crawl benchmark's proportions) is crawled in-process through the
emulator, assessed with the built-in rules (plus ``--rules``), and then rendered. The assessment
is also passed as its own "previous" one, so the trend code runs at full size too. Printed:

- view-model: building the org report and every scorecard
- org HTML, all team HTML (rendering + writing), and their total against the 30-second target
- PDFs: WeasyPrint alone on the same print HTML (serial), ours serial, ours in parallel, and the
  ratio of ours (serial) to WeasyPrint alone against the 1.3x target

``--pdf-teams N`` prints only the org PDF and the first N teams' PDFs (a full serial run of 601
PDFs takes a long time on a small machine); the HTML figures always cover every team.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import weasyprint

from audit.assess import Assessment, assess
from audit.emulator.generate import generate_account
from audit.reports import ORG_HTML, plan_reports
from audit.reports.html import HtmlRenderer
from audit.reports.model import ReportIndex, meta
from audit.reports.org import build_org_report
from audit.reports.pdf import BundledAssetFetcher, default_workers, write_pdfs
from audit.reports.team import ScorecardBuilder
from tests.crawl.conftest import crawl, emulator_app

HTML_TARGET_SECONDS = 30.0
PDF_OVERHEAD_TARGET = 1.3
# The crawl benchmark's account per 12,000 services.
PER_SERVICE = {"policies": 3000 / 12000, "schedules": 4000 / 12000, "users": 15000 / 12000}


@dataclasses.dataclass
class Figures:
    services: int
    teams: int
    findings: int
    model: float = 0.0
    org_html: float = 0.0
    team_html: float = 0.0
    pdf_documents: int = 0
    pdf_pages: int = 0
    weasyprint_alone: float = 0.0
    pdf_serial: float = 0.0
    pdf_parallel: float = 0.0
    workers: int = 1

    @property
    def html_total(self) -> float:
        return self.model + self.org_html + self.team_html

    @property
    def pdf_ratio(self) -> float:
        return self.pdf_serial / self.weasyprint_alone if self.weasyprint_alone else float("nan")


def build_assessment(services: int, teams: int, workdir: Path, rules: list[str]) -> Assessment:
    account = generate_account(
        services=services, teams=teams,
        **{name: max(1, round(services * share)) for name, share in PER_SERVICE.items()},
    )
    snapshot, _ = crawl(emulator_app(account, workdir), workdir / "snapshot")
    return assess(snapshot, rules_dirs=rules, cwd=workdir, env={})


def time_html(assessment: Assessment, out: Path, figures: Figures) -> None:
    started = time.perf_counter()
    index = ReportIndex(assessment, assessment)
    report_meta = meta(assessment, assessment)

    def href(team_id: str) -> str:
        return f"team-{team_id}.html"

    team_ids = sorted(t for t in assessment.scores.teams if t)
    cards = list(ScorecardBuilder(index, report_meta, href).build_all(team_ids))
    org = build_org_report(index, report_meta, href)
    figures.model = time.perf_counter() - started

    renderer = HtmlRenderer()
    started = time.perf_counter()
    (out / ORG_HTML).write_text(renderer.org(org), encoding="utf-8")
    figures.org_html = time.perf_counter() - started
    started = time.perf_counter()
    for card in cards:
        (out / href(card.team.id)).write_text(renderer.team(card), encoding="utf-8")
    figures.team_html = time.perf_counter() - started


def time_pdfs(assessment: Assessment, out: Path, figures: Figures, pdf_teams: int | None, workers: int) -> None:
    plan = plan_reports(assessment, out, formats=("pdf",), previous=assessment)
    jobs = list(plan.pdf[: 1 + pdf_teams] if pdf_teams is not None else plan.pdf)
    figures.pdf_documents = len(jobs)
    figures.workers = workers

    started = time.perf_counter()
    for job in jobs:  # WeasyPrint alone: the same print HTML, nothing of ours around it
        weasyprint.HTML(string=job.html, url_fetcher=BundledAssetFetcher()).write_pdf(out / "alone.pdf")
    figures.weasyprint_alone = time.perf_counter() - started

    started = time.perf_counter()
    serial = write_pdfs([dataclasses.replace(j, path=j.path.with_suffix(".serial.pdf")) for j in jobs], 1)
    figures.pdf_serial = time.perf_counter() - started
    figures.pdf_pages = sum(result.pages for result in serial)

    started = time.perf_counter()
    write_pdfs(jobs, workers)
    figures.pdf_parallel = time.perf_counter() - started


def report(figures: Figures) -> str:
    html_ok = "PASS" if figures.html_total < HTML_TARGET_SECONDS else "FAIL"
    pdf_ok = "PASS" if figures.pdf_ratio <= PDF_OVERHEAD_TARGET else "FAIL"
    lines = [
        f"account: {figures.services:,} services, {figures.teams:,} teams, {figures.findings:,} findings",
        f"view-model (org + every scorecard): {figures.model:8.2f} s",
        f"org HTML:                           {figures.org_html:8.2f} s",
        f"all team HTML ({figures.teams} files):       {figures.team_html:8.2f} s",
        f"all HTML:                           {figures.html_total:8.2f} s   target < {HTML_TARGET_SECONDS:.0f} s: {html_ok}",
    ]
    if figures.pdf_documents:
        speedup = figures.pdf_serial / figures.pdf_parallel if figures.pdf_parallel else float("nan")
        lines += [
            f"PDFs: {figures.pdf_documents} documents, {figures.pdf_pages:,} pages",
            f"  WeasyPrint alone (serial):        {figures.weasyprint_alone:8.2f} s",
            (f"  ours, serial:                     {figures.pdf_serial:8.2f} s   "
             f"{figures.pdf_ratio:.2f}x WeasyPrint alone, target <= {PDF_OVERHEAD_TARGET}x: {pdf_ok}"),
            (f"  ours, parallel ({figures.workers} workers):      {figures.pdf_parallel:8.2f} s   "
             f"{speedup:.2f}x faster than serial"),
        ]
    return "\n".join(lines)


def run(services: int, teams: int, pdf_teams: int | None, workers: int, rules: list[str]) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        assessment = build_assessment(services, teams, workdir, rules)
        print(f"(generated, crawled and assessed in {time.perf_counter() - started:.1f} s)", file=sys.stderr)
        figures = Figures(len(assessment.scores.services), len([t for t in assessment.scores.teams if t]),
                          len(assessment.findings))
        out = workdir / "reports"
        out.mkdir()
        time_html(assessment, out, figures)
        if pdf_teams != 0:
            time_pdfs(assessment, out, figures, pdf_teams, workers)
        return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=600)
    parser.add_argument("--pdf-teams", default="all", help="'all', or how many team PDFs to print (0: none)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--rules", action="append", default=[], help="an extra rule pack directory")
    args = parser.parse_args(argv)
    pdf_teams = None if args.pdf_teams == "all" else int(args.pdf_teams)
    print(report(run(args.services, args.teams, pdf_teams, args.workers, args.rules)))


if __name__ == "__main__":
    main()
