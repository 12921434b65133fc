"""Rules judged by two processes (``audit.rules.claims``): the findings, ``not_run`` and errors of a run in line.

A forked child judges rules from the end of the pack while this process judges them from the start,
only on accounts large enough (``FORK_FROM_JUDGEMENTS``); these tests lower the bar to nothing and
give the child a head start (``ChildFirst``) so that it is sure to judge some rules, however fast
this process is. Acme is crawled through the emulator and judged with the built-in packs and the
report tests' pack, as the finding-table tests do.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from audit.assess import Assessment, assess
from audit.errors import UserError
from audit.facts.forked import Forked
from audit.rules import EvaluationContext, RulePack, evaluate, load_packs
from audit.rules import evaluation as evaluation_module
from audit.rules.claims import Claims
from tests.crawl.conftest import ACME, crawl, emulator_app

from .conftest import Account

REPORT_DATA = Path(__file__).parents[1] / "reports" / "data"
BROKEN = {  # a rule whose condition compares names with a number: pandas cannot evaluate it
    "title": "Service names are short", "entity": "service", "severity": "low", "level": 4, "mode": "S",
    "rationale": "Short names fit on a phone screen.", "fix": "Rename the service.", "message": "{name} is too long",
    "condition": "name > 3",
}  # fmt: skip


class ChildFirst(Claims):
    """Claims whose front waits, before its first task, until the child has taken ``head_start`` from the back."""

    head_start = 1
    made: list[ChildFirst] = []  # noqa: RUF012 - the instances evaluate made, for the test to look at

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.waited = False
        ChildFirst.made.append(self)

    def front(self) -> int | None:
        if not self.waited:
            self.waited = True
            deadline = time.monotonic() + 10  # a safeguard: each test gives a head start its child reaches
            while self.untaken().stop > self.count - min(self.head_start, self.count) and time.monotonic() < deadline:
                time.sleep(0.001)
        return super().front()


@pytest.fixture
def forked(monkeypatch):
    """Every evaluation shares its rules out with a forked child that starts first (``ChildFirst.made``
    lists the claims each made)."""
    monkeypatch.setattr(evaluation_module, "FORK_FROM_JUDGEMENTS", 0)
    monkeypatch.setattr(evaluation_module, "forking_helps", lambda: True)
    monkeypatch.setattr(evaluation_module, "Claims", ChildFirst)
    monkeypatch.setattr(ChildFirst, "made", [])
    monkeypatch.setattr(ChildFirst, "head_start", 1)
    return ChildFirst


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    workdir = tmp_path_factory.mktemp("acme-split")
    snapshot, _ = crawl(emulator_app(ACME), workdir / "snapshot")
    return assess(snapshot, rules_dirs=[REPORT_DATA / "pack"], config_path=REPORT_DATA / "pd-audit.toml",
                  cwd=workdir, env={})


def _evaluate(pack: RulePack, acme: Assessment):
    context = EvaluationContext(rollup=acme.facts.rollup(), unavailable=acme.facts.unavailable)
    return evaluate(pack, acme.facts.tables, context)


def assert_same_evaluation(split, in_line) -> None:
    """Column by column, the subjects, the rules and ``not_run`` (in its order)."""
    table, expected = split.findings, in_line.findings
    for column in ("rule", "subject", "status", "severity"):
        assert getattr(table, column).dtype == getattr(expected, column).dtype, column
        assert np.array_equal(getattr(table, column), getattr(expected, column)), column
    assert table.message.tolist() == expected.message.tolist()
    assert table.rules == expected.rules
    assert table.subjects == expected.subjects
    assert list(split.not_run.items()) == list(in_line.not_run.items())


@pytest.mark.parametrize("head_start", [1, 0.5, 1.0])  # a rule, half the rules, every rule
def test_the_split_gives_the_in_line_findings_on_acme(acme, forked, head_start):
    pack = acme.pack
    assert len({rule.facts_table for rule in pack}) >= 5 and acme.evaluation.not_run  # a realistic pack
    forked.head_start = head_start if isinstance(head_start, int) else round(head_start * len(pack))
    split = _evaluate(pack, acme)
    (claims,) = forked.made
    assert claims.met is not None and claims.met <= claims.count - min(forked.head_start, claims.count)
    assert_same_evaluation(split, acme.evaluation)


def test_a_pack_on_one_table_is_split_too(acme, forked, monkeypatch):
    pack = RulePack(rules=tuple(rule for rule in acme.pack if rule.facts_table == "service"))
    in_line = _in_line(monkeypatch, lambda: _evaluate(pack, acme))
    forked.head_start = len(pack) // 2
    split = _evaluate(pack, acme)
    (claims,) = forked.made
    assert len(pack) > 10 and claims.met is not None and claims.met <= len(pack) - len(pack) // 2
    assert_same_evaluation(split, in_line)


def test_a_small_account_is_judged_in_line(acme, monkeypatch):
    def no_fork(*args, **kwargs):
        raise AssertionError("forked below FORK_FROM_JUDGEMENTS")

    monkeypatch.setattr(evaluation_module, "Forked", no_fork)
    judgements = sum(len(acme.facts.tables[rule.facts_table]) for rule in acme.pack)
    assert judgements < evaluation_module.FORK_FROM_JUDGEMENTS
    assert_same_evaluation(_evaluate(acme.pack, acme), acme.evaluation)
    monkeypatch.setattr(evaluation_module, "FORK_FROM_JUDGEMENTS", judgements)
    monkeypatch.setattr(evaluation_module, "forking_helps", lambda: False)  # one core
    assert_same_evaluation(_evaluate(acme.pack, acme), acme.evaluation)


def _in_line(monkeypatch, run):
    """``run()`` with evaluation kept in this process (one core, as far as it knows)."""
    with monkeypatch.context() as patched:
        patched.setattr(evaluation_module, "forking_helps", lambda: False)
        return run()


def _with_broken(account: Account, tmp_path: Path, core_pack: RulePack, *ids: str) -> RulePack:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({"rules": [{"id": rule_id, **BROKEN} for rule_id in ids]}), encoding="utf-8")
    extra = load_packs([path], account.columns, include_builtin=False)
    return RulePack(rules=tuple(sorted(core_pack.rules + extra.rules, key=lambda rule: rule.id)))


def _error(pack: RulePack, account: Account, facts=None) -> str:
    with pytest.raises((UserError, ValueError)) as raised:
        evaluate(pack, facts or account.facts, EvaluationContext(rollup=account.rollup))
    return f"{type(raised.value).__name__}: {raised.value}"


@pytest.mark.parametrize(("broken", "reported", "head_start", "met"), [
    (["ZZ-01"], "ZZ-01", 1, -1),  # the pack's last rule: the child's first; this process judges the others
    (["AA-01"], "AA-01", "all", 0),  # the pack's first rule, judged last by the child that takes them all
    (["AA-01", "ZZ-01"], "AA-01", 1, None),  # both fail: this process fails first, before the fronts meet
])
def test_an_error_is_the_in_line_error(account, core_pack, tmp_path, forked, monkeypatch, broken, reported,
                                       head_start, met):
    pack = _with_broken(account, tmp_path, core_pack, *broken)
    in_line = _in_line(monkeypatch, lambda: _error(pack, account))
    assert in_line.startswith("UserError: ") and f": {reported}: condition: cannot be evaluated" in in_line
    forked.head_start = len(pack) if head_start == "all" else head_start
    assert _error(pack, account) == in_line
    (claims,) = forked.made
    assert claims.met == (len(pack) + met if met == -1 else met)


def test_a_broken_table_the_child_reaches_first_is_reported_for_its_first_rule(account, core_pack, forked,
                                                                                 monkeypatch):
    # Duplicate schedule rows: the child meets them at the pack's last schedule rule, a run in line at its first.
    facts = {**account.facts, "schedule": account.facts["schedule"].iloc[[0, 0, 1]].reset_index(drop=True)}
    in_line = _in_line(monkeypatch, lambda: _error(core_pack, account, facts))
    schedule_rules = [position for position, rule in enumerate(core_pack) if rule.facts_table == "schedule"]
    assert in_line.startswith("ValueError: the schedule facts have duplicate rows")
    assert in_line.endswith(f"{core_pack.rules[schedule_rules[0]].id} cannot fingerprint them")
    forked.head_start = len(core_pack) - schedule_rules[-1]
    assert _error(core_pack, account, facts) == in_line


@pytest.mark.parametrize(("broken", "entity", "reported", "met"), [
    # judged by the child, before the team table's first rule: the fronts meet there
    ("OC-02", "service", "OC-02: condition", True),
    # the team table's first rule: its subjects come first, and fail before this process asks for the rule
    ("OC-11", "team", "no reach for team PTEAM01", False),
])
def test_a_failure_laying_out_subjects_is_reported_in_pack_order(account, core_pack, tmp_path, forked,
                                                                 monkeypatch, broken, entity, reported, met):
    # This process lays out every rule's subjects, the child's rules' too: here the team table's fail
    # (standing for any failure there), at or after the child's broken rule, the first it meets.
    def reach(self, entity_type, entity_id):
        if entity_type == "team":
            raise ValueError(f"no reach for team {entity_id}")
        return original(self, entity_type, entity_id)

    original = evaluation_module._Reach.of
    monkeypatch.setattr(evaluation_module._Reach, "of", reach)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump({"rules": [{**BROKEN, "id": broken, "entity": entity}]}), encoding="utf-8")
    pack = RulePack(rules=tuple(sorted(core_pack.rules + load_packs([path], account.columns,
                                                                    include_builtin=False).rules,
                                       key=lambda rule: rule.id)))
    in_line = _in_line(monkeypatch, lambda: _error(pack, account))
    assert reported in in_line
    position = [rule.id for rule in pack].index(broken)
    forked.head_start = len(pack) - position
    assert _error(pack, account) == in_line
    assert forked.made[0].met == (position if met else None)


def test_claims_give_every_task_once_from_the_front_and_the_back():
    claims = Claims(200)
    try:
        child = Forked(lambda: [claims.back() for _ in range(150)])
        front = []
        while (position := claims.front()) is not None:
            front.append(position)
        back = [position for position in child.result() if position is not None]
        assert claims.untaken() == range(len(front), len(front))
    finally:
        claims.close()
    assert front == list(range(len(front)))  # the front takes in order: a prefix is this process's
    assert sorted(front + back) == list(range(200)) and back == sorted(back, reverse=True)
    assert claims.met == len(front)
