"""A time limit for work a user's file controls: rule expressions and tier name patterns.

Python's regular expressions backtrack: ``(a+)+$`` over a long name takes longer than the age of
the universe, and a rule pack or a config file can hold one. ``within`` bounds such work with a
real-time timer (``SIGALRM``); Python's regex engine checks for signals while it matches, so
the timer stops even a catastrophic match. The limit is ``PD_AUDIT_EXPRESSION_SECONDS``
(default 30 s, ample for any honest expression over 10,000 services). Signals reach only the
main thread: elsewhere the work runs without a limit.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from audit.errors import UserError

ENV_SECONDS = "PD_AUDIT_EXPRESSION_SECONDS"
DEFAULT_SECONDS = 30.0


class _Expired(BaseException):  # noqa: N818 - not an Exception: library code catching those must not swallow it
    """Raised in the limited work when its time is up."""


def limit_seconds() -> float:
    try:
        seconds = float(os.environ.get(ENV_SECONDS, DEFAULT_SECONDS))
    except ValueError:
        raise UserError(f"${ENV_SECONDS} must be a number of seconds") from None
    if not seconds > 0:
        raise UserError(f"${ENV_SECONDS} must be a number of seconds above 0")
    return seconds


@contextmanager
def within(what: str) -> Iterator[None]:
    """Run the body for at most ``limit_seconds()``; past that, a UserError naming ``what``."""
    seconds = limit_seconds()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        raise UserError(f"{what}: took longer than {seconds:g} s (a regular expression that backtracks "
                        "without end?); simplify it") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
