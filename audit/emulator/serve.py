"""Serving the emulator over TLS on loopback, for the CLI (`pd-audit emulator`) and tests.

``start_server`` runs the app in a background thread (threaded werkzeug server) and returns an
``EmulatorServer`` with its ``url`` and ``ca_path``; ``shutdown()`` stops it. ``serve`` does the
same in the foreground until interrupted or until its ``stop`` event is set, reporting
``ready(url, ca_path)`` first. Only
loopback addresses are accepted: the emulator is a test double, never a network service.
``faults`` (a ``faults.FaultPolicy``) makes the served app fail on purpose; its dropped
connections are closed unanswered by the request handler here.
"""

from __future__ import annotations

import ipaddress
import signal
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from audit.emulator.app import EmulatorApp, create_app
from audit.emulator.faults import FaultPolicy
from audit.emulator.tls import ensure_certificates
from audit.errors import UserError


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: a benchmark makes thousands (errors are still logged).

    A connection the app gives up on (an injected ``drop``, raised as a ``ConnectionError``) or
    the client dropped is closed here: nothing more is read from or written to it.
    """

    def log_request(self, code="-", size="-") -> None:
        pass

    def connection_dropped(self, error: BaseException, environ=None) -> None:
        self.close_connection = True


@dataclass
class EmulatorServer:
    url: str
    ca_path: Path
    app: EmulatorApp
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only the emulator's CA (httpx2 deprecates ``verify=<path>``)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def shutdown(self) -> None:
        """Stop serving and release the port (idempotent)."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UserError(f"emulator host {host!r}: only loopback addresses (127.0.0.1, ::1, localhost) are allowed")


def _bind(account_path: str | Path, host: str, port: int, state_dir: str | Path, *,
          rate_limit_per_minute: int | None, latency_seconds: float, tokens: Iterable[str] | None,
          faults: FaultPolicy | None, clock: Callable[[], datetime] | None = None) -> EmulatorServer:
    _check_loopback(host)
    app = create_app(account_path, tokens=tokens, rate_limit_per_minute=rate_limit_per_minute,
                     latency_seconds=latency_seconds, faults=faults, clock=clock)
    certificates = ensure_certificates(state_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificates.server_cert, certificates.server_key)
    try:
        server = make_server(host, port, app, threaded=True, ssl_context=context,
                             request_handler=QuietRequestHandler)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    url_host = f"[{host}]" if ":" in host else host
    return EmulatorServer(f"https://{url_host}:{server.server_port}", certificates.ca_cert, app, server)


def start_server(account_path: str | Path, *, host: str = "127.0.0.1", port: int = 0, state_dir: str | Path,
                 rate_limit_per_minute: int | None = None, latency_seconds: float = 0.0,
                 tokens: Iterable[str] | None = None, faults: FaultPolicy | None = None,
                 clock: Callable[[], datetime] | None = None) -> EmulatorServer:
    """Serve in a background thread; the caller must ``shutdown()`` the returned server.

    ``clock`` is the emulated account's "now" (default: the real clock), e.g. the real clock moved
    ahead so that a generated incident history lies in the past.
    """
    emulator = _bind(account_path, host, port, state_dir, rate_limit_per_minute=rate_limit_per_minute,
                     latency_seconds=latency_seconds, tokens=tokens, faults=faults, clock=clock)
    emulator._thread = threading.Thread(target=emulator._server.serve_forever, name="pd-audit-emulator", daemon=True)
    emulator._thread.start()
    return emulator


def serve(account_path: str | Path, host: str = "127.0.0.1", port: int = 0, *, state_dir: str | Path,
          rate_limit_per_minute: int | None = None, latency_seconds: float = 0.0, tokens: Iterable[str] | None = None,
          ready: Callable[[str, Path], None] | None = None, stop: threading.Event | None = None,
          faults: FaultPolicy | None = None) -> None:
    """Serve in the foreground until interrupted (Ctrl-C) or until ``stop`` is set.

    ``ready(url, ca_path)`` is called once the port is bound, before the first request is served.
    """
    emulator = _bind(account_path, host, port, state_dir, rate_limit_per_minute=rate_limit_per_minute,
                     latency_seconds=latency_seconds, tokens=tokens, faults=faults)
    if stop is not None:
        def stop_when_set() -> None:
            stop.wait()
            emulator._server.shutdown()
        threading.Thread(target=stop_when_set, name="pd-audit-emulator-stop", daemon=True).start()
    if ready is not None:
        ready(emulator.url, emulator.ca_path)
    before = _stop_on_sigterm()
    try:
        emulator._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator._server.server_close()
        if before is not None:
            signal.signal(signal.SIGTERM, before)


def _stop_on_sigterm() -> Any:
    """Let SIGTERM stop the foreground emulator as Ctrl-C does; returns the handler it replaced (None off
    the main thread, where Python cannot take signals).

    ``kill``, ``docker stop`` and CI runners end a served emulator with SIGTERM, and a shell starts a
    background job with SIGINT ignored, so Ctrl-C's signal alone cannot always stop it.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)
