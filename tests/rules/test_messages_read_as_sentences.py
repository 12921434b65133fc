"""Every built-in rule's message reads as a sentence, over the example accounts and odd data.

Each rule's message is rendered for every row of its facts table (failing or not, so every
branch of every template is exercised), and every finding's message is read too, on: the
example account (with and without its config), the Northwind account, and Northwind with the
odd-but-legal data the robustness corpus plants (nulls, empty lists, a policy without levels,
a schedule without layers, targets that were deleted). None may hold a placeholder or a
leftover of the template: "n/a", "None", "nan", "True"/"False", "[]", "()", a dangling ": ",
"1 people" or "level(s)".
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from audit.assess import Assessment, assess
from audit.rules.evaluation import render_messages
from tests.crawl.conftest import ACME, crawl, emulator_app
from tests.emulator.conftest import northwind_account

ACME_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "acme" / "pd-audit.toml"
FORBIDDEN = {
    "a placeholder for a missing value": re.compile(r"\bn/a\b|\bNone\b|\b[Nn]a[Nn]\b"),
    "a Python boolean": re.compile(r"\bTrue\b|\bFalse\b"),
    "an empty list or parentheses": re.compile(r"\[\]|\(\s*\)"),
    "a dangling ': '": re.compile(r":\s*$|:\s*[;,.)]"),
    "a count that disagrees with its noun": re.compile(r"(?<![\w.-])1 people\b|\blevel\(s\)|(?<![\w.-])1 (?:\w+ ){0,2}\w+\(s\)"),
}


def odd_northwind() -> dict[str, Any]:
    """Northwind with the robustness corpus's odd but legal data in one account."""
    account = copy.deepcopy(northwind_account())
    service = account["services"][0]
    service["acknowledgement_timeout"] = None
    service["auto_resolve_timeout"] = None
    account["services"][3]["integrations"] = []
    account["services"][3]["teams"] = []
    account["users"][0]["time_zone"] = None
    for user in account["users"][1:3]:
        user["contact_methods"] = []
        user["notification_rules"] = []
    account["escalation_policies"][1]["escalation_rules"] = []
    account["schedules"][-1]["schedule_layers"] = []
    first_rule = account["escalation_policies"][0]["escalation_rules"][0]
    first_rule["targets"] = [*first_rule["targets"], {"id": "PGONE01", "type": "user_reference"}]
    return account


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Assessment]:
    judged = {}
    acme, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("acme") / "snap")
    judged["acme"] = assess(acme, config_path=ACME_CONFIG)
    judged["acme without config"] = assess(acme, cwd=tmp_path_factory.mktemp("empty"), env={})
    for name, account in (("northwind", copy.deepcopy(northwind_account())), ("odd northwind", odd_northwind())):
        folder = tmp_path_factory.mktemp(name.replace(" ", "-"))
        snapshot, _ = crawl(emulator_app(account, folder), folder / "snap")
        judged[name] = assess(snapshot, cwd=folder, env={})
    return judged


def problems(text: str) -> list[str]:
    return [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]


def test_the_patterns_catch_what_they_should() -> None:
    for bad in ("at n/a min", "ended: False", "0 owning teams ()", "services on it: ", "cycle: ; x",
                "1 level(s)", "1 people on it", "[]"):
        assert problems(bad), bad
    for good in ("owned by 2 teams: Payments, Search", "ended: no", "1 person on the rotation",
                 "turns last 336 h (needs 8-168 h)", "3 levels"):
        assert not problems(good), good


def test_every_rule_message_reads_as_a_sentence_on_every_row(accounts: dict[str, Assessment]) -> None:
    seen: dict[str, set[str]] = {}
    bad = []
    for name, assessment in accounts.items():
        for rule in assessment.pack:
            table = assessment.facts.tables.get(rule.facts_table)
            if table is None or table.empty or not rule.names.message <= set(table.columns) | set(rule.params):
                continue  # analytics rules: their columns are never crawled
            for message in render_messages(rule, table).values():
                seen.setdefault(rule.id, set()).add(message)
                bad += [f"{name}: {rule.id}: {what}: {message!r}" for what in problems(message)]
        for finding in assessment.findings:
            bad += [f"{name}: {finding.rule_id} on {finding.entity_id}: {what}: {finding.message!r}"
                    for what in problems(finding.message)]
    assert not bad, "\n".join(sorted(set(bad))[:40])
    judged_rules = {r.id for a in accounts.values() for r in a.pack if r.mode.value != "A"}
    assert judged_rules <= set(seen), sorted(judged_rules - set(seen))


def test_a_level_two_check_on_a_one_level_policy_is_not_applicable(accounts: dict[str, Assessment]) -> None:
    assessment = accounts["odd northwind"]
    levels = assessment.facts.tables["escalation_policy"].set_index("id")["level_count"]
    for finding in assessment.findings:
        if finding.rule_id == "ESC-05" and levels.get(finding.entity_id, 2) < 2:
            assert finding.status.value == "not_applicable", finding
