"""`crawl --team` by name: names are looked up in the account's own team list, ids pass as given."""

from __future__ import annotations

import copy

import pytest

from audit.errors import UserError
from audit.team_scope import resolve_scope

from .conftest import crawl, emulator_app, make_client


class CountingClient:
    """The real client, counting the requests resolve_scope makes."""

    def __init__(self, client):
        self.client = client
        self.paths: list[str] = []

    def get(self, path, params=None):
        self.paths.append(path)
        return self.client.get(path, params)


@pytest.fixture
def client(acme_account, tmp_path):
    account = copy.deepcopy(acme_account)
    # A second team named like the first but for case and spaces, and enough teams for two pages.
    account["teams"].append({**account["teams"][0], "id": "PTEAM99", "name": " PAYMENTS "})
    account["teams"] += [{**account["teams"][1], "id": f"PFILL{n:03d}", "name": f"Filler {n}"} for n in range(120)]
    real = make_client(emulator_app(account, tmp_path))
    yield CountingClient(real)
    real.close()


def test_ids_only_need_no_request(client):
    assert resolve_scope(client, ("PTEAM02", "PTEAM03")) == ["PTEAM02", "PTEAM03"]
    assert client.paths == []


def test_names_resolve_case_insensitively_across_pages(client):
    assert resolve_scope(client, ("checkout", "filler 119", "PTEAM03")) == ["PTEAM02", "PFILL119", "PTEAM03"]
    assert client.paths == ["/teams", "/teams"]  # 100 a page: the 130 teams take two


def test_a_name_two_teams_share_is_refused_with_both_ids(client):
    with pytest.raises(UserError, match=r"--team 'Payments': 2 teams have that name: .*PTEAM01.*PTEAM99"):
        resolve_scope(client, ("Payments",))


def test_an_unknown_name_is_refused_with_the_closest(client):
    with pytest.raises(UserError, match=r"is not a PagerDuty id nor the name of a team .*did you mean 'Checkout'"):
        resolve_scope(client, ("Chekout",))


def test_a_crawl_scoped_by_name_holds_that_team_only(acme_account, tmp_path):
    app = emulator_app(acme_account, tmp_path)
    client = make_client(app)
    try:
        team_ids = resolve_scope(client, ("search",))
    finally:
        client.close()
    snapshot, _ = crawl(app, tmp_path / "snap", team_ids=team_ids)
    assert snapshot.manifest["scope"] == {"team_ids": ["PTEAM03"]}
    assert {team["id"] for service in snapshot.iter("services") for team in service.get("teams", [])} == {"PTEAM03"}
