"""``pd-audit diff``'s formats: what changed between two snapshots, as a table, JSON or Markdown.

Each writes an ``audit.diff.AssessmentDiff`` as it is made (``write_*(diff, out)``), never whole
in memory: at 12,000 services a diff lists tens of thousands of findings. New, fixed, downgraded
(failing before, a warning now) and waived findings, the unchanged ones, and level and score
changes for the org, each team and each service whose level or score moved. Terminal strings go
through ``printable``; Markdown strings through ``markdown.escape`` (the same inert-text rules as
the check), and the Markdown lists are cut as the check's are (a pull-request comment).

The JSON says ``"format": "pd-audit/diff-v1"``; its finding lists are written one finding a line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from audit.diff import AssessmentDiff, LevelChange
from audit.findings import Finding
from audit.json_text import Streamed, TextOut
from audit.json_text import write_json as write_json_text
from audit.outputs import markdown
from audit.safe_text import for_terminal, printable
from audit.teams import NO_TEAM_LABEL

DIFF_FORMAT = "pd-audit/diff-v1"


def _number(value: float | None, places: int = 1) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _delta(value: float | None, places: int = 1) -> str:
    return "" if value is None or round(value, places) == 0 else f"{value:+.{places}f}"


def _moved(change: LevelChange) -> bool:
    return (change.old_level, change.old_score) != (change.new_level, change.new_score)


def _change_json(change: LevelChange) -> dict[str, Any]:
    rounded = {k: None if v is None else round(v, 2) for k, v in (
        ("old_level", change.old_level), ("new_level", change.new_level), ("old_score", change.old_score),
        ("new_score", change.new_score), ("level_delta", change.level_delta), ("score_delta", change.score_delta))}
    return {"id": change.id, "name": change.name, **rounded}


def _counts(diff: AssessmentDiff) -> dict[str, int]:
    return {"new": len(diff.new), "fixed": len(diff.fixed), "downgraded": len(diff.downgraded),
            "waived": len(diff.waived), "unchanged": len(diff.unchanged)}


def diff_json(diff: AssessmentDiff) -> dict[str, Any]:
    """The diff as JSON-ready data; its lists are made as they are written."""
    return {
        "format": DIFF_FORMAT,
        "counts": _counts(diff),
        "new": Streamed(f.to_json() for f in diff.new),
        "fixed": Streamed(f.to_json() for f in diff.fixed),
        "downgraded": Streamed(f.to_json() for f in diff.downgraded),
        "waived": Streamed(f.to_json() for f in diff.waived),
        "unchanged": Streamed(f.fingerprint for f in diff.unchanged),
        "org": _change_json(diff.org),
        "teams": Streamed(_change_json(c) for _, c in sorted(diff.teams.items())),
        "services": Streamed(_change_json(c) for _, c in sorted(diff.services.items())),
    }


def write_json(diff: AssessmentDiff, out: TextOut) -> None:
    write_json_text(out, diff_json(diff))


def _level_line(change: LevelChange, width: int = 32) -> str:
    return (f"{printable(change.name or NO_TEAM_LABEL, width):<{width}} level {_number(change.old_level):>4} -> "
            f"{_number(change.new_level):>4} {_delta(change.level_delta):>5}   score {_number(change.old_score):>5} -> "
            f"{_number(change.new_score):>5} {_delta(change.score_delta):>6}")


def _finding_line(finding: Finding) -> str:
    return (f"  {finding.rule_id:<7} {finding.severity.value:<8} {finding.entity_type} "
            f"{printable(finding.entity_name, 40)} ({printable(finding.entity_id)}): {printable(finding.message)}")


def _table_lines(diff: AssessmentDiff) -> Iterator[str]:
    yield f"Org      {_level_line(diff.org, 24)}"
    yield ""
    yield "Teams:"
    for _, change in sorted(diff.teams.items(), key=lambda item: item[1].name.lower()):
        yield f"  {_level_line(change)}"
    moved = [c for _, c in sorted(diff.services.items()) if _moved(c)]
    yield ""
    yield f"Services that moved ({len(moved)}):"
    yield from (f"  {_level_line(c)}" for c in moved) if moved else ["  none"]
    for title, findings in (("New", diff.new), ("Fixed", diff.fixed),
                            ("Failing before, a warning now", diff.downgraded), ("Waived since", diff.waived)):
        yield ""
        yield f"{title} ({len(findings)}):"
        yield from (_finding_line(f) for f in findings) if findings else ["  none"]
    yield ""
    yield f"Unchanged failing findings: {len(diff.unchanged)}"


def write_table(diff: AssessmentDiff, out: TextOut) -> None:
    for line in _table_lines(diff):  # for a person: shown as the terminal shows text
        out.write(for_terminal(line + "\n"))


def _md_change_row(change: LevelChange) -> list[str]:
    return [markdown.escape(change.name or NO_TEAM_LABEL), f"{_number(change.old_level)} → {_number(change.new_level)}",
            _delta(change.level_delta) or "±0", f"{_number(change.old_score)} → {_number(change.new_score)}",
            _delta(change.score_delta) or "±0"]


def _md_findings(title: str, findings: tuple[Finding, ...]) -> list[str]:
    lines = ["", f"#### {title} ({len(findings)})", ""]
    if not findings:
        return lines + ["None."]
    rows = [[f.severity.value, markdown.escape(f.rule_id), markdown.finding_object(f), markdown.escape(f.message)]
            for f in findings[:markdown.MAX_ROWS]]  # the rest are only counted: never made
    return lines + markdown.table(["Severity", "Rule", "Object", "Finding"], rows, total=len(findings))


def write_markdown(diff: AssessmentDiff, out: TextOut) -> None:
    headers = ["", "Level", "Δ", "Score", "Δ"]
    lines = ["### pd-audit diff", ""]
    lines += markdown.table(headers, [_md_change_row(diff.org)])
    lines += ["", "#### Teams", ""]
    out.write("\n".join(lines) + "\n")
    teams = sorted(diff.teams.values(), key=lambda change: change.name.lower())
    for line in markdown.table(headers, [_md_change_row(c) for c in teams[:markdown.MAX_ROWS]], total=len(teams)):
        out.write(line + "\n")
    lines = _md_findings("New", diff.new) + _md_findings("Fixed", diff.fixed)
    if diff.downgraded:
        lines += _md_findings("Failing before, a warning now", diff.downgraded)
    summary = (f"**Summary:** {len(diff.new)} new · {len(diff.fixed)} fixed · "
               + (f"{len(diff.downgraded)} now warnings · " if diff.downgraded else "")
               + f"{len(diff.waived)} newly waived · {len(diff.unchanged)} unchanged · org score "
               f"{_number(diff.org.old_score)} → {_number(diff.org.new_score)}")
    lines += ["", summary]
    out.write("\n".join(lines) + "\n")
