"""Fault injection: the emulator failing on purpose, the ways a real API and network fail.

A ``FaultPolicy`` says which requests fail and how; the app keeps a ``FaultInjector``
(``app.faults``) that applies it and counts what it injected (``app.faults.injected``, by
kind). Kinds (``FAULT_KINDS``):

* ``500``, ``502``, ``503``: an error answer in PagerDuty's error shape.
* ``drop``: the connection ends with no answer. Served over TLS the request handler closes
  the socket (see ``DroppedConnection``); in-process, where ``httpx2.WSGITransport`` calls the
  app directly, the app raises the transport error a client sees then,
  ``httpx2.RemoteProtocolError``.
* ``truncate``: a 200 whose JSON body is cut in half (with a matching Content-Length, so
  only the JSON is broken, not the HTTP framing).
* ``slow``: the answer comes after ``slow_seconds``, meant to be longer than the client's
  timeout. In-process there is no socket to time out on, so the app raises
  ``httpx2.ReadTimeout`` at once.
* ``429storm``: ``storm_length`` consecutive requests answered 429 (code 2020) with
  ``ratelimit-*`` headers and ``ratelimit-reset: storm_reset_seconds``.

Kinds only ``per_endpoint`` gives (``ANSWER_KINDS``: real answers about one object, not
random trouble, so a random policy never draws them):

* ``404``: the object was deleted a moment ago (code 2100), though lists still name it.
* ``400``: what ``GET /schedules/{id}`` answers for a schedule upgraded to v3 (code 2001).
* ``echo400``, ``echo403``: a 400 whose message, and a 403 whose reason, repeat the
  request's ``Authorization`` header: a server echoing the credential it was sent.

Which request fails is decided by its sequence number (the n-th request the app received),
so a seed gives the same faults on the same request sequence: request n fails when a
generator seeded with (seed, n) draws under ``rate``, and then with the kind that generator
picks; a storm drawn at n answers requests n to n + storm_length - 1 (storms never overlap).
``per_endpoint`` fails every request to an endpoint, named by its template
(``/schedules/{id}``) or by its exact path (``/schedules/PSCH001``), with one kind, whatever
the rate says; an exact path wins over a template (such requests are numbered all the same).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import httpx2
from werkzeug.wrappers import Response

from audit.emulator.protocol import ApiFailure, rate_limited
from audit.errors import UserError

ERROR_KINDS = {"500": "Internal Server Error", "502": "Bad Gateway", "503": "Service Unavailable"}
FAULT_KINDS = (*ERROR_KINDS, "drop", "truncate", "slow", "429storm")
ANSWER_KINDS = ("404", "400", "echo400", "echo403")
# PagerDuty's code for an internal error; 5xx answers from a proxy in front of it carry none,
# but the client must cope with either, and a JSON body is the harder case for a parser.
INTERNAL_ERROR_CODE = 2000
DEFAULT_SLOW_SECONDS = 35.0  # past the client's default 30 s timeout
DEFAULT_STORM_LENGTH = 5
DEFAULT_STORM_RESET_SECONDS = 1
STORM_RATE_LIMIT = 960  # the ratelimit-limit PagerDuty announces per credential


class DroppedConnection(ConnectionAbortedError):
    """Raised by the app to have the serving request handler close the socket unanswered.

    werkzeug's server treats a ``ConnectionError`` from the app as a connection the client
    dropped: it writes nothing and calls ``connection_dropped``, where the emulator's handler
    marks the connection closed (``audit.emulator.serve``).
    """


@dataclass(frozen=True)
class FaultPolicy:
    """Which requests fail and how (see the module docstring)."""

    rate: float = 0.0
    seed: int = 0
    per_endpoint: Mapping[str, str] = field(default_factory=dict)
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = DEFAULT_SLOW_SECONDS
    storm_length: int = DEFAULT_STORM_LENGTH
    storm_reset_seconds: int = DEFAULT_STORM_RESET_SECONDS

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise UserError(f"fault rate {self.rate} must be between 0 and 1")
        kinds = tuple(self.kinds)
        if not kinds:
            raise UserError("fault kinds: name at least one")
        for kind in kinds:
            _check_kind(kind)
        for kind in self.per_endpoint.values():
            _check_kind(kind, ANSWER_KINDS)
        for endpoint in self.per_endpoint:
            if not endpoint.startswith("/"):
                raise UserError(f"fault endpoint {endpoint!r} must be a path like /schedules/{{id}}")
        if self.slow_seconds < 0 or self.storm_length < 1 or self.storm_reset_seconds < 0:
            raise UserError("slow_seconds and storm_reset_seconds must be >= 0 and storm_length >= 1")
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "per_endpoint", MappingProxyType(dict(self.per_endpoint)))

    @property
    def active(self) -> bool:
        return self.rate > 0 or bool(self.per_endpoint)


def _check_kind(kind: str, also: tuple[str, ...] = ()) -> None:
    if kind not in (*FAULT_KINDS, *also):
        raise UserError(f"unknown fault kind {kind!r} (choose from {', '.join((*FAULT_KINDS, *also))})")


def parse_endpoint_faults(specs: Iterable[str]) -> dict[str, str]:
    """``["/schedules/{id}=503", ...]`` (the CLI's ``--fault``) as ``per_endpoint``."""
    faults: dict[str, str] = {}
    for spec in specs:
        endpoint, sep, kind = spec.rpartition("=")
        if not sep or not endpoint:
            raise UserError(f"--fault {spec!r}: expected ENDPOINT=KIND, e.g. '/schedules/{{id}}=503'")
        _check_kind(kind.strip(), ANSWER_KINDS)
        faults[endpoint.strip()] = kind.strip()
    return faults


class FaultInjector:
    """Applies a ``FaultPolicy`` to the app's requests and counts what it injected; thread-safe.

    ``policy`` may be replaced while the app serves (to lift a fault, say); counts go on.
    """

    def __init__(self, policy: FaultPolicy | None = None):
        self.policy = policy or FaultPolicy()
        self._next_sequence = 0
        self._storm_left = 0  # requests the storm under way still answers with 429
        self._injected: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def injected(self) -> dict[str, int]:
        """Faulty answers given so far, by kind (a storm counts each 429 it answered)."""
        with self._lock:
            return dict(self._injected)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._injected.values())

    def choose(self, template: str, path: str) -> str | None:
        """The fault for the next request (to ``template``, at ``path``), or None."""
        with self._lock:
            # Numbered and drawn under the lock, in arrival order: the n-th request's fault
            # depends on (seed, n) only, whichever thread it came from.
            drawn = self._draw(self._next_sequence)
            self._next_sequence += 1
        chosen = self.policy.per_endpoint.get(path) or self.policy.per_endpoint.get(template)
        return chosen or drawn

    def _draw(self, sequence: int) -> str | None:
        if self._storm_left:
            self._storm_left -= 1
            return "429storm"
        if self.policy.rate <= 0:
            return None
        draw = random.Random(f"{self.policy.seed}:{sequence}")
        if draw.random() >= self.policy.rate:
            return None
        kind = draw.choice(self.policy.kinds)
        if kind == "429storm":  # storms never overlap: a storm is exactly storm_length 429s
            self._storm_left = self.policy.storm_length - 1
        return kind

    def answer(self, kind: str, environ: dict[str, Any], normal: Callable[[], Response]) -> Response:
        """Answer one request with the fault ``kind``; ``normal()`` gives the true answer."""
        served = "werkzeug.socket" in environ  # absent under httpx2.WSGITransport
        if kind in ERROR_KINDS:
            self._count(kind)
            failure = ApiFailure(int(kind), INTERNAL_ERROR_CODE, ERROR_KINDS[kind])
            return _json_response(failure.status, failure.body(), {})
        if kind in ANSWER_KINDS:
            self._count(kind)
            return _json_response(*_object_answer(kind, environ.get("HTTP_AUTHORIZATION", "")), {})
        if kind == "429storm":
            self._count(kind)
            return _json_response(429, rate_limited().body(), {
                "ratelimit-limit": str(STORM_RATE_LIMIT),
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(self.policy.storm_reset_seconds),
            })
        if kind == "drop":
            self._count(kind)
            if served:
                raise DroppedConnection("fault injected: connection dropped")
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")
        if kind == "slow":
            self._count(kind)
            if not served:
                raise httpx2.ReadTimeout("fault injected: the answer came after the client's timeout")
            time.sleep(self.policy.slow_seconds)
            return normal()
        if kind == "truncate":
            response = normal()
            body = response.get_data()
            if response.status_code != 200 or len(body) < 2:
                return response  # nothing to cut: the request is answered as it was
            self._count(kind)
            response.set_data(body[: len(body) // 2])
            return response
        raise AssertionError(f"unhandled fault kind {kind!r}")  # FaultPolicy validated it

    def _count(self, kind: str) -> None:
        with self._lock:
            self._injected[kind] += 1


def _object_answer(kind: str, authorization: str) -> tuple[int, dict[str, Any]]:
    if kind == "404":
        return 404, ApiFailure(404, 2100, "Not Found").body()
    if kind == "400":
        return 400, ApiFailure(400, 2001, "Invalid Input Provided").body()
    if kind == "echo400":
        return 400, {"error": {"message": f"Invalid Input Provided: header {authorization}", "code": 2001,
                               "errors": [f"Authorization {authorization} is malformed"]}}
    return 403, {"error": {"message": f"Access Denied to the key in {authorization}", "code": 2010}}


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")
