"""The PagerDuty-compatible WSGI app: routing, auth, plan abilities, rate limit, latency, stats.

``create_app(account, ...)`` gives a WSGI callable serving an account (an ``Account`` or the
path of an account file) as PagerDuty's REST API v2 (GET only). Every request, in order:
is counted in ``app.stats`` by endpoint; sleeps ``latency_seconds``; may be answered with an
injected fault (``faults``, a ``faults.FaultPolicy``: errors, dropped connections, truncated
bodies, timeouts, 429 storms; counted in ``app.faults.injected``); is authenticated when
``tokens`` is given (``Authorization: Token token=...``, else 401); is counted against the
token's rate limit when ``rate_limit_per_minute`` is set (headers on every answer, 429 past
it); is routed (404 otherwise); is refused with 402 when the account lacks the endpoint's
ability; then answered by the directory or schedule endpoints.

Abilities that gate endpoints (report these in the account-format documentation):
``teams`` (/teams...), ``service_dependencies`` (/business_services... and
/service_dependencies/...), ``standards`` (/standards...), ``analytics`` (POST
/analytics/raw/incidents; its daily quota is ``analytics_daily_limit``). ``/abilities/{name}`` answers 204
when the account has the ability, else 402.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from audit.emulator.account import Account, load_account
from audit.emulator.directory import DirectoryEndpoints
from audit.emulator.faults import FaultInjector, FaultPolicy
from audit.emulator.incident_endpoints import IncidentEndpoints
from audit.emulator.present import DEFAULT_API_URL, Presenter
from audit.emulator.protocol import (
    ApiFailure,
    payment_required,
    rate_limited,
    unauthorized,
)
from audit.emulator.ratelimit import RateLimiter
from audit.emulator.rendering import ScheduleRenderings
from audit.emulator.schedule_endpoints import ScheduleEndpoints

# path, handler name, ability the account needs (None: every plan)
ROUTES = (
    ("/abilities", "abilities", None),
    ("/abilities/<id>", "ability", None),
    ("/teams", "teams", "teams"),
    ("/teams/<id>", "team", "teams"),
    ("/teams/<id>/members", "team_members", "teams"),
    ("/users", "users", None),
    ("/users/<id>", "user", None),
    ("/users/<id>/contact_methods", "contact_methods", None),
    ("/users/<id>/notification_rules", "notification_rules", None),
    ("/users/<id>/oncall_handoff_notification_rules", "handoff_rules", None),
    ("/services", "services", None),
    ("/services/<id>", "service", None),
    ("/extensions", "extensions", None),
    ("/escalation_policies", "escalation_policies", None),
    ("/escalation_policies/<id>", "escalation_policy", None),
    ("/schedules", "schedules", None),
    ("/schedules/<id>", "schedule", None),
    ("/schedules/<id>/overrides", "overrides", None),
    ("/schedules/<id>/users", "schedule_users", None),
    ("/v3/schedules", "v3_schedules", None),
    ("/v3/schedules/<id>", "v3_schedule", None),
    ("/oncalls", "oncalls", None),
    ("/business_services", "business_services", "service_dependencies"),
    ("/business_services/<id>", "business_service", "service_dependencies"),
    ("/service_dependencies/technical_services/<id>", "technical_service_dependencies", "service_dependencies"),
    ("/service_dependencies/business_services/<id>", "business_service_dependencies", "service_dependencies"),
    ("/standards", "standards", "standards"),
    ("/standards/scores/<resource_type>", "standards_scores", "standards"),
    ("/standards/scores/<resource_type>/<id>", "standards_score", "standards"),
    ("/priorities", "priorities", None),
    ("/maintenance_windows", "maintenance_windows", None),
    ("/incidents", "incidents", None),
    ("/log_entries", "log_entries", None),
    ("/analytics/raw/incidents", "analytics_incidents", "analytics"),
)
# Routes answered to POST with a JSON body (the Analytics API); every other route is GET.
POST_HANDLERS = frozenset({"analytics_incidents"})
ABILITY_BY_HANDLER = {handler: ability for _, handler, ability in ROUTES}
TEMPLATE_BY_HANDLER = {handler: path.replace("<", "{").replace(">", "}") for path, handler, _ in ROUTES}
UNROUTED = "(unrouted)"


class RequestStats:
    """Requests received, by endpoint template (``/users/{id}``); thread-safe."""

    def __init__(self):
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, endpoint: str) -> None:
        with self._lock:
            self._counts[endpoint] += 1

    @property
    def by_endpoint(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class EmulatorApp:
    """The WSGI callable. Build it with ``create_app``."""

    def __init__(self, account: Account, *, tokens=None, rate_limit_per_minute: int | None = None,
                 latency_seconds: float = 0.0, clock: Callable[[], datetime] | None = None,
                 api_url: str = DEFAULT_API_URL, faults: FaultPolicy | None = None,
                 analytics_daily_limit: int | None = None):
        self.account = account
        self.tokens = frozenset(tokens) if tokens is not None else None
        self.latency_seconds = latency_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self.stats = RequestStats()
        self.faults = FaultInjector(faults)
        self.limiter = (RateLimiter(rate_limit_per_minute, lambda: self.clock().timestamp())
                        if rate_limit_per_minute else None)
        presenter = Presenter(account, api_url)
        directory = DirectoryEndpoints(account, presenter, self.clock)
        schedules = ScheduleEndpoints(account, presenter, ScheduleRenderings(account), directory.filtered, self.clock)
        self.incidents = IncidentEndpoints(account, self.clock, analytics_daily_limit=analytics_daily_limit)
        self.handlers: dict[str, Callable[..., dict | None]] = {"ability": self._ability}
        for _, name, _ in ROUTES:
            if name not in self.handlers:
                self.handlers[name] = (getattr(directory, name, None) or getattr(schedules, name, None)
                                       or getattr(self.incidents, name))
        self.url_map = Map([Rule(path, endpoint=name, methods=["POST" if name in POST_HANDLERS else "GET"])
                            for path, name, _ in ROUTES], strict_slashes=False)

    def _ability(self, args, id: str) -> None:
        if id not in self.account.abilities:
            raise payment_required(id)
        # 204

    def __call__(self, environ, start_response):
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            handler_name, params = adapter.match()
        except (NotFound, MethodNotAllowed) as exc:
            handler_name, params, routing_error = None, {}, exc
        else:
            routing_error = None
        template = TEMPLATE_BY_HANDLER.get(handler_name, UNROUTED)
        self.stats.count(template)
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        fault = self.faults.choose(template, request.path)
        if fault is not None:
            return self.faults.answer(fault, request.environ,
                                      lambda: self._answer(request, handler_name, params, routing_error))
        return self._answer(request, handler_name, params, routing_error)

    def _answer(self, request: Request, handler_name: str | None, params: dict,
                routing_error: NotFound | MethodNotAllowed | None) -> Response:
        """The true answer: authentication, rate limit, routing, plan abilities, the endpoint."""
        headers: dict[str, str] = {}
        try:
            credential = self._authenticate(request)
            if self.limiter is not None:
                verdict = self.limiter.check(credential)
                headers.update(verdict.headers)
                if not verdict.allowed:
                    raise rate_limited()
            if routing_error is not None:
                raise ApiFailure(routing_error.code, 2100, "Not Found" if routing_error.code == 404 else "Method Not Allowed")
            ability = ABILITY_BY_HANDLER[handler_name]
            if ability is not None and ability not in self.account.abilities:
                raise payment_required(ability)
            if handler_name in POST_HANDLERS:
                headers.update(self.incidents.quota_check())
                body = self.handlers[handler_name](request.get_json(force=True, silent=True), **params)
            else:
                body = self.handlers[handler_name](request.args, **params)
            status = 200 if body is not None else 204
        except ApiFailure as failure:
            status, body = failure.status, failure.body()
            headers.update(getattr(failure, "headers", {}))
        if body is None:
            return Response(status=status, headers=headers)
        return Response(json.dumps(body, separators=(",", ":")), status=status, headers=headers,
                        content_type="application/json; charset=utf-8")

    def _authenticate(self, request: Request) -> str:
        header = request.headers.get("Authorization", "")
        token = ""
        if header.startswith("Token token="):
            token = header[len("Token token="):].strip()
        elif header.startswith("Bearer "):
            token = header[len("Bearer "):].strip()
        if self.tokens is not None and token not in self.tokens:
            raise unauthorized()
        return token


def create_app(account: Account | str | Path, *, tokens=None, rate_limit_per_minute: int | None = None,
               latency_seconds: float = 0.0, clock: Callable[[], datetime] | None = None,
               api_url: str = DEFAULT_API_URL, faults: FaultPolicy | None = None,
               analytics_daily_limit: int | None = None) -> EmulatorApp:
    """The emulator app for an ``Account`` or an account file path (see the module docstring)."""
    if not isinstance(account, Account):
        account = load_account(account)
    return EmulatorApp(account, tokens=tokens, rate_limit_per_minute=rate_limit_per_minute,
                       latency_seconds=latency_seconds, clock=clock, api_url=api_url, faults=faults,
                       analytics_daily_limit=analytics_daily_limit)
