"""Checks that a report reads whole: in print (PDF read back with positions) and in a browser.

Shared by the report tests (the example account, a generated slice) and by
``tests/benchmarks/check_reports.py`` (the full 600-team account, ``make check-reports``):

- ``chars_outside_page``: every character of a PDF, with its box (pdfplumber), that is not inside
  its page: a column cut off at the edge.
- ``headers_missing_from_pdf``: the column headers of an HTML report that its PDF does not show.
  A header may wrap in print ("PagerDuty / standards"), so its words are looked for as a header
  cell lays them out: each next word right after the last one on its line, or on a line just
  below, under it.
- ``overflowing_tables`` and ``axe_violations``: run in a Playwright page.
"""

from __future__ import annotations

import dataclasses
import html.parser
import json
import re
from collections.abc import Iterable
from pathlib import Path

import pdfplumber

# Read in the page: a table wider than the box that holds it (its scrolling wrapper, or the viewport).
OVERFLOWING_TABLES_JS = """() => Array.from(document.querySelectorAll('table')).flatMap(t => {
  if (!t.getClientRects().length) return [];
  const holder = t.closest('.table-wrap') || t.parentElement;
  const box = t.getBoundingClientRect(), room = holder.getBoundingClientRect();
  const wider = t.scrollWidth - holder.clientWidth, past = box.right - Math.min(room.right, innerWidth);
  if (wider <= 1 && past <= 1) return [];
  const where = t.closest('[id]');
  const header = (t.tHead ? t.tHead.innerText : '').replace(/\\s+/g, ' ').slice(0, 80);
  return [{section: where ? where.id : '', header: header,
           table: Math.round(t.scrollWidth), room: Math.round(holder.clientWidth)}];
})"""


@dataclasses.dataclass(frozen=True)
class OutsideChar:
    page: int
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclasses.dataclass(frozen=True)
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclasses.dataclass(frozen=True)
class PdfText:
    """A PDF read back once: the characters outside their page, and each page's words with their boxes."""

    outside: list[OutsideChar]
    pages: list[list[_Word]]


def read_pdf(path: Path, *, tolerance: float = 0.5) -> PdfText:
    """Every visible character whose box is not within its page (points, 0.5 pt slack), and the words."""
    outside, pages = [], []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            width, height = float(page.width), float(page.height)
            for char in page.chars:
                if not char["text"].strip():
                    continue
                if (char["x0"] < -tolerance or char["x1"] > width + tolerance
                        or char["top"] < -tolerance or char["bottom"] > height + tolerance):
                    outside.append(OutsideChar(number, char["text"], round(char["x0"], 1), round(char["x1"], 1),
                                               round(char["top"], 1), round(char["bottom"], 1)))
            pages.append([_Word(w["text"].casefold(), w["x0"], w["x1"], w["top"], w["bottom"])
                          for w in page.extract_words()])
    return PdfText(outside, pages)


def chars_outside_page(path: Path) -> list[OutsideChar]:
    return read_pdf(path).outside


class _TextOf(html.parser.HTMLParser):
    """The text of every element named ``tag`` (``th``, ``h2``), whitespace collapsed."""

    def __init__(self, tag: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tag = tag
        self.texts: list[str] = []
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.tag:
            self._depth += 1
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == self.tag and self._depth:
            self._depth -= 1
            text = " ".join("".join(self._text).split())
            if text:
                self.texts.append(text)

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._text.append(data)


def _texts_of(tag: str, html_text: str) -> list[str]:
    parser = _TextOf(tag)
    parser.feed(html_text)
    return list(dict.fromkeys(parser.texts))


def table_headers(html_text: str) -> list[str]:
    """The text of every ``<th>`` of a report, once each, in order."""
    return _texts_of("th", html_text)


def section_headings(html_text: str) -> list[str]:
    """The text of every ``<h2>`` of a report, once each, in order."""
    return _texts_of("h2", html_text)


PAGE_FOOT = 18 * 72 / 25.4  # print.css's bottom margin, where the running footer sits
LEAD_SIZE = 9.5  # points: a section's lead text is 10 pt; its tables, cards and charts print smaller


def stranded_headings(path: Path, headings: Iterable[str]) -> list[str]:
    """Section headings a page ends with, followed on that page by nothing but their lead text: what the
    section holds (a table, cards, a chart: smaller type) starts on the next page, and the reader
    meets a heading over an empty stretch."""
    wanted = set(headings)
    stranded = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            foot = float(page.height) - PAGE_FOOT
            words = [w for w in page.extract_words(extra_attrs=["size"]) if w["bottom"] < foot]
            lines: dict[int, list[str]] = {}
            for word in words:
                lines.setdefault(round(word["top"]), []).append(word["text"])
            found = [top for top, texts in sorted(lines.items()) if " ".join(texts) in wanted]
            if not found:
                continue
            last = found[-1]
            below = [w for w in words if round(w["top"]) > last]
            if all(w["size"] > LEAD_SIZE for w in below):  # only lead text, or nothing, under it
                stranded.append(" ".join(lines[last]))
    return stranded


def _follows(chain: list[_Word], word: _Word) -> bool:
    """Whether ``word`` can be the next word of the header cell ``chain`` has begun."""
    previous = chain[-1]
    line = previous.bottom - previous.top
    same_line = abs(word.top - previous.top) < line * 0.5 and 0 <= word.x0 - previous.x1 < line * 1.2
    left = min(w.x0 for w in chain)  # a wrapped left-aligned header starts its next line under its first word
    below = 0 < word.top - previous.top < line * 2.2 and word.x0 < previous.x1 + line * 3 \
        and word.x1 > left - line * 3
    return same_line or below


def _laid_out(tokens: list[str], words: list[_Word]) -> bool:
    by_text: dict[str, list[_Word]] = {}
    for word in words:
        by_text.setdefault(word.text, []).append(word)
    chains = [[w] for w in by_text.get(tokens[0], [])]
    for token in tokens[1:]:
        chains = [chain + [w] for chain in chains for w in by_text.get(token, []) if _follows(chain, w)]
        if not chains:
            return False
    return bool(chains)


def headers_missing_from_pdf(headers: Iterable[str], pdf: PdfText | Path) -> list[str]:
    """The headers no page of ``pdf`` lays out (case-insensitive; a header may wrap over lines)."""
    pages = (pdf if isinstance(pdf, PdfText) else read_pdf(pdf)).pages
    missing = []
    for header in headers:
        tokens = re.findall(r"\S+", header.casefold())
        if not any(_laid_out(tokens, words) for words in pages):
            missing.append(header)
    return missing


def overflowing_tables(page) -> list[dict]:
    """The tables of a Playwright page wider than their container or the viewport."""
    return page.evaluate(OVERFLOWING_TABLES_JS)


def axe_violations(page, axe_script: str) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations in a Playwright page, one line per failing element."""
    page.evaluate(axe_script)
    options = json.dumps({"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                          "resultTypes": ["violations"]})
    result = page.evaluate(f"axe.run(document, {options})")
    return [f"{v['id']}: {' '.join(node['target'][:1])} ({node.get('failureSummary', '').splitlines()[-1].strip()})"
            for v in result["violations"] for node in v["nodes"]]


def axe_script() -> str:
    """axe-core as the axe-playwright-python package ships it."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
