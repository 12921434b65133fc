"""Hostile content stays inert in every output format, checked in one place against one account.

The hostile Acme (``tests/robustness/hostile.py``) carries script, markup, CSS that fetches,
local-file and off-site links, Markdown links/pictures/mentions/pipes, XML breakers, control
characters, bidi overrides and spreadsheet formulas in every free-text field, with the names
planted on objects that fail rules. It is crawled twice (a week apart) through the in-process
emulator and assessed once per crawl; then every format renders it:

- ``score``: table, JSON, CSV; ``check``: SARIF, JUnit, Markdown, JSON, text (a first check with
  an empty baseline, where every failing finding is new, and a weekly one against the earlier
  crawl's baseline, with a fixed and a newly broken object); ``diff`` and ``history``: every format;
- the HTML reports in headless Chromium, and two PDFs read back with pypdf.

Each format is held to what makes it safe (see the tests), and each test first checks that the
payloads actually reached it, so none can pass on an output that simply left them out.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import html.parser
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from jsonschema import Draft4Validator
from pypdf import PdfReader

from audit.assess import Assessment, assess
from audit.baseline import create_baseline
from audit.diff import AssessmentDiff, diff_assessments
from audit.gate import GateResult, run_gate
from audit.history import History, build_history
from audit.outputs.score_writers import SCORE_FORMATS
from audit.outputs.ci import CHECK_FORMATS, DIFF_FORMATS, HISTORY_FORMATS
from audit.outputs.markdown import MAX_ROWS
from audit.reports import plan_reports, write_reports
from audit.reports.pdf import PdfResult, write_pdfs
from tests.ci.conftest import SARIF_SCHEMA, acme_account, crawl_account
from tests.crawl.conftest import ACME, SINCE
from tests.reports.conftest import browser, chromium_required  # noqa: F401 (browser: the shared Chromium fixture)
from tests.reports.test_browser import Visit
from tests.robustness.hostile import (
    FIXED_POLICY,
    NEWLY_BROKEN,
    PAYLOADS,
    PLANTED,
    PLANTED_IN_MESSAGES_ONLY,
    Plant,
    earlier_hostile_acme,
    hostile_acme,
)

CONFIG = ACME.parent / "pd-audit.toml"  # Acme's tiers and waivers (by id: the names do not matter)
WEEK = dt.timedelta(days=7)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What a terminal acts on: C0 (but the line breaks the outputs write themselves), DEL, C1,
# and the bidi embeddings, overrides and isolates that reorder what is shown ("Trojan Source").
TERMINAL_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Off-site, local-file and script URLs: no output may link to, fetch or embed one.
PAYLOAD_URL = re.compile(r"evil\.example|^\s*(?:file|javascript|data):", re.IGNORECASE)


def squeezed(text: str) -> str:
    """The letters a reader sees, whatever a format did with control characters and whitespace:
    controls, the U+FFFD some formats put in their place, zero-width and bidi format characters,
    and all whitespace are dropped (PDF text extraction breaks and joins lines freely)."""
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") and c != "\ufffd"
                   and not c.isspace())


def shown(names: Iterable[str], text: str) -> set[str]:
    """The names whose text appears in ``text``, ignoring whitespace (one format shows a line break
    in a name as a space, another as U+FFFD, a PDF wherever it likes)."""
    haystack = squeezed(text)
    return {name for name in names if squeezed(name) in haystack}


@dataclasses.dataclass(frozen=True)
class HostileRun:
    """The hostile Acme crawled a week apart and assessed, and the check's two gate results."""

    earlier: Assessment
    now: Assessment
    history_folder: Path  # both snapshots, for ``history``
    first_check: GateResult  # no baseline yet: every failing finding is new
    weekly_check: GateResult  # against the earlier crawl's baseline: one fixed, one new

    @property
    def diff(self) -> AssessmentDiff:
        return diff_assessments(self.earlier, self.now)

    def history(self) -> History:
        return build_history(self.history_folder, lambda snapshot, day: _assess(snapshot, day))


