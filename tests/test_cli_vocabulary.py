"""One name per idea (issue 13.4): every command's --help, the README and the renamed spellings agree.

* The README's command table and every `pd-audit ...` it shows name commands that exist and
  options those commands have (visible in their --help).
* An option name shared by commands means one idea everywhere: the table below says which idea
  and how it is given (a flag, one value, repeatable) with which metavars.
* An old spelling is hidden, says on stderr which new spelling to use, and reaches the same
  parameter as the new one; giving both is a usage error.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.commands.options import RenamedOption, option_fields

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES_README = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")

# name -> (the idea, how it is given, the metavars it may show). A new option shared by two
# commands must be added here: the test fails until its idea is written down.
VOCABULARY: dict[str, tuple[str, str, set[str]]] = {
    "--output": ("the one thing the command creates", "one", {"SNAPSHOT", "FILE", "DIR"}),
    "--report-dir": ("the folder the reports go to", "one", {"DIR"}),
    "--snapshot": ("a snapshot folder given as an option", "one", {"SNAPSHOT"}),
    "--previous": ("an earlier snapshot, for the trend", "one", {"SNAPSHOT"}),
    "--history": ("a folder of earlier snapshots, for the trend line", "one", {"DIR"}),
    "--team": ("restrict to teams, ids or names", "many", {"TEAM"}),
    "--format": ("how stdout is printed, or the report formats", "one", {"FORMAT,..."}),
    "--sarif": ("a SARIF file the gate writes", "one", {"FILE"}),
    "--junit": ("a JUnit file the gate writes", "one", {"FILE"}),
    "--markdown": ("a Markdown file the gate writes", "one", {"FILE"}),
    "--json": ("a JSON file the gate writes", "one", {"FILE"}),
    "--baseline": ("the baseline file", "one", {"FILE"}),
    "--fail-on": ("the gate's severity threshold", "one", set()),
    "--live": ("crawl the snapshot first", "flag", set()),
    "--rules": ("a folder of extra rule packs", "many", {"DIR"}),
    "--config": ("the config file", "one", {"FILE"}),
    "--mode": ("which rule modes judge", "one", set()),
    "--as-of": ("the audit's as-of date", "one", {"YYYY-MM-DD"}),
    "--anonymize-people": ("pseudonyms for people in reports", "flag", set()),
    "--pdf-workers": ("processes printing PDFs", "one", set()),
    "--force": ("replace what the command would create", "flag", set()),
    "--quiet": ("no progress on stderr", "flag", set()),
    # the crawl's connection and scope (crawl, audit, check --live, plan --live)
    "--token-file": ("the file holding the API token", "one", {"FILE"}),
    "--region": ("PagerDuty's service region", "one", set()),
    "--api-url": ("the API's base URL", "one", {"URL"}),
    "--ca-bundle": ("a private CA's bundle", "one", {"FILE"}),
    "--since": ("the on-call window's start", "one", {"INSTANT"}),
    "--window": ("the on-call window's length", "one", {"WINDOW"}),
    "--incidents-window": ("the incident history's length", "one", {"WINDOW"}),
    "--max-rate": ("requests per minute", "one", set()),
    "--workers": ("concurrent requests", "one", set()),
    "--timeout": ("seconds to wait for an answer", "one", set()),
    "--max-attempts": ("tries per request", "one", set()),
    "--skip": ("collections to leave out", "one", {"COLLECTION,..."}),
    "--resume": ("continue an interrupted crawl", "flag", set()),
    "--all": ("every finding listed, not passes counted per rule (score's JSON/CSV, check's JUnit)", "flag", set()),
}


def _commands(command: click.Command = main, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], click.Command]:
    found = {path: command} if path else {}
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found.update(_commands(sub, (*path, name)))
    return found


COMMANDS = _commands()


def _options(command: click.Command, *, hidden: bool = False) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and p.hidden == hidden and p.name != "help"]


def _spellings(command: click.Command) -> set[str]:
    return {opt for option in _options(command) for opt in option.opts} | {"--help", "-h"}


def _arity(option: click.Option) -> str:
    return "flag" if option.is_flag else "many" if option.multiple else "one"


def _metavar(command: click.Command, option: click.Option) -> str:
    return option.metavar or option.type.get_metavar(option, click.Context(command)) or option.type.name.upper()


def test_every_shared_option_name_means_one_idea_given_one_way():
    uses: dict[str, list[tuple[tuple[str, ...], click.Option]]] = defaultdict(list)
    for path, command in COMMANDS.items():
        for option in _options(command):
            uses[max(option.opts, key=len)].append((path, option))
    problems = []
    for name, where in sorted(uses.items()):
        if len(where) < 2:
            continue
        if name not in VOCABULARY:
            problems.append(f"{name} is shared by {[' '.join(p) for p, _ in where]}: write its idea in VOCABULARY")
            continue
        _, arity, metavars = VOCABULARY[name]
        for path, option in where:
            if _arity(option) != arity:
                problems.append(f"{' '.join(path)} {name}: given as {_arity(option)}, elsewhere as {arity}")
            shown = _metavar(COMMANDS[path], option)
            if metavars and arity != "flag" and shown not in metavars and not shown.startswith("["):
                problems.append(f"{' '.join(path)} {name}: metavar {shown}, not one of {sorted(metavars)}")
    assert not problems, "\n".join(problems)


def test_the_vocabulary_check_sees_a_name_with_two_meanings():
    # `--json` as a flag beside `--json FILE` is what the check above exists to catch.
    flag = click.Option(["--json"], is_flag=True)
    assert _arity(flag) != VOCABULARY["--json"][1]


def test_old_spellings_are_hidden_renamed_options_of_a_visible_new_one():
    renamed = 0
    for path, command in COMMANDS.items():
        visible = _spellings(command)
        for option in _options(command, hidden=True):
            assert isinstance(option, RenamedOption), f"{' '.join(path)}: {option.opts} is hidden but not renamed"
            assert not set(option.opts) & visible, f"{' '.join(path)}: {option.opts} is both old and visible"
            new = {p.name: p for p in command.params}[option.new_param]
            assert not new.hidden and option.new_spelling.split()[0] in new.opts, (path, option.opts)
            renamed += 1
    assert renamed >= 7  # --out (report, audit, demo), --teams (crawl, audit, check, plan), --json (snapshot info)


def test_each_command_takes_one_dataclass_whose_fields_are_its_options():
    typed = 0
    for path, command in COMMANDS.items():
        options_class = getattr(command.callback, "options_class", None)
        if isinstance(command, click.Group) and not command.params:
            continue
        assert options_class is not None, f"{' '.join(path)} takes its options loose, not as a dataclass"
        declared = {p.name for p in command.params if not isinstance(p, RenamedOption)}
        assert declared <= option_fields(options_class), (path, declared - option_fields(options_class))
        assert option_fields(options_class, required=True) <= declared, (path, option_fields(options_class) - declared)
        assert options_class.__dataclass_params__.frozen, path
        typed += 1
    assert typed >= 16


# ---------------------------------------------------------------- renamed spellings at work


def _parse(argv: list[str]) -> tuple[click.Command, dict]:
    """The command argv names and its parameters once parsed (renamed spellings folded in)."""
    context = main.make_context("pd-audit", list(argv))
    command: click.Command = main
    while isinstance(command, click.Group):
        with warnings.catch_warnings():  # click 8.2 deprecates protected_args; 9.0 folds it into args
            warnings.simplefilter("ignore", DeprecationWarning)
            given = [*getattr(context, "protected_args", []), *context.args]
        name, sub, rest = command.resolve_command(context, given)
        assert sub is not None and name is not None
        command, context = sub, sub.make_context(name, rest, parent=context)
    return command, context.params


@pytest.mark.parametrize("old, new, param, expected", [
    (["report", "snap", "--out", "cards"], ["report", "snap", "--report-dir", "cards"], "report_dir", Path("cards")),
    (["audit", "-o", "snap", "--out", "cards"], ["audit", "-o", "snap", "--report-dir", "cards"], "report_dir",
     Path("cards")),
    (["demo", "--out", "d"], ["demo", "-o", "d"], "output", Path("d")),
    (["crawl", "-o", "snap", "--teams", "PTEAM01,PTEAM02"], ["crawl", "-o", "snap", "--team", "PTEAM01",
                                                           "--team", "PTEAM02"], "teams", ("PTEAM01", "PTEAM02")),
    (["check", "snap", "--baseline", "b.json", "--live", "--teams", "PTEAM01"],
     ["check", "snap", "--baseline", "b.json", "--live", "--team", "PTEAM01"], "teams", ("PTEAM01",)),
    (["snapshot", "info", "snap", "--json"], ["snapshot", "info", "snap", "--format", "json"], "fmt", "json"),
])
def test_an_old_spelling_reaches_the_new_option_with_a_note(old, new, param, expected, capsys):
    _, by_old = _parse(old)
    note = capsys.readouterr().err
    _, by_new = _parse(new)
    assert by_old[param] == by_new[param] == expected
    assert by_old == by_new  # nothing else differs: the old spelling left no parameter of its own
    old_spelling = next(arg for arg in old if arg not in new)
    (line,) = note.splitlines()
    assert line.startswith(f"pd-audit: warning: {old_spelling} is deprecated: use ")
    assert not capsys.readouterr().err  # the new spelling says nothing


def test_the_old_meaning_of_audit_o_is_kept():
    # `audit -o` has always been the snapshot: it must not become the report folder.
    _, params = _parse(["audit", "-o", "snap", "--report-dir", "cards"])
    assert params["output"] == Path("snap") and params["report_dir"] == Path("cards")


def test_both_spellings_at_once_is_a_usage_error():
    result = CliRunner().invoke(main, ["report", "snap", "--out", "a", "--report-dir", "b"])
    assert result.exit_code == 2
    assert "--out is the old spelling of --report-dir: give only --report-dir" in result.stderr


def test_old_spellings_are_not_in_help():
    for argv, old in ((["report"], "--out"), (["crawl"], "--teams"), (["snapshot", "info"], "--json"),
                      (["demo"], "--out")):
        text = CliRunner().invoke(main, [*argv, "--help"]).stdout
        assert old not in re.findall(r"--[a-z-]+", text), (argv, old)


def test_judging_commands_take_one_team_and_say_so(tmp_path):
    result = CliRunner().invoke(main, ["score", str(tmp_path), "--team", "a,b"])
    assert result.exit_code == 2
    assert "`score` judges one team at a time" in result.stderr


# ---------------------------------------------------------------- the README and --help


def _command_of(words: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The longest command path ``words`` start with, and what follows it."""
    path: tuple[str, ...] = ()
    while len(path) < len(words) and (*path, words[len(path)]) in COMMANDS:
        path = (*path, words[len(path)])
    return path, words[len(path):]


