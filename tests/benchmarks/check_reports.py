"""The report layout checks on a generated account with --previous: ``make check-reports``.

Run: ``.venv/bin/python -m tests.benchmarks.check_reports [--teams 600] [--services-per-team 2]
[--pdf-teams all|N] [--browser-teams all|N] [--workers N]``.

Two accounts of the same size are generated (seeds 0 and 1: the second plays the audit a quarter
earlier), crawled in-process through the emulator and judged with the built-in rules; the reports
are written with the trend. Then the checks of ``tests/reports/test_layout.py`` run on them: every
PDF read back (no character outside its page, every HTML column header laid out in the PDF), every
HTML report opened in Chromium at 1280 and 390 px (no table overflows) with axe-core (no WCAG 2.1
A/AA violation). It prints what it checked, how long each part took and every problem found, and
exits 1 when there is one. The CI runs a 30-team slice of the same (tests/reports/test_layout_generated.py).

Where the time goes (600 teams, 1,200 services): printing ~600 PDFs with WeasyPrint (about 2 s a
team scorecard, and one org PDF of a page per team), reading each back with pdfplumber (about
0.2 s a page) and axe-core in Chromium (about 0.7 s a report). So each PDF is printed and read back
in the same worker of a process pool (``--workers``, default the usable cores; the org PDF, the
longest, first), and the HTML reports are shared out among as many Chromium pages, each page kept
for its whole share: loaded at 1280 px (overflow, axe-core), then narrowed to 390 px (overflow
again, the phone layout laid out by the resize). Every report is still checked; progress goes to
stderr. Measured figures: the README's Performance section.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from audit.assess import Assessment, assess
from audit.emulator.generate import generate_account
from audit.reports import plan_reports, write_reports
from audit.reports.pdf import PdfJob, default_workers, pool_context, render_pdf
from tests.crawl.conftest import crawl, emulator_app
from tests.reports.layout_checks import (
    axe_script,
    axe_violations,
    headers_missing_from_pdf,
    overflowing_tables,
    read_pdf,
    table_headers,
)

WIDTHS = (1280, 390)
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def generated_assessment(teams: int, services: int, seed: int, workdir: Path) -> Assessment:
    account = generate_account(services=services, teams=teams, policies=max(1, services // 4),
                               schedules=max(1, services // 3), users=max(2, services), seed=seed)
    workdir.mkdir(parents=True, exist_ok=True)
    snapshot, _ = crawl(emulator_app(account, workdir), workdir / "snapshot")
    return assess(snapshot, cwd=workdir, env={})


@dataclasses.dataclass
class Checked:
    pdfs: int = 0
    pdf_pages: int = 0
    html_pages: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    load_at_start: str = dataclasses.field(default_factory=lambda: load_average())


def write(now: Assessment, then: Assessment, out: Path, pdf_teams: int | None) -> list[PdfJob]:
    """Every HTML report written; the print jobs of the org PDF and the first ``pdf_teams`` team PDFs (None: all)."""
    write_reports(now, out, formats=("html",), previous=then)
    plan = plan_reports(now, out, formats=("pdf",), previous=then)
    return list(plan.pdf if pdf_teams is None else plan.pdf[: 1 + pdf_teams])


@dataclasses.dataclass(frozen=True)
class PdfCheck:
    name: str
    pages: int
    problems: tuple[str, ...]


def print_and_read(job: PdfJob) -> PdfCheck:
    """Print one PDF and read it back against its HTML report (in a pool worker)."""
    pdf = render_pdf(job).path
    html = pdf.parent / ("index.html" if pdf.name == "org.pdf" else pdf.with_suffix(".html").name)
    text = read_pdf(pdf)
    problems = [f"{pdf.name}: {char.text!r} outside page {char.page} at x {char.x0}-{char.x1}"
                for char in text.outside[:5]]
    problems += [f"{pdf.name}: column header {header!r} of {html.name} is not in the PDF"
                 for header in headers_missing_from_pdf(table_headers(html.read_text(encoding="utf-8")), text)]
    return PdfCheck(pdf.name, len(text.pages), tuple(problems))


def progress(what: str, done: int, total: int, started: float) -> None:
    if done == total or done % 50 == 0:
        print(f"  {what}: {done}/{total} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def check_pdfs(jobs: Sequence[PdfJob], checked: Checked, workers: int) -> None:
    """Print and read back every PDF, ``workers`` at a time; the biggest documents first."""
    started = time.perf_counter()
    order = sorted(jobs, key=lambda job: -len(job.html))
    results: list[PdfCheck] = []
    if workers <= 1:
        for job in order:
            results.append(print_and_read(job))
            progress("PDFs printed and read back", len(results), len(jobs), started)
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
            for result in pool.map(print_and_read, order):
                results.append(result)
                progress("PDFs printed and read back", len(results), len(jobs), started)
    for result in sorted(results, key=lambda r: r.name):
        checked.pdfs += 1
        checked.pdf_pages += result.pages
        checked.problems.extend(result.problems)


def check_pages(pages: Sequence[Path], chromium: str, script: str, tick) -> list[str]:
    """One Chromium page for a share of the reports: each loaded at 1280 px, then narrowed to 390 px."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, bypass_csp=True)
            page = context.new_page()
            for page_path in pages:
                page.set_viewport_size({"width": WIDTHS[0], "height": 900})
                page.goto(page_path.as_uri())
                for width in WIDTHS:
                    if width != WIDTHS[0]:
                        page.set_viewport_size({"width": width, "height": 900})
                    for table in overflowing_tables(page):
                        problems.append(f"{page_path.name} at {width} px: a table of {table['section']!r} "
                                        f"is {table['table']} px in {table['room']} px ({table['header']})")
                    if width == WIDTHS[0]:
                        problems += [f"{page_path.name}: {v}" for v in axe_violations(page, script)]
                tick()
            context.close()
        finally:
            browser.close()
    return problems


