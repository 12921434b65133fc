"""The output-side safety modules on their own: safe text, the atomic writer, scorecard names,
report folders, strict JSON and the time limit (the attacks in tests/reliability run them end to end)."""

from __future__ import annotations

import json
import os
import time

import pytest

from audit.errors import SnapshotError, UserError
from audit.json_text import json_text
from audit.reports.files import MARKER, claim_folder, record_folder, scorecard_stems, slug
from audit.safe_text import MAX_RENDERED, for_terminal, one_line, printable, without_surrogates
from audit.safe_write import write_file
from audit.snapshot import load
from audit.time_limit import ENV_SECONDS, within


@pytest.mark.parametrize("hostile", [
    "\x1b[2J", "\x1b]0;pwned\x07", "\x9b2J", "\u200f", "\u200e", "\u061c", "\u202e", "\u2066", "\ud800", "\x00",
])
def test_printable_and_for_terminal_replace_every_steering_character(hostile):
    text = f"before {hostile} after"
    for shown in (printable(text), for_terminal(text), one_line(text)):
        assert hostile not in shown and "\N{REPLACEMENT CHARACTER}" in shown
        assert shown.encode("utf-8")  # no lone surrogate left


def test_terminal_text_keeps_its_layout_and_one_line_flattens_it():
    assert for_terminal("a\tb\nc") == "a\tb\nc"
    assert for_terminal("over\rwrite") == "over\N{REPLACEMENT CHARACTER}write"
    assert one_line("first\nsecond\r\nthird") == "first second third"


def test_any_one_string_is_capped_with_an_ellipsis():
    shown = printable("N" * 100_000)
    assert len(shown) == MAX_RENDERED and shown.endswith("…")
    assert printable("short", 3) == "sh…"


def test_lone_surrogates_become_replacement_characters_and_nothing_else_changes():
    assert without_surrogates("a\ud800b\u202e") == "a\N{REPLACEMENT CHARACTER}b\u202e"


def test_writer_replaces_a_planted_link_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "out.html").symlink_to(victim)
    write_file(tmp_path / "out.html", "new \ud800")
    assert victim.read_text() == "keep"
    assert not (tmp_path / "out.html").is_symlink()
    assert (tmp_path / "out.html").read_text(encoding="utf-8") == "new \N{REPLACEMENT CHARACTER}"


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text("old")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(UserError, match="No space left on device"):
        write_file(target, "new")
    assert target.read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.json"]


def test_written_files_take_the_umask_not_the_temporary_files_0600(tmp_path):
    previous = os.umask(0o022)
    try:
        write_file(tmp_path / "out.txt", "x")
    finally:
        os.umask(previous)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644


def test_scorecard_stems_are_named_and_unique_even_ignoring_case():
    stems = scorecard_stems({"A.B": "Ops", "A_B": "Ops", "A B": "Ops", "PTEAM01": "Payments", "ptEAM01": "payments",
                             "PTEAM02": "Équipe Café"})
    assert stems["PTEAM02"] == "team-equipe-cafe-PTEAM02"
    assert len({stem.casefold() for stem in stems.values()}) == len(stems)
    assert stems["A.B"].startswith("team-ops-A_B-") and stems["PTEAM01"].startswith("team-payments-PTEAM01-")
    assert scorecard_stems({"PTEAM09": "Returns"}) == {"PTEAM09": "team-returns-PTEAM09"}
    assert slug("<script>") == "script" and slug("∑∑∑") == ""


def test_report_folder_is_claimed_only_when_new_empty_or_ours(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds files pd-audit did not write"):
        claim_folder(theirs)
    ours = tmp_path / "ours"
    assert claim_folder(ours) == frozenset()
    for name in ("index.html", "team-a-P1.html", "team-b-P2.html"):
        (ours / name).write_text(name)
    record_folder(ours, [ours / "index.html", ours / "team-a-P1.html", ours / "team-b-P2.html"], (), whole=True)
    assert claim_folder(ours) == {"index.html", "team-a-P1.html", "team-b-P2.html"}
    # The next whole run no longer has team b: its scorecard goes, a file of the user's stays.
    (ours / "their-notes.txt").write_text("keep")
    record_folder(ours, [ours / "index.html", ours / "team-a-P1.html"], claim_folder(ours), whole=True)
    assert sorted(p.name for p in ours.iterdir()) == [MARKER, "index.html", "team-a-P1.html", "their-notes.txt"]


def test_a_hand_edited_marker_cannot_reach_outside_the_folder(tmp_path):
    ours = tmp_path / "ours"
    ours.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (ours / MARKER).write_text(json.dumps({"format": "pd-audit-report", "files": ["../outside.txt", "/etc/hosts"]}))
    record_folder(ours, [], claim_folder(ours), whole=True)
    assert outside.read_text() == "keep"


def test_json_text_is_strict():
    text = json_text({"score": float("nan"), "deep": [float("inf"), 1.5]})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}")) == {"score": None, "deep": [None, 1.5]}


def test_an_unreadable_collection_is_one_snapshot_error(tmp_path, monkeypatch):
    from tests.crawl.conftest import ACME, crawl, emulator_app

    snapshot, _ = crawl(emulator_app(ACME), tmp_path / "snap")
    real_open = open

    def refusing_open(path, *args, **kwargs):
        if str(path).endswith("services.jsonl"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing_open)
    with pytest.raises(SnapshotError, match="services.jsonl: cannot be read .Permission denied"):
        load(snapshot.path)
    with pytest.raises(SnapshotError, match="services.jsonl: cannot be read .Permission denied"):
        list(load(snapshot.path, verify=False).iter("services"))


def test_time_limit_stops_a_backtracking_expression(monkeypatch):
    import re

    monkeypatch.setenv(ENV_SECONDS, "0.2")
    started = time.monotonic()
    with pytest.raises(UserError, match="pack.yaml: RULE-01: took longer than 0.2 s"), within("pack.yaml: RULE-01"):
        re.search(r"(N+)+X", "N" * 64)
    assert time.monotonic() - started < 10  # stopped, not finished (that would take centuries)


def test_a_no_overwrite_write_refuses_anything_already_there_even_a_dangling_link(tmp_path):
    write_file(tmp_path / "new.toml", "a = 1\n", overwrite=False)
    assert (tmp_path / "new.toml").read_text() == "a = 1\n"
    (tmp_path / "link.toml").symlink_to(tmp_path / "nowhere")
    for taken in ("new.toml", "link.toml"):
        with pytest.raises(FileExistsError):
            write_file(tmp_path / taken, "b = 2\n", overwrite=False)
    assert not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.toml", "new.toml"]
