"""Per-credential request limiting, the way PagerDuty's REST API answers it.

A fixed 60-second window per token: the first request opens the window, every answer carries
``ratelimit-limit``, ``ratelimit-remaining`` and ``ratelimit-reset`` (whole seconds until the
window closes), and a request past the limit is refused (the app answers 429, code 2020, with
no ``Retry-After``). Time comes from the injected clock so tests can pin it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    def __init__(self, per_minute: int, now: Callable[[], float]):
        if per_minute < 1:
            raise ValueError("rate limit must be at least one request per minute")
        self.per_minute = per_minute
        self.now = now
        self._windows: dict[str, tuple[float, int]] = {}  # token -> (window start, requests in it)
        self._lock = threading.Lock()

    def check(self, credential: str) -> Verdict:
        """Count one request for ``credential`` and say whether it may go through."""
        now = self.now()
        with self._lock:
            start, used = self._windows.get(credential, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, used = now, 0
            allowed = used < self.per_minute
            if allowed:
                used += 1
            self._windows[credential] = (start, used)
        reset = max(1, math.ceil(start + WINDOW_SECONDS - now))
        return Verdict(allowed, {
            "ratelimit-limit": str(self.per_minute),
            "ratelimit-remaining": str(self.per_minute - used),
            "ratelimit-reset": str(reset),
        })
