"""Render the report view-models to self-contained HTML with Jinja2 (templates in ``report_templates/``).

Safety lives here: the environment autoescapes everything (``autoescape=True``), replaces
control characters and bidi overrides in every string it prints (``finalize``: HTML cannot
carry most of them, and in a PDF they corrupt the text layer that search, copy and screen
readers use) and fails on any undefined name (``StrictUndefined``); links are only emitted for
``https://`` URLs (a PagerDuty ``html_url`` of ``javascript:...`` becomes plain text);
each page carries a Content-Security-Policy that allows only its own inline
stylesheets and script by hash, so nothing injected could run or fetch even if
escaping were bypassed. Styles and the table script are inlined from the package:
a page needs nothing but itself.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import importlib.resources
import re
from collections.abc import Sequence
from typing import Any

import jinja2
from markupsafe import Markup, escape

from audit.reports import charts, svg
from audit.reports.org import OrgReport
from audit.reports.team import TeamScorecard
from audit.safe_text import MAX_RENDERED, printable
from audit.scoring import LEVEL_NAMES, SCORE_EXPLAINED
from audit.wording import plural

TEMPLATE_PACKAGE = "audit.report_templates"
SAFE_URL = re.compile(r"^https://[^\s\"'<>\\`]+$")


def safe_href(url: str | None) -> str | None:
    """``url`` if it is a plain https URL, else None (the name is then shown without a link)."""
    if url and SAFE_URL.match(url) and url.isprintable():
        return url
    return None


def _inert(value: object) -> object:
    """Every printed string without control characters; our own markup (``Markup``) as it is."""
    if type(value) is str:  # called for every value a page prints: the common case answered first
        return value if len(value) <= MAX_RENDERED and value.isprintable() else printable(value, keep_whitespace=True)
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value, keep_whitespace=True)
    return value


def _attr(value: object) -> str:
    """A value printed as the templates print one: made inert, then escaped (a number needs neither)."""
    kind = type(value)
    return str(value) if kind is float or kind is int else escape(_inert(value))


# Small pieces the templates print once or more a row (macros.html names them link, level, sev and
# rule_head): drawn here, every value escaped as the templates' ``{{ }}`` would, because a template
# macro's call cost more than the piece.


def link(item: Any, css: str = "") -> Markup:
    """A named PagerDuty object: a link to it when its URL is a plain https one, else its name alone."""
    href = safe_href(item.url)
    if href:
        return Markup(f'<a class="pd name {_attr(css)}" href="{_attr(href)}" rel="noopener noreferrer" '
                      f'target="_blank">{_attr(item.name)}</a>')
    return Markup(f'<span class="name {_attr(css)}">{_attr(item.name)}</span>')


def level_badge(value: int) -> Markup:
    """A maturity level as a badge (``L2``), its name in the tooltip."""
    return Markup(f'<span class="badge lv{_attr(value)}" title="{_attr(LEVEL_NAMES[value])}">L{_attr(value)}</span>')


def severity_tag(value: str) -> Markup:
    return Markup(f'<span class="sev {_attr(value)}">{_attr(value)}</span>')


def rule_heading(rule: Any) -> Markup:
    """A rule's id and title."""
    return Markup(f'<span class="rule-id">{_attr(rule.id)}</span> {_attr(rule.title)}')


def draw_chart(chart: svg.Chart, css: str = "chart") -> Markup:
    """A ``Chart`` as inline SVG, every value made inert and escaped as the templates' ``{{ }}`` would.

    Drawn here rather than by a template macro: a scorecard's coverage timelines hold hundreds of
    shapes, and a macro printing each of their attributes took a third of the time to render a page.
    """
    a = _attr
    parts = [f'<svg class="{a(css)}" viewBox="0 0 {a(chart.width)} {a(chart.height)}" width="{a(chart.width)}" '
             f'height="{a(chart.height)}" role="img" aria-label="{a(chart.title)}" xmlns="http://www.w3.org/2000/svg" '
             f'preserveAspectRatio="xMinYMin meet">\n<title>{a(chart.title)}</title>\n']
    parts.extend(f'<rect x="{a(r.x)}" y="{a(r.y)}" width="{a(r.width)}" height="{a(r.height)}" class="{a(r.css)}" '
                 f'fill="{a(r.fill)}">{f"<title>{a(r.title)}</title>" if r.title else ""}</rect>\n'
                 for r in chart.rects)
    parts.append(_drawn_lines(chart.lines))
    parts.append(_drawn_labels(chart.labels))
    parts.append("</svg>")
    return Markup("".join(parts))


