"""The adversarial review's attacks (issue 16), kept as a corpus so that each stays fixed.

Each ``Attack`` lays a trap in a scratch folder of its own, runs pd-audit on it as a person
would, and returns what went wrong: an empty list when the attack was held. ``ATTACKS`` is the
corpus; ``python -m tests.reliability.run`` runs it and ``test_attacks.py`` runs each as a test.

The odd inputs are made from a real crawl of the example account (``Bench.good``):
``odd_snapshot`` rewrites its collections (names holding lone surrogates and spreadsheet
formulas, ids holding terminal escapes, three teams whose ids differ only in punctuation and
share a name) and re-seals the manifest's checksums, so every command reads it as a finished
snapshot. Commands run in-process through click's runner (fast, and its output streams are as
strict about encoding as a terminal's), except where a hang is the attack: those run as a
subprocess with a time limit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from audit.cli import main
from audit.snapshot import MANIFEST
from audit.time_limit import ENV_SECONDS as TIME_LIMIT_ENV
from tests.crawl.conftest import TOKEN
from tests.reliability.harness import PD_AUDIT, CliRun, run_cli

HANG_LIMIT = 30.0  # seconds: a command on an odd input that takes longer has hung
UNREACHABLE_API = "https://127.0.0.1:9"  # nothing listens there: a crawl that got as far as asking fails

SURROGATE = "\ud800"
# Ids the odd snapshot gives three example services: an ANSI clear-screen, an OSC window title, a
# right-to-left mark. A terminal shows none of them as text unless pd-audit replaces them.
ESCAPED_IDS = {"PSVC002": "PSVC\x1b[2J002", "PSVC003": "PSVC\x1b]0;pwned\x07003", "PSVC004": "PSVC\u200f004"}
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b", "\u200f", "\u202e")
# Ids that reduce to one file name, given one name.
COLLIDING_TEAMS = {"PTEAM05": "A.B", "PTEAM06": "A_B", "PTEAM08": "A B"}
COLLIDING_NAME = "Ops"
ODD_NAMES = {  # service id -> name
    "PSVC001": f"Payments{SURROGATE} API",
    "PSVC005": '=HYPERLINK("http://evil.example","Payout")',
    "PSVC006": "Card\r=1+1 Vault",
    "PSVC007": "@SUM(1+1) Reconciler",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LONG_NAME = "N" * 100_000


@dataclass(frozen=True)
class Attack:
    name: str
    item: int  # the item of issue 16 it came from
    what: str
    run: Callable[[Bench], list[str]]


class Bench:
    """Scratch space, the clean example snapshot, and the odd ones made from it (once each)."""

    def __init__(self, work: Path, good: Path):
        self.work = work
        self.good = good
        self._made: dict[str, Path] = {}

    def folder(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=False)
        return path

    def odd_snapshot(self) -> Path:
        if "odd" not in self._made:
            renames = {**ESCAPED_IDS, **COLLIDING_TEAMS}

            def edit(collection: str, obj: Any) -> None:
                if collection == "services" and obj.get("id") in ODD_NAMES:
                    obj["name"] = ODD_NAMES[obj["id"]]
                if collection == "teams" and obj.get("id") in COLLIDING_TEAMS:
                    obj["name"] = COLLIDING_NAME

            self._made["odd"] = derived_snapshot(self.good, self.work / "odd-snapshot", edit, renames)
        return self._made["odd"]

    def long_name_snapshot(self) -> Path:
        """The example account with a service and a team named with 100,000 characters."""
        if "long" not in self._made:
            def edit(collection: str, obj: Any) -> None:
                if collection in ("services", "teams") and obj.get("id") in ("PSVC001", "PTEAM01"):
                    obj["name"] = LONG_NAME

            self._made["long"] = derived_snapshot(self.good, self.work / "long-name-snapshot", edit, {})
        return self._made["long"]

    def cli(self, *args: str, cwd: Path | None = None) -> CliRun:
        """pd-audit in this process (see the module)."""
        previous = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            result = CliRunner().invoke(main, list(args), env={"PAGERDUTY_TOKEN": TOKEN})
        finally:
            os.chdir(previous)
        return CliRun(tuple(args), result.exit_code, result.stdout, result.stderr)

    def cli_subprocess(self, *args: str) -> CliRun | None:
        """pd-audit as a process; None if it ran past ``HANG_LIMIT`` (it is killed)."""
        try:
            return run_cli([str(PD_AUDIT), *args], timeout=HANG_LIMIT)
        except subprocess.TimeoutExpired:
            return None


def derived_snapshot(good: Path, dest: Path, edit: Callable[[str, Any], None], renames: Mapping[str, str]) -> Path:
    """A copy of ``good`` with each object edited and each id in ``renames`` replaced everywhere
    (references and links too), its checksums sealed again."""
    shutil.copytree(good, dest)
    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    escaped = {json.dumps(old)[1:-1]: json.dumps(new)[1:-1] for old, new in renames.items()}
    for info in manifest["collections"].values():
        if info.get("status") != "complete":
            continue
        path = dest / info["file"]
        lines = []
        for raw in path.read_bytes().splitlines():
            obj = json.loads(raw)
            edit(path.stem, obj)
            text = json.dumps(obj, separators=(",", ":"))  # ASCII: a lone surrogate stays an escape
            for old, new in escaped.items():
                text = text.replace(old, new)
            lines.append(text + "\n")
        path.write_text("".join(lines), encoding="ascii")
        info["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return dest


# ------------------------------------------------------------------------------------------ checks


def refused(run: CliRun | None, what: str, saying: str = "") -> list[str]:
    """Exit 2 with one ``pd-audit: error:`` line (holding ``saying``) and no traceback."""
    if run is None:
        return [f"{what}: still running after {HANG_LIMIT:g} s (hung)"]
    if not run.refused_cleanly(2) or saying not in run.stderr:
        return [f"{what}: exit {run.exit_code}, stderr {run.stderr.strip()[:300]!r}"]
    return []


def succeeded(run: CliRun, what: str) -> list[str]:
    if run.exit_code not in (0, 1) or "Traceback" in run.stderr:
        return [f"{what}: exit {run.exit_code}, stderr {run.stderr.strip()[:300]!r}"]
    return []


def tree(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder`` and its bytes (links are not followed)."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


def leftovers(folder: Path) -> list[str]:
    """Half-written files: temporary ones, or outputs of zero bytes."""
    return [str(path.relative_to(folder)) for path in folder.rglob("*")
            if path.is_file() and (".partial" in path.name or path.stat().st_size == 0)]


def strict_utf8(folder: Path) -> list[str]:
    problems = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".json", ".sarif", ".xml", ".md", ".csv", ".txt"):
            try:
                path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{path.name}: not UTF-8")
    return problems


def strict_json(text: str, what: str) -> list[str]:
    def refuse(constant: str) -> None:
        raise ValueError(f"bare {constant}")
    try:
        json.loads(text, parse_constant=refuse)
    except ValueError as exc:
        return [f"{what}: not strict JSON ({exc})"]
    return []


# ---------------------------------------------------------------------------------------- attacks


def force_on_parent(bench: Bench) -> list[str]:
    parent = bench.folder("force-parent")
    (parent / "keep.txt").write_text("the user's\n")
    cwd = parent / "work"
    cwd.mkdir()
    (cwd / "notes.txt").write_text("the user's too\n")
    before = tree(parent)
    run = bench.cli("crawl", "-o", "..", "--force", "--api-url", UNREACHABLE_API, "--quiet", cwd=cwd)
    problems = refused(run, "crawl -o .. --force")
    return problems + (["the parent folder changed"] if tree(parent) != before else [])


def force_on_user_folder(bench: Bench) -> list[str]:
    folder = bench.folder("force-precious")
    precious = folder / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work\n")
    (precious / MANIFEST).write_text('{"format": "something-else"}\n')
    before = tree(folder)
    problems = refused(bench.cli("crawl", "-o", str(precious), "--force", "--api-url", UNREACHABLE_API, "--quiet"),
                       "crawl -o precious --force")
    return problems + (["the user's folder changed"] if tree(folder) != before else [])


def report_into_user_folder(bench: Bench) -> list[str]:
    folder = bench.folder("report-precious")
    precious = folder / "precious"
    precious.mkdir()
    (precious / "index.html").write_text("<p>the user's own page</p>\n")
    before = tree(folder)
    problems = refused(bench.cli("report", str(bench.good), "--report-dir", str(precious), "--format", "html"),
                       "report --report-dir precious")
    problems += refused(bench.cli("report", str(bench.good), "--report-dir", "..", "--format", "html", cwd=precious),
                        "report --report-dir ..")
    if tree(folder) != before:
        problems.append("the user's folder changed")
    # A folder of our own reports is replaced: run twice.
    ours = folder / "ours"
    for attempt in (1, 2):
        problems += succeeded(bench.cli("report", str(bench.good), "--report-dir", str(ours), "--format", "html"),
                              f"report into its own folder, run {attempt}")
    return problems


def planted_symlinks(bench: Bench) -> list[str]:
    folder = bench.folder("planted-links")
    out = folder / "report"
    problems = succeeded(bench.cli("report", str(bench.good), "--report-dir", str(out), "--format", "html"), "first report")
    victims = {name: folder / f"victim-{number}" for number, name in
               enumerate(("index.html.partial", "index.html", ".index.html.partial", "org.pdf.partial"))}
    for name, victim in victims.items():
        victim.write_text("must not be overwritten\n")
        target = out / name
        target.unlink(missing_ok=True)
        target.symlink_to(victim)
    problems += succeeded(bench.cli("report", str(bench.good), "--report-dir", str(out), "--format", "html"), "second report")
    problems += [f"{victim.name} was written through a link at {name}" for name, victim in victims.items()
                 if victim.read_text() != "must not be overwritten\n"]
    if (out / "index.html").is_symlink() or "<html" not in (out / "index.html").read_text(encoding="utf-8").lower():
        problems.append("index.html is not the new report")
    return problems


def lone_surrogates(bench: Bench) -> list[str]:
    snap = str(bench.odd_snapshot())
    out = bench.folder("surrogates")
    problems = []
    runs = {
        "score": bench.cli("score", snap),
        "score --format json": bench.cli("score", snap, "--format", "json"),
        "score --format csv": bench.cli("score", snap, "--format", "csv"),
        "facts --format json": bench.cli("facts", snap, "--entity", "service"),
        "facts --format csv": bench.cli("facts", snap, "--entity", "service", "--format", "csv"),
        "report": bench.cli("report", snap, "--report-dir", str(out / "report"), "--format", "html"),
        "baseline create": bench.cli("baseline", "create", snap, "-o", str(out / "baseline.json")),
        "diff": bench.cli("diff", snap, snap),
        "diff --format json": bench.cli("diff", snap, snap, "--format", "json"),
    }
    runs["check"] = bench.cli("check", snap, "--baseline", str(out / "baseline.json"), "--sarif", str(out / "f.sarif"),
                              "--junit", str(out / "f.xml"), "--markdown", str(out / "f.md"),
                              "--json", str(out / "f.json"))
    for what, run in runs.items():
        problems += succeeded(run, what)
    shown = runs["score"].stdout
    if "Payments\N{REPLACEMENT CHARACTER} API" not in shown:
        problems.append("score: the name with a lone surrogate is not shown with U+FFFD")
    problems += strict_json(runs["score --format json"].stdout, "score --format json")
    problems += [f"left behind: {name}" for name in leftovers(out)]
    return problems + strict_utf8(out)


def facts_csv_formulas(bench: Bench) -> list[str]:
    run = bench.cli("facts", str(bench.odd_snapshot()), "--entity", "service", "--format", "csv")
    problems = succeeded(run, "facts --format csv")
    rows = list(csv.reader(io.StringIO(run.stdout, newline="")))
    names = {row[rows[0].index("id")]: row[rows[0].index("name")] for row in rows[1:]} if rows else {}
    for service_id, name in ODD_NAMES.items():
        if name.startswith(FORMULA_STARTS) and names.get(service_id) != "'" + name:
            problems.append(f"facts csv: {service_id}'s name {names.get(service_id)!r} is not a safe cell")
    unsafe = [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
    problems += [f"facts csv: a cell starts a formula: {cell[:40]!r}" for cell in unsafe]
    services = json.loads((bench.odd_snapshot() / MANIFEST).read_text())["collections"]["services"]["count"]
    if len(rows) - 1 != services or any(len(row) != len(rows[0]) for row in rows):
        problems.append("facts csv: a name broke a row (an unquoted carriage return)")
    return problems


def scorecard_collisions(bench: Bench) -> list[str]:
    out = bench.folder("collisions") / "report"
    run = bench.cli("report", str(bench.odd_snapshot()), "--report-dir", str(out), "--format", "html")
    problems = succeeded(run, "report")
    pages = sorted(path.name for path in out.glob("team-*.html"))
    teams = json.loads((bench.odd_snapshot() / MANIFEST).read_text())["collections"]["teams"]["count"]
    if len(pages) != teams:
        problems.append(f"{teams} teams, {len(pages)} scorecards: {pages}")
    written = len([path for path in out.iterdir() if not path.name.startswith(".")])
    if f"{written} files written" not in run.stdout:
        problems.append(f"{written} files exist, the command said {run.stdout.splitlines()[:1]}")
    return problems


def terminal_escapes(bench: Bench) -> list[str]:
    snap = str(bench.odd_snapshot())
    problems = []
    for args in (("score", snap), ("diff", snap, snap), ("rules",)):
        run = bench.cli(*args)
        problems += succeeded(run, " ".join(args[:1]))
        problems += [f"{args[0]}: prints {control!r}" for control in TERMINAL_CONTROLS
                     if control in run.stdout + run.stderr]
    return problems


def fifo_manifest(bench: Bench) -> list[str]:
    snap = bench.folder("fifo-manifest") / "snap"
    shutil.copytree(bench.good, snap)
    (snap / MANIFEST).unlink()
    os.mkfifo(snap / MANIFEST)
    return refused(bench.cli_subprocess("snapshot", "info", str(snap)), "snapshot info (manifest a FIFO)")


def endless_manifest(bench: Bench) -> list[str]:
    snap = bench.folder("zero-manifest") / "snap"
    shutil.copytree(bench.good, snap)
    (snap / MANIFEST).unlink()
    (snap / MANIFEST).symlink_to("/dev/zero")
    return refused(bench.cli_subprocess("score", str(snap)), "score (manifest a link to /dev/zero)")


def rule_pack(name: str, rule: Mapping[str, str], preamble: str = "") -> str:
    """A one-rule pack (YAML text) judging services; ``rule`` overrides the fields."""
    fields = {"id": "EVIL-01", "title": "Service is judged by a hostile pack", "entity": "service",
              "condition": "~is_disabled", "severity": "low", "level": "2", "mode": "S",
              "rationale": "An attack.", "fix": "Nothing.", "message": "'{name}'", **rule}
    body = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    return f"{preamble}description: {name}\nrules:\n  - {body.lstrip()}"


# Nine levels of aliases: the last expands to 10**9 strings (the "billion laughs").
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{','.join(['*' + chr(97 + n)] * 10)}]\n" for n in range(8))


def rule_pack_bombs(bench: Bench) -> list[str]:
    folder = bench.folder("rule-pack-bombs")
    packs = {  # name -> (pack, what the refusal says)
        "format-width": (rule_pack("width", {"message": "'{name:>20000000}'"}), "format widths"),
        "alias-bomb": (ALIAS_BOMB + rule_pack("aliases", {"title": "*i"}), "aliases"),
        "backtracking-regex": (rule_pack("regex", {"condition": "~name.str.contains('(N+)+X', regex=True)"}),
                               "took longer than 2 s"),
    }
    problems = []
    for name, (text, saying) in packs.items():
        pack = folder / name
        pack.mkdir()
        (pack / "pack.yaml").write_text(text, encoding="utf-8")
        # The long-name snapshot makes the regular expression backtrack for ages; 2 s is its limit here.
        os.environ[TIME_LIMIT_ENV] = "2"
        try:
            problems += refused(bench.cli("score", str(bench.long_name_snapshot()), "--rules", str(pack)),
                                f"a rule pack with a {name}", saying)
        finally:
            del os.environ[TIME_LIMIT_ENV]
    return problems


def nonsense_config(bench: Bench) -> list[str]:
    folder = bench.folder("nonsense-config")
    configs = {
        "nan-weight": "[weights]\ncritical = nan\n",
        "infinite-weight": "[weights]\nhigh = inf\n",
        "negative-weight": "[weights]\nlow = -1\n",
        "negative-threshold": '[thresholds."OC-03"]\nmin_people = -2\n',
        "nan-threshold": '[thresholds."OC-03"]\nrecommended_people = nan\n',
        "nan-share": '[thresholds."ESC-04"]\nmax_overlap_pct = nan\n',
        "infinite-share": '[thresholds."ESC-04"]\nmax_overlap_pct = inf\n',
        "nested-100000-deep": "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
    }
    problems = []
    for name, text in configs.items():
        config = folder / f"{name}.toml"
        config.write_text(text, encoding="utf-8")
        problems += refused(bench.cli("score", str(bench.good), "--config", str(config), "--format", "json"),
                            f"config with {name}")
    for args in (("score", "--format", "json"), ("diff", "--format", "json")):
        run = bench.cli(args[0], str(bench.good), *([str(bench.good)] if args[0] == "diff" else []), *args[1:])
        problems += succeeded(run, " ".join(args)) + strict_json(run.stdout, " ".join(args))
    return problems


def odd_data(bench: Bench) -> list[str]:
    """Values the API could send that no real account holds: each is judged, or refused in one line."""
    def edit(collection: str, obj: Any) -> None:
        if collection == "users" and obj.get("id") == "PUSR001":
            obj["time_zone"] = "America/" + "X" * 300
        if collection == "services" and obj.get("id") == "PSVC001":
            obj["acknowledgement_timeout"] = obj["auto_resolve_timeout"] = 10**400
        if collection == "services" and obj.get("id") == "PSVC002":
            obj["created_at"] = "0001-01-01T00:00:00Z"
        if collection == "oncalls" and obj.get("start"):
            obj["start"], obj["end"] = "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"
    snap = derived_snapshot(bench.good, bench.work / "odd-data", edit, {})
    out = bench.folder("odd-data-out")
    problems = succeeded(bench.cli("score", str(snap)), "score of odd data")
    problems += succeeded(bench.cli("report", str(snap), "--report-dir", str(out / "report"), "--format", "html"),
                          "report of odd data")
    deep = bench.work / "deep-json"
    shutil.copytree(bench.good, deep)
    services = deep / "collections" / "services.jsonl"
    first, rest = services.read_bytes().split(b"\n", 1)
    services.write_bytes(first[:-1] + b',"x":' + b"[" * 200_000 + b"]" * 200_000 + b"}\n" + rest)
    manifest = json.loads((deep / MANIFEST).read_text(encoding="utf-8"))
    manifest["collections"]["services"]["sha256"] = hashlib.sha256(services.read_bytes()).hexdigest()
    (deep / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return problems + refused(bench.cli("score", str(deep)), "a collection line nested 200,000 deep")


def long_names(bench: Bench) -> list[str]:
    from pypdf import PdfReader

    out = bench.folder("long-names") / "report"
    snap = str(bench.long_name_snapshot())
    run = bench.cli("report", snap, "--report-dir", str(out), "--team", "PTEAM01", "--format", "html,pdf")
    problems = succeeded(run, "report with a 100,000-character name")
    score = bench.cli("score", snap, "--format", "json")
    problems += succeeded(score, "score --format json")
    texts = {path.name: path.read_text(encoding="utf-8") for path in out.glob("*.html")}
    texts["score.json"] = score.stdout
    for path in out.glob("*.pdf"):
        texts[path.name] = "".join(page.extract_text() or "" for page in PdfReader(path).pages).replace("\n", "")
    for name, text in texts.items():
        if LONG_NAME[:1001] in text:
            problems.append(f"{name}: shows more than 1,000 characters of one name")
        if LONG_NAME[:200] not in text:
            problems.append(f"{name}: does not show the long name at all")
    return problems


ATTACKS: tuple[Attack, ...] = (
    Attack("force-on-parent", 1, "crawl -o .. --force empties the parent folder", force_on_parent),
    Attack("force-on-user-folder", 1, "crawl -o precious --force deletes the user's files", force_on_user_folder),
    Attack("report-into-user-folder", 1, "report --report-dir overwrites a folder that is not ours", report_into_user_folder),
    Attack("planted-symlinks", 6, "a symlink at <out>/index.html.partial has its target overwritten",
           planted_symlinks),
    Attack("lone-surrogates", 4, "a lone surrogate in a name crashes every writer halfway", lone_surrogates),
    Attack("facts-csv-formulas", 5, "facts --format csv writes formulas and bare CRs", facts_csv_formulas),
    Attack("scorecard-collisions", 7, "team ids A.B, A_B, A B write one scorecard", scorecard_collisions),
    Attack("terminal-escapes", 8, "entity ids print ESC[2J, OSC titles and U+200F", terminal_escapes),
    Attack("rule-pack-bombs", 9, "format widths, YAML alias bombs and backtracking regexes in a rule pack",
           rule_pack_bombs),
    Attack("nonsense-config", 10, "nan, inf and negative numbers in the config; NaN in JSON output", nonsense_config),
    Attack("odd-data", 12, "a 300-character time zone, 10**400, years 1 and 9999, JSON 200,000 deep", odd_data),
    Attack("long-names", 12, "a 100,000-character name takes minutes to print as PDF", long_names),
    Attack("fifo-manifest", 12, "a manifest.json that is a FIFO hangs", fifo_manifest),
    Attack("endless-manifest", 12, "a manifest.json linked to /dev/zero hangs", endless_manifest),
)


def run_attack(attack: Attack, bench: Bench) -> list[str]:
    """The attack's problems; an exception of the check itself counts as one."""
    try:
        return attack.run(bench)
    except Exception as exc:  # noqa: BLE001 - a crash of the attack is a finding, reported with the rest
        return [f"the attack itself failed: {exc.__class__.__name__}: {exc}"]
