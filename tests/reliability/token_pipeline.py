"""The secret check: the whole pd-audit pipeline run with a recognisable token, then every byte searched.

``run_token_pipeline`` runs, as subprocesses a person would start, every command that
handles a snapshot or the token: crawls (token in ``$PAGERDUTY_TOKEN``, in a mode 600 token
file, in group- and world-readable ones, which must warn), ``snapshot info``, ``facts`` of
each entity in each format, ``score`` in each format, ``rules``, ``report`` (HTML and PDF),
``audit``, ``baseline create``/``update``, ``check`` in each format (static and ``--live``),
``diff`` and ``history`` in each format; then, with ``--debug`` (tracebacks printed), the
error paths whose exceptions pass nearest the token: a wrong token (401), an endpoint that
always fails, an unreachable ``--api-url``, an untrusted CA, token files that cannot be
sent (a newline inside, bytes that are not UTF-8), and an API that echoes the token back (a
400 whose message and a 403 whose reason repeat the ``Authorization`` header: the error line,
the manifest and ``snapshot info`` must hold it redacted). Each step also says what it must do (exit
codes, warnings), so a pipeline that silently did nothing cannot pass for a clean one.

``token_occurrences`` searches files and printed output for the token in every form it could
leak as (``token_forms``: raw, which covers ``Token token=<t>``; URL-quoted; HTML- and
JSON-escaped; hex; base64 at any alignment), and not only in the bytes as stored: gzip files
are gunzipped and PDFs have their Flate streams inflated and their text extracted
(``readable_layers``), since a PDF draws text as glyph numbers in compressed streams.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import io
import json
import re
import socket
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from audit.emulator.faults import FaultPolicy
from audit.emulator.serve import EmulatorServer, start_server
from tests.crawl.conftest import ACME, TOKEN
from tests.reliability.harness import (
    PD_AUDIT,
    CliRun,
    crawl_argv,
    example_account,
    run_cli,
)

# Sent by the wrong-token run. It holds characters that URL-quoting, HTML and base64 change,
# so the search for those forms is exercised by a token that really went over the wire.
WRONG_TOKEN = "u+Wr0ng/canary=pd-audit_9"
SECRETS = (TOKEN, WRONG_TOKEN)
DEBUG_FAILURE = ("Traceback (most recent call last)", "pd-audit: error: ")
FACT_ENTITIES = ("service", "escalation_policy", "policy_level", "schedule", "team", "user")
CHECK_FORMATS = ("sarif", "junit", "markdown", "json")
MAX_LAYER_DEPTH = 3  # a gzip inside a gzip inside a gzip is searched; deeper nesting is not


# ---------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class Step:
    """One command of the pipeline and what it must do."""

    label: str
    argv: tuple[str, ...]
    exits: tuple[int, ...] = (0,)
    stderr_has: tuple[str, ...] = ()
    stderr_lacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepRun:
    step: Step
    run: CliRun

    def problem(self) -> str | None:
        step, run = self.step, self.run
        last_line = (run.error_lines or [""])[-1][:200]
        if run.exit_code not in step.exits:
            return f"{step.label}: exit {run.exit_code}, expected {'/'.join(map(str, step.exits))}: {last_line}"
        missing = [text for text in step.stderr_has if text not in run.stderr]
        unwanted = [text for text in step.stderr_lacks if text in run.stderr]
        if missing or unwanted:
            return f"{step.label}: stderr lacks {missing} or holds {unwanted}: {last_line}"
        return None


@dataclass
class TokenPipeline:
    """Every command the pipeline ran; ``problems`` lists those that did not do what they must.

    ``inputs`` are the token files the pipeline itself wrote for pd-audit to read: they hold
    the token by design, so a search of what pd-audit wrote leaves them out.
    """

    steps: list[StepRun] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    secrets: tuple[str, ...] = SECRETS

    @property
    def runs(self) -> list[CliRun]:
        return [step.run for step in self.steps]

    def problems(self) -> list[str]:
        return [problem for step in self.steps if (problem := step.problem()) is not None]


PARALLEL_COMMANDS = 2  # the commands that only read a snapshot run two at a time


def run_token_pipeline(server: EmulatorServer, work: Path, *, slow_errors: bool = True) -> TokenPipeline:
    """Run the whole pipeline against ``server`` (which accepts ``TOKEN``), writing under ``work``.

    The slow error paths (the client backs off for about half a minute before giving up on an
    unreachable or failing API) run alongside the rest; ``slow_errors=False`` leaves them out.
    """
    pipeline = TokenPipeline()
    layout = _Layout(work, pipeline.inputs)
    run = functools.partial(_run_in, layout)
    one_schedule = f"/schedules/{example_account()['schedules'][0]['id']}"
    failing_policy = FaultPolicy(per_endpoint={one_schedule: "503"})
    with start_server(ACME, state_dir=work / "failing-emulator", tokens=[TOKEN], faults=failing_policy) as failing, \
            start_server(ACME, state_dir=work / "echoing-emulator", tokens=[TOKEN], faults=ECHOING) as echoing:
        slow = _slow_error_steps(server, failing, layout) if slow_errors else []
        with ThreadPoolExecutor(max_workers=max(1, len(slow))) as waiting, \
                ThreadPoolExecutor(max_workers=PARALLEL_COMMANDS) as readers:
            pending = [waiting.submit(run, step) for step in slow]
            pipeline.steps += map(run, _crawl_steps(server, layout))
            rules = run(Step("rules", _cli("rules")))
            pipeline.steps += [rules, run(Step("baseline create", _cli("baseline", "create", layout.old,
                                                                            "--output", layout.baseline)))]
            pipeline.steps += readers.map(run, _judging_steps(server, layout, _first_rule(rules.run)))
            pipeline.steps += readers.map(run, _history_steps(layout))  # after audit and check --live crawled
            pipeline.steps += readers.map(run, _fast_error_steps(server, failing, layout))
            pipeline.steps += map(run, _echo_steps(echoing, layout))  # in order: info reads the crawl
            pipeline.steps += [future.result() for future in pending]
    return pipeline


class _Layout:
    """Where the pipeline writes: snapshots, CI files, reports; token files it lists in ``inputs``."""

    def __init__(self, work: Path, inputs: list[Path]):
        work = work.resolve()  # the commands run in their own working directory (see _run_in)
        self.work = work
        self.snapshots = work / "snapshots"  # the history command reads every snapshot here
        self.old, self.new = self.snapshots / "file-600", self.snapshots / "env"
        self.ci = work / "ci"
        self.baseline = self.ci / "baseline.json"
        self.errors = work / "errors"
        self.inputs = inputs
        self.cwd = work / "cwd"
        self.sandbox = {name: str(work / "sandbox" / folder)
                        for name, folder in (("HOME", "home"), ("TMPDIR", "tmp"), ("XDG_CACHE_HOME", "cache"))}
        for folder in (self.cwd, *map(Path, self.sandbox.values())):
            folder.mkdir(parents=True, exist_ok=True)

    def token_file(self, name: str, content: bytes, mode: int) -> Path:
        path = self.work / "token-files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
        self.inputs.append(path)
        return path


def _run_in(layout: _Layout, step: Step) -> StepRun:
    """Run a step with its working directory, home and temporary directory inside the searched tree,
    so a file written to a relative path, to ~ or to $TMPDIR is searched too."""
    return StepRun(step, run_cli(list(step.argv), cwd=layout.cwd, env=layout.sandbox))


def _cli(*args: str | Path) -> tuple[str, ...]:
    return (str(PD_AUDIT), *map(str, args))


def _connection(server: EmulatorServer) -> tuple[str, ...]:
    """The crawl options of ``crawl_argv`` without its ``crawl`` and ``--output`` (for check --live, audit)."""
    argv = crawl_argv(server, Path("unused"))[2:]
    at = argv.index("--output")
    return tuple(argv[:at] + argv[at + 2:])


def _first_rule(listed: CliRun) -> str:
    rows = listed.stdout.splitlines()[1:2]  # under the header row
    return rows[0].split()[0] if rows and rows[0].split() else "missing"  # `rules explain missing` then fails the step


def _crawl_steps(server: EmulatorServer, layout: _Layout) -> list[Step]:
    warned = "readable by other users"
    # With progress on stderr (no --quiet): what a person sees is searched too.
    steps = [Step("crawl, token in $PAGERDUTY_TOKEN",
                  tuple(arg for arg in crawl_argv(server, layout.new) if arg != "--quiet"))]
    for mode in (0o600, 0o640, 0o644):
        token_file = layout.token_file(f"token-{mode:o}", TOKEN.encode() + b"\n", mode)
        # Only the 600 crawl goes with the snapshots history reads; the others need no trend.
        out = layout.old if mode == 0o600 else layout.work / "token-file-crawls" / f"{mode:o}"
        readable = bool(mode & 0o044)
        steps.append(Step(f"crawl --token-file (mode {mode:o})",
                          (*crawl_argv(server, out), "--token-file", str(token_file)),
                          stderr_has=(warned,) if readable else (), stderr_lacks=() if readable else (warned,)))
    return steps


def _judging_steps(server: EmulatorServer, layout: _Layout, rule_id: str) -> list[Step]:
    """Every command that reads the crawled snapshots (and audit, which crawls its own)."""
    old, new, ci, baseline = layout.old, layout.new, layout.ci, layout.baseline
    steps = [Step("snapshot info", _cli("snapshot", "info", new)),
             Step("snapshot info --format json", _cli("snapshot", "info", "--format", "json", new)),
             Step("rules explain", _cli("rules", "explain", rule_id)),
             # One team's scorecard (and the org report): the audit below writes every team's.
             Step("report html,pdf", _cli("report", new, "--previous", old, "--report-dir", layout.work / "report",
                                          "--format", "html,pdf", "--team", example_account()["teams"][0]["id"])),
             Step("audit", _cli("audit", *_connection(server), "--output", layout.snapshots / "audit",
                                "--previous", old, "--report-dir", layout.work / "audit-report")),
             Step("baseline update", _cli("baseline", "update", new, "--baseline", baseline,
                                          "--output", ci / "baseline-updated.json"))]
    steps += [Step(f"facts {entity} {fmt}", _cli("facts", new, "--entity", entity, "--format", fmt))
              for entity in FACT_ENTITIES for fmt in ("json", "csv")]
    steps += [Step(f"score {fmt}", _cli("score", new, "--format", fmt)) for fmt in ("table", "json", "csv")]
    to_files = [arg for fmt in CHECK_FORMATS for arg in (f"--{fmt}", ci / f"check.{fmt}")]
    live_files = [arg for fmt in CHECK_FORMATS for arg in (f"--{fmt}", ci / f"live.{fmt}")]
    steps += [Step("check, every format to files", _cli("check", new, "--baseline", baseline, *to_files),
                   exits=(0, 1)),
              Step("check --live", _cli("check", layout.snapshots / "live", "--live", *_connection(server),
                                        "--baseline", baseline, *live_files), exits=(0, 1))]
    steps += [Step(f"check {fmt} to stdout", _cli("check", new, "--baseline", baseline, f"--{fmt}", "-"),
                   exits=(0, 1)) for fmt in CHECK_FORMATS]
    steps += [Step(f"diff {fmt}", _cli("diff", old, new, "--format", fmt)) for fmt in ("table", "json", "markdown")]
    return steps


def _history_steps(layout: _Layout) -> list[Step]:
    return [Step(f"history {fmt}", _cli("history", layout.snapshots, "--format", fmt))
            for fmt in ("table", "csv", "json")]


def _crawl_with_debug(server: EmulatorServer, out: Path, *extra: str) -> tuple[str, ...]:
    argv = crawl_argv(server, out, *extra)
    return (argv[0], "--debug", *argv[1:])


def _fast_error_steps(server: EmulatorServer, failing: EmulatorServer, layout: _Layout) -> list[Step]:
    errors = layout.errors
    wrong = layout.token_file("wrong-token", WRONG_TOKEN.encode(), 0o600)
    not_utf8 = layout.token_file("not-utf8-token", TOKEN.encode() + b"\xff\n", 0o600)
    newline = layout.token_file("newline-token", TOKEN.encode() + b"\nsecond line\n", 0o600)
    return [
        # An HTTP header cannot hold a newline: refused before any request, without echoing the token.
        Step("--debug crawl, newline inside the token",
             _crawl_with_debug(server, errors / "newline-snap", "--token-file", str(newline)),
             exits=(2,), stderr_has=(*DEBUG_FAILURE, "printable ASCII")),
        Step("--debug crawl, wrong token (401)",
             _crawl_with_debug(server, errors / "wrong-token-snap", "--token-file", str(wrong)),
             exits=(3,), stderr_has=(*DEBUG_FAILURE, "401")),
        Step("--debug audit, wrong token (401)",
             _cli("--debug", "audit", *_connection(server), "--token-file", wrong,
                  "--output", errors / "wrong-token-audit", "--report-dir", errors / "wrong-token-report"),
             exits=(3,), stderr_has=(*DEBUG_FAILURE, "401")),
        # The CA of another emulator: a certificate this crawl must not trust.
        Step("--debug crawl, untrusted CA",
             _crawl_with_debug(server, errors / "untrusted-snap", "--ca-bundle", str(failing.ca_path)),
             exits=(3,), stderr_has=(*DEBUG_FAILURE, "not trusted")),
        Step("--debug crawl, token file not UTF-8",
             _crawl_with_debug(server, errors / "not-utf8-snap", "--token-file", str(not_utf8)),
             exits=(2,), stderr_has=DEBUG_FAILURE),
    ]


# Both on collections a crawl may skip: one crawl meets the 400, another skips it and meets the 403.
ECHOING = FaultPolicy(per_endpoint={"/business_services": "echo400", "/standards": "echo403"})


def _echo_steps(echoing: EmulatorServer, layout: _Layout) -> list[Step]:
    errors = layout.errors
    return [
        Step("--debug crawl, a 400 echoing the token", _crawl_with_debug(echoing, errors / "echo-400-snap"),
             exits=(3,), stderr_has=(*DEBUG_FAILURE, "GET /business_services: HTTP 400", "[REDACTED]")),
        Step("crawl, a 403 echoing the token",
             tuple(crawl_argv(echoing, errors / "echo-403-snap", "--skip", "business_services"))),
        Step("snapshot info, a 403 reason echoing the token", _cli("snapshot", "info", errors / "echo-403-snap")),
    ]


def _slow_error_steps(server: EmulatorServer, failing: EmulatorServer, layout: _Layout) -> list[Step]:
    errors = layout.errors
    # click takes the last --api-url given
    unreachable = (*_crawl_with_debug(server, errors / "unreachable-snap"),
                   "--api-url", f"https://127.0.0.1:{_closed_port()}")
    return [
        Step("--debug crawl, an endpoint always 503", _crawl_with_debug(failing, errors / "failing-snap"),
             exits=(3,), stderr_has=(*DEBUG_FAILURE, "GET /schedules/{id}", "HTTP 503")),
        Step("--debug crawl, unreachable --api-url", unreachable, exits=(3,), stderr_has=DEBUG_FAILURE),
    ]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- the search


@dataclass
class TokenSearch:
    """What the search found: ``found`` occurrences, at ``places``; ``unreadable`` layers it could not open."""

    found: int = 0
    bytes_written: int = 0
    places: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def token_forms(token: str) -> dict[bytes, str]:
    """Every byte string the token could be written as, each with the name of its form."""
    raw = token.encode("utf-8")
    forms = {raw: "raw"}  # raw also finds the header, "Token token=<t>"
    for text, name in ((quote(token, safe=""), "URL-quoted"), (quote_plus(token), "URL-quoted"),
                       (html.escape(token), "HTML-escaped"), (json.dumps(token)[1:-1], "JSON-escaped")):
        forms.setdefault(text.encode("ascii"), name)
    forms.setdefault(raw.hex().encode(), "hex")
    forms.setdefault(raw.hex().upper().encode(), "hex")
    for fragment in _base64_fragments(raw):
        forms.setdefault(fragment, "base64")
    # A form holding another is found through it; counting both would count one leak twice.
    return {form: name for form, name in forms.items() if not any(o != form and o in form for o in forms)}


def _base64_fragments(raw: bytes) -> set[bytes]:
    """What base64 of any text holding ``raw`` holds, whatever the alignment of ``raw`` in it.

    Base64 encodes 3 bytes as 4 characters, so ``raw`` preceded by 0, 1 or 2 bytes encodes
    differently; in each case the characters made only of ``raw``'s bits are the same
    whatever surrounds it (those touched by a neighbour's bits are cut off).
    """
    fragments = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        start = -(-shift * 8 // 6)  # the first character with no bit of the bytes before
        end = (shift + len(raw)) * 8 // 6  # past the last character with no bit of the bytes after
        fragment = encoded[start:end]
        fragments |= {fragment, fragment.translate(bytes.maketrans(b"+/", b"-_"))}
    return fragments


def token_occurrences(secrets: str | Iterable[str], root: Path, runs: Iterable[CliRun],
                      skip: Iterable[Path] = ()) -> TokenSearch:
    """Search the files under ``root`` (but ``skip``) and what ``runs`` printed for the secrets.

    Every form (``token_forms``) of every secret is searched in every layer (``readable_layers``);
    a leak shown by two layers (a PDF's stream and its text) counts twice. ``bytes_written``
    counts what was written as stored, not the decompressed layers searched besides.
    """
    forms: dict[bytes, str] = {}
    for number, secret in enumerate((secrets,) if isinstance(secrets, str) else secrets, start=1):
        # Named by number: a failure message must not print the secret it found.
        forms.update({form: f"secret {number}, {name}" for form, name in token_forms(secret).items()})
    skipped = {path.resolve() for path in skip}
    blobs: list[tuple[str, bytes]] = [(str(path.relative_to(root)), path.read_bytes())
                                      for path in sorted(root.rglob("*"))
                                      if path.is_file() and not path.is_symlink() and path.resolve() not in skipped]
    for run in runs:
        command = " ".join(run.argv[1:])
        blobs += [(f"stdout of {command}", run.stdout.encode("utf-8")),
                  (f"stderr of {command}", run.stderr.encode("utf-8"))]
    search = TokenSearch()
    for place, data in blobs:
        search.bytes_written += len(data)
        for layer, content in readable_layers(data):
            if content is None:
                search.unreadable.append(f"{place} ({layer})")
                continue
            for form, name in forms.items():
                count = content.count(form)
                if count:
                    search.found += count
                    search.places.append(f"{place} ({layer}, {name}): {count}")
    return search


def readable_layers(data: bytes, depth: int = 0) -> Iterator[tuple[str, bytes | None]]:
    """``data`` as stored, then what it holds once opened: ``(layer, content)``, content None if unreadable."""
    yield "as written", data
    if depth >= MAX_LAYER_DEPTH:
        return
    if data.startswith(b"\x1f\x8b"):
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            yield "gzip", None
            return
        for layer, content in readable_layers(inner, depth + 1):
            yield f"gzip, {layer}", content
    elif data.startswith(b"%PDF"):
        yield from _pdf_layers(data)


PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)


def _pdf_layers(data: bytes) -> Iterator[tuple[str, bytes | None]]:
    # Every stream Flate can inflate (pages, object streams, fonts, attachments); others are images.
    for number, match in enumerate(PDF_STREAM.finditer(data)):
        try:
            yield f"PDF stream {number}", zlib.decompressobj().decompress(match.group(1))
        except zlib.error:
            continue
    # Page text is glyph numbers in those streams: only the fonts' maps turn it back into text.
    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() for page in reader.pages)
        metadata = "\n".join(map(str, (reader.metadata or {}).values()))
    except (PyPdfError, ValueError, KeyError):
        yield "PDF text", None
        return
    # A long word may wrap (the reports' CSS breaks long names), so the text is searched with
    # its whitespace removed (no form of a token holds any).
    yield "PDF text", re.sub(r"\s+", "", text).encode("utf-8")
    yield "PDF metadata", metadata.encode("utf-8")


def describe(search: TokenSearch, limit: int = 5) -> Sequence[str]:
    """Where the token was found (and what could not be opened), for a failure message."""
    return [*search.places[:limit], *(f"unreadable: {place}" for place in search.unreadable[:limit])]
