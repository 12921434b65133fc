"""The terminal view of an assessment: org, teams ranked, services, failing findings.

Strings from PagerDuty are shown with control characters replaced, so a service
name cannot move the cursor or recolour the terminal (ANSI escapes are control
characters too), nor reorder what the reader sees with bidi overrides.
``printable`` is the one place that decides what is a control character: the CI
outputs (SARIF, JUnit, Markdown), ``diff``, ``history`` and the HTML and PDF
reports all use it.
"""

from __future__ import annotations

import re

from audit.assess import Assessment
from audit.findings import Status
from audit.outputs.summary import team_names
from audit.scoring import NO_TEAM, SCORE_EXPLAINED, GroupScore

# Bidi embeddings, overrides and isolates reorder the text after them on screen, so a name can
# show as something else ("Trojan Source", CVE-2021-42574): they are replaced like controls.
_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
# The same, but keeping tab, line feed and carriage return (plain whitespace in HTML).
_CONTROL_BUT_WHITESPACE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
# Unicode's line and paragraph separators break a line in some viewers and not others (WeasyPrint
# writes a glyph for them that reads back as a stray letter): a name shows them as a space.
_SEPARATORS = re.compile("[\u2028\u2029]")


def printable(text: object, width: int | None = None, *, keep_whitespace: bool = False) -> str:
    """``text`` with every control character (see above) replaced by U+FFFD, cut to ``width``.

    ``keep_whitespace`` keeps tabs and line breaks, for formats where they are only whitespace.
    """
    control = _CONTROL_BUT_WHITESPACE if keep_whitespace else _CONTROL
    clean = control.sub("\N{REPLACEMENT CHARACTER}", _SEPARATORS.sub(" ", "" if text is None else str(text)))
    if width is not None and len(clean) > width:
        clean = clean[: width - 1] + "…"
    return clean


def _score(value: float | None) -> str:
    return "   -" if value is None else f"{value:5.1f}"


def _passing(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _levels(group: GroupScore) -> str:
    return "  ".join(f"L{level} {count:>3}" for level, count in group.level_distribution.items())


def render(assessment: Assessment) -> str:
    names = team_names(assessment)
    window = assessment.snapshot.manifest["window"]
    scores = assessment.scores
    lines = [
        f"pd-audit score: {assessment.snapshot.path}  (window {window['since']} .. {window['until']})",
        "",
        f"Org        score {_score(scores.org.score)}   {_levels(scores.org)}   "
        f"({len(scores.services)} services, {_passing(scores.org.checks_passing)} of checks passing)",
        f"  {SCORE_EXPLAINED}",
        *(f"Notice ({notice.rule_id}): {notice.message}" for notice in assessment.notices),
        "",
        "Teams, by score:",
    ]
    ranked = sorted(scores.teams.values(), key=lambda g: (g.score is None, -(g.score or 0), g.id))
    for group in ranked:
        name = names.get(group.id, "(no team)" if group.id == NO_TEAM else group.id)
        lines.append(f"  {printable(name, 28):<28} score {_score(group.score)}   {_levels(group)}   "
                     f"{_passing(group.checks_passing)} of checks passing")
    lines += ["", "Services:", f"  {'level':<5} {'score':>5}  {'service':<40} failing rules"]
    for service in sorted(scores.services.values(), key=lambda s: (s.level, s.score or 0, s.service.name)):
        failing = sorted({f.rule_id for f in service.findings if f.status is Status.FAIL})
        label = f"{printable(service.service.name, 30)} ({service.service.id})"
        lines.append(f"  {service.level:<5} {_score(service.score)}  {label:<40} {' '.join(failing) or '-'}")
    failing = sorted(assessment.failing(), key=lambda f: (f.rule_id, f.entity_id, f.sub_key or ""))
    lines += ["", f"Failing findings ({len(failing)}):"]
    for finding in failing:
        where = f"{finding.entity_type} {printable(finding.entity_name, 40)} ({finding.entity_id})"
        lines.append(f"  {finding.rule_id:<7} {finding.severity.value:<8} {where}: {printable(finding.message)}")
    warned = sorted((f for f in assessment.findings if f.status is Status.WARN),
                    key=lambda f: (f.rule_id, f.entity_id, f.sub_key or ""))
    if warned:
        lines += ["", f"Warnings ({len(warned)}; they never block a level):"]
        for finding in warned:
            where = f"{finding.entity_type} {printable(finding.entity_name, 40)} ({finding.entity_id})"
            lines.append(f"  {finding.rule_id:<7} {'warn':<8} {where}: {printable(finding.message)}")
    waived = [f for f in assessment.findings if f.status is Status.WAIVED]
    if waived:
        lines += ["", f"Waived ({len(waived)}):"]
        for finding in waived:
            waiver = finding.waiver
            lines.append(f"  {finding.rule_id:<7} {finding.entity_id}: until {waiver.expires}, "
                         f"approved by {printable(waiver.approved_by)}: {printable(waiver.reason)}")
    for title, waivers in (("Expired waivers (their findings are open again)", assessment.waivers.expired),
                           ("Unused waivers (no failing finding matched)", assessment.waivers.unused)):
        if waivers:
            lines += ["", f"{title}:"]
            lines += [f"  {w.rule} {w.object_id} (expires {w.expires})" for w in waivers]
    if assessment.evaluation.not_run:
        lines += ["", "Not judged:"]
        lines += [f"  {rule_id:<7} {reason}" for rule_id, reason in sorted(assessment.evaluation.not_run.items())]
    return "\n".join(lines) + "\n"
