"""Markdown: the check's verdict for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

New violations come first (what the author must act on, including accepted
ones whose severity rose), then what was fixed
since the baseline, then waivers that need attention, then one summary line.
Long lists are cut (GitHub refuses comments over 65,536 characters); the SARIF
and JSON outputs always hold everything.

Every string that came from PagerDuty (names, messages, ids, waiver reasons) is
made inert here: control characters and line breaks become spaces, every ASCII
punctuation character is backslash-escaped (so no link, image, HTML tag, table
cell break or emphasis can be formed from a name), and ``@`` is followed by a
zero-width space so a service called ``@acme/everyone`` mentions nobody. Links
are built only from https URLs, percent-encoded. The helpers are shared by the
``diff`` Markdown output.
"""

from __future__ import annotations

import re
import string
import urllib.parse
from collections.abc import Iterable, Sequence

from audit.baseline import BaselineEntry
from audit.findings import Finding, Status
from audit.gate import GateResult
from audit.safe_text import printable

MAX_ROWS = 50  # per section; keeps a comment well under GitHub's size limit
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_SAFE_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d+)?(?:/\S*)?$")
_ENTITY_LABELS = {"escalation_policy": "escalation policy"}


def escape(text: object) -> str:
    """Any untrusted string as inert Markdown text (see the module docstring)."""
    flat = re.sub(r"[\t\n\r\v\f]+", " ", "" if text is None else str(text))
    escaped = _PUNCTUATION.sub(r"\\\1", printable(flat))
    return escaped.replace("@", "@\u200b")


def link(label: object, url: str | None) -> str:
    """``label`` escaped, as a link when ``url`` is a plain https URL."""
    text = escape(label)
    if not url or not _SAFE_URL.match(url):
        return text
    return f"[{text}]({urllib.parse.quote(url, safe=':/?=&#%~.-_')})"


def object_cell(entity_type: str, entity_id: str, name: str, sub_key: str | None, url: str | None = None) -> str:
    """What a finding is about, e.g. 'escalation policy [Payments](...) (PEP0001) · level 2'."""
    label = f"{_ENTITY_LABELS.get(entity_type, entity_type)} {link(name or entity_id, url)} ({escape(entity_id)})"
    return label + (f" · part {escape(sub_key)}" if sub_key else "")


def finding_object(finding: Finding) -> str:
    return object_cell(finding.entity_type, finding.entity_id, finding.entity_name, finding.sub_key,
                       finding.html_url)


def entry_object(entry: BaselineEntry) -> str:
    return object_cell(entry.entity_type, entry.entity_id, entry.entity_name, entry.sub_key)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], total: int | None = None) -> list[str]:
    """A GitHub table of already-escaped cells, cut at ``MAX_ROWS`` with a note saying how many are left."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows[:MAX_ROWS]]
    left = (total if total is not None else len(rows)) - min(len(rows), MAX_ROWS)
    if left > 0:
        lines += ["", f"…and {left} more (the JSON and SARIF outputs list them all)."]
    return lines


def _rule_cell(result: GateResult, rule_id: str) -> str:
    rule = result.assessment.pack.resolve(rule_id)
    if rule is None:
        return escape(rule_id)
    title = link(rule.title, rule.guide.url if rule.guide else None)
    return f"**{escape(rule.id)}** {title}"


def _severity_cell(result: GateResult, finding: Finding) -> str:
    cell = f"**{finding.severity.value}**" if result.is_blocking(finding) else finding.severity.value
    if finding.status is Status.WARN:
        cell = f"⚠️ warning, {cell}"
    accepted = result.baseline.by_fingerprint.get(finding.fingerprint)
    if accepted is not None:  # in the baseline at a lower severity: it got worse
        cell += f" (was {accepted.severity.value})"
    if not result.is_blocking(finding) and finding.status is not Status.WARN:
        cell += f" (below {result.threshold})"
    return cell


def _new_rows(result: GateResult) -> list[list[str]]:
    return [[_severity_cell(result, f), _rule_cell(result, f.rule_id), finding_object(f), escape(f.message)]
            for f in result.new]


def _fixed_rows(result: GateResult, entries: Iterable[BaselineEntry]) -> list[list[str]]:
    return [[_rule_cell(result, e.rule_id), entry_object(e), escape(e.message), e.since.isoformat()] for e in entries]


def summary_line(result: GateResult) -> str:
    counts = result.counts()
    parts = [
        f"{counts['new']} new ({counts['blocking']} at or above {result.threshold}"
        + (f", {counts['warnings']} of them warnings" if counts["warnings"] and not result.fail_on_warnings else "")
        + ")",
        *([f"{counts['worsened']} worse than in the baseline"] if counts["worsened"] else []),
        f"{counts['absent']} fixed",
        f"{counts['unchanged']} unchanged (in the baseline)",
        f"{counts['waived']} waived",
    ]
    if counts["expired_waivers"]:
        parts.append(f"{counts['expired_waivers']} expired waiver(s)")
    if counts["unjudged"]:
        parts.append(f"{counts['unjudged']} baseline entries not judged by this run")
    return " · ".join(parts)


def render(result: GateResult) -> str:
    verdict = (
        f"✅ pd-audit check passed: no new violation at or above {result.threshold}"
        if result.passed
        else f"❌ pd-audit check failed: {len(result.blocking)} new violation(s) at or above {result.threshold}"
    )
    scope = f" for team {escape(result.team_id)}" if result.team_id else ""
    manifest = result.assessment.snapshot.manifest
    lines = [
        f"### {verdict}",
        "",
        (f"Snapshot crawled {escape(manifest.get('crawl_finished_at') or '?')}{scope}, "
         f"compared with baseline {escape(result.baseline_name)} "
         f"({len(result.baseline)} entries, updated {result.baseline.updated.isoformat()})."),
        "",
        f"#### New violations ({len(result.new)})",
        "",
    ]
    if result.new:
        lines += table(["Severity", "Rule", "Object", "Finding"], _new_rows(result))
    else:
        lines.append("None.")
    lines += ["", f"#### Fixed since the baseline ({len(result.absent)})", ""]
    if result.absent:
        lines += table(["Rule", "Object", "Was", "In baseline since"], _fixed_rows(result, result.absent))
    else:
        lines.append("None.")
    lines += _waiver_section(result)
    lines += ["", f"**Summary:** {summary_line(result)}"]
    return "\n".join(lines) + "\n"


def _waiver_section(result: GateResult) -> list[str]:
    expired = result.assessment.waivers.expired
    if not expired:
        return []
    rows = [[escape(w.rule), escape(w.object_id), w.expires.isoformat(), escape(w.approved_by), escape(w.reason)]
            for w in expired]
    return ["", f"#### Expired waivers ({len(expired)}): their findings are open again", ""] + table(
        ["Rule", "Object", "Expired", "Approved by", "Reason"], rows
    )
