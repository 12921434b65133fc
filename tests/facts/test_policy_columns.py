"""The escalation_policy table's fast paths equal their definitions as pd-audit wrote them before.

A policy of no team serving no team's service asks whether its last level reaches any team's manager:
``Teams.all_managers``, gathered once, is every team's managers.

ESC-05's share (``_backup_is_previous_primary``), each segment's holders and the measures now found
in plain Python, equals the numpy holding matrix and interval algebra it replaced
(``matrix_backup_is_previous_primary`` below; the hand-off walk between them is the same function)
on every policy of the hostile Acme and a generated account, and on generated levels: rotations
with gaps, people joining and leaving the current holder, several holders at once, touching and
nested turns, backups partly and wholly covering them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from audit.facts import escalation
from audit.facts.intervals import IntervalSet, intersection, measure, union_all
from tests.facts.builder_inputs import captured_calls, crawled_accounts

HOUR = 3600


def matrix_backup_is_previous_primary(levels: Any) -> float:
    """ESC-05's share as pd-audit worked it out until the plain-Python walk (see the module)."""
    if len(levels) < 2:
        return math.nan
    primary, backup = levels[0].people, levels[1].people
    users = sorted(primary)
    if not users:
        return math.nan
    boundaries = np.unique(np.concatenate([primary[u].starts for u in users] + [primary[u].ends for u in users]))
    segment_starts, segment_ends = boundaries[:-1], boundaries[1:]
    holds = np.zeros((len(users), len(segment_starts)), bool)
    for row, user in enumerate(users):
        held = primary[user]
        candidate = np.searchsorted(held.starts, segment_starts, side="right") - 1
        holds[row] = (candidate >= 0) & (held.ends[np.maximum(candidate, 0)] > segment_starts)
    holders_of: list[list[int]] = [[] for _ in range(len(segment_starts))]
    for segment, person in zip(*(indices.tolist() for indices in np.nonzero(holds.T)), strict=True):
        holders_of[segment].append(person)
    known = escalation.segments_after_handoffs(holders_of)
    if not known:
        return math.nan
    known_seconds = 0
    matched_seconds = 0
    for previous_holders, segments in known.items():
        chosen = np.array(segments)
        stretch = IntervalSet.from_epoch(segment_starts[chosen], segment_ends[chosen])
        known_seconds += measure(stretch)
        backups = [backup[users[person]] for person in previous_holders if users[person] in backup]
        if backups:
            matched_seconds += measure(intersection(stretch, union_all(backups)))
    return 100.0 * matched_seconds / known_seconds


@dataclass(frozen=True)
class PeopleOnly:
    """A level as ESC-05 reads it: who holds it when."""

    people: dict[str, IntervalSet]


def _same(first: float, second: float) -> bool:
    return repr(first) == repr(second)  # NaN is NaN, and no rounding is allowed


@pytest.fixture(scope="module")
def policy_table_calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, ...]]:
    """Account name -> the arguments the facts stage called the escalation_policy table with."""
    snapshots = crawled_accounts(tmp_path_factory.mktemp("policy-columns"))
    found = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, snapshot in snapshots.items():
            calls = captured_calls(snapshot, {"policy table": (escalation, "policy_table")}, monkeypatch)
            ((args, _kwargs),) = calls["policy table"]
            found[name] = args
    return found


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_every_policy_of_an_account(policy_table_calls, account: str) -> None:
    policies = policy_table_calls[account][0]
    shares = {pid: escalation._backup_is_previous_primary(policy.levels) for pid, policy in policies.items()}
    for policy_id, policy in policies.items():
        assert _same(shares[policy_id], matrix_backup_is_previous_primary(policy.levels)), policy_id
    assert any(share >= 0 for share in shares.values()) and any(math.isnan(s) for s in shares.values())


@pytest.mark.parametrize("account", ["hostile acme", "generated"])
def test_all_managers_are_every_teams_managers(policy_table_calls, account: str) -> None:
    teams = policy_table_calls[account][3]
    assert teams.all_managers == teams.managers(teams.roles) == {
        user for members in teams.roles.values() for user, role in members.items() if role == "manager"
    }
    assert teams.all_managers


def _turns(rng: random.Random, people: list[str], start: int, end: int, *, idle: bool) -> dict[str, IntervalSet]:
    """A rotation of ``people`` over [start, end): turns of a few hours to a week, with gaps, a second
    person joining the holder now and then, nested and touching turns; ``idle``: some people on it
    hold no time (a backup level lists them; a primary level's people hold time)."""
    spans: dict[str, list[tuple[int, int]]] = {person: [] for person in people}
    moment = start + rng.choice([0, 0, 3 * HOUR])
    while moment < end:
        length = rng.choice([HOUR, 8 * HOUR, 12 * HOUR, 24 * HOUR, 7 * 24 * HOUR, 61])
        holder = rng.choice(people)
        spans[holder].append((moment, min(moment + length, end)))
        if rng.random() < 0.3:  # someone joins for part of the turn, or the whole of it
            joiner = rng.choice(people)
            offset = rng.choice([0, length // 2])
            spans[joiner].append((min(moment + offset, end), min(moment + length, end)))
        moment += length + rng.choice([0, 0, 0, HOUR, 2 * 24 * HOUR])
    return {
        person: IntervalSet.from_epoch([s for s, _ in found], [e for _, e in found])
        for person, found in spans.items() if found or (idle and rng.random() < 0.5)
    }


@pytest.mark.parametrize("seed", range(6))
def test_generated_levels(seed: int) -> None:
    rng = random.Random(seed)
    start, end = 1_800_000_000, 1_800_000_000 + 28 * 24 * HOUR
    shares = []
    for _ in range(150):
        people = [f"PU{n}" for n in rng.sample(range(12), rng.choice([1, 2, 3, 5]))]
        primary = _turns(rng, people, start, end, idle=False)
        backup_people = rng.sample(people, max(1, len(people) // 2)) + ["PUOTHER"]
        backup = _turns(rng, backup_people, start, end, idle=True) if rng.random() < 0.8 else {}
        if rng.random() < 0.1:  # everyone who was primary backs up all the time
            backup = {person: IntervalSet.from_epoch([start], [end]) for person in people}
        levels = [PeopleOnly(primary), PeopleOnly(backup)]
        share = escalation._backup_is_previous_primary(levels)
        assert _same(share, matrix_backup_is_previous_primary(levels)), (seed, primary, backup)
        shares.append(share)
    assert any(math.isnan(s) for s in shares) and any(0 < s < 100 for s in shares)
    assert any(s == 0 for s in shares) and any(s == 100 for s in shares)
