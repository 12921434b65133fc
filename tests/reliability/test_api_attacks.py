"""The API attacks of the reliability corpus, one test each, and the token searched in all they wrote."""

from __future__ import annotations

import ssl

import httpx2
import pytest

from audit.emulator.faults import FaultPolicy
from audit.emulator.serve import start_server
from tests.crawl.conftest import ACME, TOKEN
from tests.reliability.api_attacks import ATTACKS, AttackRun
from tests.reliability.token_pipeline import WRONG_TOKEN, describe, token_occurrences


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    with start_server(ACME, state_dir=tmp_path_factory.mktemp("emulator"), tokens=[TOKEN]) as server, \
            start_server(ACME, state_dir=tmp_path_factory.mktemp("faulty"), tokens=[TOKEN]) as faulty:
        yield server, faulty


@pytest.mark.parametrize("name", list(ATTACKS))
def test_each_attack_is_handled_and_writes_no_token(servers, tmp_path, name):
    attack: AttackRun = ATTACKS[name](*servers, tmp_path)
    assert attack.problems == [], attack.problems
    assert attack.runs, "the attack ran nothing"
    # Every file it left (snapshots, partial journals, manifests) and everything it printed.
    search = token_occurrences([TOKEN, WRONG_TOKEN], tmp_path, attack.runs)
    assert search.found == 0, describe(search)


@pytest.mark.parametrize("kind, status", [("echo400", 400), ("echo403", 403)])
def test_the_echoing_emulator_really_echoes_the_token(servers, kind, status):
    """Without this, a redaction that never ran would pass the echoed-token attack."""
    _, faulty = servers
    faulty.app.faults.policy = FaultPolicy(per_endpoint={"/standards": kind})
    try:
        with httpx2.Client(verify=ssl.create_default_context(cafile=str(faulty.ca_path))) as http:
            answer = http.get(f"{faulty.url}/standards", headers={"Authorization": f"Token token={TOKEN}"})
    finally:
        faulty.app.faults.policy = FaultPolicy()
    assert answer.status_code == status and TOKEN in answer.text
