"""JUnit, ``diff`` and ``history`` written as they are made (issue 18.2), as ``tests/test_streamed_json.py``
tests the score's and the check's JSON: the file holds what the one-string rendering holds, each piece is
written before the next is made, and a failure half-way leaves the old file and no temporary one."""

from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from audit import cli
from audit.baseline import create_baseline
from audit.diff import diff_assessments
from audit.findings import Finding
from audit.gate import run_gate
from audit.history import build_history
from audit.json_text import Streamed, json_text
from audit.outputs import diff_formats, history_formats, junit
from audit.outputs.ci import DIFF_FORMATS, DIFF_WRITERS, HISTORY_FORMATS, HISTORY_WRITERS
from audit.safe_write import open_output

from .conftest import CI_PACK, TODAY, ci_assess
from .test_outputs import junit_counts_agree


@pytest.fixture(scope="module")
def gate(ci_snapshots, ci_config):
    baseline = create_baseline(ci_assess(ci_snapshots["base"], ci_config).findings, TODAY)
    return run_gate(ci_assess(ci_snapshots["fixed"], ci_config), baseline)


@pytest.fixture(scope="module")
def diff(ci_snapshots, ci_config):
    return diff_assessments(ci_assess(ci_snapshots["base"], ci_config), ci_assess(ci_snapshots["fixed"], ci_config))


@pytest.fixture(scope="module")
def history(ci_snapshots, ci_config, tmp_path_factory):
    folder = tmp_path_factory.mktemp("history")
    for name in ("base", "broken", "fixed"):
        shutil.copytree(ci_snapshots[name], folder / name)
    return build_history(folder, lambda snapshot, day: ci_assess(snapshot.path, ci_config, today=day))


