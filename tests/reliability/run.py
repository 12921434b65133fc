"""The reliability command: faults survived, kills resumed, bad snapshots refused, no token written.

Run: ``.venv/bin/python -m tests.reliability.run [--fault-crawls 6] [--fault-rate 0.05] [--seed 7]
[--kills 5] [--latency 0.05] [--workers 4] [--bad-inputs all|N] [--fast-token-errors] [--workdir DIR]``.

Six checks against the example account, each printing its figures:

* faults: crawls in-process under ``--fault-rate`` random faults of every kind (one seed each,
  from ``--seed``), one over TLS against the served emulator, and one against an endpoint
  that always fails, then resumed once the fault is lifted; each must equal a clean crawl.
* kills: ``pd-audit crawl`` SIGKILLed at seeded points of its request sequence, then resumed;
  one killed inside its publishing rename; two crawls started to one output at once.
* bad inputs: a corpus of broken snapshots (``bad_inputs.BAD_INPUTS``); ``pd-audit snapshot
  info`` must refuse each with exit 2 and one line.
* api answers: the attacks of ``api_attacks.ATTACKS`` (objects vanishing mid-crawl, the token
  echoed in error text, a resume against another account, a wrong token, an unreachable or
  unknown host, ``http://``, malformed ids), each through the CLI against the served emulator.
* token: the whole pipeline runs with the token (``token_pipeline.run_token_pipeline``: crawl,
  facts, score, report, audit, baseline, check, diff, history, and ``--debug`` error paths);
  then every byte the run wrote (files under the work directory, the stdout and stderr of every
  command, PDFs and gzip files opened) is searched for the token in every form it could leak
  as; it must occur nowhere.
* attacks: the adversarial review's attacks (``attacks.ATTACKS``: folders replaced, planted links,
  lone surrogates, spreadsheet formulas, colliding file names, terminal escapes, rule-pack bombs,
  nonsense config, odd inputs); each must be held.

Exit 0 when every check passed, 1 otherwise. ``tests/reliability/test_run.py`` runs a small one.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from audit.emulator.faults import FAULT_KINDS, FaultPolicy
from audit.emulator.serve import start_server
from audit.snapshot import load
from tests.crawl.conftest import ACME, TOKEN
from tests.reliability.api_attacks import run_attacks
from tests.reliability.attacks import ATTACKS, Bench, run_attack
from tests.reliability.bad_inputs import BAD_INPUTS, make_corpus, refusal
from tests.reliability.fault_runs import (
    SERVED_SLOW,
    broken_endpoint,
    clean_digests,
    random_faults,
    served_faults,
)
from tests.reliability.harness import (
    PD_AUDIT,
    CliRun,
    content_digests,
    crawl_argv,
    example_account,
    run_cli,
)
from tests.reliability.kills import clean_crawl, kill_at_publish, kill_then_resume, race
from tests.reliability.token_pipeline import (
    describe,
    run_token_pipeline,
    token_occurrences,
)


@dataclass(frozen=True)
class RunOptions:
    fault_crawls: int = 6
    fault_rate: float = 0.05
    seed: int = 7
    kills: int = 5
    latency: float = 0.05  # seconds per request of the served emulator the kills run against
    workers: int = 4
    bad_inputs: int | None = None  # how many of the corpus to try (None: all)
    slow_token_errors: bool = True  # the token pipeline's error paths that back off for half a minute


@dataclass
class Figures:
    """What the run found; ``failures`` is empty when every check passed."""

    injected: Counter[str] = field(default_factory=Counter)
    survived: Counter[str] = field(default_factory=Counter)
    fault_crawls: int = 0
    fault_crawls_whole: int = 0
    kills: int = 0
    resumes_whole: int = 0
    most_refetched: int = 0
    bad_tried: int = 0
    bad_refused: int = 0
    attacks_tried: int = 0
    attacks_held: int = 0
    api_attacks: int = 0
    api_attacks_handled: int = 0
    unreachable_seconds: float | None = None  # how long an unreachable host took to refuse
    token_occurrences: int = 0
    bytes_scanned: int = 0
    commands: int = 0  # CLI runs whose output the token search read
    outputs: list[CliRun] = field(default_factory=list)  # every CLI run, for the token scan
    failures: list[str] = field(default_factory=list)


class ReliabilityRun:
    """One run of the four checks in a work directory."""

    def __init__(self, options: RunOptions, work: Path, log=lambda line: None):
        self.options = options
        self.work = work
        self.log = log
        self.figures = Figures()

    def run(self) -> Figures:
        self.check_faults()
        good = self.check_kills()
        self.check_bad_inputs(good)
        self.check_api_attacks()
        self.check_token()
        self.check_attacks(good)
        return self.figures

    def _cli(self, argv: list[str]) -> CliRun:
        run = run_cli(argv)
        self.figures.outputs.append(run)
        return run

    # ---------------------------------------------------------------- faults

    def check_faults(self) -> None:
        options, figures = self.options, self.figures
        clean = clean_digests(self.work / "faults")
        runs = [random_faults(self.work / "faults" / f"seed-{options.seed + n}",
                              FaultPolicy(rate=options.fault_rate, seed=options.seed + n), clean)
                for n in range(options.fault_crawls)]
        served_policy = FaultPolicy(rate=options.fault_rate, seed=options.seed, slow_seconds=SERVED_SLOW)
        runs.append(served_faults(self.work / "faults" / "emulator", self.work / "faults" / "served",
                                  served_policy, clean))
        for run in runs:
            self.log(f"faults: {run.label}: {dict(run.injected)} {'whole' if run.survived else 'FAILED'}")
            figures.fault_crawls += 1
            figures.injected.update(run.injected)
            if run.survived:
                figures.fault_crawls_whole += 1
                figures.survived.update(run.injected)
            else:
                figures.failures.append(f"faults: {run.label}: {run.error or 'content differs from a clean crawl'}")
        target = example_account()["schedules"][0]["id"]
        broken = broken_endpoint(self.work / "faults" / "broken", f"/schedules/{target}", "503", clean)
        if not (broken.error and "GET /schedules/{id}" in broken.error and broken.partial_left
                and broken.same_content and broken.resume_requests == {"/users": 1, "/schedules/{id}": 1}):
            figures.failures.append(f"faults: an always failing endpoint: {broken}")

    # ---------------------------------------------------------------- kills

    def check_kills(self) -> Path:
        """Kill and resume; returns the clean snapshot (for the bad-input corpus)."""
        options, figures = self.options, self.figures
        kills = self.work / "kills"
        with start_server(ACME, state_dir=kills / "emulator", tokens=[TOKEN],
                          latency_seconds=options.latency) as server:
            clean = clean_crawl(server, kills / "clean")
            rng = random.Random(options.seed)
            for n in range(options.kills):
                kill_after = rng.randrange(1, clean.requests)
                outcome = kill_then_resume(server, kills / f"killed-{n}", kill_after, clean, options.workers)
                figures.outputs.append(outcome.resume)
                figures.kills += 1
                problems = outcome.problems()
                figures.resumes_whole += not problems
                figures.most_refetched = max(figures.most_refetched, outcome.refetched)
                self.log(f"kills: at request {kill_after}: {outcome.refetched} made again; "
                         f"{'; '.join(problems) or 'whole'}")
                figures.failures += [f"kills: at request {kill_after}: {p}" for p in problems]
            self._kill_at_publish(server, clean.digests, kills / "publish")
            self._race(server, clean.digests, kills / "race")
        return kills / "clean"

    def _kill_at_publish(self, server, clean: dict[str, str], out: Path) -> None:
        killed = kill_at_publish(server, out)
        self.figures.outputs.append(killed)
        self.figures.kills += 1
        server.app.stats.reset()
        resumed = self._cli(crawl_argv(server, out, "--resume"))
        if resumed.exit_code == 0 and server.app.stats.total == 0 and content_digests_of(out) == clean:
            self.figures.resumes_whole += 1
        else:
            self.figures.failures.append(f"kills: in the publishing rename: resume exit {resumed.exit_code}, "
                                         f"{server.app.stats.total} requests asked again")

    def _race(self, server, clean: dict[str, str], out: Path) -> None:
        runs = sorted(race(server, out), key=lambda run: run.exit_code)
        self.figures.outputs += runs
        codes = [run.exit_code for run in runs]
        if codes != [0, 2] or not runs[1].refused_cleanly(2) or content_digests_of(out) != clean:
            self.figures.failures.append(f"kills: two crawls to one output: exit codes {codes}, "
                                         f"{runs[1].stderr.strip()!r}")

    # ---------------------------------------------------------------- bad inputs

    def check_bad_inputs(self, good: Path) -> None:
        names = list(BAD_INPUTS)[: self.options.bad_inputs]
        for name, path in make_corpus(good, self.work / "bad-inputs", names).items():
            run = refusal(path)
            self.figures.outputs.append(run)
            self.figures.bad_tried += 1
            if run.refused_cleanly(2):
                self.figures.bad_refused += 1
            else:
                self.figures.failures.append(f"bad input {name}: exit {run.exit_code}: {run.stderr.strip()[:200]}")
        # The token scan reads what snapshot info prints of every snapshot the run made.
        for snapshot in (good, *sorted((self.work / "kills").glob("killed-*"))):
            self._cli([str(PD_AUDIT), "snapshot", "info", str(snapshot)])

    # ---------------------------------------------------------------- attacks

    def check_attacks(self, good: Path) -> None:
        bench = Bench(self.work / "attacks", good)
        for attack in ATTACKS:
            problems = run_attack(attack, bench)
            self.figures.attacks_tried += 1
            self.figures.attacks_held += not problems
            self.log(f"attacks: {attack.name}: {'; '.join(problems) or 'held'}")
            self.figures.failures += [f"attack {attack.name} (issue 16.{attack.item}): {p}" for p in problems]
    # ---------------------------------------------------------------- api answers

    def check_api_attacks(self) -> None:
        figures, work = self.figures, self.work / "api"
        with start_server(ACME, state_dir=work / "emulator", tokens=[TOKEN]) as server, \
                start_server(ACME, state_dir=work / "faulty-emulator", tokens=[TOKEN]) as faulty:
            attacks = run_attacks(server, faulty, work / "runs")
        for attack in attacks:
            self.log(f"api: {attack.name}: {'; '.join(attack.problems) or 'handled'}")
            figures.outputs += attack.runs
            figures.api_attacks += 1
            figures.api_attacks_handled += not attack.problems
            figures.failures += [f"api: {attack.name}: {problem}" for problem in attack.problems]
            if attack.seconds is not None and attack.name == "unreachable host":
                figures.unreachable_seconds = attack.seconds

    # ---------------------------------------------------------------- token

    def check_token(self) -> None:
        figures, work = self.figures, self.work / "token"
        with start_server(ACME, state_dir=work / "emulator", tokens=[TOKEN]) as server:
            pipeline = run_token_pipeline(server, work, slow_errors=self.options.slow_token_errors)
        for step in pipeline.steps:
            self.log(f"token: {step.step.label}: exit {step.run.exit_code}")
        figures.outputs += pipeline.runs
        figures.failures += [f"token pipeline: {problem}" for problem in pipeline.problems()]
        # Everything the run wrote, not only the pipeline's: crawls under faults and kills too.
        search = token_occurrences(pipeline.secrets, self.work, figures.outputs, skip=pipeline.inputs)
        figures.token_occurrences, figures.bytes_scanned = search.found, search.bytes_written
        figures.commands = len(figures.outputs)
        if search.found or search.unreadable:
            figures.failures.append(f"token: found {search.found} times in what was written; "
                                    f"{len(search.unreadable)} layers unreadable: {'; '.join(describe(search))}")


def content_digests_of(path: Path) -> dict[str, str] | None:
    return content_digests(load(path)) if path.is_dir() else None


def format_report(options: RunOptions, figures: Figures) -> str:
    width = max(len(kind) for kind in FAULT_KINDS)
    lines = [
        f"reliability of the crawl (example account, seed {options.seed})",
        (f"faults: {figures.fault_crawls_whole} of {figures.fault_crawls} crawls under {options.fault_rate:g} "
         "faults came out whole"),
        f"  {'kind':<{width}}  injected  survived",
    ]
    for kind in FAULT_KINDS:
        lines.append(f"  {kind:<{width}}  {figures.injected[kind]:>8}  {figures.survived[kind]:>8}")
    lines += [
        (f"kills: {figures.kills} (SIGKILL), resumed whole: {figures.resumes_whole}; most requests made again "
         f"after a kill: {figures.most_refetched} (bound: {options.workers} workers)"),
        f"bad inputs: {figures.bad_tried} tried, {figures.bad_refused} refused cleanly (exit 2, one line)",
        f"attacks: {figures.attacks_tried} tried, {figures.attacks_held} held",
        (f"api answers: {figures.api_attacks} attacks, {figures.api_attacks_handled} handled; an unreachable host "
         "refused in " + (f"{figures.unreachable_seconds:.1f} s" if figures.unreachable_seconds is not None
                          else "(not run)")),
        (f"token occurrences found: {figures.token_occurrences} (in {figures.bytes_scanned:,} bytes written) "
         f"across {figures.commands} commands"),
    ]
    if figures.failures:
        lines.append(f"FAILED ({len(figures.failures)}):")
        lines += [f"  {failure}" for failure in figures.failures]
    else:
        lines.append("PASS")
    return "\n".join(lines)


def parse_options(argv: list[str] | None) -> tuple[RunOptions, Path | None, bool]:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.run", description=__doc__.split("\n")[0])
    defaults = RunOptions()
    parser.add_argument("--fault-crawls", type=int, default=defaults.fault_crawls)
    parser.add_argument("--fault-rate", type=float, default=defaults.fault_rate)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--latency", type=float, default=defaults.latency)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--bad-inputs", default="all", help="how many of the corpus to try, or 'all'")
    parser.add_argument("--fast-token-errors", action="store_true",
                        help="leave out the token pipeline's error paths that back off for half a minute "
                             "(unreachable API, failing endpoint)")
    parser.add_argument("--workdir", type=Path, help="keep everything written here (default: a temporary directory)")
    parser.add_argument("--verbose", action="store_true", help="a line per crawl and kill")
    args = parser.parse_args(argv)
    options = RunOptions(args.fault_crawls, args.fault_rate, args.seed, args.kills, args.latency, args.workers,
                         None if args.bad_inputs == "all" else int(args.bad_inputs), not args.fast_token_errors)
    return options, args.workdir, args.verbose


def main(argv: list[str] | None = None) -> int:
    options, workdir, verbose = parse_options(argv)
    log = (lambda line: print(line, file=sys.stderr)) if verbose else (lambda line: None)
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        figures = ReliabilityRun(options, workdir, log).run()
    else:
        with tempfile.TemporaryDirectory(prefix="pd-audit-reliability-") as scratch:
            figures = ReliabilityRun(options, Path(scratch), log).run()
    print(format_report(options, figures))
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())
