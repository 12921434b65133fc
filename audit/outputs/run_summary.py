"""What a command says once it has written something: which files, where, and what they hold."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from audit.safe_text import printable


def starter_written(proposals: Iterable[Any], snapshot: Path, output: Path) -> str:
    """`pd-audit init`: the config written, services per proposed tier, and what to run next."""
    per_tier = collections.Counter(p.tier for p in proposals)
    tiers = ", ".join(f"tier {tier}: {count}" for tier, count in sorted(per_tier.items())) or "no services"
    return (f"wrote {output} ({tiers}); review the proposed tiers, then run "
            f"`pd-audit score {snapshot} --config {output}`")


def reports_written(paths: Sequence[Path]) -> str:
    """`report`/`audit`: how many files went where, and the org report to open first."""
    lines = [f"{len(paths)} files written to {paths[0].parent if paths else '-'}"]
    index = next((p for p in paths if p.name == "index.html"), None)
    if index is not None:
        lines.append(f"org report: {index}")
    return "\n".join(lines)


def baseline_change(change: Any, target: Path) -> str:
    """`baseline update`: each entry added or dropped, then the counts."""
    lines = [f"  {label:<16} {entry.rule_id:<7} {entry.entity_type} {printable(entry.entity_name)} "
             f"({printable(entry.entity_id)})"
             for label, entries in (("added", change.added), ("dropped (fixed)", change.dropped))
             for entry in entries]
    lines.append(f"{target}: {len(change.added)} added, {len(change.dropped)} dropped, {len(change.kept)} kept")
    return "\n".join(lines)


def demo_written(snapshot: Path, scores: Path, report_index: Path, assessment: Any, files: int) -> str:
    """`pd-audit demo`: where the snapshot, the score table and the reports are."""
    org = assessment.scores.org
    shown = "-" if org.score is None else f"{org.score:.1f}"
    return "\n".join([
        f"snapshot:  {snapshot}",
        f"scores:    {scores}  (org score {shown}, {len(assessment.failing())} failing findings)",
        f"reports:   {report_index}  ({files} files: org and team HTML and PDF)",
    ])