def _readme_table_rows() -> list[str]:
    start = README.index("| command | what it does |")
    rows = []
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_every_command_in_the_readme_table_exists_with_the_options_it_names():
    problems = []
    for row in _readme_table_rows():
        cells = row.strip("|").split("|")
        commands = [_command_of(span.split()[1:])[0] for span in re.findall(r"`(pd-audit [^`]+)`", cells[0])]
        if not commands or not all(commands):
            problems.append(f"names no command that exists: {cells[0].strip()}")
            continue
        offered = set().union(*(_spellings(COMMANDS[path]) for path in commands))
        named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-o)\b", row))
        problems += [f"{cells[0].strip()}: no {name} in --help" for name in sorted(named - offered)]
    assert len(_readme_table_rows()) >= 14
    assert not problems, "\n".join(problems)


def test_every_top_level_command_is_in_the_readme_table():
    table = "\n".join(_readme_table_rows())
    missing = [name for name in main.commands if f"`pd-audit {name}" not in table]
    assert not missing, missing


def _readme_command_lines() -> list[str]:
    lines = []
    blocks = re.findall(r"```sh\n(.*?)```", README + EXAMPLES_README, re.S)
    for block in blocks:
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():  # continuation lines joined
            command = re.sub(r"^(\w+=\S+ )+", "", line.strip())  # PAGERDUTY_TOKEN=any pd-audit ...
            if command.startswith("pd-audit "):
                lines.append(command)
    return lines