def _whole(value):
    """The same data with every ``Streamed`` part made a list: what was built whole before."""
    if isinstance(value, Streamed):
        return [_whole(item) for item in value.items]
    if isinstance(value, dict):
        return {key: _whole(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole(item) for item in value]
    return value


def _file_text(tmp_path, write, subject) -> str:
    target = tmp_path / "out"
    with open_output(target) as out:
        write(subject, out)
    return target.read_bytes().decode("utf-8")


# --- the same output, through a file and as one string ----------------------------------------


def test_junit_through_a_file_is_the_rendered_text_and_valid(gate, tmp_path):
    text = _file_text(tmp_path, junit.write, gate)
    assert text == junit.render(gate) and text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
    cases = junit_counts_agree(ET.fromstring(text.encode("utf-8")))
    assert cases and text.endswith("</testsuites>\n")


@pytest.mark.parametrize("fmt", sorted(DIFF_WRITERS))
def test_diff_through_a_file_is_the_rendered_text(diff, fmt, tmp_path):
    assert _file_text(tmp_path, DIFF_WRITERS[fmt], diff) == DIFF_FORMATS[fmt](diff)


@pytest.mark.parametrize("fmt", sorted(HISTORY_WRITERS))
def test_history_through_a_file_is_the_rendered_text(history, fmt, tmp_path):
    assert _file_text(tmp_path, HISTORY_WRITERS[fmt], history) == HISTORY_FORMATS[fmt](history)


def test_streamed_diff_and_history_json_read_back_as_the_whole_data(diff, history):
    assert json.loads(DIFF_FORMATS["json"](diff)) == json.loads(json_text(_whole(diff_formats.diff_json(diff))))
    data = json.loads(HISTORY_FORMATS["json"](history))
    assert data == json.loads(json_text(_whole(history_formats.history_json(history))))
    assert [len(point["teams"]) for point in data["points"]] == [len(p.teams) for p in history.points]


def test_the_diff_command_prints_what_the_writer_writes(ci_snapshots, ci_config, diff):
    rules = ["--rules", str(CI_PACK.parent), "--config", str(ci_config), "--mode", "static", "--as-of",
             TODAY.isoformat()]
    result = CliRunner().invoke(cli.main, ["diff", str(ci_snapshots["base"]), str(ci_snapshots["fixed"]),
                                           "--format", "json", *rules])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == json.loads(DIFF_FORMATS["json"](diff))["counts"]


# --- lazy: each piece written before the next is made -------------------------------------------


def written_before_each_call(monkeypatch, owner, name: str, out: io.StringIO, marker: str) -> list[int]:
    """Patch ``owner.name`` (what makes one piece) to note, at each call, how many ``marker``s are
    already in ``out``: a writer that builds its output whole would have written none of them yet."""
    counts: list[int] = []
    real = getattr(owner, name)

    def recording(*args):
        counts.append(out.getvalue().count(marker))
        return real(*args)

    monkeypatch.setattr(owner, name, recording)
    return counts


def test_junit_writes_each_case_before_making_the_next(gate, monkeypatch):
    out = io.StringIO()
    written_before = written_before_each_call(monkeypatch, junit, "finding_case", out, "<testcase")
    junit.write(gate, out, every_object=True)
    assert len(written_before) > 20
    # Within a suite the cases before this one are out; the counted first pass makes none.
    assert written_before == sorted(written_before) and len(set(written_before)) == len(written_before)


def test_diff_json_writes_each_finding_before_making_the_next(diff, monkeypatch):
    out = io.StringIO()
    written_before = written_before_each_call(monkeypatch, Finding, "to_json", out, '"fingerprint"')
    diff_formats.write_json(diff, out)
    assert written_before == list(range(len(diff.new) + len(diff.fixed) + len(diff.downgraded) + len(diff.waived)))
    assert len(written_before) >= 2


def test_history_csv_writes_row_by_row(history, monkeypatch):
    out = io.StringIO()
    rows_before = written_before_each_call(monkeypatch, history_formats, "_round", out, "\n")
    history_formats.write_csv(history, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows_before[::2] == list(range(1, len(rows)))  # two figures rounded a row, after the rows above it


# --- a failure half-way leaves the old file -------------------------------------------------------


def _failing_after(count, real):
    calls = []

    def fail(*args):
        calls.append(1)
        if len(calls) > count:
            raise RuntimeError("the disk went away")
        return real(*args)

    return fail


@pytest.mark.parametrize("what", ["junit", "diff json", "diff table", "history json"])
def test_a_failure_half_way_leaves_the_old_file_and_no_temporary_one(what, gate, diff, history, tmp_path,
                                                                     monkeypatch):
    if what == "junit":
        monkeypatch.setattr(junit, "finding_case", _failing_after(2, junit.finding_case))
        write, subject = junit.write, gate
    elif what.startswith("diff"):
        monkeypatch.setattr(diff_formats, "_finding_line", _failing_after(1, diff_formats._finding_line))
        monkeypatch.setattr(Finding, "to_json", _failing_after(1, Finding.to_json))
        write, subject = DIFF_WRITERS[what.split()[1]], diff
    else:
        monkeypatch.setattr(history_formats, "_group_json", _failing_after(3, history_formats._group_json))
        write, subject = HISTORY_WRITERS["json"], history
    target = tmp_path / "out.txt"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), open_output(target) as out:
        write(subject, out)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_check_junit_that_fails_half_way_keeps_the_previous_report(ci_snapshots, ci_config, tmp_path, monkeypatch):
    baseline = tmp_path / "base.json"
    runner = CliRunner()
    common = ["--rules", str(CI_PACK.parent), "--config", str(ci_config)]
    assert runner.invoke(cli.main, ["baseline", "create", str(ci_snapshots["base"]), "-o", str(baseline),
                                    *common]).exit_code == 0
    report = tmp_path / "junit.xml"
    report.write_text("<testsuites/>\n", encoding="utf-8")
    monkeypatch.setattr(junit, "finding_case", _failing_after(1, junit.finding_case))
    result = runner.invoke(cli.main, ["check", str(ci_snapshots["fixed"]), "--baseline", str(baseline), "--junit",
                                      str(report), *common])
    assert result.exit_code == 2 and "internal error: RuntimeError: the disk went away" in result.stderr
    assert report.read_text(encoding="utf-8") == "<testsuites/>\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.json", "junit.xml"]


def test_the_check_verdict_is_made_line_by_line_and_printed_as_rendered(gate):
    from audit.outputs.ci import CHECK_FORMATS, verdict_lines

    lines = verdict_lines(gate)
    assert next(lines).startswith("pd-audit check FAILED: ")  # a generator: the first line before the rest exist
    assert "".join(line + "\n" for line in verdict_lines(gate)) == CHECK_FORMATS["text"](gate)
    assert len(CHECK_FORMATS["text"](gate).splitlines()) == 1 + len(gate.new) + len(gate.absent)
