"""The policy and schedule tables built in a forked child equal those built in line, and a
failure in the child reaches the caller as the same one-line error.

The fork is on only for large accounts (``FORK_FROM_SERVICES``); these tests lower the bar so
the small, hand-checked account of ``test_build`` goes through it.
"""

from __future__ import annotations

import os

import pytest

from audit.errors import SnapshotError
from audit.facts import build as build_module
from audit.facts import forked as forked_module
from audit.facts import roster as roster_module
from audit.facts import schedules
from audit.facts.forked import Forked
from tests.facts.test_build import acme_account, build


@pytest.fixture
def always_fork(monkeypatch):
    monkeypatch.setattr(forked_module, "FORK_FROM_SERVICES", 0)
    monkeypatch.setattr(forked_module, "forking_helps", lambda: True)


def test_tables_built_beside_equal_those_built_in_line(tmp_path, always_fork, monkeypatch):
    parent = os.getpid()
    monkeypatch.setattr(schedules, "schedule_table", _recording_pid(schedules.schedule_table))
    forked = build(tmp_path / "forked", acme_account())
    assert forked.tables["schedule"].attrs["built_by"] != parent  # the child did build it
    monkeypatch.setattr(forked_module, "forking_helps", lambda: False)
    in_line = build(tmp_path / "in-line", acme_account())
    assert forked.tables.keys() == in_line.tables.keys()
    assert in_line.tables["schedule"].attrs["built_by"] == parent
    for name, table in in_line.tables.items():
        assert len(table) > 0, name
        assert forked.tables[name].equals(table), name
        assert list(forked.tables[name].dtypes) == list(table.dtypes), name


def _recording_pid(make_table):
    def recorded(*args, **kwargs):
        table = make_table(*args, **kwargs)
        table.attrs["built_by"] = os.getpid()
        return table
    return recorded


def test_a_failure_in_the_child_is_raised_in_the_caller(tmp_path, always_fork, monkeypatch):
    def broken(*args, **kwargs):
        raise SnapshotError("schedule PSCH001: final_schedule is not a list")

    monkeypatch.setattr(schedules, "schedule_table", broken)
    with pytest.raises(SnapshotError, match="^schedule PSCH001: final_schedule is not a list$"):
        build(tmp_path / "snap", acme_account())


def test_a_child_that_dies_is_an_error_not_a_hang():
    died = Forked(lambda: os._exit(3))
    with pytest.raises(RuntimeError, match="ended without an answer"):
        died.result()


def test_unpicklable_failures_arrive_as_text():
    def fails():
        class Local(Exception):  # a class defined in a function cannot be pickled
            pass
        raise Local("the API answered something odd")

    with pytest.raises(RuntimeError, match="Local: the API answered something odd"):
        Forked(fails).result()


def test_without_fork_the_work_runs_when_asked():
    calls = []
    deferred = Forked(lambda: calls.append("ran") or 42, fork=False)
    assert calls == []
    assert deferred.result() == 42 and calls == ["ran"]


def test_an_abandoned_child_is_stopped_and_reaped_even_with_a_full_pipe():
    import time

    big = Forked(lambda: b"x" * 4_000_000)  # more than a pipe holds: the child blocks writing it
    slow = Forked(lambda: time.sleep(60))
    for child in (big, slow):
        pid = child._pid
        started = time.monotonic()
        child.abandon()
        assert time.monotonic() - started < 10
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already: no zombie left behind
    with pytest.raises(RuntimeError, match="taken or abandoned already"):
        slow.result()
    done = Forked(lambda: 7)
    assert done.result() == 7
    done.abandon()  # nothing left to stop once the result is in


def test_a_failing_stage_stops_the_children_it_started(tmp_path, always_fork, monkeypatch):
    started = []

    class Recorded(Forked):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self._pid)

    def broken(*args, **kwargs):
        raise SnapshotError("policy PEPAY: escalation_rules is not a list")

    monkeypatch.setattr(build_module, "Forked", Recorded)
    monkeypatch.setattr(roster_module, "Forked", Recorded)
    monkeypatch.setattr(build_module.escalation, "resolve_policies", broken)
    with pytest.raises(SnapshotError, match="^policy PEPAY: escalation_rules is not a list$"):
        build(tmp_path / "snap", acme_account())
    assert len(started) == 2  # the people side, and the schedule table started before the policies failed
    for pid in started:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize("forking", [True, False])
@pytest.mark.parametrize(
    ("broken", "named"),
    [
        (("schedule_table", "service_table"), "service"),  # the schedule table comes last in line
        (("user_table", "service_table"), "user"),
        (("team_table", "service_table"), "service"),  # built after the team table here, before it in line
        (("level_table", "policy_table"), "policy"),
        (("schedule_table",), "schedule"),
    ],
)
def test_tables_failing_beside_report_the_failure_met_first_in_line(
    tmp_path, always_fork, monkeypatch, forking, broken, named
):
    monkeypatch.setattr(forked_module, "forking_helps", lambda: forking)
    modules = {"schedule_table": schedules, "service_table": build_module.ownership, "team_table": build_module.ownership,
               "user_table": build_module.people, "level_table": build_module.escalation,
               "policy_table": build_module.escalation}
    for function in broken:
        name = function.removesuffix("_table")

        def fails(*args, _name=name, **kwargs):
            raise SnapshotError(f"the {_name} table met something odd")

        monkeypatch.setattr(modules[function], function, fails)
    with pytest.raises(SnapshotError, match=f"^the {named} table met something odd$"):
        build(tmp_path / "snap", acme_account())
