"""The token never appears in anything pd-audit writes, and the search that says so finds it when it does.

One slow test runs the whole pipeline with the token (``token_pipeline.run_token_pipeline``)
and searches every byte written. The others plant the token where a plain byte search would
miss it (drawn as text in a PDF, a link in a PDF's compressed objects, a gzipped cassette,
base64, URL-quoting) among realistic clean files, and check the search finds exactly it.
"""

from __future__ import annotations

import base64
import gzip
import io
import shutil
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from weasyprint import HTML

from audit.commands.crawling import read_token
from audit.emulator.serve import start_server
from tests.crawl.conftest import ACME, TOKEN
from tests.reliability.harness import PD_AUDIT, CliRun
from tests.reliability.token_pipeline import (
    FACT_ENTITIES,
    WRONG_TOKEN,
    describe,
    run_token_pipeline,
    token_forms,
    token_occurrences,
)

# What every stage of pd-audit is run as: the subcommand after the global options.
PIPELINE_COMMANDS = {"crawl", "snapshot", "facts", "score", "rules", "report", "audit", "baseline", "check",
                     "diff", "history"}


def subcommand(run: CliRun) -> str:
    return next(arg for arg in run.argv[1:] if not arg.startswith("--"))


@pytest.mark.slow
def test_whole_pipeline_writes_the_token_nowhere(tmp_path):
    with start_server(ACME, state_dir=tmp_path / "emulator", tokens=[TOKEN]) as server:
        pipeline = run_token_pipeline(server, tmp_path / "run")
    # Each command did what it must (exit codes; the token-file warnings; a traceback for every
    # --debug error path): a pipeline that failed early would write nothing to find the token in.
    assert pipeline.problems() == []
    assert PIPELINE_COMMANDS <= {subcommand(run) for run in pipeline.runs}
    facts = {run.argv[run.argv.index("--entity") + 1] for run in pipeline.runs if subcommand(run) == "facts"}
    assert facts == set(FACT_ENTITIES)
    debug_runs = [run for run in pipeline.runs if "--debug" in run.argv]
    assert len(debug_runs) >= 7 and all("Traceback" in run.stderr for run in debug_runs)
    assert len(list(tmp_path.rglob("*.pdf"))) >= 4  # org and team scorecards, from report and from audit

    search = token_occurrences(pipeline.secrets, tmp_path, pipeline.runs, skip=pipeline.inputs)
    assert search.found == 0, describe(search, limit=20)
    assert search.unreadable == []
    assert search.bytes_written > 1_000_000

    # The same search over the same tree, the token files the pipeline wrote left in: each holds
    # one secret as written, and each is found.
    with_inputs = token_occurrences(pipeline.secrets, tmp_path, [])
    assert with_inputs.found == len(pipeline.inputs) >= 6, describe(with_inputs, limit=20)
    assert all("token-files/" in place and "as written" in place for place in with_inputs.places)


# ---------------------------------------------------------------- planted tokens


@pytest.fixture
def written(tmp_path):
    """A work directory holding what a clean run writes: a snapshot's account data, a report, a cassette."""
    root = tmp_path / "written"
    (root / "snapshot").mkdir(parents=True)
    shutil.copy(ACME, root / "snapshot" / "account.json")
    (root / "snapshot" / "account.json.gz").write_bytes(gzip.compress(ACME.read_bytes()))
    (root / "report").mkdir()
    (root / "report" / "org.pdf").write_bytes(scorecard_pdf("checkout-api"))
    (root / "cassette.yaml").write_text(cassette("Token token=REDACTED"), encoding="utf-8")
    return root


def scorecard_pdf(service_name: str, link: str = "https://acme.pagerduty.com/service-directory/PSVC001") -> bytes:
    """A scorecard row as the reports draw it: a narrow name cell that wraps long names."""
    page = f"""<html><head><title>Payments · service ownership scorecard</title><style>
      table {{ table-layout: fixed; width: 220px; }} .name {{ overflow-wrap: break-word; width: 50px; }}
    </style></head><body><h1>Payments</h1><table><tr><th>Service</th><th>Level</th><th>Open</th></tr>
      <tr><td class="name"><a href="{link}">{service_name}</a></td><td>L1</td><td>3</td></tr>
    </table></body></html>"""
    return HTML(string=page).write_pdf()


def cassette(authorization: str) -> str:
    """A recorded request, as vcrpy writes one."""
    return (f"interactions:\n- request:\n    body: null\n    headers:\n      Accept:\n"
            f"      - application/vnd.pagerduty+json;version=2\n      Authorization:\n      - {authorization}\n"
            f"    method: GET\n    uri: https://api.pagerduty.com/services?limit=100&offset=0\n"
            f"  response:\n    status: {{code: 200, message: OK}}\nversion: 1\n")


def test_a_clean_tree_holds_no_token(written):
    search = token_occurrences([TOKEN, WRONG_TOKEN], written, [])
    assert (search.found, search.places, search.unreadable) == (0, [], [])
    assert search.bytes_written == sum(path.stat().st_size for path in written.rglob("*") if path.is_file())


