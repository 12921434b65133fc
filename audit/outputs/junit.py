"""JUnit XML: the check as test results, written as it is made.

CI systems (GitLab's test reports, Jenkins, Azure DevOps) show JUnit natively.
One ``testsuite`` per rule. Every finding a CI reader may have to act on is its
own ``testcase``, named after its object:

- new (or worse than in the baseline) at or above ``--fail-on``: a ``failure``
  (so failures == what breaks the build);
- failing but accepted (in the baseline, below the threshold) or waived: ``skipped``
  with the reason, so known debt stays visible without failing the report;
- a warning that does not fail the build: a passing case with the warning in its output.

Passes and objects not judged for missing data are counted, as the score's JSON counts
them: one passing case named ``passes`` per rule says how many objects pass, one skipped
case named ``not judged`` how many could not be judged and why. Their names do not
change with the counts, so a CI system's test history follows them from run to run. At
12,000 services a case per pass would be some 170,000 cases that say nothing; ``check
--all`` asks for them anyway, one case per object. Objects a rule does not apply to are
never test cases.

The counts on ``testsuites`` and each ``testsuite`` come first in the file, so they are
counted in a first pass over the findings; the cases are then written one at a time with
``xml.sax.saxutils.XMLGenerator`` (which escapes markup). Characters XML 1.0 cannot carry
at all (control characters, U+FFFE/U+FFFF, lone surrogates) are replaced first.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import re
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

import numpy as np

from audit.finding_table import STATUS_CODE, as_table
from audit.findings import Finding, Status
from audit.gate import BaselineState, GateResult
from audit.json_text import TextOut
from audit.safe_text import printable

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
COUNTED = frozenset({Status.PASS, Status.EXCLUDED})  # counted per rule unless every object is asked for
CHECK_ALL = "pd-audit check --all"  # what lists every counted object as its own case


def xml_text(text: object) -> str:
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", printable(text))


@dataclasses.dataclass(frozen=True)
class Case:
    """One test case: its name, outcome, and the one child element saying why (if any)."""

    classname: str
    name: str
    outcome: str
    child: str | None = None  # failure, skipped or system-out
    attributes: tuple[tuple[str, str], ...] = ()
    text: str | None = None


def _case_name(finding: Finding) -> str:
    part = f" part {finding.sub_key}" if finding.sub_key else ""
    return f"{finding.entity_type} {finding.entity_id}{part} ({finding.entity_name})"


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


def _outcome(result: GateResult, finding: Finding) -> str:
    """What the finding's case will be, without making its text (the counting pass)."""
    if result.is_blocking(finding):
        return FAILED
    if finding.status is Status.WARN:
        return PASSED
    if finding.status is Status.EXCLUDED or (finding.status is Status.WAIVED and finding.waiver is not None):
        return SKIPPED
    return SKIPPED if finding.status is Status.FAIL else PASSED


def finding_case(result: GateResult, finding: Finding) -> Case:
    classname, name = f"pd-audit.{finding.rule_id}", _case_name(finding)
    if result.is_blocking(finding):
        text = f"{finding.fingerprint}: {finding.message}" + (f"\n{finding.html_url}" if finding.html_url else "")
        return Case(classname, name, FAILED, "failure", (
            ("type", f"{result.state_of(finding).value}-{finding.severity.value}"), ("message", finding.message)), text)
    warning = _warning_text(result, finding)
    if warning is not None:
        return Case(classname, name, PASSED, "system-out", text=warning)
    reason = _skip_reason(result, finding)
    if reason is not None:
        return Case(classname, name, SKIPPED, "skipped", (("message", reason),))
    return Case(classname, name, PASSED)


def _objects(count: int, entity_type: str) -> str:
    label = entity_type.replace("_", " ")
    if count != 1:
        label = label[:-1] + "ies" if label.endswith("y") else label + "s"
    return f"{count:,} {label}"


@dataclasses.dataclass
class Counted:
    """A rule's passes and objects not judged, as its counted cases need them: how many, the entity type
    of the first of each, and the reasons not judged (each with how many, in the order first seen)."""

    passes: int = 0
    pass_type: str = ""
    reasons: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    excluded_type: str = ""


def counted_cases(rule_id: str, counted: Counted, all_option: str | None = CHECK_ALL) -> list[Case]:
    """The rule's passes and not-judged objects as one case each (see the module); ``all_option``: the
    command line that would list each of them, if the command has one."""
    cases = []
    if counted.passes:
        cases.append(Case(f"pd-audit.{rule_id}", "passes", PASSED, "system-out", text=(
            f"{_objects(counted.passes, counted.pass_type)} pass {rule_id}"
            + (f" (`{all_option}` lists each as its own test case)" if all_option else ""))))
    if counted.reasons:
        (first, times), *others = counted.reasons.most_common()
        more = f"; {len(others)} other reason(s)" if others else ""
        cases.append(Case(f"pd-audit.{rule_id}", "not judged", SKIPPED, "skipped", (("message", (
            f"{_objects(counted.reasons.total(), counted.excluded_type)} not judged: the data they need is not "
            f"in the snapshot ({times:,}: {first}{more})")),)))
    return cases


@dataclasses.dataclass
class _Suite:
    rule_id: str
    all_option: str | None
    listed: list[Finding] = dataclasses.field(default_factory=list)
    counted: Counted = dataclasses.field(default_factory=Counted)
    outcomes: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def cases(self, result: GateResult) -> Iterator[Case]:
        for finding in sorted(self.listed, key=lambda f: f.fingerprint):
            yield finding_case(result, finding)
        yield from counted_cases(self.rule_id, self.counted, self.all_option)