def _assess(snapshot: Any, today: dt.date) -> Assessment:
    return assess(snapshot, config_path=CONFIG, cwd=CONFIG.parent, today=today, env={})


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile-acme")
    history_folder = root / "snapshots"
    history_folder.mkdir()
    snapshots = {}
    for name, account, since in (("earlier", earlier_hostile_acme(acme_account()), SINCE),
                                 ("now", hostile_acme(acme_account()), SINCE + WEEK)):
        crawled = crawl_account(account, root / name, since=since)
        snapshots[name] = crawled.rename(history_folder / f"{since:%Y-%m-%d}-acme")
    earlier = _assess(snapshots["earlier"], SINCE.date())
    now = _assess(snapshots["now"], (SINCE + WEEK).date())
    return HostileRun(
        earlier=earlier,
        now=now,
        history_folder=history_folder,
        first_check=run_gate(now, create_baseline([], SINCE.date())),
        weekly_check=run_gate(now, create_baseline(earlier.failing(), SINCE.date())),
    )


def planted_names(plants: Iterable[Plant] = PLANTED) -> set[str]:
    return {plant.name for plant in plants}


def strings(node: Any) -> Iterator[str]:
    """Every string in decoded JSON, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def exact_payloads(data: Any) -> set[str]:
    """The payloads (keys of PAYLOADS) some string of decoded JSON holds exactly as planted."""
    everything = "\n".join(strings(data))
    return {key for key, payload in PAYLOADS.items() if payload in everything}


ALL_PLANTED = {plant.payload for plant in PLANTED}


# --- the payloads reach the findings ---------------------------------------------------------


def test_every_planted_payload_reaches_a_failing_finding_of_its_rule(run):
    for plant in PLANTED:
        hits = {f.rule_id for f in run.now.findings if f.status.value in ("fail", "warn", "waived")
                and PAYLOADS[plant.payload] in f.entity_name + f.message}
        assert plant.rule in hits, f"{plant.payload} on {plant.object_id} does not reach {plant.rule}: {hits}"
    # Team names reach messages too, not only entity names (Gift Cards' two owners).
    (gift_cards,) = [f for f in run.now.failing() if (f.rule_id, f.entity_id) == ("OWN-01", NEWLY_BROKEN.object_id)]
    assert PAYLOADS["file_img"] in gift_cards.message and PAYLOADS["bidi"] in gift_cards.message


def test_the_weekly_check_has_a_hostile_fixed_entry_and_a_hostile_new_finding(run):
    result = run.weekly_check
    assert FIXED_POLICY.name in {e.entity_name for e in result.absent}
    assert {f.entity_name for f in result.new if f.entity_id == NEWLY_BROKEN.object_id} == {NEWLY_BROKEN.name}


# --- score: JSON, CSV, table -----------------------------------------------------------------


def test_score_json_round_trips_every_payload_exactly(run):
    data = json.loads(SCORE_FORMATS["json"](run.now, all_findings=True))
    assert exact_payloads(data["findings"]) >= ALL_PLANTED
    assert [f["message"] for f in data["findings"]] == [f.message for f in sorted(run.now.findings,
                                                                                  key=lambda f: f.fingerprint)]
    assert {t["name"] for t in data["teams"]} >= {p.name for p in PLANTED if p.collection == "teams"}


def _csv_cells_are_inert(text: str) -> list[list[str]]:
    """Parse CSV text; every cell that would start a formula must be guarded by a leading apostrophe."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), f"formula cell {cell!r}"
    return rows


