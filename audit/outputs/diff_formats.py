"""``pd-audit diff``'s formats: what changed between two snapshots, as a table, JSON or Markdown.

Each renders an ``audit.diff.AssessmentDiff``: new, fixed, waived and unchanged
findings, and level and score changes for the org, each team and each service
whose level or score moved. Terminal strings go through ``printable``; Markdown
strings through ``markdown.escape`` (the same inert-text rules as the check).
"""

from __future__ import annotations

from typing import Any

from audit.diff import AssessmentDiff, LevelChange
from audit.findings import Finding
from audit.json_text import json_text
from audit.outputs import markdown
from audit.safe_text import printable
from audit.teams import NO_TEAM_LABEL


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


def render_json(diff: AssessmentDiff) -> str:
    data = {
        "counts": {"new": len(diff.new), "fixed": len(diff.fixed), "waived": len(diff.waived),
                   "unchanged": len(diff.unchanged)},
        "new": [f.to_json() for f in diff.new],
        "fixed": [f.to_json() for f in diff.fixed],
        "waived": [f.to_json() for f in diff.waived],
        "unchanged": [f.fingerprint for f in diff.unchanged],
        "org": _change_json(diff.org),
        "teams": [_change_json(c) for _, c in sorted(diff.teams.items())],
        "services": [_change_json(c) for _, c in sorted(diff.services.items())],
    }
    return json_text(data)


def _level_line(change: LevelChange, width: int = 32) -> str:
    return (f"{printable(change.name or NO_TEAM_LABEL, width):<{width}} level {_number(change.old_level):>4} -> "
            f"{_number(change.new_level):>4} {_delta(change.level_delta):>5}   score {_number(change.old_score):>5} -> "
            f"{_number(change.new_score):>5} {_delta(change.score_delta):>6}")


def _finding_line(finding: Finding) -> str:
    return (f"  {finding.rule_id:<7} {finding.severity.value:<8} {finding.entity_type} "
            f"{printable(finding.entity_name, 40)} ({printable(finding.entity_id)}): {printable(finding.message)}")


def render_table(diff: AssessmentDiff) -> str:
    lines = [f"Org      {_level_line(diff.org, 24)}", "", "Teams:"]
    lines += [f"  {_level_line(c)}" for _, c in sorted(diff.teams.items(), key=lambda item: item[1].name.lower())]
    moved = [c for _, c in sorted(diff.services.items()) if _moved(c)]
    lines += ["", f"Services that moved ({len(moved)}):"]
    lines += [f"  {_level_line(c)}" for c in moved] or ["  none"]
    for title, findings in (("New", diff.new), ("Fixed", diff.fixed), ("Waived since", diff.waived)):
        lines += ["", f"{title} ({len(findings)}):"]
        lines += [_finding_line(f) for f in findings] or ["  none"]
    lines += ["", f"Unchanged failing findings: {len(diff.unchanged)}"]
    return "\n".join(lines) + "\n"


def _md_change_row(change: LevelChange) -> list[str]:
    return [markdown.escape(change.name or NO_TEAM_LABEL), f"{_number(change.old_level)} → {_number(change.new_level)}",
            _delta(change.level_delta) or "±0", f"{_number(change.old_score)} → {_number(change.new_score)}",
            _delta(change.score_delta) or "±0"]


def _md_findings(title: str, findings: tuple[Finding, ...]) -> list[str]:
    lines = ["", f"#### {title} ({len(findings)})", ""]
    if not findings:
        return lines + ["None."]
    rows = [[f.severity.value, markdown.escape(f.rule_id), markdown.finding_object(f), markdown.escape(f.message)]
            for f in findings]
    return lines + markdown.table(["Severity", "Rule", "Object", "Finding"], rows)


def render_markdown(diff: AssessmentDiff) -> str:
    headers = ["", "Level", "Δ", "Score", "Δ"]
    lines = ["### pd-audit diff", ""]
    lines += markdown.table(headers, [_md_change_row(diff.org)])
    lines += ["", "#### Teams", ""]
    lines += markdown.table(headers, [_md_change_row(c) for _, c in sorted(diff.teams.items(),
                                                                          key=lambda item: item[1].name.lower())])
    lines += _md_findings("New", diff.new) + _md_findings("Fixed", diff.fixed)
    summary = (f"**Summary:** {len(diff.new)} new · {len(diff.fixed)} fixed · {len(diff.waived)} newly waived · "
               f"{len(diff.unchanged)} unchanged · org score {_number(diff.org.old_score)} → "
               f"{_number(diff.org.new_score)}")
    lines += ["", summary]
    return "\n".join(lines) + "\n"
