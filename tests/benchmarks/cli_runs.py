"""The scoring benchmark's end-to-end part: pd-audit's commands timed as a user runs them.

Each command runs as its own process (the installed ``pd-audit`` script beside this Python), its
stdout going to a file as ``pd-audit ... > file`` would; wall time and peak RSS come from the
kernel's account of that process (``os.wait4``: the larger of the process and the children it
waited for, such as the facts stage's fork), and so does its CPU time: on a shared machine the
wall time stretches with the load, the CPU time much less. The floor every figure is compared with is the time
it takes to read every file of the snapshot with ``json`` (line by line, as the snapshot is laid
out). Figures only: nothing here judges time.
"""

from __future__ import annotations

import compileall
import dataclasses
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import audit
from audit.outputs.sarif_budget import MAX_RESULTS

PD_AUDIT = Path(sys.executable).with_name("pd-audit")
SARIF_GZ_LIMIT = 10 * 2**20  # code scanning's limit on an uploaded file, gzipped
SCORE_RATIO_TARGET = 4.0
RSS_TARGET = 2**30
REPORT_TARGET_SECONDS = 20.0


@dataclasses.dataclass
class Run:
    """One command: what it was, how long it took, its peak RSS, what it wrote."""

    name: str
    wall: float
    peak_rss: int
    output_bytes: int
    note: str = ""
    cpu: float = 0.0  # user + system seconds of the process and the children it waited for


def read_floor(snapshot: Path) -> tuple[float, int]:
    """Seconds to read every snapshot file with ``json`` (one object a line), and the objects read."""
    started, objects = time.perf_counter(), 0
    for path in sorted(snapshot.rglob("*.json*")):
        with open(path, encoding="utf-8") as handle:
            if path.suffix == ".jsonl":
                for line in handle:
                    json.loads(line)
                    objects += 1
            else:
                json.load(handle)
                objects += 1
    return time.perf_counter() - started, objects


def compile_bytecode() -> str:
    """Compile pd-audit's modules to bytecode before the runs, as ``pip install`` does, and say so.

    A user's second run finds its bytecode cached: ``pip install`` compiles it, and Python writes it
    on a first import. This machine sets ``PYTHONDONTWRITEBYTECODE`` (and the editable install is
    not compiled), so without this every timed run would compile ~60 modules again (~0.1 s) that no
    user's run compiles."""
    package = Path(audit.__file__).parent
    compiled = compileall.compile_dir(package, quiet=1)
    state = "compiled" if compiled else "could NOT be compiled (runs include compiling them)"
    return f"pd-audit's bytecode {state} before the runs, as pip install does ({package})"


def run_command(name: str, args: list[str], stdout_path: Path, written: Path | None = None) -> Run:
    """``pd-audit args > stdout_path``, timed; ``written``: the file it writes, if not stdout."""
    with open(stdout_path, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen([str(PD_AUDIT), *args], stdout=out, stderr=subprocess.PIPE)
        assert process.stderr is not None
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1: check found new violations, still a whole run
        raise RuntimeError(f"{name}: exit {process.returncode}: {stderr.decode(errors='replace')[-500:]}")
    target = written or stdout_path
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file()) if target.is_dir() else target.stat().st_size
    warning = next((line for line in stderr.decode(errors="replace").splitlines() if "warning" in line), "")
    return Run(name, wall, usage.ru_maxrss * 1024, size, warning, usage.ru_utime + usage.ru_stime)


def sarif_figures(path: Path) -> str:
    """Results and gzipped size of a SARIF file, against code scanning's limits."""
    data = path.read_bytes()
    results = json.loads(data)["runs"][0]["results"]
    summed = sum(1 for r in results if r.get("properties", {}).get("summary"))
    gz = len(gzip.compress(data, 6))
    ok = "PASS" if len(results) <= MAX_RESULTS and gz <= SARIF_GZ_LIMIT else "FAIL"
    return (f"{len(results):,} results ({summed:,} summaries), {gz / 2**20:.1f} MiB gzipped "
            f"[{ok}: <= {MAX_RESULTS:,} results, <= 10 MiB gzipped]")


