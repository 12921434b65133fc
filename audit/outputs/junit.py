"""JUnit XML: the check as test results, one test case per rule and object.

CI systems (GitLab's test reports, Jenkins, Azure DevOps) show JUnit natively.
One ``testsuite`` per rule; one ``testcase`` per object the rule judged:

- passes: a passing test case;
- new (or worse than in the baseline) at or above ``--fail-on``: a ``failure``
  (so failures == what breaks the build);
- failing but accepted (in the baseline, below the threshold) or waived: ``skipped``
  with the reason, so known debt stays visible without failing the report;
- excluded for missing data: ``skipped`` with why.

Objects a rule does not apply to are not test cases. The XML is built with
ElementTree (which escapes markup); characters XML 1.0 cannot carry at all
(control characters, U+FFFE/U+FFFF, lone surrogates) are replaced first.
"""

from __future__ import annotations

import collections
import re
import xml.etree.ElementTree as ET

from audit.findings import Finding, Status
from audit.gate import BaselineState, GateResult
from audit.safe_text import printable

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_text(text: object) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", printable(text))


def _case_name(finding: Finding) -> str:
    part = f" part {finding.sub_key}" if finding.sub_key else ""
    return xml_text(f"{finding.entity_type} {finding.entity_id}{part} ({finding.entity_name})")


def _warning_text(result: GateResult, finding: Finding) -> str | None:
    """A warning that does not fail the build passes, with the warning in its output."""
    if finding.status is not Status.WARN or result.is_blocking(finding):
        return None
    return f"warning ({finding.severity.value}, does not fail the build): {finding.message}"


def _skip_reason(result: GateResult, finding: Finding) -> str | None:
    if finding.status is Status.WAIVED and finding.waiver is not None:
        return f"waived until {finding.waiver.expires.isoformat()}: {finding.waiver.reason}"
    if finding.status is Status.EXCLUDED:
        return f"not judged: {finding.message}"
    if finding.status is Status.FAIL and not result.is_blocking(finding):
        accepted = result.baseline.by_fingerprint.get(finding.fingerprint)
        if accepted is not None and result.state_of(finding) is BaselineState.UNCHANGED:
            return f"known violation, in the baseline since {accepted.since.isoformat()}: {finding.message}"
        return (f"{result.state_of(finding).value} {finding.severity.value} violation, below --fail-on "
                f"{result.threshold}: {finding.message}")
    return None


def _testcase(suite: ET.Element, result: GateResult, finding: Finding) -> str:
    """Add one test case; return its outcome (passed, failed, skipped)."""
    case = ET.SubElement(suite, "testcase", classname=f"pd-audit.{finding.rule_id}", name=_case_name(finding),
                         time="0")
    if result.is_blocking(finding):
        failure = ET.SubElement(case, "failure", type=f"{result.state_of(finding).value}-{finding.severity.value}",
                                message=xml_text(finding.message))
        failure.text = xml_text(
            f"{finding.fingerprint}: {finding.message}" + (f"\n{finding.html_url}" if finding.html_url else "")
        )
        return "failed"
    warning = _warning_text(result, finding)
    if warning is not None:
        ET.SubElement(case, "system-out").text = xml_text(warning)
        return "passed"
    reason = _skip_reason(result, finding)
    if reason is not None:
        ET.SubElement(case, "skipped", message=xml_text(reason))
        return "skipped"
    return "passed"


def render(result: GateResult) -> str:
    by_rule: dict[str, list[Finding]] = collections.defaultdict(list)
    for finding in result.assessment.findings:
        if finding.status is not Status.NOT_APPLICABLE:
            by_rule[finding.rule_id].append(finding)
    root = ET.Element("testsuites", name="pd-audit check")
    totals: collections.Counter[str] = collections.Counter()
    for rule_id in sorted(by_rule):
        rule = result.assessment.pack.resolve(rule_id)
        suite = ET.SubElement(root, "testsuite", name=xml_text(f"{rule_id} {rule.title if rule else ''}".strip()))
        outcomes = collections.Counter(
            _testcase(suite, result, f) for f in sorted(by_rule[rule_id], key=lambda f: f.fingerprint)
        )
        suite.attrib.update(tests=str(outcomes.total()), failures=str(outcomes["failed"]), errors="0",
                            skipped=str(outcomes["skipped"]), time="0")
        totals.update(outcomes)
    root.attrib.update(tests=str(totals.total()), failures=str(totals["failed"]), errors="0",
                       skipped=str(totals["skipped"]), time="0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
