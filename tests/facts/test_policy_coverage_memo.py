"""Policy coverage remembered across policies (``coverage.policy_coverage`` with ``known``) equals
each policy's coverage worked out on its own, every level, backup and the levels together from
scratch (``plain_policy_coverage`` below, pd-audit's definition before it remembered them), on
every policy of the hostile Acme and a generated account, in either order, and over the window or
a service's support hours; and a promise's coverage shared between the services of the same support
hours (``escalation.promise_coverage`` with ``known``) equals each service's worked out alone.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from audit.facts import escalation
from audit.facts.coverage import PolicyCoverage, coverage, policy_coverage, support_hours_intervals
from audit.facts.intervals import IntervalSet, as_interval_set, clip, union_all
from tests.facts.builder_inputs import captured_calls, crawled_accounts

TOLERANCE = escalation.GAP_TOLERANCE_SECONDS
OFFICE_HOURS = {"type": "fixed_time_per_day", "time_zone": "America/New_York", "days_of_week": [1, 2, 3, 4, 5],
                "start_time": "09:00:00", "end_time": "17:00:00"}


def plain_policy_coverage(levels: list[list[IntervalSet]], window: Any) -> PolicyCoverage:
    promised = as_interval_set(window)
    level_sets = [clip(union_all(targets), promised) for targets in levels]
    return PolicyCoverage(
        levels=tuple(coverage(level, promised, ignore_gaps_shorter_than=TOLERANCE) for level in level_sets),
        any_level=coverage(union_all(level_sets), promised, ignore_gaps_shorter_than=TOLERANCE),
        backups=tuple(coverage(backup, primary, ignore_gaps_shorter_than=TOLERANCE)
                      for primary, backup in itertools.pairwise(level_sets)),
    )


@pytest.fixture(scope="module")
def account_levels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[list[list[IntervalSet]]], Any]]:
    """Account name -> every policy's levels as their targets' covered time, and the window."""
    snapshots = crawled_accounts(tmp_path_factory.mktemp("coverage-memo"))
    found = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, snapshot in snapshots.items():
            calls = captured_calls(snapshot, {"policies": (escalation, "resolve_policies")}, monkeypatch)
            (((records, targets, window), _kwargs),) = calls["policies"]
            policies = escalation.resolve_policies(records, targets, window)
            # Each level by its targets (schedules' time, a reachable user's whole window), as resolved.
            levels = [
                [[targets.schedules[s].covered for s in level.schedule_ids]
                 + [window for u in level.user_ids if u not in level.unreachable] for level in policy.levels]
                for policy in policies.values() if policy.levels
            ]
            found[name] = (levels, window)
            resolved[name] = (policies, window)
    return found


resolved: dict[str, tuple[dict[str, escalation.ResolvedPolicy], IntervalSet]] = {}  # filled by account_levels


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
@pytest.mark.parametrize("order", ["as read", "reversed"])
@pytest.mark.parametrize("promise", ["window", "support hours"])
def test_remembered_equals_worked_out_alone(account_levels, account: str, order: str, promise: str) -> None:
    levels_by_policy, window = account_levels[account]
    promised = window if promise == "window" else support_hours_intervals(window, OFFICE_HOURS)
    if order == "reversed":
        levels_by_policy = levels_by_policy[::-1]
    known: dict[Any, Any] = {}
    for levels in levels_by_policy:
        remembered = policy_coverage(levels, promised, ignore_gaps_shorter_than=TOLERANCE, known=known)
        alone = policy_coverage(levels, promised, ignore_gaps_shorter_than=TOLERANCE)
        assert remembered == alone == plain_policy_coverage(levels, promised), levels
    # The accounts have what the memory must tell apart: levels covered partly, wholly and not at all.
    percentages = {round(c.pct) for c in known.values() if hasattr(c, "pct")}
    assert 100 in percentages and len(percentages) >= 2
    assert any(len(levels) > 2 for levels in levels_by_policy)


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_services_sharing_support_hours_share_coverage(account_levels, account: str) -> None:
    policies, window = resolved[account]
    weekdays = support_hours_intervals(window, OFFICE_HOURS)
    nights = support_hours_intervals(window, {**OFFICE_HOURS, "time_zone": "Asia/Kolkata", "start_time": "20:00:00",
                                              "end_time": "23:30:00", "days_of_week": [1, 3, 6, 7]})
    known: dict[IntervalSet, dict[Any, Any]] = {}
    for policy in [*policies.values(), None, *reversed(policies.values())]:
        for promised in (weekdays, nights, window):
            shared = escalation.promise_coverage(policy, promised, window, known)
            assert shared == escalation.promise_coverage(policy, promised, window), (policy, promised)
    assert set(known) == {weekdays, nights}


def test_a_level_with_no_time_and_levels_alike() -> None:
    window = IntervalSet.from_epoch([0], [7 * 86400])
    day = IntervalSet.from_epoch([0], [86400])
    known: dict[Any, Any] = {}
    for levels in ([[day], [day], []], [[], [day]], [[window], [day, window]], [[day], [day], []]):
        remembered = policy_coverage(levels, window, ignore_gaps_shorter_than=TOLERANCE, known=known)
        assert remembered == plain_policy_coverage(levels, window)
