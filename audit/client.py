"""The one PagerDuty API client pd-audit uses: region, CA bundle, pacing, bounded retries.

Every request goes through ``pagerduty.RestApiV2Client``. Its own retry loop is
switched off (it retries 429 forever and sleeps on a fixed curve that ignores
``ratelimit-reset``); this module puts a bounded one around it instead:

* 429: wait until ``ratelimit-reset`` (plus jitter) and try again, at most
  ``max_attempts`` times; the wait is shared by every thread through the pacer.
* 5xx, dropped connections, timeouts: exponential back-off with full jitter,
  at most ``max_attempts`` times.
* 401, an unknown host, an untrusted certificate: stop at once, naming the host and
  the cause (retrying cannot fix them). A host that refuses or drops connections before
  it has answered once is given one more try, not the whole back-off: a wrong
  ``--api-url`` fails in seconds, not half a minute.
* 402/403: ``Unavailable`` (the plan or token cannot read it; the crawl goes on).
* 404 from a per-object path (``/users/{id}``, ...): ``Gone``; the object was deleted
  after a list named it (PagerDuty's lists lag behind), and the crawler records it.
  So is a 400 from ``/schedules/{id}`` (the schedule became shift-based, see ``GONE_400``).
* 429 with ``daily-ratelimit-remaining: 0`` (the Analytics API's daily quota): ``QuotaSpent``.
* other 4xx, or an answer that is not a JSON object: ``ApiError`` naming the endpoint
  (exit 3).

Path parameters are percent-encoded as one segment each. The token is handed to the
library and to the ``Redactor`` that every string taken from an error answer or a
transport error passes through (``audit.redaction``); it is never printed or stored.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2
import pagerduty

from audit.errors import CrawlError, UserError
from audit.redaction import Redactor

_LIBRARY_LOG = logging.getLogger("audit.client.pagerduty")
_LIBRARY_LOG.addHandler(logging.NullHandler())
_LIBRARY_LOG.propagate = False

REGION_URLS = {
    "us": "https://api.pagerduty.com",
    "eu": "https://api.eu.pagerduty.com",
}
RETRIED_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_MAX_RATE = 900  # requests/minute: PagerDuty allows 960, leave room for other tools
DEFAULT_TIMEOUT = 30.0  # seconds; the CLI's --timeout help says so
DEFAULT_MAX_ATTEMPTS = 8  # the CLI's --max-attempts help says so
CONNECT_TIMEOUT = 6.0  # seconds to open a connection (at most --timeout): an unreachable host fails fast
FIRST_CONTACT_ATTEMPTS = 2  # tries to connect before the API has answered once
# Per-object paths whose 400 means the object is no longer of this kind: PagerDuty answers
# 400 to GET /schedules/{id} for a shift-based schedule (one upgraded to v3 mid-crawl).
GONE_400 = {"/schedules/{id}": "now a shift-based (v3) schedule"}


class ApiError(CrawlError):
    """A 4xx answer other than 401/402/403/429, or an answer that is not JSON: exit 3, naming the endpoint."""

    def __init__(self, endpoint: str, status: int, code: int | None, message: str):
        super().__init__(f"{endpoint}: HTTP {status}" + (f" code {code}" if code else "") + f": {message}")
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message


class Gone(ApiError):
    """A per-object request for an object deleted since a list named it (404), or no longer of its kind."""

    def __init__(self, endpoint: str, object_id: str, status: int, code: int | None, message: str):
        super().__init__(endpoint, status, code, message)
        self.object_id = object_id

    def record(self) -> dict[str, Any]:
        """What the manifest keeps of it (the message is already redacted)."""
        return {"id": self.object_id, "endpoint": self.endpoint, "http_status": self.status,
                "reason": self.message}


class Unavailable(CrawlError):
    """402/403: the account's plan or the token's scope cannot read this."""

    def __init__(self, endpoint: str, status: int, message: str):
        super().__init__(f"{endpoint}: HTTP {status}: {message}")
        self.endpoint = endpoint
        self.status = status
        self.message = message


class QuotaSpent(Unavailable):
    """429 with ``daily-ratelimit-remaining: 0``: the day's analytics quota is spent; waiting
    means hours (``reset_seconds``), so the crawl records what it has instead of retrying."""

    def __init__(self, endpoint: str, status: int, message: str, reset_seconds: float | None):
        super().__init__(endpoint, status, message)
        self.reset_seconds = reset_seconds


class Pacer:
    """Spaces requests evenly under a rate and holds everyone back after a 429.

    A slot schedule shared by all threads: each request takes the next free slot,
    ``60 / per_minute`` seconds after the previous one. When the server says how
    much of its budget is left (``ratelimit-remaining``/``ratelimit-reset``) and the
    requests already in flight would spend it, the next slot moves to the reset
    instant, so we slow down before a 429 rather than after one.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        reserve: int = 1,
    ):
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.interval = 60.0 / per_minute
        self.clock = clock
        self.sleep = sleep
        self.reserve = reserve
        self.in_flight = 0
        self._next_slot = clock()
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this request's slot; the caller must ``release()`` once answered."""
        with self._lock:
            now = self.clock()
            slot = max(self._next_slot, now)
            self._next_slot = slot + self.interval
            self.in_flight += 1
        if slot > now:
            self.sleep(slot - now)

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def hold_until(self, seconds_from_now: float) -> None:
        with self._lock:
            self._next_slot = max(self._next_slot, self.clock() + seconds_from_now)

    def observe(self, headers: Mapping[str, str]) -> None:
        remaining = _number(headers.get("ratelimit-remaining"))
        reset = _number(headers.get("ratelimit-reset"))
        if remaining is not None and reset is not None and remaining <= self.in_flight + self.reserve:
            self.hold_until(reset)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class ApiClient:
    """GETs (and, for the Analytics API, POSTs) JSON to a PagerDuty-compatible REST API, politely and countably."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = REGION_URLS["us"],
        ca_bundle: str | None = None,
        transport: httpx2.BaseTransport | None = None,
        max_rate_per_minute: float = DEFAULT_MAX_RATE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        self.host = check_api_url(base_url)
        self.redactor = Redactor([token])
        kwargs: dict[str, Any] = {}
        if transport is not None:
            kwargs["transport"] = transport
        if ca_bundle is not None:
            try:
                kwargs["verify"] = ssl.create_default_context(cafile=ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise CrawlError(f"--ca-bundle {ca_bundle}: not a readable PEM CA bundle ({exc})") from None
        self._client = pagerduty.RestApiV2Client(token, base_url=base_url, **kwargs)
        # One attempt inside the library; the loop below owns retries. A status in
        # `retry` whose attempts are over is handed back to us instead of being
        # retried (max_http_attempts < 0 makes every listed status "over").
        self._client.retry = {status: 1 for status in RETRIED_STATUSES}
        self._client.max_http_attempts = -1
        self._client.max_network_attempts = 0
        # The library declares an int; httpx2 takes this Timeout (connect apart from read) as well.
        self._client.timeout = httpx2.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT))  # type: ignore[assignment]
        # The library logs each status it hands back as a "non-transient error"; this
        # module decides what is transient and reports it, so its log goes nowhere.
        self._client.log = _LIBRARY_LOG
        self.base_url = base_url.rstrip("/")
        self.pacer = Pacer(max_rate_per_minute, clock=clock, sleep=sleep)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.requests: Counter[str] = Counter()  # successful and failed attempts, by endpoint
        self.throttled = 0  # 429s received
        self.retries = 0
        self.answered = False  # whether the API has answered once (see FIRST_CONTACT_ATTEMPTS)
        self._count_lock = threading.Lock()
        self._thread = threading.local()  # this thread's last endpoint (see last_endpoint)

    def close(self) -> None:
        self._client.close()

    def get(self, template: str, params: Mapping[str, Any] | None = None, **path: str) -> dict[str, Any]:
        """GET ``template`` (e.g. ``/schedules/{id}``) and return its JSON body (an object)."""
        return self._send("GET", template, params, None, path)

    def post(self, template: str, payload: Mapping[str, Any], **path: str) -> dict[str, Any]:
        """POST a JSON body to ``template`` and return its JSON body: the Analytics API's queries
        (they read, but take their filters as a body). A spent daily analytics quota
        (``daily-ratelimit-remaining: 0``) is ``QuotaSpent``, not retried."""
        return self._send("POST", template, None, payload, path)

    def _send(  # noqa: C901 - one retry loop over every answer PagerDuty gives; split, the retry state scatters
        self, method: str, template: str, params: Mapping[str, Any] | None,
        payload: Mapping[str, Any] | None, path: Mapping[str, str],
    ) -> dict[str, Any]:
        url = template.format(**{name: quote(str(value), safe="") for name, value in path.items()})
        endpoint = f"{method} {template}"
        self._thread.endpoint = endpoint
        last_problem = ""
        for attempt in range(1, self.max_attempts + 1):
            self.pacer.wait()
            with self._count_lock:
                self.requests[endpoint] += 1
            try:
                if method == "GET":
                    response = self._client.get(url, params=dict(params or {}))
                else:
                    response = self._client.post(url, json=dict(payload or {}))
            except pagerduty.HttpError as exc:  # the library raises on 401 itself
                if exc.response is not None and exc.response.status_code == 401:
                    raise self._unauthorized(endpoint) from None
                raise CrawlError(f"{endpoint}: {exc.__class__.__name__}") from None
            except pagerduty.Error as exc:
                # The library gives up on the first network error (max_network_attempts=0);
                # its cause is the httpx2 transport error: a dropped connection or a timeout.
                self._fail_fast(endpoint, exc.__cause__ or exc, attempt)
                last_problem = self.redactor.redact(_describe_network_error(exc.__cause__ or exc))
                self._back_off(attempt)
                continue
            finally:
                self.pacer.release()
            self.answered = True
            self.pacer.observe(response.headers)
            status = response.status_code
            if 200 <= status < 300:
                if status == 204:
                    return {}
                try:
                    body = response.json()
                except ValueError:
                    # A body cut short in transit: as transient as a dropped connection.
                    last_problem = "a truncated or invalid JSON body"
                    self._back_off(attempt)
                    continue
                if not isinstance(body, dict):
                    raise ApiError(endpoint, status, None, f"the answer is JSON {type(body).__name__}, "
                                                           "not the object PagerDuty sends")
                return body
            if status == 401:
                raise self._unauthorized(endpoint)
            if status in (402, 403):
                raise Unavailable(endpoint, status, self._error_code_message(response)[1])
            if status == 429 and response.headers.get("daily-ratelimit-remaining") == "0":
                raise QuotaSpent(endpoint, status, self._error_code_message(response)[1],
                                 _number(response.headers.get("daily-ratelimit-reset")))
            if status == 429:
                with self._count_lock:
                    self.throttled += 1
                reset = _number(response.headers.get("ratelimit-reset"))
                wait = reset if reset is not None else self._backoff_delay(attempt)
                # Hold every thread back until the window resets; jitter spreads the restart.
                self.pacer.hold_until(wait + self.rng.uniform(0, min(1.0, wait * 0.1 + 0.05)))
                last_problem = "HTTP 429 (rate limited)"
                self._count_retry()
                continue
            if status >= 500:
                last_problem = f"HTTP {status}"
                self._back_off(attempt)
                continue
            code, message = self._error_code_message(response)
            if "id" in path and (status == 404 or (status == 400 and template in GONE_400)):
                reason = message if status == 404 else f"{GONE_400[template]} ({message})"
                raise Gone(endpoint, str(path["id"]), status, code, reason)
            raise ApiError(endpoint, status, code, message)
        raise CrawlError(f"{endpoint} ({url}): gave up after {self.max_attempts} attempts: {last_problem}")

    def _fail_fast(self, endpoint: str, cause: BaseException, attempt: int) -> None:
        """Stop at once on a network failure retrying cannot fix, naming the host and the cause."""
        if _is_certificate_error(cause):  # retrying will not change the certificate
            raise CrawlError(
                f"{endpoint}: the TLS certificate is not trusted ({self.host}: "
                f"{self.redactor.redact(_innermost(cause))}); pass --ca-bundle with the CA that signed it"
            )
        if _is_name_error(cause):
            raise CrawlError(f"{endpoint}: cannot resolve the host {self.host} "
                             f"({self.redactor.redact(_innermost(cause))}); check --api-url or --region")
        if (not self.answered and attempt >= FIRST_CONTACT_ATTEMPTS
                and isinstance(cause, (httpx2.ConnectError, httpx2.ConnectTimeout))):
            raise CrawlError(f"{endpoint}: cannot reach {self.host} ({self.redactor.redact(_innermost(cause))}); "
                             "check --api-url, the network and any proxy")

    def _unauthorized(self, endpoint: str) -> CrawlError:
        return CrawlError(
            f"{endpoint}: {self.host} refused the token (HTTP 401); check the token, and --region or "
            "--api-url (a key sent to the wrong region is refused)"
        )

    def _error_code_message(self, response: httpx2.Response) -> tuple[int | None, str]:
        """PagerDuty's error code and message, redacted: the only way API error text enters pd-audit."""
        code, message = _error_code_message(response)
        return code, self.redactor.redact(message)

    def last_endpoint(self) -> str:
        """The endpoint this thread asked last: what to name when its answer turns out odd."""
        return getattr(self._thread, "endpoint", "the API")

    def request_counts(self) -> dict[str, int]:
        """A copy of ``requests``, taken while no thread is counting."""
        with self._count_lock:
            return dict(self.requests)

    def _count_retry(self) -> None:
        with self._count_lock:
            self.retries += 1

    def _backoff_delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _back_off(self, attempt: int) -> None:
        self._count_retry()
        if attempt < self.max_attempts:
            self.sleep(self._backoff_delay(attempt))


