"""The plan's verdict in every format ``check`` writes: text, Markdown, SARIF, JUnit and JSON.

Each renders a :class:`PlanResult` by starting from the gate's own output (the plan is gated
exactly as ``check`` gates a snapshot) and adding what a pull request needs: the resource
address of each finding, the file and line of its resource block (with ``--tf-dir``), the
values unknown until apply and the resources pd-audit does not model. In SARIF each result is
anchored on its resource block (else on the plan file), so code scanning annotates the lines
the pull request changed; an introduced violation is ``baselineState: new``, a fixed one
``absent``. The Markdown opens with "this plan introduces N violations, fixes M".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from audit.baseline import BaselineEntry
from audit.findings import Finding
from audit.json_text import Streamed, TextOut, write_json
from audit.outputs import junit, sarif
from audit.outputs.ci import as_text, check_json, whole_writer
from audit.outputs.markdown import entry_object, escape, finding_object, table
from audit.plan.compare import PlanResult
from audit.safe_text import printable
from audit.wording import plural

_ENTITY_LABELS = {"escalation_policy": "escalation policy"}


def sentence(result: PlanResult) -> str:
    """'this plan introduces 2 violations, fixes 1' (and what it left unjudged or unmodelled)."""
    text = f"this plan introduces {plural(len(result.introduced), 'violation')}"
    if result.introduced_warnings:
        text += f" and {plural(len(result.introduced_warnings), 'warning')}"
    text += f", fixes {len(result.fixed)}"
    if result.unknowns:
        text += f"; {plural(len(result.unknowns), 'value')} unknown until apply"
    if result.unmodelled:
        text += f"; {plural(len(result.unmodelled), 'resource')} not modelled"
    return text


def _resource(result: PlanResult, entity_type: str, entity_id: str, name: str) -> str:
    """The resource address and code location, or the PagerDuty object when no resource describes it."""
    planned = result.address_of(entity_type, entity_id)
    if planned is None:
        return f"{_ENTITY_LABELS.get(entity_type, entity_type)} {name} ({entity_id})"
    where = result.location_of(entity_type, entity_id)
    return f"{planned.address} ({planned.action}{f', {where}' if where else ''})"


# -- text ----------------------------------------------------------------------------------------


def render_text(result: PlanResult) -> str:
    gate = result.gate
    lines = [f"pd-audit plan {'PASSED' if gate.passed else 'FAILED'}: {sentence(result)} "
             f"({len(gate.blocking)} at or above {gate.threshold}); applied to {printable(result.base)}"]
    for finding in gate.new:
        mark = "NEW" if gate.is_blocking(finding) else "new (below threshold)"
        lines.append(f"  {mark:<22} {finding.severity.value:<8} {finding.rule_id:<7} "
                     f"{printable(_resource(result, finding.entity_type, finding.entity_id, finding.entity_name))}: "
                     f"{printable(finding.message)}")
    for entry in result.fixed:
        lines.append(f"  {'fixed':<22} {entry.severity.value:<8} {entry.rule_id:<7} "
                     f"{printable(_resource(result, entry.entity_type, entry.entity_id, entry.entity_name))}")
    for unknown, fingerprints in result.unknowns.items():
        lines.append(f"  {'unknown until apply':<22} {printable(unknown)}: "
                     f"{len(fingerprints)} finding(s) not judged")
    for change in result.unmodelled:
        lines.append(f"  {'not modelled':<22} {printable(change.address)} ({change.action_label})")
    return "\n".join(lines) + "\n"


# -- Markdown ------------------------------------------------------------------------------------


def _address_cell(result: PlanResult, entity_type: str, entity_id: str, fallback: str) -> str:
    planned = result.address_of(entity_type, entity_id)
    if planned is None:
        return fallback
    where = result.location_of(entity_type, entity_id)
    return f"**{escape(planned.address)}** ({planned.action}{f', {escape(where)}' if where else ''})"


def _rule(result: PlanResult, rule_id: str) -> str:
    rule = result.gate.assessment.pack.resolve(rule_id)
    return f"**{escape(rule_id)}** {escape(rule.title)}" if rule else f"**{escape(rule_id)}**"


def render_markdown(result: PlanResult) -> str:
    gate = result.gate
    icon = "✅" if gate.passed else "❌"
    lines = [f"### {icon} pd-audit plan: {sentence(result)}", "",
             f"Plan {escape(result.plan.path)} applied to {escape(result.base)}; the build fails on "
             f"introduced violations at or above {gate.threshold} ({len(gate.blocking)} here).", "",
             f"#### Introduced ({len(gate.new)})", ""]
    rows = [[f"**{f.severity.value}**" if gate.is_blocking(f) else f"{f.severity.value} (below threshold)",
             _rule(result, f.rule_id), _address_cell(result, f.entity_type, f.entity_id, finding_object(f)),
             escape(f.message)] for f in gate.new]
    lines += table(["Severity", "Rule", "Resource", "Finding"], rows) if rows else ["None."]
    lines += ["", f"#### Fixed ({len(result.fixed)})", ""]
    rows = [[_rule(result, e.rule_id), _address_cell(result, e.entity_type, e.entity_id, entry_object(e)),
             escape(e.message)] for e in result.fixed]
    lines += table(["Rule", "Resource", "Was"], rows) if rows else ["None."]
    if result.unknowns:
        lines += ["", f"#### Unknown until apply ({len(result.unknowns)}): not judged", ""]
        lines += table(["Attribute", "Findings left unjudged"],
                       [[escape(u), str(len(fps))] for u, fps in result.unknowns.items()])
    if result.unmodelled:
        lines += ["", f"#### Not modelled by pd-audit ({len(result.unmodelled)}): not judged", ""]
        lines += table(["Resource", "Action"], [[escape(c.address), c.action_label]
                                                 for c in result.unmodelled])
    lines += ["", f"{len(gate.unchanged)} violation(s) the account already has are unchanged by this plan."]
    return "\n".join(lines) + "\n"


# -- SARIF ---------------------------------------------------------------------------------------


def _subjects(result: PlanResult) -> dict[str, tuple[str, str]]:
    gate = result.gate
    items: list[Finding | BaselineEntry] = [*gate.new, *gate.unchanged, *gate.waived, *gate.absent]
    return {item.fingerprint: (item.entity_type, item.entity_id) for item in items}


def sarif_log(result: PlanResult, *, streamed: bool = False) -> dict[str, Any]:
    """The gate's SARIF log with each result anchored on its resource (``streamed``: as written)."""
    log = sarif.sarif_log(result.gate, streamed=streamed)
    run = log["runs"][0]
    made = _anchored(result, run["results"].items if streamed else run["results"])
    run["results"] = Streamed(made) if streamed else list(made)
    run["automationDetails"] = {"id": "pd-audit-plan/"}
    run["originalUriBaseIds"] = {"%SRCROOT%": {"description": {"text": "The repository holding the Terraform files"}}}
    run["properties"]["plan"] = {
        "path": printable(result.plan.path), "appliedTo": printable(result.base), "summary": sentence(result),
        "unknownUntilApply": {str(u): list(fps) for u, fps in result.unknowns.items()},
        "notModelled": [{"address": c.address, "action": c.action_label} for c in result.unmodelled],
    }
    return log