@functools.lru_cache(maxsize=64)
def _drawn_lines(lines: tuple[svg.Line, ...]) -> str:
    # Remembered: every coverage timeline of a run has the same day ticks (``svg.timeline``).
    a = _attr
    return "".join(f'<line x1="{a(line.x1)}" y1="{a(line.y1)}" x2="{a(line.x2)}" y2="{a(line.y2)}" '
                   f'class="{a(line.css)}" stroke="{a(line.stroke)}" stroke-width="1"/>\n' for line in lines)


@functools.lru_cache(maxsize=64)
def _drawn_labels(labels: tuple[svg.Label, ...]) -> str:
    a = _attr
    return "".join(f'<text x="{a(t.x)}" y="{a(t.y)}" text-anchor="{a(t.anchor)}" dominant-baseline="middle" '
                   f'font-size="{a(t.size)}" font-weight="{a(t.weight)}" fill="{a(t.color)}" class="{a(t.css)}">'
                   f'{a(t.text)}</text>\n' for t in labels)


def _pct(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}%" if digits == 0 else f"{value:.{digits}f}%"  # the common case without a nested format


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _signed(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} h" if value >= 10 else f"{value:.1f} h"


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


@dataclasses.dataclass(frozen=True)
class Assets:
    """The bundled stylesheets and script, and the CSP that admits exactly them."""

    screen_css: str
    print_css: str
    script: str

    @functools.cached_property  # hashed once a run, not once a page
    def csp(self) -> str:
        styles = " ".join(_csp_hash(s) for s in (self.screen_css, self.print_css))
        return (f"default-src 'none'; style-src {styles}; script-src {_csp_hash(self.script)}; "
                "img-src 'none'; font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'")


class HtmlRenderer:
    """One Jinja environment and the bundled assets, shared by every page of a run."""

    def __init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader(TEMPLATE_PACKAGE, "."),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            finalize=_inert,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # compiled once per run: checking the files' times before each of 600 pages cost 5%
        )
        self.env.filters.update(pct=_pct, score=_score, signed=_signed, hours=_hours, safe_href=safe_href,
                                plural=plural)
        self.env.globals.update(
            level_names=LEVEL_NAMES,
            score_explained=SCORE_EXPLAINED,
            level_columns=charts.levels,
            level_strip=svg.level_strip,
            level_comparison=charts.level_change,
            coverage_by_team=charts.coverage,
            load_histogram=charts.load,
            movers=charts.movers,
            timeline=charts.coverage_band,
            trend_line=svg.trend_line,
            draw_chart=draw_chart,
            object_link=link,
            level_badge=level_badge,
            severity_tag=severity_tag,
            rule_heading=rule_heading,
        )

    @functools.cached_property
    def assets(self) -> Assets:
        files = importlib.resources.files(TEMPLATE_PACKAGE)
        return Assets(
            screen_css=(files / "report.css").read_text(encoding="utf-8"),
            print_css=(files / "print.css").read_text(encoding="utf-8"),
            script=(files / "tables.js").read_text(encoding="utf-8"),
        )

    def _context(self, for_print: bool) -> dict[str, object]:
        assets = self.assets
        return {
            "for_print": for_print,
            "screen_css": Markup(assets.screen_css),
            "print_css": Markup(assets.print_css),
            "script": Markup(assets.script),
            "csp": assets.csp,
        }

    def org(self, report: OrgReport, *, for_print: bool = False, scorecards: Sequence[TeamScorecard] = ()) -> str:
        """The org report; for print it opens with the executive summary and ends with a page per team."""
        return self.env.get_template("org.html").render(
            report=report, meta=report.meta, scorecards=scorecards, **self._context(for_print)
        )

    def team(self, card: TeamScorecard, *, for_print: bool = False, org_href: str | None = "index.html") -> str:
        return self.env.get_template("team.html").render(
            card=card, meta=card.meta, org_href=org_href, **self._context(for_print)
        )
