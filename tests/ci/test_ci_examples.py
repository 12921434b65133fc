"""The CI examples in examples/ci/ as a user copies them: they install, their commands exist, their exit codes hold.

Both files are parsed as YAML. Every `pd-audit` command line in the scripts they run is parsed
by the real click CLI (each option exists and takes the value given); the install line is run
with PD_AUDIT_SOURCE pointed at this repository's own commit; and the gate step is run under
bash with a stand-in `pd-audit` exiting 0, 1, 2 and 3, to show each exit code is handled as
the README documents (0 ok, 1 new violations, 2 usage or input error, 3 API or crawl error).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import click
import pytest
import yaml

from audit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "ci"
GITHUB = EXAMPLES / "github-actions.yml"
GITLAB = EXAMPLES / "gitlab-ci.yml"
SUMMARY = "pd-audit-summary.md"


def github_steps() -> list[dict]:
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def gitlab_job() -> dict:
    return yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["pd-audit"]


def scripts() -> dict[str, str]:
    """Every shell script the two files run, by a readable name."""
    found = {f"github: {step.get('name', step.get('uses'))}": step["run"] for step in github_steps() if "run" in step}
    job = gitlab_job()
    for part in ("before_script", "script"):
        found.update({f"gitlab: {part} {n}": text for n, text in enumerate(job.get(part, []))})
    return found


def pd_audit_lines(script: str) -> list[str]:
    """The `pd-audit ...` command lines of a script, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("pd-audit ")]


def argv_of(line: str) -> list[str]:
    # Shell and CI expressions stand for values: $(date ...) is a path part, ${{ ... }} a string.
    concrete = re.sub(r"\$\([^)]*\)", "2027-01-04", re.sub(r"\$\{\{[^}]*\}\}", "value", line))
    return shlex.split(concrete)[1:]


def parse_with_the_cli(argv: list[str]) -> click.Command:
    """Parses argv as `pd-audit` would, without running it; raises click's usage errors."""
    command: click.Command = main
    context = main.make_context("pd-audit", list(argv), resilient_parsing=False)
    while isinstance(command, click.Group):
        with warnings.catch_warnings():  # click 8.2 deprecates protected_args; 9.0 folds it into args
            warnings.simplefilter("ignore", DeprecationWarning)
            rest = [*getattr(context, "protected_args", []), *context.args]
        name, command, remaining = command.resolve_command(context, rest)
        context = command.make_context(name, remaining, parent=context)
    return command


ALL_LINES = [(name, line) for name, script in scripts().items() for line in pd_audit_lines(script)]


def test_both_examples_run_pd_audit_check():
    names = {name.split(":")[0] for name, _ in ALL_LINES}
    assert names == {"github", "gitlab"}
    assert all(argv_of(line)[0] == "check" for _, line in ALL_LINES)


@pytest.mark.parametrize("name, line", ALL_LINES, ids=[name for name, _ in ALL_LINES])
def test_every_pd_audit_line_parses_with_the_real_cli(name, line):
    command = parse_with_the_cli(argv_of(line))
    assert command.name == "check"


def test_the_cli_check_refuses_an_option_check_lacks():
    with pytest.raises(click.UsageError, match="--out"):
        parse_with_the_cli(["check", "snap", "--baseline", "b.json", "--out", "reports"])


def test_both_examples_install_from_a_pinned_repository_variable():
    github_install = next(step["run"] for step in github_steps() if step.get("name") == "Install pd-audit")
    gitlab_install = gitlab_job()["before_script"][-1]
    sources = [yaml.safe_load(GITHUB.read_text(encoding="utf-8"))["env"]["PD_AUDIT_SOURCE"],
               gitlab_job()["variables"]["PD_AUDIT_SOURCE"]]
    for install in (github_install, gitlab_install):
        assert '"pd-audit @ ${PD_AUDIT_SOURCE}"' in install and "==" not in install
    for source in sources:
        assert re.fullmatch(r"git\+https://\S+\.git@v\d+\.\d+\.\d+", source), source


def test_the_install_line_installs_pd_audit_from_this_repository(tmp_path):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the install line clones a repository")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    install = next(step["run"] for step in github_steps() if step.get("name") == "Install pd-audit")
    env = {**os.environ, "PD_AUDIT_SOURCE": f"git+file://{ROOT}@{commit}",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           # the dependencies are this environment's; the target keeps the install out of it
           "PIP_TARGET": str(tmp_path / "site"), "PIP_NO_DEPS": "1", "PIP_QUIET": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", install], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    installed = tmp_path / "site"
    assert (installed / "audit" / "cli.py").is_file()
    assert (installed / "audit" / "builtin_rules").is_dir()  # the rule packs ship as package data
    assert any(installed.glob("pd_audit-*.dist-info/entry_points.txt"))


# ------------------------------------------------------------------ exit codes


def stand_in(tmp_path: Path, code: int) -> dict[str, str]:
    """A `pd-audit` on PATH that writes the summary (as check does for 0 and 1) and exits with code."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "pd-audit"
    fake.write_text(f"#!/bin/sh\n[ {code} -le 1 ] && echo '### pd-audit summary' > {SUMMARY}\nexit {code}\n")
    fake.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_the_github_gate_step_passes_0_and_1_on_and_fails_with_2_and_3(tmp_path, code):
    step = next(step for step in github_steps() if step.get("id") == "check")
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {**stand_in(tmp_path, code), "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    # GitHub runs `run:` with bash -e {0}.
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert f"code={code}" in outputs.read_text()
    if code <= 1:  # a verdict: the summary is published, the later steps decide
        assert result.returncode == 0 and "pd-audit summary" in summary.read_text()
    else:  # no report: the step fails with pd-audit's own code
        assert result.returncode == code and not summary.exists()
    conditions = {step.get("name"): step.get("if", "") for step in github_steps()}
    assert "steps.check.outputs.code == '1'" in conditions["Fail on new violations"]
    fail_step = next(step for step in github_steps() if step.get("name") == "Fail on new violations")
    assert subprocess.run(["bash", "-e", "-c", fail_step["run"]], capture_output=True).returncode == 1
    assert "steps.check.outputs.code == '0' || steps.check.outputs.code == '1'" in conditions[
        "Upload SARIF to code scanning"]


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_the_gitlab_job_ends_with_pd_audits_exit_code(tmp_path, code):
    script = "\n".join(gitlab_job()["script"])
    env = {**stand_in(tmp_path, code), "CI_MERGE_REQUEST_IID": ""}  # not a merge request: no comment posted
    result = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == code, result.stderr
    assert ("pd-audit summary" in result.stdout) == (code <= 1)