def check_api_url(base_url: str) -> str:
    """The host of an API base URL; anything but ``https://host[:port][/path]`` is a usage error."""
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username:
        raise UserError(f"--api-url must be an https:// URL with a host and no query, such as "
                        f"https://api.pagerduty.com (got {base_url.split('?')[0].split('@')[-1]!r})")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise UserError(f"--api-url {base_url!r}: the port is not a number") from None
    return parts.netloc


def _is_name_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _innermost(exc: BaseException) -> str:
    """The message of the deepest cause (what the OS or the TLS library said)."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return str(exc) or exc.__class__.__name__


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe_network_error(exc: BaseException) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return "a timeout"
    if isinstance(exc, httpx2.TransportError):
        return f"a network error ({exc.__class__.__name__}: {_innermost(exc)})"
    return exc.__class__.__name__


def _error_code_message(response: httpx2.Response) -> tuple[int | None, str]:
    try:
        error = response.json().get("error", {})
        code = error.get("code")
        message = error.get("message") or response.reason_phrase
        errors = error.get("errors")
        if errors:
            message = f"{message} ({'; '.join(map(str, errors))})"
        return (int(code) if isinstance(code, (int, str)) and str(code).isdigit() else None), str(message)
    except (ValueError, AttributeError):
        return None, response.reason_phrase or f"HTTP {response.status_code}"

