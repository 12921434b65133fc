"""Serving over TLS on loopback with a generated CA, through the real pagerduty client."""

from __future__ import annotations

import ssl
import threading

import httpx2
import pagerduty
import pytest

from audit.emulator.serve import serve, start_server
from audit.emulator.tls import ensure_certificates
from audit.errors import UserError


def test_real_client_reads_the_served_account_over_tls(account_file, tmp_path, token):
    with start_server(account_file, state_dir=tmp_path / "state", tokens=[token], rate_limit_per_minute=960) as server:
        assert server.url.startswith("https://127.0.0.1:")
        client = pagerduty.RestApiV2Client(token, base_url=server.url, verify=server.ssl_context())
        try:
            assert [u["name"] for u in client.iter_all("users", params={"team_ids[]": ["PTEAM02"]})] == [
                "Amara Okafor", "Greta Lindqvist", "Hannes Bauer"]
            response = client.get("/v3/schedules/PSV3001", params={
                "include[]": ["final_schedule"], "since": "2026-03-09T00:00:00Z", "until": "2026-03-10T00:00:00Z"})
            assert response.status_code == 200
            assert response.headers["ratelimit-limit"] == "960"
            assignments = response.json()["schedule"]["final_schedule"]["computed_shift_assignments"]
            assert [a["member"]["user_id"] for a in assignments] == ["PUSR008"]
        finally:
            client.close()
        assert server.app.stats.by_endpoint == {"/users": 1, "/v3/schedules/{id}": 1}


def test_server_certificate_is_only_trusted_through_the_generated_ca(account_file, tmp_path):
    with start_server(account_file, state_dir=tmp_path) as server:
        with pytest.raises(httpx2.ConnectError):
            httpx2.get(f"{server.url}/abilities")  # system trust store: unknown issuer
        trusted = httpx2.get(f"{server.url}/abilities", verify=server.ssl_context())
        assert trusted.json()["abilities"][0] == "teams"
        localhost = httpx2.get(server.url.replace("127.0.0.1", "localhost") + "/priorities", verify=server.ssl_context())
        assert localhost.status_code == 200


def test_certificates_are_reused_while_valid(tmp_path):
    first = ensure_certificates(tmp_path)
    ca_bytes = first.ca_cert.read_bytes()
    second = ensure_certificates(tmp_path)
    assert second == first and second.ca_cert.read_bytes() == ca_bytes
    assert oct(first.server_key.stat().st_mode & 0o777) == "0o600"


def test_serve_reports_ready_and_stops_when_asked(account_file, tmp_path):
    seen = {}
    stop = threading.Event()

    def ready(url, ca_path):
        def use_then_stop():
            context = ssl.create_default_context(cafile=str(ca_path))
            seen["status"] = httpx2.get(f"{url}/teams", verify=context).status_code
            stop.set()
        threading.Thread(target=use_then_stop).start()

    serve(account_file, state_dir=tmp_path, ready=ready, stop=stop)
    assert seen == {"status": 200}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_only_loopback_hosts_are_allowed(account_file, tmp_path, host):
    with pytest.raises(UserError, match="only loopback"):
        start_server(account_file, host=host, state_dir=tmp_path)


def test_bad_account_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="account file not found"):
        start_server(tmp_path / "nope.json", state_dir=tmp_path)
