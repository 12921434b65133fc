"""Issue 16's attacks, one test each: every one is held (see ``attacks.py``)."""

from __future__ import annotations

import pytest

from tests.crawl.conftest import ACME, crawl, emulator_app
from tests.reliability.attacks import ATTACKS, Bench, run_attack


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Bench:
    work = tmp_path_factory.mktemp("attacks")
    snapshot, _ = crawl(emulator_app(ACME), work / "good")
    return Bench(work, snapshot.path)


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.name for attack in ATTACKS])
def test_attack_is_held(bench, attack):
    assert run_attack(attack, bench) == []


def test_the_corpus_covers_every_item_this_issue_fixes_on_the_output_side():
    assert {attack.item for attack in ATTACKS} >= {1, 4, 5, 6, 7, 8, 9, 10, 12}
