"""Answers PagerDuty would not give (a body of another shape) end the crawl with exit 3 naming the endpoint."""

from __future__ import annotations

import json

import pytest

from audit.errors import CrawlError, ExitCode

from .conftest import ACME, crawl, emulator_app


def rewriting(app, path: str, rewrite):
    """The emulator, with the JSON body of every answer to ``path`` rewritten."""

    def wsgi(environ, start_response):
        if environ["PATH_INFO"] != path:
            return app(environ, start_response)
        captured = {}

        def keep(status, headers, exc_info=None):
            captured.update(status=status, headers=[h for h in headers if h[0].lower() != "content-length"])

        body = json.loads(b"".join(app(environ, keep)))
        start_response(captured["status"], captured["headers"])
        return [json.dumps(rewrite(body)).encode()]

    wsgi.stats = app.stats
    return wsgi


@pytest.mark.parametrize("path, rewrite, endpoint", [
    ("/services", lambda body: {**body, "services": ["PSVC001"]}, "GET /services"),
    ("/teams/PTEAM01", lambda body: {"teams": [body["team"]]}, "GET /teams/{id}"),
    ("/v3/schedules", lambda body: {**body, "schedules": [{"name": "no id"}]}, "GET /v3/schedules"),
])
def test_an_answer_of_another_shape_is_an_api_error_naming_the_endpoint(tmp_path, path, rewrite, endpoint):
    app = rewriting(emulator_app(ACME), path, rewrite)
    scope = {"team_ids": ["PTEAM01"]} if path.startswith("/teams/") else {}
    with pytest.raises(CrawlError) as info:
        crawl(app, tmp_path / "snap", **scope)
    assert str(info.value).startswith(f"{endpoint}: HTTP 200: the answer lacks what PagerDuty sends"), info.value
    assert info.value.exit_code == ExitCode.CRAWL


def test_a_total_that_is_not_a_count_is_taken_as_no_total(tmp_path):
    app = rewriting(emulator_app(ACME), "/escalation_policies", lambda body: {**body, "total": "many"})
    snap, _ = crawl(app, tmp_path / "snap")
    assert snap.manifest["collections"]["escalation_policies"]["count"] == len(json.loads(ACME.read_text())[
        "escalation_policies"])
