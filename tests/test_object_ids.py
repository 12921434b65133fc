"""Ids a person gives (``--team``) are PagerDuty ids or a one-line usage error, before anything is asked."""

from __future__ import annotations

import pytest

from audit.crawl import Window, crawl_to_snapshot
from audit.errors import UserError
from audit.object_ids import parse_object_ids
from audit.snapshot import partial_path
from tests.crawl.conftest import ACME, SINCE, emulator_app, make_client


@pytest.mark.parametrize("text, ids", [
    ("PTEAM01", ["PTEAM01"]),
    (" PTEAM01 , P1ABC2D,PTEAM01", ["PTEAM01", "P1ABC2D"]),
    ("Q0RIJJZL24RC6W", ["Q0RIJJZL24RC6W"]),
    (None, None),
])
def test_ids_are_read_from_a_comma_separated_list(text, ids):
    assert parse_object_ids(text, "--team") == ids


@pytest.mark.parametrize("text", ["PTEAM01?x=", "../abilities", "pteam01", "PTEAM01/members", "P", "P" * 21,
                                  "PTEAM\u00c901", "PTEAM01\x1b[2J", ",", ""])
def test_anything_else_is_refused_naming_the_option(text):
    with pytest.raises(UserError, match="^--team: ") as info:
        parse_object_ids(text, "--team")
    assert "\n" not in str(info.value)


def test_the_crawler_refuses_a_malformed_scope_before_it_writes_or_asks_anything(tmp_path):
    app = emulator_app(ACME)
    with pytest.raises(UserError, match="not a PagerDuty id"):
        crawl_to_snapshot(make_client(app), tmp_path / "snap", Window(SINCE, 28), team_ids=["../abilities"])
    assert app.stats.total == 0 and not partial_path(tmp_path / "snap").exists()