def _suites(result: GateResult, every_object: bool, all_option: str | None) -> list[_Suite]:
    """The counting pass: each rule's findings split into listed and counted, and its outcomes.

    Read from the finding table's columns: only the listed findings are made (at 12,000 services the
    counted passes are some 220,000 findings, each made only to be counted)."""
    suites: dict[str, _Suite] = {}

    def suite_of(rule_id: str) -> _Suite:
        return suites.get(rule_id) or suites.setdefault(rule_id, _Suite(rule_id, all_option))

    table = as_table(result.assessment.findings)
    judged = table.status != STATUS_CODE[Status.NOT_APPLICABLE]
    counted = np.zeros_like(judged) if every_object else judged & table.status_mask(COUNTED)
    for finding in table.rows(np.flatnonzero(judged & ~counted).tolist()):
        suite = suite_of(finding.rule_id)
        suite.listed.append(finding)
        suite.outcomes[_outcome(result, finding)] += 1
    rules, (rule_code, rule_ids) = table.rules, table.rule_ids()
    passes = np.flatnonzero(counted & (table.status == STATUS_CODE[Status.PASS]))
    codes, first = np.unique(rule_code[passes], return_index=True)
    how_many = np.bincount(rule_code[passes], minlength=len(rule_ids))
    for code, row in zip(codes.tolist(), passes[first].tolist(), strict=True):
        suite = suite_of(rule_ids[code])
        suite.counted.passes, suite.counted.pass_type = int(how_many[code]), rules[table.rule[row]].entity_type
    excluded = np.flatnonzero(counted & (table.status == STATUS_CODE[Status.EXCLUDED])).tolist()
    for rule, message in zip((rules[code] for code in table.rule[excluded].tolist()), table.message[excluded].tolist(),
                             strict=True):
        not_judged = suite_of(rule.rule_id).counted
        not_judged.reasons[rule.title if message is None else message] += 1
        not_judged.excluded_type = not_judged.excluded_type or rule.entity_type
    for suite in suites.values():
        suite.outcomes.update(case.outcome for case in counted_cases(suite.rule_id, suite.counted, all_option))
    return [suites[rule_id] for rule_id in sorted(suites)]


def _counts(outcomes: collections.Counter[str]) -> dict[str, str]:
    return {"tests": str(outcomes.total()), "failures": str(outcomes[FAILED]), "errors": "0",
            "skipped": str(outcomes[SKIPPED]), "time": "0"}


class _TextSink(io.TextIOBase):
    """``out`` as the text stream ``XMLGenerator`` writes to (given anything else, it writes bytes)."""

    def __init__(self, out: TextOut):
        super().__init__()
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, text: str, /) -> int:
        self.out.write(text)
        return len(text)


class _Writer:
    """Elements through ``XMLGenerator``, indented two spaces a level as ``ElementTree.indent`` would."""

    def __init__(self, out: TextOut):
        self.xml = XMLGenerator(_TextSink(out), encoding="utf-8", short_empty_elements=True)

    def start(self, depth: int, tag: str, attributes: Iterable[tuple[str, str]]) -> None:
        self.xml.ignorableWhitespace("\n" + "  " * depth if depth else "")
        self.xml.startElement(tag, AttributesImpl({key: xml_text(value) for key, value in attributes}))

    def end(self, depth: int, tag: str, *, indent: bool = True) -> None:
        if indent:
            self.xml.ignorableWhitespace("\n" + "  " * depth)
        self.xml.endElement(tag)

    def case(self, case: Case) -> None:
        self.start(2, "testcase", (("classname", case.classname), ("name", case.name), ("time", "0")))
        if case.child is None:
            self.xml.endElement("testcase")
            return
        self.start(3, case.child, case.attributes)
        if case.text is not None:
            self.xml.characters(xml_text(case.text))
        self.xml.endElement(case.child)
        self.end(2, "testcase")


def write(result: GateResult, out: TextOut, *, every_object: bool = False, name: str = "pd-audit check",
          all_option: str | None = CHECK_ALL) -> None:
    """Write the JUnit XML to ``out``, one case at a time (``every_object``: ``check --all``;
    ``all_option``: how the passes' case tells to list each, None for a command without it)."""
    suites = _suites(result, every_object, all_option)
    totals: collections.Counter[str] = collections.Counter()
    for suite in suites:
        totals.update(suite.outcomes)
    writer = _Writer(out)
    writer.xml.startDocument()
    writer.start(0, "testsuites", (("name", name), *_counts(totals).items()))
    for suite in suites:
        rule = result.assessment.pack.resolve(suite.rule_id)
        title = f"{suite.rule_id} {rule.title if rule else ''}".strip()
        writer.start(1, "testsuite", (("name", title), *_counts(suite.outcomes).items()))
        for case in suite.cases(result):
            writer.case(case)
        writer.end(1, "testsuite", indent=bool(suite.outcomes))
    writer.end(0, "testsuites", indent=bool(suites))
    writer.xml.ignorableWhitespace("\n")
    writer.xml.endDocument()


def render(result: GateResult, *, every_object: bool = False, name: str = "pd-audit check") -> str:
    out = io.StringIO()
    write(result, out, every_object=every_object, name=name)
    return out.getvalue()