def _unguarded(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def test_score_csv_guards_formulas_and_keeps_the_text(run):
    header, *rows = _csv_cells_are_inert(SCORE_FORMATS["csv"](run.now, all_findings=True))
    names = {_unguarded(row[header.index("entity_name")]) for row in rows}
    assert planted_names() <= names
    cells = {row[header.index("entity_name")] for row in rows}
    formulas = {p.name for p in PLANTED if p.name.startswith(FORMULA_STARTS)}
    assert len(formulas) == 7 and {"'" + name for name in formulas} <= cells  # guarded, text intact


def assert_terminal_safe(text: str, names: Iterable[str]) -> None:
    """No character a terminal acts on, and every name still readable as text."""
    assert not TERMINAL_CONTROLS.search(text), repr(TERMINAL_CONTROLS.search(text).group())
    missing = set(names) - shown(names, text)
    assert not missing, f"not shown: {sorted(missing)}"


def _short(name: str, width: int = 39) -> str:
    """The part of a name a column of ``width`` + 1 characters shows before its ellipsis."""
    return name[:width]


def test_score_table_prints_no_terminal_controls(run):
    text = SCORE_FORMATS["table"](run.now)
    assert_terminal_safe(text, {_short(p.name, 28) for p in PLANTED})


# --- check: SARIF, JUnit, Markdown, JSON, text ------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Draft4Validator:
    return Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))


CHECKS = ("first_check", "weekly_check")


@pytest.mark.parametrize("check", CHECKS)
def test_sarif_is_valid_and_carries_names_as_plain_text(run, sarif_validator, check):
    log = json.loads(CHECK_FORMATS["sarif"](getattr(run, check)))
    sarif_validator.validate(log)
    results = log["runs"][0]["results"]
    for string in strings(results):
        assert not TERMINAL_CONTROLS.search(string) and "\n" not in string, repr(string)
    names = {r["locations"][0]["logicalLocations"][0]["name"] for r in results}
    expected = planted_names() if check == "first_check" else {NEWLY_BROKEN.name, FIXED_POLICY.name}
    assert shown(expected, "\n".join(strings(results))) == expected
    assert shown(expected, "\n".join(names)) >= expected - {PLANTED_IN_MESSAGES_ONLY.name}
    for result in results:
        url = result["locations"][0]["logicalLocations"][0]["properties"].get("url")
        assert url is None or url.startswith("https://acme.pagerduty.com/")


@pytest.mark.parametrize("check", CHECKS)
def test_junit_parses_and_carries_names_as_plain_text(run, check):
    root = ET.fromstring(CHECK_FORMATS["junit"](getattr(run, check)))
    for element in root.iter():
        for value in element.attrib.values():
            assert not TERMINAL_CONTROLS.search(value) and "\n" not in value, repr(value)
        assert not TERMINAL_CONTROLS.search(element.text or ""), repr(element.text)
    case_names = "\n".join(case.get("name") for case in root.iter("testcase"))
    assert shown(planted_names(), case_names) >= planted_names() - {PLANTED_IN_MESSAGES_ONLY.name}
    messages = "\n".join(f.get("message") for f in root.iter() if f.get("message"))
    assert shown({PLANTED_IN_MESSAGES_ONLY.name}, messages)
    if check == "weekly_check":
        failed = "\n".join(c.get("name") for c in root.iter("testcase") if c.find("failure") is not None)
        assert shown({NEWLY_BROKEN.name}, failed)


@pytest.mark.parametrize("check", CHECKS)
def test_check_json_round_trips_every_payload_exactly(run, check):
    result = getattr(run, check)
    data = json.loads(CHECK_FORMATS["json"](result))
    assert exact_payloads({key: data[key] for key in ("new", "unchanged", "waived")}) >= ALL_PLANTED
    assert {e["entity_name"] for e in data["fixed"]} == {e.entity_name for e in result.absent}


@pytest.mark.parametrize("check", CHECKS)
def test_check_text_prints_no_terminal_controls(run, check):
    result = getattr(run, check)
    expected = {_short(f.entity_name) for f in result.new} | {_short(e.entity_name) for e in result.absent}
    assert shown(planted_names(), "\n".join(expected))  # the payloads are among what it must print
    assert_terminal_safe(CHECK_FORMATS["text"](result), expected)


