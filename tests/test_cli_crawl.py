"""The crawl as a person runs it: the CLI against the emulator served over TLS on loopback."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.emulator.serve import start_server
from audit.emulator.tls import ensure_certificates

from .crawl.conftest import ACME, TOKEN


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = start_server(ACME, state_dir=tmp_path_factory.mktemp("emulator"), tokens=[TOKEN])
    yield server
    server.shutdown()


def run(*args, env=None):
    runner = CliRunner()
    return runner.invoke(main, list(args), env=env or {}, catch_exceptions=False)


def crawl_args(served, out, *extra, ca=None):
    # --max-rate: the loopback emulator need not be spared like PagerDuty (900/min by default)
    return ("crawl", "--api-url", served.url, "--ca-bundle", str(ca or served.ca_path), "--max-rate", "100000",
            "--since", "2027-01-04T00:00:00Z", "--window", "28d", "--output", str(out), *extra)


def test_crawl_over_tls_then_snapshot_info(served, tmp_path):
    account = json.loads(ACME.read_text())
    result = run(*crawl_args(served, tmp_path / "snap"), env={"PAGERDUTY_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "snap")
    assert "requests:" in result.stderr and "lower bound" in result.stderr
    info = run("snapshot", "info", str(tmp_path / "snap"))
    assert info.exit_code == 0, info.output
    assert "2027-01-04T00:00:00Z .. 2027-02-01T00:00:00Z (28 days)" in info.stdout
    for name in ("services", "users", "escalation_policies", "schedules", "schedules_v3", "teams"):
        line = next(line for line in info.stdout.splitlines() if line.split()[:1] == [name])
        assert int(line.split()[1].replace(",", "")) == len(account[name]), line
    manifest = json.loads(run("snapshot", "info", "--format", "json", str(tmp_path / "snap")).stdout)
    assert manifest["api_base"] == served.url.rstrip("/")
    assert manifest["requests"]["by_endpoint"]["GET /schedules/{id}"] == len(account["schedules"])
    assert TOKEN not in (tmp_path / "snap" / "manifest.json").read_text()


def test_a_window_past_the_reach_of_oncalls_is_a_usage_error(served, tmp_path):
    # PagerDuty's /oncalls looks at most 90 days past now: a window ending later is refused up front.
    since = (datetime.now(timezone.utc) + timedelta(days=80)).replace(microsecond=0)
    args = ["crawl", "--api-url", served.url, "--ca-bundle", str(served.ca_path), "--since", since.isoformat(),
            "--window", "28d", "--output", str(tmp_path / "snap")]
    before = served.app.stats.total
    result = run(*args, env={"PAGERDUTY_TOKEN": TOKEN})
    assert result.exit_code == 2, result.output
    until = (since + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"{until}, more than 90 days from now" in result.stderr and "--skip oncalls" in result.stderr
    assert served.app.stats.total == before, "nothing may be asked of the API"
    assert not (tmp_path / "snap").exists() and not (tmp_path / "snap.partial").exists()
    # leaving the on-calls out lifts the limit: schedules render any window
    skipped = run(*args, "--skip", "oncalls,handoff_rules", "--quiet", "--max-rate", "100000",
                  env={"PAGERDUTY_TOKEN": TOKEN})
    assert skipped.exit_code == 0, skipped.output


def test_token_file_is_read_and_group_readable_file_warned(served, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o644)
    result = run(*crawl_args(served, tmp_path / "snap", "--token-file", str(token_file), "--quiet",
                             "--skip", "service_dependencies"))
    assert result.exit_code == 0, result.output
    assert "readable by other users" in result.stderr
    assert TOKEN not in result.output


def test_bad_token_is_exit_3_in_one_line(served, tmp_path):
    result = run(*crawl_args(served, tmp_path / "snap"), env={"PAGERDUTY_TOKEN": "wrong-token-0123456789"})
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pd-audit: error:") and "401" in lines[0]
    assert "Traceback" not in result.output and "0123456789" not in result.output
    assert not (tmp_path / "snap").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--window", "91d"), "must be 1 to 90 days"),
        (("--window", "soon"), "not a window length"),
        (("--since", "next tuesday"), "not an ISO 8601 date-time"),
    ],
)
def test_bad_options_are_exit_2(served, tmp_path, args, message):
    result = run(*crawl_args(served, tmp_path / "snap"), *args, env={"PAGERDUTY_TOKEN": TOKEN})
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (TOKEN.encode() + b"\nsecond line\n", "must be one line of printable ASCII"),
        (TOKEN.encode()[:10] + b" " + TOKEN.encode()[10:], "must be one line of printable ASCII"),
        (TOKEN.encode() + "é".encode(), "must be one line of printable ASCII"),
        (TOKEN.encode() + b"\xff\xfe", "not a text file"),
    ],
)
def test_token_that_cannot_be_sent_is_refused_before_any_request(served, tmp_path, content, message):
    token_file = tmp_path / "token"
    token_file.write_bytes(content)
    os.chmod(token_file, 0o600)
    served.app.stats.reset()
    result = run(*crawl_args(served, tmp_path / "snap", "--token-file", str(token_file)))
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"pd-audit: error: --token-file {token_file}: ") and message in line
    assert TOKEN[:8] not in result.output and served.app.stats.total == 0


def test_audit_takes_crawl_workers_and_pdf_workers_apart():
    result = run("audit", "--help")
    assert result.exit_code == 0
    assert "--pdf-workers" in result.stdout and result.stdout.count("--workers") == 1


def test_missing_token_is_exit_2(served, tmp_path):
    result = run(*crawl_args(served, tmp_path / "snap"))
    assert result.exit_code == 2
    assert result.stderr.strip() == "pd-audit: error: no API token: set PAGERDUTY_TOKEN or pass --token-file"


def test_unreadable_ca_bundle_is_a_crawl_error(served, tmp_path):
    other = tmp_path / "other-ca.pem"
    other.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    result = run(*crawl_args(served, tmp_path / "snap", ca=other), env={"PAGERDUTY_TOKEN": TOKEN})
    assert result.exit_code == 3
    assert "--ca-bundle" in result.stderr and "Traceback" not in result.output


def test_untrusted_certificate_fails_at_once(served, tmp_path):
    other_ca = ensure_certificates(tmp_path / "other").ca_cert  # a CA that did not sign the server's certificate
    result = run(*crawl_args(served, tmp_path / "snap", ca=other_ca), env={"PAGERDUTY_TOKEN": TOKEN})
    assert result.exit_code == 3
    assert "TLS certificate is not trusted" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_snapshot_info_on_garbage_is_exit_2(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "manifest.json").write_bytes(os.urandom(256))
    result = run("snapshot", "info", str(tmp_path / "junk"))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not valid JSON" in result.stderr


def test_demo_writes_a_snapshot_of_the_example_account(tmp_path):
    result = run("demo", "--output", str(tmp_path / "demo"), "--quiet")
    assert result.exit_code == 0, result.output
    assert f"snapshot:  {tmp_path / 'demo' / 'snapshot'}" in result.stdout
    assert (tmp_path / "demo" / "score.txt").is_file()
    assert (tmp_path / "demo" / "snapshot" / "manifest.json").is_file()


def test_max_attempts_bounds_how_long_an_unreachable_api_is_tried(served, tmp_path):
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    args = list(crawl_args(served, tmp_path / "snap", "--max-attempts", "2", "--timeout", "5"))
    args[args.index("--api-url") + 1] = f"https://127.0.0.1:{closed}"
    result = run(*args, env={"PAGERDUTY_TOKEN": TOKEN})
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.strip().splitlines()
    assert f"cannot reach 127.0.0.1:{closed}" in line and "Connection refused" in line, line
    assert TOKEN not in result.output
    assert not (tmp_path / "snap.partial").exists()  # nothing was crawled: nothing blocks the retry


def test_timeout_and_attempts_reach_the_client():
    from click.testing import CliRunner

    from audit.cli import main
    from audit.commands.crawling import api_client
    from audit.commands.options import CrawlOptions

    # The options as the crawl command builds them from its parameters.
    crawl = main.get_command(None, "crawl")  # type: ignore[arg-type]
    with CliRunner().isolation():
        context = crawl.make_context("crawl", ["-o", "snap", "--api-url", "https://api.pagerduty.com",
                                               "--timeout", "7.5", "--max-attempts", "3"])
    options = CrawlOptions(**{name: context.params[name] for name in CrawlOptions.__dataclass_fields__})
    client = api_client(options, TOKEN)
    defaults = api_client(dataclasses.replace(options, timeout=None, max_attempts=None), TOKEN)
    try:
        assert client.max_attempts == 3 and client._client.timeout.read == 7.5
        assert defaults.max_attempts == 8 and defaults._client.timeout.read == 30.0
        # connecting is bounded apart: an unreachable host fails in seconds, whatever --timeout says
        assert client._client.timeout.connect == defaults._client.timeout.connect == 6.0
    finally:
        client.close()
        defaults.close()