def check_html(pages: list[Path], checked: Checked, chromium: str, workers: int = 1) -> None:
    """Every page through the browser checks, shared out among ``workers`` Chromium pages (one thread each)."""
    script = axe_script()
    started, done = time.perf_counter(), [0]

    def tick() -> None:
        done[0] += 1
        progress("HTML reports opened in Chromium", done[0], len(pages), started)

    shares = [pages[i::workers] for i in range(max(1, min(workers, len(pages))))]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(shares)) as pool:
        for problems in pool.map(lambda share: check_pages(share, chromium, script, tick), shares):
            checked.problems += problems
    checked.html_pages += len(pages)


def run(teams: int, per_team: int, pdf_teams: int | None, browser_teams: int | None, chromium: str,
        workers: int | None = None) -> Checked:
    workers = workers or default_workers()
    checked = Checked()
    with tempfile.TemporaryDirectory(prefix="check-reports-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        now = generated_assessment(teams, teams * per_team, 0, work / "now")
        then = generated_assessment(teams, teams * per_team, 1, work / "then")
        checked.seconds["generate, crawl, assess (twice)"] = time.perf_counter() - started
        started = time.perf_counter()
        jobs = write(now, then, work / "report", pdf_teams)
        checked.seconds["write the HTML reports, render the print HTML"] = time.perf_counter() - started
        started = time.perf_counter()
        check_pdfs(jobs, checked, workers)
        checked.seconds[f"print the PDFs and read them back ({workers} processes)"] = time.perf_counter() - started
        started = time.perf_counter()
        team_pages = sorted((work / "report").glob("team-*.html"))
        pages = [work / "report" / "index.html", *(team_pages if browser_teams is None else team_pages[:browser_teams])]
        check_html(pages, checked, chromium, workers)
        checked.seconds[f"Chromium: overflow and axe-core ({workers} pages)"] = time.perf_counter() - started
    return checked


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def report(checked: Checked, teams: int) -> str:
    lines = [f"account: {teams} teams, with --previous; load average (1/5/15 min) at the start "
             f"{checked.load_at_start}, at the end {load_average()}",
             f"PDFs read back: {checked.pdfs} ({checked.pdf_pages:,} pages)",
             f"HTML reports opened at {' and '.join(f'{w} px' for w in WIDTHS)}: {checked.html_pages}"]
    lines += [f"  {what}: {seconds:.1f} s" for what, seconds in checked.seconds.items()]
    lines.append(f"problems: {len(checked.problems)}")
    lines += [f"  {problem}" for problem in checked.problems[:200]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=600)
    parser.add_argument("--services-per-team", type=int, default=2)
    parser.add_argument("--pdf-teams", default="all", help="'all', or how many team PDFs to print and read")
    parser.add_argument("--browser-teams", default="all", help="'all', or how many team pages to open")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes printing PDFs and Chromium pages at once (default: the usable cores)")
    args = parser.parse_args(argv)

    def count(value: str) -> int | None:
        return None if value == "all" else int(value)

    started = time.perf_counter()
    checked = run(args.teams, args.services_per_team, count(args.pdf_teams), count(args.browser_teams), args.chromium,
                  args.workers)
    print(report(checked, args.teams))
    print(f"total: {time.perf_counter() - started:.1f} s")
    return 1 if checked.problems else 0


if __name__ == "__main__":
    sys.exit(main())
