"""A vcrpy cassette of a full crawl of the example account pins the crawler's exact requests.

Replaying it, the crawler must ask for exactly the recorded requests: a new request fails
(record_mode "none"), a missing one leaves the cassette not all played. After a deliberate
change to what the crawler asks for, re-record with

    PD_AUDIT_RECORD_CASSETTES=1 .venv/bin/python -m pytest tests/crawl/test_cassette.py

and review the cassette's diff: it is the list of requests a crawl of the account makes.
"""

from __future__ import annotations

import os
from pathlib import Path

import vcr

from audit.snapshot import load

from .conftest import ACME, TOKEN, crawl, emulator_app

CASSETTES = Path(__file__).parent / "cassettes"
CASSETTE = "acme_full_crawl.yaml"
RECORDING = os.environ.get("PD_AUDIT_RECORD_CASSETTES") == "1"


def recorder() -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if RECORDING else "none",
        match_on=["method", "scheme", "host", "port", "path", "query"],
        filter_headers=["authorization"],
        decode_compressed_response=True,
    )


def refuse(environ, start_response):  # during playback nothing may reach an API
    raise AssertionError(f"request not in the cassette: {environ['PATH_INFO']}")


def test_full_crawl_makes_exactly_the_recorded_requests(tmp_path):
    app = emulator_app(ACME) if RECORDING else refuse
    if RECORDING:  # vcrpy's "all" mode appends: start from an empty cassette
        (CASSETTES / CASSETTE).unlink(missing_ok=True)
    with recorder().use_cassette(CASSETTE) as cassette:
        snap, fields = crawl(app, tmp_path / "snap")
    if RECORDING:
        return
    assert cassette.all_played, f"{len(cassette.requests) - cassette.play_count} recorded requests were not made"
    assert cassette.play_count == fields["requests"]["total"] == len(cassette.requests)
    # what was replayed is a whole crawl of the account
    assert load(snap.path).manifest["collections"]["services"]["count"] == 44


def test_cassette_holds_no_credentials():
    text = (CASSETTES / CASSETTE).read_text(encoding="utf-8")
    assert TOKEN not in text
    assert "authorization" not in text.lower()
