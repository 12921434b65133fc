"""Fixtures for the CI gate: the Acme account crawled as it is and with one policy broken.

Exact expectations use the small pack in ``data/ci-pack.yaml`` with every built-in
rule disabled by the config (the list is read from the built-in packs, not
written here), so these tests do not depend on the built-in catalog.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from audit.assess import ALL_MODES, STATIC_ONLY, Assessment, assess
from audit.crawl import Window, crawl_to_snapshot
from audit.facts.columns import column_names
from audit.rules import load_packs

from ..crawl.conftest import ACME, SINCE, emulator_app, make_client
from ..robustness.hostile import hostile_acme

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
CI_PACK = DATA / "ci-pack.yaml"
SARIF_SCHEMA = DATA / "sarif-schema-2.1.0.json"  # OASIS SARIF 2.1.0, vendored (data/README.md says why)
TODAY = SINCE.date()  # waivers are judged as of the crawl window's start
REPORT_DATA = Path(__file__).parents[1] / "reports" / "data"
HOSTILE_TODAY = dt.date(2027, 2, 2)  # one of the report config's waivers valid, one expired
BROKEN_POLICY = "PEP0001"  # Payments: three healthy levels in the example account


def acme_account() -> dict[str, Any]:
    return json.loads(ACME.read_text(encoding="utf-8"))


def policy(account: dict[str, Any], policy_id: str) -> dict[str, Any]:
    return next(p for p in account["escalation_policies"] if p["id"] == policy_id)


def cut_to_one_level(account: dict[str, Any], policy_id: str = BROKEN_POLICY) -> dict[str, Any]:
    """A copy of the account where one policy lost every level below the first (the broken policy)."""
    changed = copy.deepcopy(account)
    del policy(changed, policy_id)["escalation_rules"][1:]
    return changed


def add_backup_level(account: dict[str, Any], policy_id: str, schedule_id: str) -> dict[str, Any]:
    """A copy where a one-level policy gained a second level targeting ``schedule_id`` (a fix)."""
    changed = copy.deepcopy(account)
    rules = policy(changed, policy_id)["escalation_rules"]
    rules.append({"id": f"PER9{policy_id[-3:]}", "escalation_delay_in_minutes": 15,
                  "targets": [{"id": schedule_id, "type": "schedule_reference"}]})
    return changed


def crawl_account(account: dict[str, Any], folder: Path, *, since: datetime = SINCE) -> Path:
    """Serve ``account`` with the in-process emulator and crawl it into ``folder/snapshot``."""
    folder.mkdir(parents=True, exist_ok=True)
    app = emulator_app(account, folder, clock=lambda: since)
    client = make_client(app)
    try:
        path, _ = crawl_to_snapshot(client, folder / "snapshot", Window(since, 28))
    finally:
        client.close()
    return path


def hostile_acme_judged(workdir: Path) -> Assessment:
    """The hostile Acme (attack payloads in every name PagerDuty lets a user set) crawled into ``workdir``
    and judged with the report tests' pack and config: a tier map, one waiver valid as of
    ``HOSTILE_TODAY`` (a waived finding) and one expired (a failing finding carrying its waiver)."""
    snapshot = crawl_account(hostile_acme(acme_account()), workdir)
    return assess(snapshot, rules_dirs=[REPORT_DATA / "pack"], config_path=REPORT_DATA / "pd-audit.toml",
                  cwd=workdir, today=HOSTILE_TODAY, env={})


def builtin_rule_ids() -> list[str]:
    return [rule.id for rule in load_packs([], column_names())]


def write_config(path: Path, waivers: Iterable[dict[str, str]] = ()) -> Path:
    """A pd-audit.toml that disables the built-in rules (so only the CI pack judges) plus waivers."""
    lines = ["disabled = [" + ", ".join(json.dumps(rule_id) for rule_id in builtin_rule_ids()) + "]"]
    for waiver in waivers:
        lines += ["", "[[waivers]]"] + [f"{key} = {value if key == 'expires' else json.dumps(value)}"
                                        for key, value in waiver.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ci_assess(snapshot: Path, config: Path, *, static: bool = True, today: dt.date = TODAY) -> Assessment:
    return assess(snapshot, rules_dirs=[CI_PACK], config_path=config, modes=STATIC_ONLY if static else ALL_MODES,
                  today=today)


@pytest.fixture(scope="session")
def ci_snapshots(tmp_path_factory) -> dict[str, Path]:
    """The example account evolving over three crawls, a week apart.

    base: as bundled; broken: PEP0001 (Payments) cut to one level; fixed: still broken,
    but the one-level PEP0013 (Legacy reporting) gained a backup level.
    """
    root = tmp_path_factory.mktemp("ci-snapshots")
    base = acme_account()
    broken = cut_to_one_level(base)
    fixed = add_backup_level(broken, "PEP0013", "PSCH016")
    week = dt.timedelta(days=7)
    return {
        "base": crawl_account(base, root / "base"),
        "broken": crawl_account(broken, root / "broken", since=SINCE + week),
        "fixed": crawl_account(fixed, root / "fixed", since=SINCE + 2 * week),
    }


@pytest.fixture(scope="session")
def ci_config(tmp_path_factory) -> Path:
    return write_config(tmp_path_factory.mktemp("ci-config") / "pd-audit.toml")
