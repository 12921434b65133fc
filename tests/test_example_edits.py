"""The three worked examples of examples/README.md, done again: each edit makes exactly the findings it says.

A documented example that stopped being true would mislead the reader it was written for, so
each edit is applied to a copy of the Acme account, crawled and judged with the account's
config, and its new failing findings compared with the ones the README prints.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from audit.assess import assess
from tests.ci.conftest import crawl_account

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ACME = EXAMPLES / "acme"
TODAY = date(2027, 1, 4)  # the demo's window start: waivers are judged as of it
PAYMENTS_SERVICES = ("PSVC001", "PSVC002", "PSVC003", "PSVC005", "PSVC006")  # the services on policy PEP0001


def find(account: dict[str, Any], collection: str, object_id: str) -> dict[str, Any]:
    return next(o for o in account[collection] if o["id"] == object_id)


def remove_service_team(account):  # example 1, the trap
    del find(account, "services", "PSVC001")["teams"]


def remove_policy_team(account):  # example 1, the edit that works
    find(account, "escalation_policies", "PEP0001")["teams"] = []
    for service_id in PAYMENTS_SERVICES:
        del find(account, "services", service_id)["teams"]


def keep_first_level(account):  # example 2
    del find(account, "escalation_policies", "PEP0001")["escalation_rules"][1:]


def remove_push(account):  # example 3
    user = find(account, "users", "PUSR001")
    push = {m["id"] for m in user["contact_methods"] if m["type"] == "push_notification_contact_method"}
    user["contact_methods"] = [m for m in user["contact_methods"] if m["id"] not in push]
    for rules in ("notification_rules", "oncall_handoff_notification_rules"):
        user[rules] = [r for r in user[rules] if r["contact_method"]["id"] not in push]


def failing(account: dict[str, Any], folder: Path) -> set[tuple[str, str]]:
    assessment = assess(crawl_account(account, folder), config_path=ACME / "pd-audit.toml", today=TODAY)
    return {(f.rule_id, f.entity_id) for f in assessment.failing()}


@pytest.fixture(scope="module")
def acme() -> dict[str, Any]:
    return json.loads((ACME / "account.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def before(acme, tmp_path_factory) -> set[tuple[str, str]]:
    return failing(acme, tmp_path_factory.mktemp("before"))


@pytest.mark.parametrize("edit, expected", [
    (remove_service_team, set()),
    (remove_policy_team, {("OWN-01", s) for s in PAYMENTS_SERVICES}),
    (keep_first_level, {("ESC-01", "PEP0001"), ("ESC-02", "PEP0001"), ("OC-02", "PEP0001")}),
    (remove_push, {("RCH-01", "PUSR001"), ("RCH-05", "PUSR001")}),
], ids=lambda value: getattr(value, "__name__", ""))
def test_each_worked_example_makes_the_findings_the_readme_shows(acme, before, tmp_path, edit, expected):
    edited = copy.deepcopy(acme)
    edit(edited)
    assert failing(edited, tmp_path) - before == expected


def test_the_readme_prints_those_findings():
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for line in ("OWN-01  critical service Payments API (PSVC001)", "ESC-01  high     escalation_policy Payments (PEP0001)",
                 "OC-02   high     escalation_policy Payments (PEP0001)", "RCH-01  high     user Maya Chen (PUSR001)",
                 "RCH-05  low      user Maya Chen (PUSR001)"):
        assert line in text, line
