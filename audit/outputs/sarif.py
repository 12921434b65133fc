"""SARIF 2.1.0: the check's results for code-scanning tools (GitHub, GitLab, Azure DevOps).

One run. ``tool.driver.rules`` holds every rule in force with its title,
rationale, fix and guide link; ``results`` hold the new and unchanged failing
findings, the waived ones (as ``suppressions`` with the waiver's reason, so they
show as accepted rather than vanish) and the baseline entries that are now fixed
(``kind: pass``, ``baselineState: absent``). Within code scanning's limits
(``audit.outputs.sarif_budget``): when listing known debt one by one would pass
them, it is summed up as one result per rule and team, with the count and the
objects in ``properties``.

Each result names its PagerDuty object in ``logicalLocations`` (kind
``resource``; the object's web URL in the location's properties). Code scanning
on GitHub also insists on a *physical* location inside the repository and
rejects URLs there, so each result is anchored on the baseline file: that is the
file a reviewer changes to accept the debt. ``partialFingerprints`` carries the
finding's fingerprint so alerts stay matched across runs without GitHub hashing
source lines.

Strings from PagerDuty are stripped of control characters (JSON escaping makes
them harmless to parsers, but not to the terminals and UIs that show them).
"""

from __future__ import annotations

import functools
import io
import posixpath
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from audit import __version__
from audit.baseline import BaselineEntry
from audit.facts.collector import collector_paused
from audit.findings import Finding, Severity, Status
from audit.gate import BaselineState, GateResult
from audit.json_text import Streamed, TextOut, write_json
from audit.outputs.sarif_budget import SarifPlan, Summary, plan_results
from audit.rules import Rule
from audit.safe_text import printable
from audit.teams import team_label, team_names
from audit.wording import plural

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "pdAuditFingerprint/v1"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    help_text = f"{rule.rationale.strip()}\n\nHow to fix it in PagerDuty: {rule.fix.strip()}"
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.title.split() if word.isalnum()) or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale.strip()},
        "help": {"text": help_text, "markdown": f"{rule.rationale.strip()}\n\n**How to fix it in PagerDuty:** "
                                                f"{rule.fix.strip()}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "severity": rule.severity.value,
            "maturity-level": rule.level,
            "mode": rule.mode.value,
            "entity": rule.entity,
            "tags": ["pagerduty", "service-ownership", rule.entity],
        },
    }
    if rule.aliases:
        descriptor["deprecatedIds"] = list(rule.aliases)
    if rule.guide:
        descriptor["helpUri"] = rule.guide.url
    return descriptor


def artifact_location(baseline_name: str) -> dict[str, str]:
    """A file (the baseline, a .tf file) as a SARIF artifact location: relative to the source root, or file://."""
    return dict(_artifact_location(baseline_name))  # a copy: the caller may add to it


@functools.lru_cache(maxsize=64)  # every result of a run names the same file: 17,500 summaries at 12,000 services
def _artifact_location(baseline_name: str) -> dict[str, str]:
    path = PurePath(baseline_name)
    if path.is_absolute():
        return {"uri": path.as_uri()}
    uri = urllib.parse.quote(posixpath.normpath(path.as_posix()))
    return {"uri": uri, "uriBaseId": "%SRCROOT%"}


def _location(entity_type: str, entity_id: str, name: str, sub_key: str | None, url: str | None,
              baseline_name: str) -> dict[str, Any]:
    qualified = ":".join([entity_type, entity_id] + ([sub_key] if sub_key else []))
    logical: dict[str, Any] = {
        "name": printable(name or entity_id),
        "fullyQualifiedName": printable(qualified),
        "kind": "resource",
        "properties": {"entityType": entity_type, "entityId": printable(entity_id)},
    }
    if url:
        logical["properties"]["url"] = printable(url)
    return {"physicalLocation": {"artifactLocation": artifact_location(baseline_name)}, "logicalLocations": [logical]}


def _message(entity_type: str, entity_id: str, name: str, text: str) -> dict[str, str]:
    return {"text": printable(f"{entity_type.replace('_', ' ')} {name} ({entity_id}): {text}")}


def _finding_result(result: GateResult, finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "kind": "fail",
        "level": "warning" if finding.status is Status.WARN else LEVELS[finding.severity],
        "message": _message(finding.entity_type, finding.entity_id, finding.entity_name, finding.message),
        "locations": [_location(finding.entity_type, finding.entity_id, finding.entity_name, finding.sub_key,
                                finding.html_url, result.baseline_name)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "baselineState": result.state_of(finding).value,
        "properties": {
            "severity": finding.severity.value,
            "fingerprint": finding.fingerprint,
            "serviceIds": list(finding.service_ids),
            "teamIds": list(finding.team_ids),
            "blocking": result.is_blocking(finding),
        },
    }
    if finding.rule_id in rule_index:
        record["ruleIndex"] = rule_index[finding.rule_id]
    if finding.waiver is not None and finding.status is Status.WAIVED:
        waiver = finding.waiver
        record["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": printable(f"{waiver.reason} (approved by {waiver.approved_by}, until "
                                       f"{waiver.expires.isoformat()})"),
        }]
    return record


