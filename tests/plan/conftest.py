"""Fixtures for ``pd-audit plan``: the example plans of ``examples/terraform`` and a way to edit them.

The example configuration (two teams) and its plans are described in
``examples/terraform/build_plans.py``; tests load the plans as written there and change copies
of them (a reference removed, a resource edited) to make the cases they need.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from audit.assess import STATIC_ONLY, Assessment, assess
from audit.findings import Severity
from audit.plan.compare import PlanResult, judge_plan
from audit.plan.reader import parse_plan
from audit.snapshot import Snapshot

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "terraform"
PLANS = EXAMPLE / "plans"
TODAY = dt.date(2027, 1, 4)


def plan_json(name: str) -> dict[str, Any]:
    return json.loads((PLANS / name).read_text(encoding="utf-8"))


def change_of(plan: dict[str, Any], address: str) -> dict[str, Any]:
    return next(c for c in plan["resource_changes"] if c["address"] == address)


def config_of(plan: dict[str, Any], address: str) -> dict[str, Any]:
    return next(r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == address)


def static_assess(snapshot: Snapshot) -> Assessment:
    return assess(snapshot, modes=STATIC_ONLY, today=TODAY)


def judge(plan: dict[str, Any], base: Snapshot | None = None, **options: Any) -> PlanResult:
    return judge_plan(parse_plan(copy.deepcopy(plan)), base, options.pop("assess", static_assess),
                      fail_on=options.pop("fail_on", Severity.LOW), baseline_name="plan.json", **options)
