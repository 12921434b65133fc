"""The reliability command in miniature: it runs every check and its figures add up."""

from __future__ import annotations

import pytest

from tests.reliability.attacks import ATTACKS
from tests.reliability.bad_inputs import BAD_INPUTS
from tests.reliability.run import main


@pytest.mark.slow
def test_small_reliability_run_passes_and_reports_its_figures(capsys):
    # --fast-token-errors: test_token.py runs the error paths that take half a minute
    exit_code = main(["--fault-crawls", "1", "--kills", "1", "--latency", "0.03", "--bad-inputs", "8",
                      "--fast-token-errors"])
    report = capsys.readouterr().out
    assert exit_code == 0, report
    lines = report.splitlines()
    assert lines[-1] == "PASS"
    assert "faults: 2 of 2 crawls under 0.05 faults came out whole" in lines
    # one kill at a seeded point, one in the publishing rename; both resumed whole
    assert any(line.startswith("kills: 2 (SIGKILL), resumed whole: 2;") for line in lines), report
    assert "bad inputs: 8 tried, 8 refused cleanly (exit 2, one line)" in lines
    assert f"attacks: {len(ATTACKS)} tried, {len(ATTACKS)} held" in lines
    api_line = next(line for line in lines if line.startswith("api answers:"))
    assert api_line.startswith("api answers: 7 attacks, 7 handled; an unreachable host refused in "), api_line
    token_line = next(line for line in lines if line.startswith("token occurrences found:"))
    assert token_line.startswith("token occurrences found: 0 (in ") and int(
        token_line.split("(in ")[1].split()[0].replace(",", "")) > 1_000_000
    # the token pipeline (40 commands and more) besides the kills' and bad inputs' runs
    assert token_line.endswith(" commands") and int(token_line.split(" across ")[1].split()[0]) >= 40 + 8, token_line
    injected = {line.split()[0]: (int(line.split()[1]), int(line.split()[2]))
                for line in lines if line.startswith("  ") and line.split()[0] != "kind"}
    assert sum(count for count, _ in injected.values()) > 0
    assert all(survived == count for count, survived in injected.values())


def test_the_corpus_covers_the_kinds_of_damage_the_issue_names():
    names = set(BAD_INPUTS)
    for kind in ("truncated", "corrupted", "empty", "future-version", "random-bytes"):
        assert any(kind in name for name in names), kind
