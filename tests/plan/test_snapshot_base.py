"""A plan applied to a crawled snapshot judges like ``check`` on the account the plan would leave.

The Acme example account is crawled as it is; a plan cuts the Payments policy (PEP0001) to one
level. Applying that plan to the snapshot must introduce exactly the violations ``check`` finds
when the account itself is changed the same way and crawled, and fix exactly what it fixes:
the plan path and the crawl path meet in the same raw API objects.
"""

from __future__ import annotations

import datetime as dt

import pytest

from audit.assess import STATIC_ONLY, assess
from audit.baseline import create_baseline
from audit.gate import run_gate
from audit.snapshot import load

from ..ci.conftest import acme_account, crawl_account, cut_to_one_level, policy
from ..crawl.conftest import SINCE
from .conftest import judge

TODAY = SINCE.date()


def policy_as_terraform(api_policy: dict) -> dict:
    """An escalation policy object of the API as the provider's state has it (``rule``/``target`` blocks)."""
    return {
        "id": api_policy["id"], "name": api_policy["name"], "description": api_policy.get("description"),
        "num_loops": api_policy.get("num_loops", 0), "teams": [t["id"] for t in api_policy.get("teams", [])],
        "rule": [{"id": rule["id"], "escalation_delay_in_minutes": rule["escalation_delay_in_minutes"],
                  "escalation_rule_assignment_strategy": [{"type": "assign_to_everyone"}],
                  "target": [{"type": t["type"], "id": t["id"]} for t in rule["targets"]]}
                 for rule in api_policy["escalation_rules"]],
    }


def cut_plan(account: dict) -> dict:
    before = policy_as_terraform(policy(account, "PEP0001"))
    after = {**before, "rule": before["rule"][:1]}
    return {"format_version": "1.2", "terraform_version": "1.9.8", "timestamp": "2027-01-04T09:00:00Z",
            "resource_changes": [{"address": "pagerduty_escalation_policy.payments", "mode": "managed",
                                  "type": "pagerduty_escalation_policy", "name": "payments",
                                  "change": {"actions": ["update"], "before": before, "after": after,
                                             "after_unknown": {}}}],
            "configuration": {"root_module": {"resources": []}}}


@pytest.fixture(scope="module")
def acme_snapshot(tmp_path_factory):
    return crawl_account(acme_account(), tmp_path_factory.mktemp("acme"))


def static(snapshot):
    return assess(snapshot, modes=STATIC_ONLY, today=TODAY)


def test_the_plan_on_a_snapshot_finds_what_check_finds_on_the_changed_account(tmp_path, acme_snapshot):
    base = load(acme_snapshot)
    judged = judge(cut_plan(acme_account()), base, assess=static)
    changed = crawl_account(cut_to_one_level(acme_account()), tmp_path / "cut")
    checked = run_gate(static(changed), create_baseline(static(base).findings, TODAY))

    assert {f.fingerprint for f in judged.introduced} == {f.fingerprint for f in checked.new}
    assert {e.fingerprint for e in judged.fixed} == {e.fingerprint for e in checked.absent}
    assert "ESC-01:escalation_policy:PEP0001" in {f.fingerprint for f in judged.introduced}
    assert judged.base == str(acme_snapshot)
    assert judged.address_of("escalation_policy", "PEP0001").address == "pagerduty_escalation_policy.payments"
    # objects the plan does not describe keep no address
    assert all(judged.address_of(f.entity_type, f.entity_id) is None
               for f in judged.introduced if f.entity_type != "escalation_policy")


def test_the_plan_leaves_the_snapshot_itself_untouched(acme_snapshot):
    base = load(acme_snapshot)
    before = [line for line in base.iter("escalation_policies")]
    judge(cut_plan(acme_account()), base, assess=static)
    assert [line for line in base.iter("escalation_policies")] == before
    assert dt.date.fromisoformat(base.window["since"][:10]) == TODAY


def test_live_crawls_the_account_first_then_judges_the_plan_on_it(tmp_path, monkeypatch):
    import json

    import httpx2
    from click.testing import CliRunner

    from audit import cli
    from audit.commands import crawling
    from audit.client import ApiClient

    from ..crawl.conftest import BASE_URL, TOKEN, emulator_app

    app = emulator_app(acme_account(), tmp_path, clock=lambda: SINCE)
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    monkeypatch.setattr(crawling, "api_client", lambda opts, token, transport=None: ApiClient(
        token, base_url=BASE_URL, transport=httpx2.WSGITransport(app=app), max_rate_per_minute=1_000_000))
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(cut_plan(acme_account())), encoding="utf-8")
    live = tmp_path / "live"
    result = CliRunner().invoke(cli.main, ["plan", str(plan_file), "--snapshot", str(live), "--live", "--quiet",
                                           "--since", "2027-01-04T00:00:00Z", "--json", "-"],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert (live / "manifest.json").is_file()
    data = json.loads(result.stdout)
    assert "ESC-01:escalation_policy:PEP0001" in [f["fingerprint"] for f in data["new"]]
    assert data["plan"]["applied_to"] == str(live)
    assert "FAILED" in result.stderr  # the verdict went to stderr: stdout is the JSON
