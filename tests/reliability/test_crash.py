"""Crash safety: a crawl SIGKILLed anywhere resumes to the clean result, losing at most the
units under way; an interrupted crawl never looks finished; two crawls to one output at once
never both write it."""

from __future__ import annotations

import random
import threading

import pytest

from audit.emulator.serve import start_server
from audit.errors import UserError
from audit.snapshot import MANIFEST, SnapshotWriter, load, partial_path
from tests.crawl.conftest import ACME, TOKEN
from tests.reliability.harness import content_digests, crawl_argv, run_cli
from tests.reliability.kills import check_interrupted, clean_crawl, kill_at_publish, kill_then_resume, race

LATENCY = 0.06  # seconds per request: with 4 workers the example account's crawl takes ~2 s
WORKERS = 4
KILL_SEED = 7
KILLS = 3  # kill_points gives one per phase of the crawl


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with start_server(ACME, state_dir=tmp_path_factory.mktemp("emulator"), tokens=[TOKEN],
                      latency_seconds=LATENCY) as server:
        yield server


@pytest.fixture(scope="module")
def clean(served, tmp_path_factory):
    return clean_crawl(served, tmp_path_factory.mktemp("clean") / "snap")


def kill_points(requests: int) -> list[int]:
    """Seeded points in the request sequence: one in the fan-out at the start (every collection
    begins at once, outside the request pool), one in the middle, one near the end."""
    rng = random.Random(KILL_SEED)
    spans = [(4, requests // 10), (requests // 3, 2 * requests // 3), (2 * requests // 3, requests - 1)]
    return [rng.randrange(low, high) for low, high in spans]


@pytest.mark.slow
@pytest.mark.parametrize("part", range(KILLS))
def test_killed_crawl_resumes_to_the_clean_content(served, clean, tmp_path, part):
    kill_after = kill_points(clean.requests)[part]
    outcome = kill_then_resume(served, tmp_path / "snap", kill_after, clean, workers=WORKERS)
    assert not outcome.finished_before_kill
    assert outcome.leftovers == [], "the kill left something that looks finished"
    assert outcome.resume.exit_code == 0, outcome.resume.stderr
    assert outcome.same_content
    # What the kill cost: at most the units under way, which --workers bounds.
    assert 0 <= outcome.refetched <= WORKERS, outcome
    assert outcome.received_by_kill >= kill_after
    # The manifest counts the killed run's requests too (journalled unit by unit); only those under
    # way at the kill can be miscounted (made but not journalled, or counted but never sent).
    received = outcome.received_by_kill + outcome.received_by_resume
    assert abs(received - outcome.reported) <= WORKERS, outcome


def test_kill_points_cover_the_crawl():
    points = kill_points(137)
    assert 4 <= points[0] < 13 and 45 <= points[1] < 91 <= points[2] < 136, points


def test_kill_while_publishing_resumes_without_asking_again(served, clean, tmp_path):
    """Killed in the rename that publishes it: the manifest is written, the journal is kept,
    so the resume asks the API for nothing and publishes the same snapshot."""
    out = tmp_path / "snap"
    served.app.stats.reset()
    killed = kill_at_publish(served, out)
    assert killed.exit_code == -9, killed
    assert served.app.stats.total == clean.requests
    assert (partial_path(out) / MANIFEST).is_file()
    assert check_interrupted(out) == []
    served.app.stats.reset()
    resumed = run_cli(crawl_argv(served, out, "--resume"))
    assert resumed.exit_code == 0, resumed.stderr
    assert served.app.stats.total == 0
    assert content_digests(load(out)) == clean.digests
    assert sorted(p.name for p in out.iterdir()) == ["collections", MANIFEST]


def test_two_crawls_to_one_output_at_once(served, clean, tmp_path):
    out = tmp_path / "snap"
    runs = sorted(race(served, out), key=lambda run: run.exit_code)
    assert [run.exit_code for run in runs] == [0, 2], runs
    winner, loser = runs
    assert winner.stdout.strip() == str(out)
    # Started together, the loser finds the winner writing (or, on a machine so loaded that it
    # started a whole crawl later, the finished snapshot): one clean line either way.
    assert loser.error_lines in ([f"pd-audit: error: another crawl is writing {partial_path(out)}"],
                                 [f"pd-audit: error: {out} already exists; choose another snapshot path or pass --force to replace it"])
    assert content_digests(load(out)) == clean.digests
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"], "no staging directory is left behind"


def test_writers_started_together_never_both_win(tmp_path):
    """Many rounds of two writers opening one output at the same instant: exactly one gets it,
    and the other is told a crawl is running (never that one was interrupted)."""
    for round_number in range(25):
        out = tmp_path / f"snap-{round_number}"
        start = threading.Barrier(2)
        won, refused = [], []

        def open_writer() -> None:
            start.wait()
            try:
                won.append(SnapshotWriter(out))
            except UserError as exc:
                refused.append(str(exc))

        threads = [threading.Thread(target=open_writer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1 and refused == [f"another crawl is writing {partial_path(out)}"], refused
        won[0].close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"snap-{n}.partial" for n in range(25))
