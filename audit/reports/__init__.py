"""HTML and PDF reports: the org report and one scorecard per team, from an Assessment.

``write_reports`` is the stage the ``report`` command calls. The pipeline inside:
``model``/``org``/``team`` build the view-model (``diff`` supplies the trend when a
previous assessment is given), ``html`` renders it with the templates in
``report_templates/``, ``pdf`` prints the same pages through WeasyPrint. ``write_reports``
writes each HTML page as soon as it is rendered, one scorecard at a time; ``plan_reports``
renders every page into memory (for the PDFs and the tests).

Files written to ``out_dir``: ``index.html`` and ``org.pdf`` (the org report; the PDF
opens with the executive summary and gives each team a page), and per team
``team-<name>-<ID>.html`` and ``.pdf`` (``files.scorecard_stems``). With ``team_id`` only
that team's files, whose link back to the org report is left out unless an org report sits
beside them. ``out_dir`` must be new, empty or a report folder of ours (``files``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audit.assess import Assessment
from audit.errors import UserError
from audit.history import History
from audit.reports.files import PageWriter, claim_folder, record_folder, scorecard_stems
from audit.reports.forked import split_between_processes, usable_cores
from audit.reports.html import HtmlRenderer
from audit.reports.model import ReportIndex, meta
from audit.reports.org import OrgReport, build_org_report
from audit.reports.team import ScorecardBuilder, TeamScorecard
from audit.reports.trend_line import trend_points
from audit.safe_write import write_file
from audit.scoring import NO_TEAM
from audit.teams import team_names

if TYPE_CHECKING:
    from audit.reports.pdf import PdfJob

FORMATS = ("html", "pdf")
ORG_HTML = "index.html"
ORG_PDF = "org.pdf"


@dataclasses.dataclass(frozen=True)
class ReportPlan:
    """Every report of a run, rendered to HTML but not yet written: pages to save and PDFs to print."""

    html: tuple[tuple[Path, str], ...]  # (path, page) for the screen
    pdf: tuple[PdfJob, ...]  # print HTML and the PDF's path; the org report first


class _Run:
    """One run's view-models, made on demand from one index: the org report, and the scorecards one by one."""

    def __init__(self, assessment: Assessment, previous: Assessment | None, team_id: str | None,
                 anonymize_people: bool, history: History | None):
        teams = assessment.scores.teams
        if team_id is not None and (team_id == NO_TEAM or team_id not in teams):
            known = ", ".join(sorted(t for t in teams if t != NO_TEAM)[:10]) or "none"
            raise UserError(f"no team {team_id!r} owns services in this snapshot (teams: {known})")
        self.assessment, self.previous, self.team_id, self.history = assessment, previous, team_id, history
        self.index = ReportIndex(assessment, previous, anonymize_people=anonymize_people)
        self.meta = meta(assessment, previous)
        self.team_ids = [team_id] if team_id else sorted(t for t in teams if t != NO_TEAM)
        names = team_names(assessment)
        self.stems = scorecard_stems({tid: names.get(tid, "") for tid in teams if tid != NO_TEAM})
        self.renderer = HtmlRenderer()

    def team_href(self, team_id: str) -> str:
        return self.stems[team_id] + ".html"

    def cards(self, team_ids: Sequence[str]) -> Iterator[TeamScorecard]:
        return ScorecardBuilder(self.index, self.meta, self.team_href).build_all(team_ids)

    def org(self) -> OrgReport | None:
        """The org report (None for a one-team run)."""
        if self.team_id:
            return None
        return build_org_report(self.index, self.meta, self.team_href,
                                trend_points(self.assessment, self.previous, self.history))

    def org_href(self, out: Path, org: OrgReport | None) -> str | None:
        # A lone scorecard links to the org report only when one is there (from an earlier full run).
        return ORG_HTML if org is not None or (out / ORG_HTML).is_file() else None

    def pdf_jobs(self, out: Path, org: OrgReport | None, cards: Sequence[TeamScorecard]) -> list[PdfJob]:
        from audit.reports.pdf import PdfJob  # WeasyPrint only when PDFs are made: its import is 0.4 s of an HTML run

        jobs = [PdfJob(self.renderer.org(org, for_print=True, scorecards=cards), out / ORG_PDF)] if org else []
        jobs.extend(PdfJob(self.renderer.team(card, for_print=True), out / (self.stems[card.team.id] + ".pdf"))
                    for card in cards)
        return jobs


