"""The report layout checks on a generated account with --previous: ``make check-reports``.

Run: ``.venv/bin/python -m tests.benchmarks.check_reports [--teams 600] [--services-per-team 2]
[--pdf-teams all|N] [--browser-teams all|N]``.

Two accounts of the same size are generated (seeds 0 and 1: the second plays the audit a quarter
earlier), crawled in-process through the emulator and judged with the built-in rules; the reports
are written with the trend. Then the checks of ``tests/reports/test_layout.py`` run on them: every
PDF read back (no character outside its page, every HTML column header laid out in the PDF), every
HTML report opened in Chromium at 1280 and 390 px (no table overflows) with axe-core (no WCAG 2.1
A/AA violation). It prints what it checked, how long each part took and every problem found, and
exits 1 when there is one. The CI runs a 30-team slice of the same (tests/reports/test_layout_generated.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from audit.assess import Assessment, assess
from audit.emulator.generate import generate_account
from audit.reports import plan_reports, write_reports
from audit.reports.pdf import write_pdfs
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


def write(now: Assessment, then: Assessment, out: Path, pdf_teams: int | None) -> list[Path]:
    """Every HTML report, and the org PDF with the first ``pdf_teams`` team PDFs (None: all)."""
    write_reports(now, out, formats=("html",), previous=then)
    plan = plan_reports(now, out, formats=("pdf",), previous=then)
    jobs = plan.pdf if pdf_teams is None else plan.pdf[: 1 + pdf_teams]
    return [result.path for result in write_pdfs(jobs)]


def check_pdfs(out: Path, pdfs: list[Path], checked: Checked) -> None:
    for pdf in pdfs:
        html = out / ("index.html" if pdf.name == "org.pdf" else pdf.with_suffix(".html").name)
        text = read_pdf(pdf)
        checked.pdfs += 1
        checked.pdf_pages += len(text.pages)
        for char in text.outside[:5]:
            checked.problems.append(f"{pdf.name}: {char.text!r} outside page {char.page} at x {char.x0}-{char.x1}")
        for header in headers_missing_from_pdf(table_headers(html.read_text(encoding="utf-8")), text):
            checked.problems.append(f"{pdf.name}: column header {header!r} of {html.name} is not in the PDF")


def check_html(pages: list[Path], checked: Checked, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    script = axe_script()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        try:
            for page_path in pages:
                checked.html_pages += 1
                for width in WIDTHS:
                    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
                    page = context.new_page()
                    page.goto(page_path.as_uri())
                    for table in overflowing_tables(page):
                        checked.problems.append(f"{page_path.name} at {width} px: a table of {table['section']!r} "
                                                f"is {table['table']} px in {table['room']} px ({table['header']})")
                    if width == WIDTHS[0]:
                        checked.problems += [f"{page_path.name}: {v}" for v in axe_violations(page, script)]
                    context.close()
        finally:
            browser.close()


def run(teams: int, per_team: int, pdf_teams: int | None, browser_teams: int | None, chromium: str) -> Checked:
    checked = Checked()
    with tempfile.TemporaryDirectory(prefix="check-reports-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        now = generated_assessment(teams, teams * per_team, 0, work / "now")
        then = generated_assessment(teams, teams * per_team, 1, work / "then")
        checked.seconds["generate, crawl, assess (twice)"] = time.perf_counter() - started
        started = time.perf_counter()
        pdfs = write(now, then, work / "report", pdf_teams)
        checked.seconds["write the reports"] = time.perf_counter() - started
        started = time.perf_counter()
        check_pdfs(work / "report", pdfs, checked)
        checked.seconds["read the PDFs back"] = time.perf_counter() - started
        started = time.perf_counter()
        team_pages = sorted((work / "report").glob("team-*.html"))
        pages = [work / "report" / "index.html", *(team_pages if browser_teams is None else team_pages[:browser_teams])]
        check_html(pages, checked, chromium)
        checked.seconds["Chromium: overflow and axe-core"] = time.perf_counter() - started
    return checked


def report(checked: Checked, teams: int) -> str:
    lines = [f"account: {teams} teams, with --previous",
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
    args = parser.parse_args(argv)

    def count(value: str) -> int | None:
        return None if value == "all" else int(value)

    checked = run(args.teams, args.services_per_team, count(args.pdf_teams), count(args.browser_teams), args.chromium)
    print(report(checked, args.teams))
    return 1 if checked.problems else 0


if __name__ == "__main__":
    sys.exit(main())