class RenderedMarkdown(html.parser.HTMLParser):
    """What GitHub makes of a Markdown comment: its tags, links, pictures, table rows and text."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.tables: list[list[int]] = []  # per table, the cells of each row
        self.text: list[str] = []
        self.feed(github_markdown(source))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name in ("href", "src")]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append(0)
        elif tag in ("td", "th"):
            self.tables[-1][-1] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def github_markdown(source: str) -> str:
    """``source`` rendered by GitHub's own Markdown (cmark-gfm, with GitHub's extensions)."""
    # UNSAFE keeps raw HTML in the output (GitHub would sanitise it afterwards): so any tag a
    # name managed to smuggle in shows up here.
    return cmarkgfm.github_flavored_markdown_to_html(source, options=Options.CMARK_OPT_UNSAFE)


# Markup our own Markdown produces: headings, paragraphs, emphasis, tables and our https links.
OUR_TAGS = {"h3", "h4", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "a"}


def assert_markdown_inert(source: str, names: set[str]) -> None:
    rendered = RenderedMarkdown(source)
    assert set(rendered.tags) <= OUR_TAGS, set(rendered.tags) - OUR_TAGS
    for href in rendered.hrefs:
        assert href.startswith("https://") and not PAYLOAD_URL.search(href), href
    assert rendered.tables and all(len(set(rows)) == 1 for rows in rendered.tables), rendered.tables
    assert not re.search(r"@(?=[\w-])", source), "an @mention survived"
    assert not TERMINAL_CONTROLS.search(source)
    missing = names - shown(names, "".join(rendered.text))
    assert not missing, f"not shown: {sorted(missing)}"


def test_check_markdown_renders_to_inert_text_on_github(run):
    first = run.first_check
    listed = {f.entity_name for f in first.new[:MAX_ROWS]}
    assert len(shown(planted_names(), "\n".join(listed))) >= 10  # enough payloads made the cut
    assert_markdown_inert(CHECK_FORMATS["markdown"](first), listed & planted_names())
    weekly = run.weekly_check
    assert_markdown_inert(CHECK_FORMATS["markdown"](weekly), {NEWLY_BROKEN.name, FIXED_POLICY.name})


# --- diff and history --------------------------------------------------------------------------


def test_diff_formats_keep_hostile_names_inert(run):
    diff = run.diff
    assert [f.entity_id for f in diff.fixed if f.rule_id == "ESC-01"] == [FIXED_POLICY.object_id]
    team_names = {c.name for c in diff.teams.values()}
    assert {p.name for p in PLANTED if p.collection == "teams"} <= team_names
    data = json.loads(DIFF_FORMATS["json"](diff))
    assert {FIXED_POLICY.name, NEWLY_BROKEN.name} <= {f["entity_name"] for key in ("new", "fixed") for f in data[key]}
    assert team_names == {t["name"] for t in data["teams"]}
    assert_terminal_safe(DIFF_FORMATS["table"](diff),
                         {_short(n, 31) for n in team_names} | {_short(FIXED_POLICY.name), _short(NEWLY_BROKEN.name)})
    assert_markdown_inert(DIFF_FORMATS["markdown"](diff), team_names | {FIXED_POLICY.name, NEWLY_BROKEN.name})


def test_history_formats_keep_hostile_team_names_inert(run):
    history = run.history()
    hostile_teams = {p.name for p in PLANTED if p.collection == "teams"}
    data = json.loads(HISTORY_FORMATS["json"](history))
    assert hostile_teams <= {t["name"] for point in data["points"] for t in point["teams"]}
    header, *rows = _csv_cells_are_inert(HISTORY_FORMATS["csv"](history))
    assert hostile_teams <= {_unguarded(row[header.index("group_name")]) for row in rows}
    assert_terminal_safe(HISTORY_FORMATS["table"](history), {_short(n, 23) for n in hostile_teams})


# --- HTML in a real browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_html(run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile-html")
    write_reports(run.now, out, formats=("html",), previous=run.earlier)
    return out


# Elements and attributes a payload would add: nothing in our templates uses them.
INJECTED = ("img, iframe, object, embed, base, link, meta[http-equiv=refresh i], form, input:not(.filter), textarea, "
            "style:not(:first-of-type):not(:nth-of-type(2)), [style], [onerror], [onload], [onmouseover], "
            "a[href^='javascript:' i], a[href^='http:' i], a[href^='file:' i], a[href*='evil.example']")


def in_reports(assessment: Assessment) -> set[str]:
    """The planted names the reports show: teams, services, and objects whose findings reach a team
    (the reports are per team; an ownerless policy's findings appear in none)."""
    reaching = {f.entity_id for f in assessment.failing() if f.team_ids}
    return {p.name for p in PLANTED if p.collection in ("teams", "services") or p.object_id in reaching}


def test_html_reports_stay_inert_in_chromium(run, browser, hostile_html):  # noqa: F811 (browser is a fixture)
    chromium_required()
    pages = sorted(p.name for p in hostile_html.glob("*.html"))
    assert "index.html" in pages and len(pages) >= 9
    text = []
    for name in pages:
        visit = Visit(browser, hostile_html, name)
        try:
            visit.page.wait_for_timeout(100)  # time for an onload, onerror or injected script to fire
            assert visit.dialogs == [] and visit.requests == [] and visit.errors == [] and visit.console == [], name
            assert visit.page.locator(INJECTED).count() == 0, visit.page.locator(INJECTED).first.evaluate(
                "e => e.outerHTML")
            assert visit.page.evaluate("document.scripts.length") == 1, name
            assert visit.page.evaluate("document.querySelectorAll('*').length") > 100
            text.append(visit.page.title() + "\n" + visit.page.locator("body").inner_text())
        finally:
            visit.close()
    expected = in_reports(run.now)
    assert len(expected) >= len(PLANTED) - 2
    missing = expected - shown(expected, "\n".join(text))
    assert not missing, f"not shown as text: {sorted(missing)}"


# --- PDF ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_pdfs(run, tmp_path_factory) -> dict[PdfResult, str]:
    """The org PDF (a page per team) and Warehouse Ops' scorecard (the team with the most
    hostile objects), printed in parallel; each with the text of the HTML it was printed from."""
    plan = plan_reports(run.now, tmp_path_factory.mktemp("hostile-pdf"), formats=("pdf",), previous=run.earlier)
    jobs = [plan.pdf[0], next(job for job in plan.pdf if job.path.name == "team-warehouse-ops-PTEAM08.pdf")]
    return {result: PrintedText(job.html).text for result, job in zip(write_pdfs(jobs, workers=2), jobs)}


class PrintedText(html.parser.HTMLParser):
    """The text of an HTML page that a printer puts on paper (no head, styles, scripts or tooltips)."""

    HIDDEN = ("head", "style", "script", "title")

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.parts: list[str] = []
        self.feed(page)
        self.text = " ".join(self.parts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _link_targets(reader: PdfReader) -> list[str]:
    targets = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            targets += [str(action[key]) for key in ("/URI", "/F") if key in action]
    return targets


def test_pdfs_fetch_nothing_link_nowhere_hostile_and_show_the_text(hostile_pdfs):
    for result, printed in hostile_pdfs.items():
        assert result.refused == (), result.refused  # the fetcher was never asked for anything
        reader = PdfReader(result.path)
        targets = _link_targets(reader)
        assert targets and all(t.startswith("https://") and not PAYLOAD_URL.search(t) for t in targets), targets
        expected = {name for name in planted_names() if squeezed(name) in squeezed(printed)}
        assert len(expected) >= 5, result.path.name  # the hostile team names at least
        pdf_text = squeezed("".join(page.extract_text() for page in reader.pages))
        missing = {name for name in expected if squeezed(name) not in pdf_text}
        assert not missing, f"{result.path.name}: not in the PDF as text: {sorted(missing)}"