def run_commands(snapshot: Path, config: Path, work: Path, *, report: bool = True) -> list[Run]:
    """Every command the targets name, in the order a user would run them."""
    common = ["--config", str(config)]
    runs = [
        run_command("score (table)", ["score", str(snapshot), *common], work / "score.txt"),
        run_command("score --format json", ["score", str(snapshot), *common, "--format", "json"], work / "score.json"),
        run_command("score --format csv", ["score", str(snapshot), *common, "--format", "csv"], work / "score.csv"),
        run_command("score --format json --all", ["score", str(snapshot), *common, "--format", "json", "--all"],
                    work / "score-all.json"),
        run_command("baseline create", ["baseline", "create", str(snapshot), *common, "-o", str(work / "base.json"),
                                        "--force"], work / "baseline.txt", work / "base.json"),
    ]
    sarif = work / "check.sarif"
    check = run_command("check --sarif (after baseline create)",
                        ["check", str(snapshot), *common, "--baseline", str(work / "base.json"), "--sarif", str(sarif)],
                        work / "check.txt", sarif)
    check.note = sarif_figures(sarif) + (f"; stderr: {check.note}" if check.note else "")
    runs.append(check)
    if report:
        runs.append(run_command("report --format html", ["report", str(snapshot), *common, "--format", "html",
                                                         "--report-dir", str(work / "report")],
                                work / "report.txt", work / "report"))
    return runs


def format_runs(runs: list[Run], floor: float, objects: int) -> list[str]:
    lines = [f"reading every snapshot file with json (the floor): {floor:.2f} s ({objects:,} objects)",
             f"{'command':<40} {'wall':>8} {'x floor':>8} {'CPU':>8} {'peak RSS':>10} {'output':>10}"]
    for run in runs:
        judged = ""
        if run.name.startswith("score") and "--all" not in run.name:
            ok = run.wall <= SCORE_RATIO_TARGET * floor and run.peak_rss < RSS_TARGET
            judged = f"  [{'PASS' if ok else 'FAIL'}: <= {SCORE_RATIO_TARGET:.0f}x, < 1 GiB]"
        elif run.name.startswith("report"):
            judged = f"  [{'PASS' if run.wall < REPORT_TARGET_SECONDS else 'FAIL'}: < {REPORT_TARGET_SECONDS:.0f} s]"
        lines.append(f"{run.name:<40} {run.wall:7.1f}s {run.wall / floor:7.1f}x {run.cpu:7.1f}s "
                     f"{run.peak_rss / 2**20:8,.0f} MiB "
                     f"{run.output_bytes / 2**20:8,.1f} MiB{judged}")
        if run.note:
            lines.append(f"    {run.note}")
    return lines


def format_growth(growth: list[tuple[int, float, list[Run]]]) -> list[str]:
    """Each command's wall time per account size, and how much it grew against the services."""
    (base_services, base_floor, base_runs), *_ = growth
    lines = ["growth from the smallest account (time ratio / services ratio: 1.0 is linear)"]
    for services, floor, runs in growth[1:]:
        factor = services / base_services
        lines.append(f"  {base_services:,} -> {services:,} services ({factor:.0f}x): floor {base_floor:.2f} -> "
                     f"{floor:.2f} s ({floor / base_floor / factor:.2f})")
        for before, after in zip(base_runs, runs, strict=True):
            lines.append(f"    {after.name:<40} {before.wall:7.1f} -> {after.wall:7.1f} s "
                         f"({after.wall / before.wall / factor:.2f}); peak RSS {before.peak_rss / 2**20:,.0f} -> "
                         f"{after.peak_rss / 2**20:,.0f} MiB")
    return lines
