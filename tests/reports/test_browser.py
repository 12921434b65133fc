"""The HTML reports in headless Chromium: no console errors, sortable and filterable tables, inert hostile names.

Debian's ``chromium`` driven by Playwright (never ``playwright install``). Pages are
served from a made-up origin by ``page.route``, which also records every other request
the page makes: a report must make none. The scorecards are also opened from disk
(``file://``) as a reader would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.reports.conftest import (
    HOSTILE_DESCRIPTION,
    HOSTILE_SERVICE,
    HOSTILE_TEAM,
)

ORIGIN = "https://reports.pd-audit.invalid/"


class Visit:
    """One page load: what it logged, raised, opened as dialogs and requested."""

    def __init__(self, browser, directory: Path, name: str, **context_options):
        self.context = browser.new_context(**context_options)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

        def route(route):
            url = route.request.url
            if url == ORIGIN + name:
                route.fulfill(body=(directory / name).read_bytes(), content_type="text/html; charset=utf-8")
            else:
                self.requests.append(url)
                route.abort()

        self.context.route("**/*", route)
        self.page.goto(ORIGIN + name)
        self.page.wait_for_load_state("load")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser):
    opened = []

    def open_page(directory, name, **options):
        page = Visit(browser, directory, name, **options)
        opened.append(page)
        return page

    yield open_page
    for page in opened:
        page.close()


def column(page, table, index):
    return page.eval_on_selector(
        table, f"t => Array.from(t.tBodies[0].rows).filter(r => !r.hidden).map(r => r.cells[{index}].textContent.trim())"
    )


def test_org_report_loads_clean(visit, acme_html):
    v = visit(acme_html, "index.html")
    assert v.console == [] and v.errors == [] and v.requests == [] and v.dialogs == []
    assert v.page.title().startswith("Service ownership maturity")
    assert v.page.locator("svg.chart").count() >= 3  # levels, trend, coverage, load
    assert v.page.locator("#teams table th button.sort").count() >= 8  # the script made the headers sortable


def test_team_table_sorts_by_score_both_ways(visit, acme_html):
    v = visit(acme_html, "index.html")
    table = "#teams table"
    score_header = v.page.locator(f"{table} th", has_text="Score").first
    score_col = 5
    ranked = [float(s) for s in column(v.page, table, score_col)]
    score_header.locator("button").click()
    ascending = [float(s) for s in column(v.page, table, score_col)]
    assert ascending == sorted(ranked) and score_header.get_attribute("aria-sort") == "ascending"
    score_header.locator("button").click()
    descending = [float(s) for s in column(v.page, table, score_col)]
    assert descending == sorted(ranked, reverse=True)
    team_header = v.page.locator(f"{table} th", has_text="Team").first
    team_header.locator("button").click()
    names = column(v.page, table, 1)
    assert names == sorted(names, key=str.lower) and len(names) == 9


def test_filter_hides_rows_and_counts_them(visit, acme_html):
    v = visit(acme_html, "index.html")
    v.page.locator("#teams input.filter").fill("ware")
    assert column(v.page, "#teams table", 1) == ["Warehouse Ops"]
    assert v.page.locator("#teams .filter-count").text_content() == "1 of 9 rows"
    v.page.locator("#teams input.filter").fill("")
    assert len(column(v.page, "#teams table", 1)) == 9


def test_without_script_tables_stay_plain_and_complete(visit, acme_html):
    v = visit(acme_html, "index.html", java_script_enabled=False)
    assert v.page.locator("input.filter").count() == 0 and v.page.locator("button.sort").count() == 0
    assert v.page.locator("#teams table tbody tr").count() == 9


def test_scorecard_from_disk_has_no_errors_and_fits_a_phone(browser, acme_html):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto((acme_html / "team-warehouse-ops-PTEAM08.html").as_uri())
        assert problems == []
        assert page.locator("h1").text_content() == "Warehouse Ops"
        assert page.locator(".timeline-block svg.timeline rect.gap").count() >= 1  # Warehouse Ops' planted gaps
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
    finally:
        context.close()


def test_scorecard_service_table_sorts_by_level(visit, acme_html):
    v = visit(acme_html, "team-checkout-PTEAM02.html")
    table = "#scorecard table.services"
    v.page.locator(f"{table} th", has_text="Level").first.locator("button").click()
    v.page.locator(f"{table} th", has_text="Level").first.locator("button").click()
    levels = [int(s.lstrip("L")) for s in column(v.page, table, 1)]
    assert levels == sorted(levels, reverse=True) and len(levels) == 6
    assert v.errors == [] and v.console == []


# The hostile Payments team's scorecard: its file name is a slug of the hostile name.
@pytest.mark.parametrize("name", ["index.html", "team-img-src-file-etc-passwd-PTEAM01.html"])
def test_hostile_names_stay_inert_text(visit, hostile_html, name):
    v = visit(hostile_html, name)
    v.page.wait_for_timeout(200)  # time for any onload or injected script to fire
    assert v.dialogs == [] and v.requests == [] and v.errors == []
    body = v.page.locator("body").inner_text()
    if name == "index.html":
        assert HOSTILE_TEAM in body
    else:
        assert HOSTILE_SERVICE in body and HOSTILE_TEAM in body
        assert re.sub(r"\s+", " ", HOSTILE_DESCRIPTION)[:60] in re.sub(r"\s+", " ", body)
    assert v.page.locator("img, iframe, object, embed").count() == 0
    assert v.page.evaluate("document.scripts.length") == 1
    background = v.page.evaluate("getComputedStyle(document.body).backgroundImage")
    assert background == "none"
