"""The rule catalog as a terminal table (`pd-audit rules`), with a legend for its columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MODE_NAMES = {"S": "static", "W": "window", "A": "analytics"}
LEGEND = (
    "MODE   static     judged from configuration alone (deterministic; `check` judges only these by default)",
    "       window     judged from rendered schedules and on-calls over the crawl's window",
    "       analytics  judged from incident history over the crawl's --incidents-window (excluded without it)",
    "LEVEL  1-4        the maturity level a service cannot reach while the rule fails on it",
    "       info       informational: holds no level back",
    "`pd-audit rules explain ID` tells why a rule matters and how to fix it in PagerDuty.",
)


def render(rules: Iterable[Any]) -> str:
    """One line per rule under a header, then what the columns mean."""
    rows = [("ID", "MODE", "LEVEL", "SEVERITY", "ENTITY", "TITLE")]
    rows += [(rule.id, MODE_NAMES.get(rule.mode.value, rule.mode.value), str(rule.level), rule.severity.value,
              rule.entity, rule.title) for rule in rules]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:5], widths)) + "  " + row[5] for row in rows]
    return "\n".join([*lines, "", *LEGEND]) + "\n"


def explain(rule: Any) -> str:
    """`pd-audit rules explain ID`: why the rule matters, its parameters, the fix, and how it counts."""
    sources = {"G": "given by the guides", "I": "implied by the guides", "P": "PagerDuty's own behaviour",
               "T": "pd-audit's default"}
    judged = {"S": "configuration", "W": "the on-call window"}.get(rule.mode.value, "incident analytics")
    lines = [
        f"{rule.id}: {rule.title}",
        f"  judges:   {rule.entity} ({judged})",
        f"  level:    {rule.level}    severity: {rule.severity.value}",
    ]
    if rule.aliases:
        lines.append(f"  formerly: {', '.join(rule.aliases)}")
    lines += ["", "Why it matters:", f"  {rule.rationale.strip()}"]
    if rule.guide:
        lines.append(f"  ({rule.guide.name}: {rule.guide.url})")
    if rule.params:
        lines += ["", "Parameters (override in pd-audit.toml under [thresholds." + rule.id + "]):"]
        for name, param in rule.params.items():
            lines.append(f"  {name} = {param.default!r}  ({sources[param.source]}): {param.description}")
    lines += ["", "How to fix it in PagerDuty:", f"  {rule.fix.strip()}"]
    lines += ["", "Verdicts and score:", *(f"  {line}" for line in _verdict_lines(rule))]
    return "\n".join(lines)


def _verdict_lines(rule: Any) -> list[str]:
    """How this rule's findings count: statuses, the ladder and the score (see audit.scoring)."""
    from audit.scoring import DEFAULT_WEIGHTS
    from audit.tiers import DEFAULT_TIER, TIER_RULE

    level = rule.maturity_level
    if level is None:
        lines = ["Information only: it never fails, never blocks a level and costs no score; a miss is a warning."]
    else:
        lines = [
            f"fail: the services it reaches stay below level {level} (their score below {25 * level}).",
            f"It weighs {DEFAULT_WEIGHTS[rule.severity]:g} ({rule.severity.value}, by default) in placing a "
            f"level-{level - 1} service within its band of the score: 25 x level, plus 25 x the weighted share "
            "of the next level's checks it passes.",
        ]
        if rule.warn_when:
            lines.append(f"warn (severity {rule.warn_severity.value}) when only the softer threshold is missed: "
                         "shown as a warning, never blocks a level, costs no score; `check` fails on it only "
                         "with --fail-on warn.")
    if rule.id == TIER_RULE:
        lines.append(f"Without any [[tiers]] mapping every service is judged as tier {DEFAULT_TIER} and this rule is "
                     "one notice for the account; `pd-audit init SNAPSHOT` proposes a mapping.")
    lines.append("Other statuses: pass; waived (a valid waiver accepts the failure); excluded (the data is not "
                 "there); not_applicable (the rule does not concern the object).")
    return lines
