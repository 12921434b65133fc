"""Running ``pd-audit check`` on a bad input, and what a clean refusal looks like.

``run_check`` runs the CLI in-process (click's CliRunner on ``audit.cli.main``) against a real
snapshot, with SARIF, JSON and Markdown outputs that already hold a previous run's text.
``assert_refused_cleanly`` holds a run to issue 7's contract for bad input: exit code 2,
exactly one line on stderr that names the file (and the rule or key) and the problem, no
traceback, nothing on stdout, and every pre-existing output file untouched.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from audit.cli import main
from tests.crawl.conftest import crawl, emulator_app
from tests.emulator.conftest import northwind_account

HERE = Path(__file__).resolve().parent
BAD_INPUTS = HERE / "bad_inputs"
VALID_INPUTS = HERE / "valid_inputs"
PREVIOUS_OUTPUT = "a previous run's output, which a refused run must leave alone\n"
OUTPUT_OPTIONS = {"--sarif": "findings.sarif", "--json": "result.json", "--markdown": "summary.md"}


@dataclass(frozen=True)
class Workspace:
    """A crawled Northwind snapshot and a baseline of its findings, shared by every case."""

    snapshot: Path
    baseline: Path


def make_workspace(folder: Path) -> Workspace:
    snapshot, _ = crawl(emulator_app(northwind_account(), folder), folder / "snapshot")
    baseline = folder / "baseline.json"
    result = CliRunner().invoke(main, ["baseline", "create", str(snapshot.path), "-o", str(baseline)])
    assert result.exit_code == 0, result.output
    return Workspace(snapshot.path, baseline)


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]  # output file name -> its text after the run


def run_check(workspace: Workspace, out_dir: Path, options: Sequence[str]) -> Run:
    """``pd-audit check`` with every rule mode and ``options``, into outputs that already exist."""
    out_dir.mkdir(parents=True, exist_ok=True)
    args = ["check", str(workspace.snapshot), "--baseline", str(workspace.baseline), "--mode", "all"]
    for option, name in OUTPUT_OPTIONS.items():
        (out_dir / name).write_text(PREVIOUS_OUTPUT, encoding="utf-8")
        args += [option, str(out_dir / name)]
    result = CliRunner().invoke(main, [*args, *options])
    outputs = {name: (out_dir / name).read_text(encoding="utf-8") for name in OUTPUT_OPTIONS.values()}
    return Run(result.exit_code, result.stdout, result.stderr, outputs)


def pack_folder(pack: Path, into: Path) -> Path:
    """A ``--rules`` folder holding only ``pack`` (the option takes folders)."""
    folder = into / pack.stem
    folder.mkdir(parents=True)
    shutil.copy(pack, folder / pack.name)
    return folder


def assert_refused_cleanly(run: Run, file: Path, expected: Sequence[str]) -> None:
    lines = run.stderr.splitlines()
    assert run.exit_code == 2, (run.exit_code, run.stderr)
    assert len(lines) == 1, run.stderr
    line = lines[0]
    assert line.startswith("pd-audit: error: ") and str(file) in line, line
    assert "internal error" not in line and "Traceback" not in run.stderr, line
    for fragment in expected:
        assert fragment in line, (fragment, line)
    assert run.stdout == "", run.stdout
    assert run.outputs == {name: PREVIOUS_OUTPUT for name in OUTPUT_OPTIONS.values()}


def assert_accepted(run: Run) -> None:
    """The valid input the cases vary: judged, with every output written afresh."""
    assert run.exit_code in (0, 1), run.stderr
    assert all(text != PREVIOUS_OUTPUT for text in run.outputs.values())
    assert json.loads(run.outputs["result.json"])