def _fixed_result(result: GateResult, entry: BaselineEntry, rule_index: dict[str, int]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ruleId": entry.rule_id,
        "kind": "pass",
        "level": "none",
        "message": _message(entry.entity_type, entry.entity_id, entry.entity_name,
                            f"fixed (in the baseline since {entry.since.isoformat()}: {entry.message})"),
        "locations": [_location(entry.entity_type, entry.entity_id, entry.entity_name, entry.sub_key, None,
                                result.baseline_name)],
        "partialFingerprints": {FINGERPRINT_KEY: entry.fingerprint},
        "baselineState": BaselineState.ABSENT.value,
        "properties": {"severity": entry.severity.value, "fingerprint": entry.fingerprint},
    }
    if entry.rule_id in rule_index:
        record["ruleIndex"] = rule_index[entry.rule_id]
    return record


def _summary_result(result: GateResult, summary: Summary, rule_index: dict[str, int],
                    names: dict[str, str]) -> dict[str, Any]:
    worst = max((f.severity for f in summary.findings), key=lambda severity: severity.rank)
    count = len(summary.findings)
    teams = "across teams" if summary.team_ids is None else (
        "in " + ", ".join(f"{team_label(t, names)} ({t})" for t in summary.team_ids) if summary.team_ids
        else "owned by no team")
    known = "accepted by the baseline" if summary.state == "unchanged" else f"baseline state {summary.state}"
    what = "waived" if summary.waived else known
    record: dict[str, Any] = {
        "ruleId": summary.rule_id,
        "kind": "fail",
        "level": LEVELS[worst],
        "message": {"text": printable(
            f"{plural(count, 'violation')} of {summary.rule_id} {teams}, {what}: summed up in one result to keep "
            f"within code scanning's limits; the objects are in this result's properties "
            f"(and in {result.baseline_name})")},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(result.baseline_name)}}],
        "partialFingerprints": {FINGERPRINT_KEY: f"summary:{summary.key}"},
        "baselineState": summary.state,
        "properties": {
            "summary": True,
            "count": count,
            "severities": dict(Counter(f.severity.value for f in summary.findings)),
            "teamIds": list(summary.team_ids) if summary.team_ids is not None else sorted(
                {t for f in summary.findings for t in f.team_ids}),
            "objectsListed": summary.listed,
            "objects": [{"fingerprint": f.fingerprint, "name": printable(f.entity_name, 120)}
                        for f in summary.findings[:summary.listed]],
            "blocking": any(result.is_blocking(f) for f in summary.findings),
        },
    }
    if summary.rule_id in rule_index:
        record["ruleIndex"] = rule_index[summary.rule_id]
    if summary.waived:
        record["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"{count:,} waived findings (see each waiver in the config)"}]
    return record


def plan(result: GateResult) -> SarifPlan:
    """What the run lists and sums up (``audit.outputs.sarif_budget``)."""
    return plan_results(result, lambda finding: result.state_of(finding).value)


def limit_note(result: GateResult, chosen: SarifPlan | None = None) -> str | None:
    """A one-line warning when the run sums results up to stay within code scanning's limits;
    ``chosen``: the plan the log was written with, if it was (working one out takes a while)."""
    total = len(result.new) + len(result.unchanged) + len(result.waived) + len(result.absent)
    return (plan(result) if chosen is None else chosen).note(total)


def sarif_log(result: GateResult, *, streamed: bool = False, chosen: SarifPlan | None = None) -> dict[str, Any]:
    """The SARIF log as data (``write`` serialises it); ``streamed``: its results are made as they
    are written; ``chosen``: its plan, when the caller has worked it out already."""
    rules = list(result.assessment.pack)
    rule_index = {rule.id: index for index, rule in enumerate(rules)}
    chosen = plan(result) if chosen is None else chosen
    names = team_names(result.assessment) if chosen.summaries else {}
    made = _results(result, chosen, rule_index, names)
    results: Any = Streamed(made) if streamed else list(made)
    manifest = result.assessment.snapshot.manifest
    category = "pd-audit" + (f"/team-{result.team_id}" if result.team_id else "")
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pd-audit",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule_descriptor(rule) for rule in rules],
            }},
            "automationDetails": {"id": f"{category}/"},
            "invocations": [{
                "executionSuccessful": True,
                "exitCode": int(result.exit_code),
                "properties": {"failOn": result.threshold, **result.counts()},
            }],
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository holding the baseline"}}},
            "results": results,
            "properties": {
                "snapshot": {key: manifest.get(key) for key in ("api_base", "subdomain", "crawl_finished_at")},
                "baseline": {"updated": result.baseline.updated.isoformat(), "entries": len(result.baseline)},
            },
        }],
    }


def _results(result: GateResult, chosen: SarifPlan, rule_index: dict[str, int],
             names: dict[str, str]) -> Iterator[dict[str, Any]]:
    for finding in chosen.listed:
        yield _finding_result(result, finding, rule_index)
    for entry in chosen.fixed:
        yield _fixed_result(result, entry, rule_index)
    for summary in chosen.summaries:
        yield _summary_result(result, summary, rule_index, names)


def write(result: GateResult, out: TextOut, *, chosen: SarifPlan | None = None) -> None:
    with collector_paused():  # as json_report: many short-lived results beside millions of live objects
        write_json(out, sarif_log(result, streamed=True, chosen=chosen))


def render(result: GateResult) -> str:
    out = io.StringIO()
    write(result, out)
    return out.getvalue()