def _anchored(result: PlanResult, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    subjects = _subjects(result)
    for record in records:
        subject = subjects.get(record["partialFingerprints"][sarif.FINGERPRINT_KEY])
        planned = result.address_of(*subject) if subject else None
        where = result.location_of(*subject) if subject else None
        location = record["locations"][0]
        physical: dict[str, Any] = {"artifactLocation": sarif.artifact_location(result.plan.path)}
        if where is not None:
            physical = {"artifactLocation": sarif.artifact_location(str(where.file)),
                        "region": {"startLine": where.line, "endLine": where.end_line}}
        location["physicalLocation"] = physical
        if planned is not None:
            location["logicalLocations"].insert(0, {"name": printable(planned.address),
                                                    "fullyQualifiedName": printable(planned.address),
                                                    "kind": "resource",
                                                    "properties": {"action": planned.action,
                                                                   "resourceType": planned.resource_type}})
            record["properties"]["address"] = printable(planned.address)
        yield record


def write_sarif(result: PlanResult, out: TextOut) -> None:
    write_json(out, sarif_log(result, streamed=True))


# -- JUnit and JSON ------------------------------------------------------------------------------


def write_junit(result: PlanResult, out: TextOut) -> None:
    junit.write(result.gate, out, name="pd-audit plan", all_option=None)  # plan lists no passes


def _with_address(result: PlanResult, record: dict[str, Any]) -> dict[str, Any]:
    planned = result.address_of(record["entity_type"], record["entity_id"])
    where = result.location_of(record["entity_type"], record["entity_id"])
    return {**record, "address": planned.address if planned else None, "action": planned.action if planned else None,
            "location": {"file": str(where.file), "line": where.line} if where else None}


def _addressed(result: PlanResult, records: Streamed) -> Streamed:
    return Streamed(_with_address(result, record) for record in records.items)


def write_plan_json(result: PlanResult, out: TextOut) -> None:
    """The gate's JSON, each finding with its resource address and location, then the plan."""
    data = check_json(result.gate)
    for key in ("new", "fixed", "unchanged", "waived", "unjudged"):
        data[key] = _addressed(result, data[key])
    data["plan"] = {
        "path": result.plan.path, "applied_to": result.base, "summary": sentence(result),
        "terraform_version": result.plan.terraform_version,
        "changed": [{"address": c.address, "action": c.action_label} for c in result.changed],
        "unknown_until_apply": [{"address": u.address, "attribute": u.attribute, "findings": list(fps)}
                                for u, fps in result.unknowns.items()],
        "not_modelled": [{"address": c.address, "type": c.type, "action": c.action_label}
                         for c in result.unmodelled],
    }
    write_json(out, data)


# Written as made (the SARIF, JUnit and JSON carry the account's known debt); the Markdown and the
# verdict list what the plan changes, so they are small.
PLAN_WRITERS: dict[str, Callable[[PlanResult, TextOut], None]] = {
    "sarif": write_sarif,
    "junit": write_junit,
    "markdown": whole_writer(render_markdown),
    "json": write_plan_json,
    "text": whole_writer(render_text),
}
PLAN_FORMATS: dict[str, Callable[[PlanResult], str]] = {name: as_text(w) for name, w in PLAN_WRITERS.items()}
