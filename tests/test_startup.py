"""What the command line loads before it judges anything.

pandas, numpy and the rule engine take most of a command's first half second. The command line
itself (``audit.cli`` and the commands' modules) loads none of them, so ``pd-audit --help`` and
the crawler start at once; a judging command opens the snapshot and starts its people side (on
the second core of a large account, ``audit.facts.roster.read_beside``) before loading them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .crawl.conftest import ACME, crawl, emulator_app

HEAVY = ("pandas", "numpy", "pydantic", "audit.assess", "audit.facts.build", "audit.rules")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    snap, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("startup") / "snap")
    return snap.path


def _run(program: str) -> str:
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stderr.decode()
    return ran.stdout.decode()


def test_the_command_line_loads_no_table_library_or_rule_engine() -> None:
    loaded = _run(f"import sys\nimport audit.cli\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    assert loaded.strip() == "[]"


def test_a_judging_command_starts_the_people_side_before_loading_pandas(snapshot) -> None:
    program = ("import sys\n"
               "from audit.facts import roster\n"
               "started = roster.read_beside\n"
               "def spied(snapshot):\n"
               "    print('people side started; loaded:', sorted(m for m in %r if m in sys.modules))\n"
               "    return started(snapshot)\n"
               "roster.read_beside = spied\n"
               "from audit.cli import main\n"
               "sys.argv = ['pd-audit', 'score', %r, '--format', 'json', '--as-of', '2027-01-04']\n"
               "try:\n"
               "    main()\n"
               "except SystemExit as done:\n"
               "    assert not done.code, done.code\n") % (HEAVY, str(snapshot))
    out = _run(program)
    first, _, rest = out.partition("\n")
    assert first == "people side started; loaded: []"
    assert '"format"' in rest  # and the score was written after it
