"""The broken-snapshot corpus, handed to a judging command that writes files.

``tests/reliability/bad_inputs.py`` builds the corpus (truncated, corrupted, empty,
future-version snapshots, random bytes...) and holds ``pd-audit snapshot info`` to a clean
refusal. Here the same corpus goes to ``pd-audit check`` with SARIF, JSON and Markdown outputs
that already exist: the refusal must come before any of them is touched.
"""

from __future__ import annotations

import pytest

from tests.reliability.bad_inputs import BAD_INPUTS, make_corpus
from tests.robustness.refusals import Workspace, assert_refused_cleanly, run_check


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_broken_snapshot_is_refused_before_any_output_is_written(name, workspace, tmp_path):
    broken = make_corpus(workspace.snapshot, tmp_path / "corpus", [name])[name]
    run = run_check(Workspace(broken, workspace.baseline), tmp_path / "out", [])
    assert_refused_cleanly(run, broken, ())
