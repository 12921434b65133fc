"""Every request the crawler makes and every answer the emulator gives, held to PagerDuty's OpenAPI file.

A full crawl of the example account (and one of the same account on a plan without teams,
service dependencies or standards, answered 402) runs through a recorder between the
crawler's client and the emulator. Each request must name a declared path, only declared query
parameters and valid values; each response must match the schema declared for its status, in
``pagerduty-api/openapiv3.json`` of the reference folder (the whole published file; see
``tests/reference.py``). Where that file is absent the suite skips, saying so.

The differences allowed are listed in ``ALLOWED``, each with its reason, and every entry must
still be needed: an allowance no exchange uses fails the suite, so the list stays short and true.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.conformance.openapi import OpenApiContract, Violation
from tests.crawl.conftest import ACME, crawl, emulator_app
from tests.reference import OPENAPI_FULL, require_reference

pytestmark = pytest.mark.reference(OPENAPI_FULL)


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int
    body: bytes

    def has_include(self) -> bool:
        return any(name == "include[]" for name, _ in self.query)


class Recorder:
    """WSGI middleware between the crawler's client and the emulator: keeps every exchange."""

    def __init__(self, app):
        self.app = app
        self.exchanges: list[Exchange] = []

    def __call__(self, environ, start_response):
        status: list[int] = []

        def keep_status(line, headers, exc_info=None):
            status.append(int(line.split()[0]))
            return start_response(line, headers, exc_info)

        body = b"".join(self.app(environ, keep_status))
        query = tuple(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self.exchanges.append(Exchange(environ["REQUEST_METHOD"], environ["PATH_INFO"], query, status[0], body))
        return [body]


# -------------------------------------------------------------------- the allowed differences


@dataclass
class Allowance:
    """A known difference between the published file and the API as PagerDuty serves it."""

    name: str
    reason: str
    allows: Callable[[OpenApiContract, Exchange, str, Violation], bool]  # (.., operation template, ..)
    used: int = field(default=0, compare=False)


# (operation, field) -> where the file says null means something (or the API sends it) without `nullable`.
NULL_THAT_MEANS_SOMETHING = {
    ("/services", "auto_resolve_timeout"): "description: 'Value is `null` if the feature is disabled'",
    ("/services", "acknowledgement_timeout"): "description: 'Value is `null` if the feature is disabled'",
    ("/services", "support_hours"): "null for a service without support hours; the file types only the object",
    ("/schedules/{id}", "end"): "a layer's end: 'If `null`, the layer does not end.'",
    ("/oncalls", "start"): "'If `null`, the on-call is a permanent user on-call.'",
    ("/oncalls", "end"): "'If `null`, the user does not go off-call.'",
    ("/oncalls", "schedule"): "a user targeted directly by a policy is on call through no schedule",
}


def _documented_null(contract: OpenApiContract, exchange: Exchange, template: str, violation: Violation) -> bool:
    return violation.instance is None and (template, violation.field) in NULL_THAT_MEANS_SOMETHING


def _expanded_reference(contract: OpenApiContract, exchange: Exchange, template: str, violation: Violation) -> bool:
    declared = violation.validator_value if violation.validator == "enum" else ()
    return (exchange.has_include() and violation.field == "type" and isinstance(violation.instance, str)
            and f"{violation.instance}_reference" in declared)


def _undeclared_402(contract: OpenApiContract, exchange: Exchange, template: str, violation: Violation) -> bool:
    # Still held to the error schema: the one the file declares for /teams' 402.
    return (exchange.status == 402 and violation.message.startswith("ResponseNotFound")
            and contract.response_violations("GET", "/teams", 402, exchange.body) == [])


ALLOWED = [
    Allowance("null the file does not mark nullable",
              "the file's own descriptions say these fields may be null (see NULL_THAT_MEANS_SOMETHING) "
              "but omit `nullable: true`", _documented_null),
    Allowance("full objects where include[] expands a reference",
              "include[] swaps references for the full objects (that is what it is for); the file "
              "declares only the *_reference type", _expanded_reference),
    Allowance("402 where the file lists none",
              "PagerDuty answers 402 on every endpoint of a feature the account's plan lacks (README of "
              "pagerduty-api: abilities); the file lists 402 only on some (/teams has it, /business_services "
              "and /standards do not). The body must still match the file's 402 error schema.", _undeclared_402),
]
# Request parameters sent under another name than the file's, with the reason.
REQUEST_RENAMES = {
    ("/standards/scores/{resource_type}", "ids[]"): (
        "ids", "the file names the array `ids`; PagerDuty's REST API reads arrays in the bracket form "
               "(`team_ids[]`, `include[]`), which the crawler sends and the emulator accepts, as `ids[]`"),
}


def request_problems(contract: OpenApiContract, exchange: Exchange, renames_used: Counter) -> list[str]:
    operation = contract.operation(exchange.method, exchange.path)
    query = []
    for name, value in exchange.query:
        renamed = REQUEST_RENAMES.get((operation.template if operation else "", name))
        if renamed:
            renames_used[(operation.template, name)] += 1
            name = renamed[0]
        query.append((name, value))
    return contract.request_errors(exchange.method, exchange.path, query)


def response_problems(contract: OpenApiContract, exchange: Exchange) -> list[str]:
    operation = contract.operation(exchange.method, exchange.path)
    template = operation.template if operation else exchange.path
    problems = []
    for violation in contract.response_violations(exchange.method, exchange.path, exchange.status, exchange.body):
        allowance = next((a for a in ALLOWED if a.allows(contract, exchange, template, violation)), None)
        if allowance is None:
            problems.append(f"{exchange.status} {template} at {'/'.join(map(str, violation.json_path))}: "
                            f"{violation.message}")
        else:
            allowance.used += 1
    return problems


# -------------------------------------------------------------------- the crawls


@pytest.fixture(scope="module")
def contract() -> OpenApiContract:
    return OpenApiContract(require_reference(OPENAPI_FULL))


def _crawl(account_path: Path, out: Path) -> list[Exchange]:
    recorder = Recorder(emulator_app(account_path))
    crawl(recorder, out)
    return recorder.exchanges


@pytest.fixture(scope="module")
def full_crawl(tmp_path_factory) -> list[Exchange]:
    return _crawl(ACME, tmp_path_factory.mktemp("conformance") / "snap")


@pytest.fixture(scope="module")
def crawl_on_a_smaller_plan(tmp_path_factory) -> list[Exchange]:
    """The example account on a plan without teams, service dependencies or standards: 402s."""
    folder = tmp_path_factory.mktemp("conformance-402")
    account = json.loads(ACME.read_text(encoding="utf-8"))
    account = copy.deepcopy(account)
    account["abilities"] = [a for a in account.get("abilities", [])
                            if a not in ("teams", "service_dependencies", "standards")]
    (folder / "account.json").write_text(json.dumps(account), encoding="utf-8")
    return _crawl(folder / "account.json", folder / "snap")


@pytest.fixture(scope="module")
def exchanges(full_crawl, crawl_on_a_smaller_plan) -> list[Exchange]:
    return full_crawl + crawl_on_a_smaller_plan


# -------------------------------------------------------------------- the tests


def test_the_crawls_cover_the_endpoints_an_audit_reads(contract, full_crawl, crawl_on_a_smaller_plan):
    templates = {contract.operation(e.method, e.path).template for e in full_crawl}
    assert {"/services", "/escalation_policies", "/schedules", "/schedules/{id}", "/v3/schedules",
            "/v3/schedules/{id}", "/users", "/teams", "/teams/{id}/members", "/oncalls",
            "/users/{id}/oncall_handoff_notification_rules", "/abilities", "/extensions"} <= templates
    assert {e.status for e in full_crawl} == {200}
    assert 402 in {e.status for e in crawl_on_a_smaller_plan}


def test_every_request_the_crawler_makes_is_declared(contract, exchanges):
    renames_used: Counter = Counter()
    problems = Counter(p for e in exchanges for p in request_problems(contract, e, renames_used))
    assert dict(problems) == {}
    assert set(renames_used) == set(REQUEST_RENAMES), "a rename no request needs any more: drop it"


def test_every_answer_the_emulator_serves_matches_its_schema(contract, exchanges):
    for allowance in ALLOWED:
        allowance.used = 0
    problems = Counter(p for e in exchanges for p in response_problems(contract, e))
    assert dict(problems) == {}
    assert [a.name for a in ALLOWED if not a.used] == [], "an allowance nothing needs any more: drop it"


def test_a_missing_ability_answers_as_pagerduty_does(crawl_on_a_smaller_plan):
    refused = [e for e in crawl_on_a_smaller_plan if e.status == 402]
    assert refused
    assert {json.loads(e.body)["error"]["code"] for e in refused} == {2014}


# -------------------------------------------------------------------- the checker can fail


def test_the_request_check_catches_what_the_file_does_not_declare(contract):
    assert contract.request_errors("GET", "/users", [("limit", "100"), ("include[]", "contact_methods")]) == []
    errors = contract.request_errors("GET", "/users", [("sort_by", "name"), ("limit", "many"),
                                                       ("include[]", "contact_methods"), ("include[]", "pets")])
    assert len(errors) == 3, errors
    assert any("'sort_by' is not declared" in e for e in errors)
    assert any("'many' is not of type 'integer'" in e for e in errors)
    assert any("'pets' is not one of" in e for e in errors)
    assert contract.request_errors("GET", "/oncalls", [("since", "last tuesday")])[0].endswith("is not a 'date-time'")
    assert "no such operation" in contract.request_errors("GET", "/schedules/PSCH001/shifts", [])[0]


def test_the_response_check_catches_a_broken_answer(contract, full_crawl):
    users = next(e for e in full_crawl if e.path == "/users")
    body = json.loads(users.body)
    body["users"][0]["email"] = 42
    body["users"][0]["time_zone"] = None  # not among the documented nulls
    broken = Exchange(users.method, users.path, users.query, 200, json.dumps(body).encode())
    problems = response_problems(contract, broken)
    assert any("users/0/email" in p for p in problems), problems
    assert any("users/0/time_zone" in p for p in problems), problems
