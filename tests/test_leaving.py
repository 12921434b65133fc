"""A command that made one assessment, run as the ``pd-audit`` console script, ends without freeing it
(``audit.commands.leaving``): what it prints and its exit code are exactly what the same command gives in
process, where nothing is kept and nothing ends early."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.commands import leaving

from .crawl.conftest import ACME, crawl, emulator_app

CONSOLE_SCRIPT = Path(sys.executable).with_name("pd-audit")
AS_OF = ("--as-of", "2027-01-04")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    snap, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("leaving") / "snap")
    return snap.path


def in_process(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def console_script(*args):
    return subprocess.run([str(CONSOLE_SCRIPT), *map(str, args)], capture_output=True, timeout=300, check=False)


def test_score_as_a_console_script_prints_all_of_what_it_prints_in_process(snapshot):
    # --all: far more than a pipe's buffer, so output left unflushed at the end would be lost.
    args = ("score", snapshot, "--format", "json", "--all", *AS_OF)
    expected = in_process(*args)
    ran = console_script(*args)
    assert ran.returncode == expected.exit_code == 0, ran.stderr
    assert len(ran.stdout) > 1 << 16 and ran.stdout.decode() == expected.output


def test_check_as_a_console_script_keeps_its_verdict_and_exit_code(snapshot, tmp_path):
    recorded = tmp_path / "baseline.json"
    assert in_process("baseline", "create", snapshot, "-o", recorded, *AS_OF).exit_code == 0
    baseline = json.loads(recorded.read_text())
    baseline["entries"] = baseline["entries"][::2]  # half the debt forgotten: the rest is new
    recorded.write_text(json.dumps(baseline))
    args = ("check", snapshot, "--baseline", recorded, *AS_OF)
    expected = in_process(*args)
    ran = console_script(*args, "--junit", tmp_path / "junit.xml")
    assert ran.returncode == expected.exit_code == 1, ran.stderr
    assert ran.stdout.decode() == expected.output and "check FAILED" in expected.output
    assert (tmp_path / "junit.xml").read_text().rstrip().endswith("</testsuites>")  # closed before the end


@pytest.mark.parametrize(("args", "leaves_early"), [
    (("score", "{snapshot}", *AS_OF), True),
    (("baseline", "create", "{snapshot}", "-o", "{tmp}/b.json", *AS_OF), True),
    (("report", "{snapshot}", "--format", "html", "--report-dir", "{tmp}/reports", *AS_OF), True),
    (("facts", "{snapshot}", "--entity", "team"), False),  # keeps nothing: ends the ordinary way
])
def test_only_a_command_that_kept_its_assessment_skips_the_interpreters_shutdown(snapshot, tmp_path, args,
                                                                                  leaves_early):
    argv = [arg.format(snapshot=snapshot, tmp=tmp_path) for arg in args]
    program = ("import atexit, sys\n"
               "atexit.register(lambda: print('shut down', file=sys.stderr))\n"
               "from audit.cli import run\n"
               f"sys.argv = ['pd-audit', *{argv!r}]\n"
               "run()\n")
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ("shut down" in ran.stderr.decode()) is not leaves_early


def test_a_command_run_in_process_keeps_nothing(snapshot):
    assert in_process("score", snapshot, *AS_OF).exit_code == 0
    assert leaving.kept() == 0


def test_what_a_command_keeps_is_out_of_the_collectors_sight_until_the_process_ends(snapshot):
    # Run as the console script does (armed): the kept assessment is frozen, so the collector's pass as
    # the command returns walks none of it. Asked in a child process: freezing is for the rest of a life.
    program = ("import gc, sys\n"
               "from audit.commands import leaving\n"
               "from audit.cli import main\n"
               "leaving.arm()\n"
               f"sys.argv = ['pd-audit', 'score', {str(snapshot)!r}, *{list(AS_OF)!r}]\n"
               "try:\n"
               "    main()\n"
               "except SystemExit:\n"
               "    pass\n"
               "print(leaving.kept(), gc.get_freeze_count(), len(gc.get_objects()), file=sys.stderr)\n")
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=300, check=False)
    kept, frozen, watched = map(int, ran.stderr.decode().split()[-3:])
    # Nearly all of the process is frozen: what the collector still watches is a small remainder.
    assert kept == 1 and frozen > 10 * watched, ran.stderr