def plan_reports(
    assessment: Assessment,
    out_dir: str | os.PathLike[str],
    *,
    formats: Iterable[str] = FORMATS,
    previous: Assessment | None = None,
    team_id: str | None = None,
    anonymize_people: bool = False,
    history: History | None = None,
) -> ReportPlan:
    """Build the view-models and render every page in memory (``write_reports`` streams them to files instead).

    ``history``: earlier snapshots re-scored (``audit.history``), for the org report's trend line.
    """
    formats = _check_formats(formats)
    run = _Run(assessment, previous, team_id, anonymize_people, history)
    out = Path(out_dir)
    cards = list(run.cards(run.team_ids))
    org = run.org()
    html: list[tuple[Path, str]] = []
    if "html" in formats:
        if org is not None:
            html.append((out / ORG_HTML, run.renderer.org(org)))
        org_href = run.org_href(out, org)
        html.extend((out / run.team_href(card.team.id), run.renderer.team(card, org_href=org_href))
                    for card in cards)
    pdf = run.pdf_jobs(out, org, cards) if "pdf" in formats else []
    return ReportPlan(tuple(html), tuple(pdf))


def write_reports(
    assessment: Assessment,
    out_dir: str | os.PathLike[str],
    *,
    formats: Iterable[str] = FORMATS,
    previous: Assessment | None = None,
    team_id: str | None = None,
    workers: int | None = None,
    anonymize_people: bool = False,
    history: History | None = None,
    html_workers: int | None = None,
) -> list[Path]:
    """Write the reports and return their paths: HTML (org first, then teams by id), then PDFs.

    Each scorecard is made just before its page, and each page is written as soon as it is rendered
    (``PageWriter``): the pages of 600 teams (150 MB) and their view-models are never held at once.
    PDFs are printed from all the scorecards together (the org PDF ends with a page per team).
    ``workers``: processes printing PDFs; ``html_workers``: processes making the HTML scorecards (``forked``;
    one when PDFs are made too, as those need every scorecard here). Both default to the usable cores.
    """
    formats = _check_formats(formats)
    out = Path(out_dir)
    with _assessment_frozen():
        run = _Run(assessment, previous, team_id, anonymize_people, history)
        org = run.org()
        previous_files = claim_folder(out)
        written: list[Path] = []
        kept: list[TeamScorecard] = []  # for the PDFs
        try:
            if "html" in formats:
                if org is not None:
                    written.append(write_file(out / ORG_HTML, run.renderer.org(org), what="report"))
                org_href = run.org_href(out, org)

                def write_scorecards(team_ids: Sequence[str], done: list[Path]) -> None:
                    with PageWriter() as pages:
                        try:
                            for card in run.cards(team_ids):
                                pages.write(out / run.team_href(card.team.id),
                                            run.renderer.team(card, org_href=org_href))
                                if "pdf" in formats:
                                    kept.append(card)
                            pages.finish()  # a failed write is raised here
                        finally:
                            done.extend(pages.finish(strict=False))

                # The PDFs need every scorecard in this process: then one process makes them all.
                split_between_processes(write_scorecards, run.team_ids,
                                        1 if "pdf" in formats else html_workers or usable_cores(), written)
            jobs = run.pdf_jobs(out, org, kept or list(run.cards(run.team_ids))) if "pdf" in formats else []
        except BaseException:
            with contextlib.suppress(Exception):  # the pages written so far are ours all the same
                record_folder(out, written, previous_files, whole=False)
            raise
    if jobs:
        from audit.reports.pdf import write_pdfs

        written.extend(result.path for result in write_pdfs(jobs, workers))
    record_folder(out, written, previous_files, whole=team_id is None)
    return written


@contextlib.contextmanager
def _assessment_frozen() -> Iterator[None]:
    """The objects alive now (the assessments: millions on a large account) left out of garbage collection.

    Building and rendering 600 scorecards allocates enough to trigger several full collections, each of
    which walked every finding, fact and table of the assessments only to find them alive (a fifth of
    the report's CPU time at 3,600 services). They stay alive while the reports are written anyway;
    afterwards they are handed back to the collector.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise UserError(f"unknown report format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}")
    return chosen


__all__ = ["FORMATS", "ReportPlan", "plan_reports", "write_reports"]
