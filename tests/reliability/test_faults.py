"""Fault injection in the emulator, and crawls of the example account that must survive it."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
from collections import Counter

import httpx2
import pytest

from audit.emulator.faults import FAULT_KINDS, FaultInjector, FaultPolicy, parse_endpoint_faults
from audit.emulator.serve import start_server
from audit.errors import UserError
from audit.snapshot import load
from tests.crawl.conftest import ACME, TOKEN, emulator_app
from tests.reliability.fault_runs import (
    SERVED_SLOW,
    SERVED_TIMEOUT,
    broken_endpoint,
    clean_digests,
    random_faults,
    served_faults,
)
from tests.reliability.harness import PD_AUDIT, content_digests, crawl_argv, example_account, run_cli


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return clean_digests(tmp_path_factory.mktemp("clean"))


def plain_client(app) -> httpx2.Client:
    return httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url="https://api.pagerduty.com",
                         headers={"Authorization": f"Token token={TOKEN}"})


# ---------------------------------------------------------------- the injector


def decisions(policy: FaultPolicy, requests: int = 2000) -> list[str | None]:
    injector = FaultInjector(policy)
    return [injector.choose("/users/{id}", f"/users/PU{n}") for n in range(requests)]


def test_a_seed_fixes_which_request_numbers_fail_and_how():
    first = decisions(FaultPolicy(rate=0.1, seed=7))
    assert first == decisions(FaultPolicy(rate=0.1, seed=7))
    assert first != decisions(FaultPolicy(rate=0.1, seed=8))
    kinds = Counter(kind for kind in first if kind)
    assert set(kinds) == set(FAULT_KINDS)
    # a storm answers five requests, the other kinds one: the share of drawn faults is near the rate
    drawn = sum(kinds.values()) - kinds["429storm"] + kinds["429storm"] / 5
    assert 0.07 * 2000 < drawn < 0.13 * 2000


def test_a_storm_is_exactly_storm_length_consecutive_429s():
    sequence = decisions(FaultPolicy(rate=0.2, seed=3, kinds=("429storm",), storm_length=4))
    runs, current = [], 0
    for kind in sequence + [None]:
        if kind == "429storm":
            current += 1
        elif current:
            runs.append(current)
            current = 0
    # storms never overlap: a run of 429s is whole storms, one after another at most
    assert runs and all(length % 4 == 0 for length in runs), runs
    assert runs.count(4) > len(runs) / 2


def test_no_faults_without_a_rate_or_an_endpoint():
    assert set(decisions(FaultPolicy(seed=7), 500)) == {None}


@pytest.mark.parametrize("bad, message", [
    ({"rate": 1.5}, "between 0 and 1"),
    ({"kinds": ("500", "504")}, "unknown fault kind '504'"),
    ({"kinds": ()}, "at least one"),
    ({"per_endpoint": {"schedules/{id}": "503"}}, "must be a path"),
    ({"per_endpoint": {"/schedules/{id}": "teapot"}}, "unknown fault kind 'teapot'"),
    ({"storm_length": 0}, "storm_length"),
])
def test_bad_policies_are_refused_in_one_line(bad, message):
    with pytest.raises(UserError, match=message):
        FaultPolicy(**bad)


def test_endpoint_faults_parse_from_the_command_line_form():
    assert parse_endpoint_faults(["/schedules/{id}=503", "/users/PUSR001=drop"]) == {
        "/schedules/{id}": "503", "/users/PUSR001": "drop"}
    with pytest.raises(UserError, match="ENDPOINT=KIND"):
        parse_endpoint_faults(["/schedules/{id}"])


# ---------------------------------------------------------------- answers, in-process


def test_endpoint_faults_by_template_and_by_exact_path():
    account = example_account()
    schedule, user, other_user = account["schedules"][0]["id"], account["users"][0]["id"], account["users"][1]["id"]
    app = emulator_app(ACME, faults=FaultPolicy(per_endpoint={"/schedules/{id}": "503", f"/users/{user}": "drop"}))
    with plain_client(app) as http:
        failed = http.get(f"/schedules/{schedule}")
        assert failed.status_code == 503
        assert failed.json() == {"error": {"message": "Service Unavailable", "code": 2000}}
        assert http.get("/schedules").status_code == 200  # the list is another endpoint
        with pytest.raises(httpx2.RemoteProtocolError):
            http.get(f"/users/{user}")
        assert http.get(f"/users/{other_user}").json()["user"]["id"] == other_user
    assert app.faults.injected == {"503": 1, "drop": 1}
    assert app.stats.by_endpoint == {"/schedules/{id}": 1, "/schedules": 1, "/users/{id}": 2}


def test_truncated_answer_is_sound_http_with_broken_json():
    app = emulator_app(ACME, faults=FaultPolicy(per_endpoint={"/services": "truncate"}))
    with plain_client(app) as http:
        whole = plain_client(emulator_app(ACME)).get("/services").content
        cut = http.get("/services")
    assert cut.status_code == 200 and int(cut.headers["content-length"]) == len(cut.content)
    assert cut.content == whole[: len(whole) // 2]
    with pytest.raises(json.JSONDecodeError):
        cut.json()


def test_storm_answers_carry_rate_limit_headers():
    app = emulator_app(ACME, faults=FaultPolicy(per_endpoint={"/teams": "429storm"}, storm_reset_seconds=3))
    with plain_client(app) as http:
        refused = http.get("/teams")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == 2020
    assert (refused.headers["ratelimit-remaining"], refused.headers["ratelimit-reset"]) == ("0", "3")
    assert "retry-after" not in refused.headers


def test_a_slow_answer_in_process_is_a_client_timeout():
    app = emulator_app(ACME, faults=FaultPolicy(per_endpoint={"/priorities": "slow"}))
    with plain_client(app) as http, pytest.raises(httpx2.ReadTimeout):
        http.get("/priorities")


# ---------------------------------------------------------------- answers, served over TLS


def test_served_drop_closes_the_socket_and_slow_outlasts_the_timeout(tmp_path):
    policy = FaultPolicy(per_endpoint={"/teams": "drop", "/priorities": "slow"}, slow_seconds=SERVED_SLOW)
    with start_server(ACME, state_dir=tmp_path, tokens=[TOKEN], faults=policy) as server:
        with httpx2.Client(base_url=server.url, verify=server.ssl_context(), timeout=SERVED_TIMEOUT,
                           headers={"Authorization": f"Token token={TOKEN}"}) as http:
            assert http.get("/abilities").status_code == 200  # a kept-alive connection, then:
            with pytest.raises(httpx2.RemoteProtocolError, match="without sending a response"):
                http.get("/teams")
            with pytest.raises(httpx2.ReadTimeout):
                http.get("/priorities")
            assert http.get("/abilities").status_code == 200  # the client reconnects
        assert server.app.faults.injected == {"drop": 1, "slow": 1}


# ---------------------------------------------------------------- crawls


def test_crawls_under_five_percent_faults_of_every_kind_equal_a_clean_crawl(clean, tmp_path):
    injected: Counter[str] = Counter()
    for seed in (0, 1, 2):
        run = random_faults(tmp_path / f"seed-{seed}", FaultPolicy(rate=0.05, seed=seed), clean)
        assert run.error is None, run
        assert run.same_content, f"seed {seed}: the crawl under faults differs from a clean crawl"
        snapshot = load(tmp_path / f"seed-{seed}")
        assert snapshot.manifest["requests"]["retries"] >= sum(run.injected.values())
        injected.update(run.injected)
    assert set(injected) == set(FAULT_KINDS), injected
    assert sum(injected.values()) >= 20


def test_served_crawl_survives_drops_and_timeouts_over_tls(clean, tmp_path):
    # seed 6 draws drops and slow answers (and 5xx and a 429 storm) within the crawl's requests
    policy = FaultPolicy(rate=0.05, seed=6, slow_seconds=SERVED_SLOW)
    run = served_faults(tmp_path / "emulator", tmp_path / "snap", policy, clean)
    assert run.error is None and run.same_content, run
    assert run.injected.get("drop", 0) >= 1 and run.injected.get("slow", 0) >= 1, run.injected


def test_endpoint_that_always_fails_names_it_then_resume_completes(clean, tmp_path):
    target = example_account()["schedules"][0]["id"]
    run = broken_endpoint(tmp_path / "snap", f"/schedules/{target}", "503", clean)
    assert run.error == f"GET /schedules/{{id}} (/schedules/{target}): gave up after 3 attempts: HTTP 503"
    assert run.partial_left
    # Only what was missing is fetched again: the one schedule, after one request confirming the account.
    assert run.resume_requests == {"/users": 1, "/schedules/{id}": 1}
    assert run.same_content


def test_cli_crawl_of_a_failing_endpoint_exits_3_then_resumes_once_lifted(clean, tmp_path):
    """Through the CLI against a served emulator. The CLI's client backs off exponentially
    from 0.5 s on errors (eight attempts: half a minute), but waits only ratelimit-reset on a
    429: an endpoint that is always rate limited, with a reset of 0, fails fast."""
    schedules = len(example_account()["schedules"])
    always_429 = FaultPolicy(per_endpoint={"/schedules/{id}": "429storm"}, storm_reset_seconds=0)
    with start_server(ACME, state_dir=tmp_path / "emulator", tokens=[TOKEN], faults=always_429) as server:
        failed = run_cli(crawl_argv(server, tmp_path / "snap"))
        assert failed.refused_cleanly(3), failed
        assert "GET /schedules/{id} (/schedules/" in failed.stderr
        assert "gave up after 8 attempts: HTTP 429 (rate limited)" in failed.stderr
        assert server.app.faults.injected == {"429storm": 8 * schedules}
        server.app.faults.policy = FaultPolicy()  # the fault is lifted
        server.app.stats.reset()
        resumed = run_cli(crawl_argv(server, tmp_path / "snap", "--resume"))
        assert resumed.exit_code == 0, resumed
        assert server.app.stats.by_endpoint == {"/users": 1, "/schedules/{id}": schedules}  # /users: the account
    assert content_digests(load(tmp_path / "snap")) == clean


# ---------------------------------------------------------------- the emulator command


def _as_from_a_terminal() -> None:
    # A test run started in the background (`pytest ... &` in a script) has SIGINT ignored, and a
    # child inherits that; Ctrl-C reaches a program started from a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_emulator_command_serves_the_faults_it_is_given(tmp_path, stop):
    argv = [str(PD_AUDIT), "emulator", "--account", str(ACME), "--state-dir", str(tmp_path), "--token", TOKEN,
            "--fault", "/abilities=503", "--fault", "/teams=truncate", "--fault-rate", "0.01", "--fault-seed", "7"]
    emulator = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_as_from_a_terminal)  # noqa: PLW1509 - one signal, then exec
    try:
        banner = [emulator.stdout.readline() for _ in range(2)]  # where it serves: stdout, for scripts
        url = banner[0].split(" at ")[1].strip()
        ca_path = banner[1].removeprefix("CA certificate: ").split("  (")[0]
        faults = emulator.stderr.readline()  # diagnostics: stderr
        assert "injecting faults: 0.01 of requests (seed 7" in faults
        assert "/abilities always 503" in faults and "/teams always truncate" in faults
        context = ssl.create_default_context(cafile=ca_path)
        with httpx2.Client(base_url=url, verify=context, headers={"Authorization": f"Token token={TOKEN}"}) as http:
            assert http.get("/abilities").status_code == 503
            cut = http.get("/teams")
            assert cut.status_code == 200 and cut.text.startswith('{"teams":[') and not cut.text.endswith("}")
    finally:
        emulator.send_signal(stop)
        try:
            emulator.wait(timeout=30)
        except subprocess.TimeoutExpired:  # never left running; what it said is the clue
            emulator.kill()
            _, stderr = emulator.communicate(timeout=30)
            pytest.fail(f"the emulator did not stop within 30 s of {stop.name}; its stderr:\n{stderr[-4000:]}")
    assert emulator.returncode == 0


@pytest.mark.parametrize("option, message", [
    (["--fault-rate", "1.5"], "Invalid value for '--fault-rate'"),
    (["--fault", "/schedules/{id}=504"], "unknown fault kind '504'"),
    (["--fault", "503"], "expected ENDPOINT=KIND"),
    (["--fault-kinds", "drop,fire"], "unknown fault kind 'fire'"),
])
def test_emulator_command_refuses_bad_fault_options(tmp_path, option, message):
    run = run_cli([str(PD_AUDIT), "emulator", "--account", str(ACME), "--state-dir", str(tmp_path), *option])
    assert run.exit_code == 2 and message in run.stderr, run
    assert "Traceback" not in run.stderr
