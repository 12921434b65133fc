"""The HTML files: written where promised, self-contained, escaped, and honest about bad input."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import re
from html import unescape

import pytest

from audit.errors import UserError
from audit.reports import write_reports
from audit.reports.html import safe_href
from tests.reports.conftest import (
    HOSTILE_DESCRIPTION,
    HOSTILE_SERVICE,
    HOSTILE_TEAM,
    HOSTILE_USER,
)

# Each scorecard is named from its team's name and id.
SCORECARDS = {"PTEAM01": "team-payments-PTEAM01.html", "PTEAM02": "team-checkout-PTEAM02.html",
              "PTEAM03": "team-search-PTEAM03.html", "PTEAM04": "team-platform-sre-PTEAM04.html",
              "PTEAM05": "team-data-PTEAM05.html", "PTEAM06": "team-mobile-PTEAM06.html",
              "PTEAM07": "team-identity-PTEAM07.html", "PTEAM08": "team-warehouse-ops-PTEAM08.html",
              "PTEAM09": "team-returns-PTEAM09.html"}
TEAMS = list(SCORECARDS)


def pages(directory):
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(directory.glob("*.html"))}


def test_one_org_report_and_one_scorecard_per_team(acme_html):
    assert set(pages(acme_html)) == {"index.html", *SCORECARDS.values()}


def test_org_report_links_every_scorecard(acme_html):
    index = pages(acme_html)["index.html"]
    linked = set(re.findall(r'href="(team-[a-z0-9-]+-[A-Z0-9]+\.html)"', index))
    assert linked == set(SCORECARDS.values())


def test_org_report_shows_what_no_scorecard_does(acme_html):
    index = pages(acme_html)["index.html"]
    section = index[index.index('id="teamless"'):index.index('id="coverage"')]
    assert "Search shadow rotation" in section and "Legacy reporting (Robert)" in section
    assert "Search shadow rotation" not in "".join(html for name, html in pages(acme_html).items() if name != "index.html")


def test_pages_fetch_nothing(acme_html):
    for name, html in pages(acme_html).items():
        assert not re.search(r"<(link|img|iframe|object|embed|video|audio|source)\b", html, re.IGNORECASE), name
        assert not re.search(r"\b(src|srcset|poster|data)=", html), name
        assert "@import" not in html and "url(" not in html, name
        assert not re.search(r"@font-face", html), name
        # Every link is a plain https link (PagerDuty or a guide) or another report file.
        for href in re.findall(r'href="([^"]*)"', html):
            assert href.startswith("https://") or re.fullmatch(r"(index|team-[A-Za-z0-9_-]+)\.html", href), href


def test_csp_admits_exactly_the_inline_script_and_styles(acme_html):
    html = pages(acme_html)["index.html"]
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    styles = re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL)
    assert len(scripts) == 1 and len(styles) == 2
    for source in scripts + styles:
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_trend_appears_with_a_previous_assessment(acme_html):
    index = pages(acme_html)["index.html"]
    assert "Trend since" in index and "Most improved" in index and "Worst drops" in index
    checkout = pages(acme_html)["team-checkout-PTEAM02.html"]
    assert "New findings" in checkout and "Gift Cards" in checkout


def test_hostile_strings_are_escaped_text(hostile_html):
    html = pages(hostile_html)
    # A hostile name still makes a plain file name: its slug keeps only letters, digits and hyphens.
    index, payments = html["index.html"], html["team-img-src-file-etc-passwd-PTEAM01.html"]

    for page in (index, payments):
        assert len(re.findall(r"<script\b", page)) == 1  # ours, at the end
        assert "<img" not in page and "<iframe" not in page and "<svg onload" not in page
        assert "javascript:" not in page.replace("&#34;javascript:", "")  # only as escaped text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in payments
    assert "&lt;img src=file:///etc/passwd&gt;" in index
    assert "&lt;style&gt;body{background:url(http://evil.invalid/x.png)}" in payments
    assert "&#34;&gt;&lt;svg onload=alert(2)&gt;" in payments
    assert HOSTILE_SERVICE not in payments and HOSTILE_TEAM not in index
    assert HOSTILE_USER not in payments and HOSTILE_DESCRIPTION not in payments


@pytest.mark.parametrize("url, expected", [
    ("https://acme.pagerduty.com/service-directory/PSVC001", True),
    ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False),
    ("http://acme.pagerduty.com/x", False),
    ("file:///etc/passwd", False),
    ("https://x.example/\" onmouseover=\"alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ("https://x.example/a\nb", False),
    ("", False),
    (None, False),
])
def test_only_plain_https_links_are_emitted(url, expected):
    assert safe_href(url) == (url if expected else None)


def test_an_incomplete_snapshot_is_said_on_the_first_page_of_every_report(acme, tmp_path):
    manifest = copy.deepcopy(acme.snapshot.manifest)
    manifest["collections"]["users"].update(status="incomplete", missing=12, reason="they lie past the cap")
    incomplete = dataclasses.replace(acme, snapshot=dataclasses.replace(acme.snapshot, manifest=manifest))
    written = write_reports(incomplete, tmp_path, formats=("html",))
    assert len(written) > 1
    for page in written:
        main = page.read_text().split("<main>", 1)[1]
        assert main.lstrip().startswith('<p class="incomplete-note"'), page.name
        assert "The users collection is incomplete: 12 of" in main and "they lie past the cap" in main
    whole = write_reports(acme, tmp_path / "whole", formats=("html",))
    assert not any("<p class=\"incomplete-note\"" in page.read_text() for page in whole)


def test_single_team_writes_only_that_team(acme, tmp_path):
    written = write_reports(acme, tmp_path, formats=("html",), team_id="PTEAM09")
    assert [p.name for p in written] == ["team-returns-PTEAM09.html"]
    assert "Returns" in written[0].read_text()


@pytest.mark.parametrize("kwargs, message", [
    ({"formats": ("html", "docx")}, "unknown report format docx"),
    ({"formats": ()}, "unknown report format (none)"),
    ({"team_id": "PNOPE99"}, "no team 'PNOPE99' owns services"),
    ({"team_id": ""}, "no team '' owns services"),
])
def test_bad_options_are_one_line_user_errors(acme, tmp_path, kwargs, message):
    with pytest.raises(UserError, match=re.escape(message)) as error:
        write_reports(acme, tmp_path, **kwargs)
    assert "\n" not in str(error.value)
    assert not list(tmp_path.iterdir())


def test_unwritable_directory_is_a_user_error(acme, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(UserError, match="cannot create the report directory"):
        write_reports(acme, blocker / "reports", formats=("html",), team_id="PTEAM09")


def test_templates_escape_everything_and_refuse_undefined_names():
    import jinja2

    from audit.reports.html import HtmlRenderer

    env = HtmlRenderer().env
    assert env.from_string("{{ name }}").render(name="<b onclick=x>") == "&lt;b onclick=x&gt;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ report.missing }}").render(report=object())


def test_every_word_about_the_score_says_it_follows_the_levels(acme_html):
    # The score was once the weighted pass rate; a caption left from then would tell the reader the
    # opposite of the headline (issue 11).
    for name, html in pages(acme_html).items():
        text = unescape(re.sub(r"<[^>]+>", " ", html))
        assert "weighted share of passing checks" not in text, name
        assert "critical counts most" not in text, name
    index = unescape(pages(acme_html)["index.html"])
    teams_ranked = index[index.index("Teams ranked"):]
    assert "Score: follows the levels" in teams_ranked[:2000]
