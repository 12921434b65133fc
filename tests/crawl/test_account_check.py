"""One snapshot, one account: the subdomain is recorded, and a resume against another account is refused.

The journal records the API base at the start and the subdomain as soon as an answer's
``html_url`` reveals it (``audit.account_check``). A resume with another base URL, or
whose token reads another account, stops with a usage error before it writes anything.
"""

from __future__ import annotations

import json

import httpx2
import pytest

from audit.account_check import subdomain_in
from audit.client import ApiClient
from audit.crawl import Window, crawl_to_snapshot
from audit.emulator.faults import FaultPolicy
from audit.errors import CrawlError, UserError
from audit.snapshot import partial_path

from .conftest import ACME, SINCE, TOKEN, crawl, emulator_app


def interrupted(tmp_path, out):
    """A crawl of the example account that fails half-way (every /standards request answers 503)."""
    failing = emulator_app(ACME, faults=FaultPolicy(per_endpoint={"/standards": "503"}))
    with pytest.raises(CrawlError, match="GET /standards"):
        crawl(failing, out, client_options={"max_attempts": 1})
    assert partial_path(out).is_dir()


def other_account(tmp_path):
    account = json.loads(ACME.read_text())
    account["subdomain"] = "globex"
    return emulator_app(account, tmp_path)


def test_the_subdomain_is_recorded_in_the_manifest(tmp_path):
    snap, fields = crawl(emulator_app(ACME), tmp_path / "snap")
    assert snap.manifest["subdomain"] == fields["subdomain"] == "acme"


def test_a_resume_whose_token_reads_another_account_is_refused_and_keeps_the_partial(tmp_path):
    out = tmp_path / "snap"
    interrupted(tmp_path, out)
    journal = (partial_path(out) / "journal.jsonl").read_text()
    globex = other_account(tmp_path)
    with pytest.raises(UserError, match=r"--resume: the interrupted crawl read the account 'acme', but this token "
                                        r"reads 'globex'"):
        crawl(globex, out, resume=True)
    assert globex.stats.by_endpoint == {"/users": 1}  # one probe, nothing of the other account kept
    after = (partial_path(out) / "journal.jsonl").read_text()
    added = [json.loads(line) for line in after[len(journal):].splitlines()]
    assert after.startswith(journal) and [set(entry) for entry in added] == [{"unit", "requests"}]
    snap, _ = crawl(emulator_app(ACME), out, resume=True)  # the right account still resumes
    assert snap.manifest["subdomain"] == "acme"


def test_a_resume_against_another_api_base_is_refused_before_any_request(tmp_path):
    out = tmp_path / "snap"
    interrupted(tmp_path, out)
    app = emulator_app(ACME)
    client = ApiClient(TOKEN, base_url="https://api.eu.pagerduty.com", transport=httpx2.WSGITransport(app=app))
    with pytest.raises(UserError, match=r"read https://api.pagerduty.com, not https://api.eu.pagerduty.com"):
        crawl_to_snapshot(client, out, Window(SINCE, 28), resume=True)
    assert app.stats.total == 0 and partial_path(out).is_dir()


def test_a_resume_asks_for_the_account_once_then_only_what_was_left(tmp_path):
    out = tmp_path / "snap"
    interrupted(tmp_path, out)
    healed = emulator_app(ACME)
    crawl(healed, out, resume=True)
    assert healed.stats.by_endpoint == {"/users": 1, "/standards": 1, "/standards/scores/{resource_type}": 1}


@pytest.mark.parametrize("body, expected", [
    ({"users": [{"id": "PUSR001", "html_url": "https://acme.pagerduty.com/users/PUSR001"}]}, "acme"),
    ({"team": {"html_url": "https://Globex-EU.eu.pagerduty.com/teams/PTEAM01"}}, "globex-eu"),
    ({"users": [{"html_url": "https://acme.pagerduty.com.evil.example/users/P"}]}, None),
    ({"abilities": ["teams"]}, None),
    ({"users": []}, None),
])
def test_the_subdomain_comes_from_html_url(body, expected):
    assert subdomain_in(body) == expected


def test_a_crawl_that_fetched_nothing_leaves_no_partial_behind(tmp_path):
    app = emulator_app(ACME)
    client = ApiClient("wrong-token-1234", transport=httpx2.WSGITransport(app=app))
    out = tmp_path / "snap"
    with pytest.raises(CrawlError, match="401"):
        crawl_to_snapshot(client, out, Window(SINCE, 28))
    assert not partial_path(out).exists() and not out.exists()
    crawl(app, out)  # and the next crawl into the same --output is not refused


def test_the_gate_warns_of_a_baseline_from_another_account_now_that_crawls_record_it(tmp_path):
    from click.testing import CliRunner

    from audit.cli import main

    crawl(emulator_app(ACME), tmp_path / "acme")
    crawl(other_account(tmp_path), tmp_path / "globex")
    runner = CliRunner()
    created = runner.invoke(main, ["baseline", "create", str(tmp_path / "acme"), "--output", str(tmp_path / "b.json")])
    assert created.exit_code == 0, created.output
    same = runner.invoke(main, ["check", str(tmp_path / "acme"), "--baseline", str(tmp_path / "b.json")])
    other = runner.invoke(main, ["check", str(tmp_path / "globex"), "--baseline", str(tmp_path / "b.json")])
    assert "another account" not in same.stderr and "recorded on account" not in same.stderr
    assert "the baseline was recorded on account 'acme', the snapshot is of 'globex'" in other.stderr