def test_a_token_drawn_in_a_pdf_is_found_though_no_byte_of_the_pdf_holds_it(written):
    pdf = scorecard_pdf(TOKEN)
    page_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert TOKEN.encode() not in pdf
    assert TOKEN not in page_text  # the name cell wrapped it over several lines
    (written / "report" / "team-PTEAM01.pdf").write_bytes(pdf)
    search = token_occurrences(TOKEN, written, [])
    assert search.found == 1 and search.places[0].startswith("report/team-PTEAM01.pdf (PDF text"), search.places


def test_a_token_in_a_pdf_link_is_found_in_its_compressed_objects(written):
    pdf = scorecard_pdf("checkout-api", link=f"https://api.pagerduty.com/services?token={WRONG_TOKEN}")
    assert WRONG_TOKEN.encode() not in pdf
    (written / "report" / "org.pdf").write_bytes(pdf)
    search = token_occurrences([TOKEN, WRONG_TOKEN], written, [])
    # (weasyprint may write the link's target more than once: in the annotation and its action)
    assert search.found >= 1 and search.places, search.places
    assert all(place.startswith("report/org.pdf (PDF stream") and "secret 2, raw" in place for place in search.places)


def test_a_token_in_a_gzipped_cassette_is_found(written):
    recorded = gzip.compress(cassette(f"Token token={TOKEN}").encode())
    assert TOKEN.encode() not in recorded
    (written / "cassette.yaml.gz").write_bytes(recorded)
    search = token_occurrences(TOKEN, written, [])
    assert search.places == ["cassette.yaml.gz (gzip, as written, secret 1, raw): 1"]


@pytest.mark.parametrize("prefix", ["Token token=", "Authorization: Token token=", "x"])
def test_a_base64_line_holding_the_token_is_found_whatever_its_alignment(written, prefix):
    line = base64.b64encode(f"{prefix}{TOKEN}".encode()).decode()
    (written / "debug.log").write_text(f"request headers (base64): {line}\n", encoding="utf-8")
    search = token_occurrences(TOKEN, written, [])
    assert search.found == 1 and "secret 1, base64" in search.places[0], search.places


@given(before=st.binary(max_size=8), after=st.binary(max_size=8), urlsafe=st.booleans())
def test_base64_of_any_text_holding_a_token_holds_one_of_its_forms(before, after, urlsafe):
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    encoded = encode(before + WRONG_TOKEN.encode() + after)
    assert any(form in encoded for form, name in token_forms(WRONG_TOKEN).items() if name == "base64")


def test_a_url_quoted_token_and_a_printed_one_are_found(written):
    (written / "access.log").write_text(f"GET /oncalls?since=2027-01-04&key={quote(WRONG_TOKEN, safe='')} 401\n")
    crawl = CliRun((str(PD_AUDIT), "crawl", "--output", "snap"), 3, "",
                   f"pd-audit: error: refused header Authorization: Token token={TOKEN}\n")
    search = token_occurrences([TOKEN, WRONG_TOKEN], written, [crawl])
    assert sorted(search.places) == ["access.log (as written, secret 2, URL-quoted): 1",
                                     "stderr of crawl --output snap (as written, secret 1, raw): 1"]
    assert search.bytes_written == (sum(path.stat().st_size for path in written.rglob("*") if path.is_file())
                                    + len(crawl.stderr))


def test_files_named_to_skip_are_not_searched(written):
    token_file = written / "token"
    token_file.write_text(TOKEN + "\n")
    assert token_occurrences(TOKEN, written, []).found == 1
    assert token_occurrences(TOKEN, written, [], skip=[token_file]).found == 0


def test_what_cannot_be_opened_is_reported_not_passed(written):
    (written / "cut.jsonl.gz").write_bytes(gzip.compress(ACME.read_bytes())[:200])
    (written / "report" / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    search = token_occurrences(TOKEN, written, [])
    assert sorted(search.unreadable) == ["cut.jsonl.gz (gzip)", "report/broken.pdf (PDF text)"]


def test_forms_holding_another_form_are_not_counted_twice():
    forms = token_forms(WRONG_TOKEN)
    assert forms[WRONG_TOKEN.encode()] == "raw"
    assert forms[quote(WRONG_TOKEN, safe="").encode()] == "URL-quoted"
    assert not any(a != b and a in b for a in forms for b in forms)
    # This token has nothing URL-quoting or escaping changes: its raw form is its only text form.
    assert sorted(set(token_forms(TOKEN).values())) == ["base64", "hex", "raw"]


# ---------------------------------------------------------------- the token file's permissions


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o400, False), (0o640, True), (0o604, True),
                                              (0o644, True)])
def test_token_file_readable_by_others_is_warned_without_echoing_it(tmp_path, capsys, mode, warned):
    token_file = tmp_path / "pagerduty-token"
    token_file.write_text(f"  {TOKEN}\n", encoding="utf-8")
    token_file.chmod(mode)
    assert read_token(token_file) == TOKEN
    printed = capsys.readouterr()
    assert ("readable by other users; chmod 600 it" in printed.err) is warned
    assert TOKEN not in printed.out + printed.err