@pytest.mark.parametrize("line", _readme_command_lines())
def test_every_readme_command_line_parses_and_its_comment_names_options_it_has(line):
    command_part, _, comment = line.partition("#")
    path, rest = _command_of(command_part.split()[1:])
    assert path, f"no such command: {line}"
    command = COMMANDS[path]
    with CliRunner().isolation():  # resilient: the line's files need not exist here; unknown options still fail
        command.make_context(" ".join(path), rest, resilient_parsing=True)
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", comment))
    assert named <= _spellings(command), f"{line}: {sorted(named - _spellings(command))} not in --help"


def test_command_and_option_pairs_in_the_readme_prose_exist():
    # `check --live`, `report`/`audit --report-dir`, `crawl --strict`: the command before the option has it.
    problems = []
    for span in re.findall(r"`([a-z][a-z ]*?(?: --[a-z][a-z-]*)+)[^`]*`", README):
        words = span.split()
        path, rest = _command_of(words)
        if not path:
            continue
        for name in (word for word in rest if word.startswith("--")):
            if name not in _spellings(COMMANDS[path]):
                problems.append(f"`{span}`: {' '.join(path)} has no {name}")
    assert not problems, "\n".join(problems)


def test_the_renamed_options_table_matches_the_cli():
    section = README[README.index("#### Renamed options"):]
    table = section[section.index("| old spelling"):].split("\n\n")[0].splitlines()[2:]
    assert len(table) >= 4
    for row in table:
        old_cell, new_cell, commands_cell = row.strip("|").split("|")
        old = re.search(r"--[a-z-]+", old_cell).group(0)
        listed = commands_cell.split("(")[0]  # what follows in brackets is a remark
        names = [name for name in re.findall(r"`([a-z ]+)`", listed) if _command_of(name.split())[0]]
        assert names, row
        for name in names:
            command = COMMANDS[_command_of(name.split())[0]]
            found = [o for o in _options(command, hidden=True) if old in o.opts]
            assert len(found) == 1, f"{name} has no hidden {old}: {row}"
            (renamed,) = found
            assert renamed.new_spelling.split()[0] in new_cell, (row, renamed.new_spelling)
