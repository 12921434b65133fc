"""HTML reports written as they are made (issue 18.2): each scorecard's page goes to disk as the next
scorecards are built (at most ``PAGES_IN_FLIGHT`` wait), the pages are the ones a whole rendering
gives, and a failure half-way leaves whole pages, recorded as ours, and no temporary file."""

from __future__ import annotations

import json
import os

import pytest

from audit.errors import UserError
from audit.reports import ORG_HTML, forked, plan_reports, write_reports
from audit.reports.files import MARKER, PAGES_IN_FLIGHT, PageWriter
from audit.reports.team import ScorecardBuilder
from audit.scoring import NO_TEAM


def _on_disk_at_each_build(monkeypatch, out):
    """Spy on every scorecard build: the HTML pages in ``out`` at that moment."""
    seen: list[set[str]] = []
    build = ScorecardBuilder.build

    def spying(self, team_id, group):
        seen.append({path.name for path in out.glob("*.html")})
        return build(self, team_id, group)

    monkeypatch.setattr(ScorecardBuilder, "build", spying)
    return seen


def test_pages_are_written_while_the_next_scorecards_are_built(acme, acme_previous, tmp_path, monkeypatch):
    out = tmp_path / "report"
    seen = _on_disk_at_each_build(monkeypatch, out)
    written = write_reports(acme, out, formats=["html"], previous=acme_previous)
    assert len(seen) == len(written) - 1 > PAGES_IN_FLIGHT + 2  # one build per scorecard, none twice
    assert written[0].name == ORG_HTML  # the org report first
    # Before each build, every page rendered so far (the org report's and one per scorecard built) is on
    # disk but for the last few, still being written.
    for built, names in enumerate(seen):
        assert len(names) >= 1 + built - PAGES_IN_FLIGHT, (built, names)


def test_streamed_pages_are_the_pages_rendered_whole(acme, acme_previous, tmp_path):
    written = write_reports(acme, tmp_path / "streamed", formats=["html"], previous=acme_previous)
    whole = plan_reports(acme, tmp_path / "whole", formats=["html"], previous=acme_previous)
    assert [path.name for path in written] == [path.name for path, _ in whole.html]
    for path, page in whole.html:
        assert (tmp_path / "streamed" / path.name).read_text(encoding="utf-8") == page, path.name


def test_a_failure_half_way_leaves_whole_pages_recorded_and_no_temporary_file(acme, tmp_path, monkeypatch):
    out = tmp_path / "report"
    build = ScorecardBuilder.build
    built: list[str] = []

    def failing_third(self, team_id, group):
        if len(built) == 2:
            raise RuntimeError("disk on fire")
        built.append(team_id)
        return build(self, team_id, group)

    monkeypatch.setattr(ScorecardBuilder, "build", failing_third)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_reports(acme, out, formats=["html"])
    names = {path.name for path in out.iterdir()}
    assert not [name for name in names if name.endswith(".partial")]
    recorded = set(json.loads((out / MARKER).read_text())["files"])
    assert recorded == names - {MARKER} and len(recorded) == 3  # the org report and two scorecards
    monkeypatch.setattr(ScorecardBuilder, "build", build)
    rerun = write_reports(acme, out, formats=["html"])  # the folder is ours: a second run may write into it
    assert {path.name for path in out.glob("*.html")} == {path.name for path in rerun}


def test_a_page_that_cannot_be_written_fails_the_run_and_the_others_are_written(tmp_path):
    (tmp_path / "b.html").mkdir()  # a folder where a page should go: it cannot replace it
    (tmp_path / "b.html" / "keep").write_text("x")
    names = ["a.html", "b.html", "c.html", "d.html", "e.html"]
    with PageWriter() as pages:
        with pytest.raises(UserError, match="b.html: cannot write the report"):
            for name in names:
                pages.write(tmp_path / name, f"<p>{name}</p>")  # raises once b's write is collected
        written = pages.finish(strict=False)
    # b failed when d was given (at most PAGES_IN_FLIGHT wait); what was given by then is written, in order.
    assert PAGES_IN_FLIGHT == 2 and [path.name for path in written] == ["a.html", "c.html", "d.html"]
    assert all((tmp_path / name).read_text() == f"<p>{name}</p>" for name in ["a.html", "c.html", "d.html"])
    assert not (tmp_path / "e.html").exists()
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.partial"))


def test_two_processes_write_the_pages_one_would(acme, acme_previous, tmp_path, monkeypatch):
    monkeypatch.setattr(forked, "MIN_TEAMS", 2)
    children = []
    fork = os.fork

    def counted_fork():
        pid = fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted_fork)
    written = write_reports(acme, tmp_path / "two", formats=["html"], previous=acme_previous, html_workers=2)
    assert len(children) == 1  # the second half of the teams was made by a forked child
    one = write_reports(acme, tmp_path / "one", formats=["html"], previous=acme_previous, html_workers=1)
    assert [path.name for path in written] == [path.name for path in one]  # org first, then teams by id
    for path in one:
        assert (tmp_path / "two" / path.name).read_bytes() == path.read_bytes(), path.name
    recorded = json.loads((tmp_path / "two" / MARKER).read_text())["files"]
    assert recorded == sorted(path.name for path in one)


def test_a_failure_in_the_forked_half_fails_the_run_and_its_pages_are_recorded(acme, tmp_path, monkeypatch):
    monkeypatch.setattr(forked, "MIN_TEAMS", 2)
    build = ScorecardBuilder.build
    teams = [team_id for team_id in acme.scores.teams if team_id != NO_TEAM]
    last = max(teams)  # the last team by id: in the child's half

    def failing_last(self, team_id, group):
        if team_id == last:
            raise UserError("no room for the last team")
        return build(self, team_id, group)

    monkeypatch.setattr(ScorecardBuilder, "build", failing_last)
    out = tmp_path / "report"
    with pytest.raises(UserError, match="no room for the last team"):
        write_reports(acme, out, formats=["html"], html_workers=2)
    pages = {path.name for path in out.glob("*.html")}
    recorded = set(json.loads((out / MARKER).read_text())["files"])
    assert recorded == pages and len(pages) == len(teams)  # the org report's, and every team's but the last
    assert not list(out.glob(".*.partial"))
