"""HTML and PDF reports: the org report and one scorecard per team, from an Assessment.

``write_reports`` is the stage the ``report`` command calls. The pipeline inside:
``model``/``org``/``team`` build the view-model (``diff`` supplies the trend when a
previous assessment is given), ``html`` renders it with the templates in
``report_templates/``, ``pdf`` prints the same pages through WeasyPrint.

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
from collections.abc import Iterable, Iterator
from pathlib import Path

from audit.assess import Assessment
from audit.errors import UserError
from audit.history import History
from audit.reports.files import claim_folder, record_folder, scorecard_stems
from audit.reports.html import HtmlRenderer
from audit.reports.model import ReportIndex, meta
from audit.reports.org import build_org_report
from audit.reports.pdf import PdfJob, write_pdfs
from audit.reports.team import ScorecardBuilder
from audit.reports.trend_line import trend_points
from audit.safe_write import write_file
from audit.scoring import NO_TEAM
from audit.teams import team_names

FORMATS = ("html", "pdf")
ORG_HTML = "index.html"
ORG_PDF = "org.pdf"


@dataclasses.dataclass(frozen=True)
class ReportPlan:
    """Every report of a run, rendered to HTML but not yet written: pages to save and PDFs to print."""

    html: tuple[tuple[Path, str], ...]  # (path, page) for the screen
    pdf: tuple[PdfJob, ...]  # print HTML and the PDF's path; the org report first


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
    """Build the view-models and render every page (the fast part; printing is ``write_pdfs``).

    ``history``: earlier snapshots re-scored (``audit.history``), for the org report's trend line.
    """
    formats = _check_formats(formats)
    teams = assessment.scores.teams
    if team_id is not None and (team_id == NO_TEAM or team_id not in teams):
        known = ", ".join(sorted(t for t in teams if t != NO_TEAM)[:10]) or "none"
        raise UserError(f"no team {team_id!r} owns services in this snapshot (teams: {known})")
    out = Path(out_dir)
    index = ReportIndex(assessment, previous, anonymize_people=anonymize_people)
    report_meta = meta(assessment, previous)
    team_ids = [team_id] if team_id else sorted(t for t in teams if t != NO_TEAM)
    names = team_names(assessment)
    stems = scorecard_stems({tid: names.get(tid, "") for tid in teams if tid != NO_TEAM})

    def team_href(tid: str) -> str:
        return stems[tid] + ".html"

    cards = list(ScorecardBuilder(index, report_meta, team_href).build_all(team_ids))
    org = None if team_id else build_org_report(index, report_meta, team_href,
                                                trend_points(assessment, previous, history))
    renderer = HtmlRenderer()
    html: list[tuple[Path, str]] = []
    pdf: list[PdfJob] = []
    if "html" in formats:
        if org is not None:
            html.append((out / ORG_HTML, renderer.org(org)))
        # A lone scorecard links to the org report only when one is there (from an earlier full run).
        org_href = ORG_HTML if org is not None or (out / ORG_HTML).is_file() else None
        html.extend((out / team_href(card.team.id), renderer.team(card, org_href=org_href)) for card in cards)
    if "pdf" in formats:
        if org is not None:
            pdf.append(PdfJob(renderer.org(org, for_print=True, scorecards=cards), out / ORG_PDF))
        pdf.extend(PdfJob(renderer.team(card, for_print=True), out / (stems[card.team.id] + ".pdf"))
                   for card in cards)
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
) -> list[Path]:
    """Write the reports and return their paths: HTML (org first, then teams by id), then PDFs.

    ``workers``: processes printing PDFs (default: the usable cores).
    """
    with _assessment_frozen():
        plan = plan_reports(assessment, out_dir, formats=formats, previous=previous, team_id=team_id,
                            anonymize_people=anonymize_people, history=history)
        out = Path(out_dir)
        previous_files = claim_folder(out)
        written = [write_file(path, page, what="report") for path, page in plan.html]
    if plan.pdf:
        written.extend(result.path for result in write_pdfs(plan.pdf, workers))
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
