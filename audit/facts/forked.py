"""Work done in a forked child while the parent goes on: two cores build the fact tables at once
(and judge the rules: ``audit.rules.claims``).

Building facts is CPU-bound Python, so threads would take turns on one core. A forked child
inherits everything already built (rendered schedules, resolved policies) without copying or
pickling it; only the child's result travels back, pickled through a pipe. The child never
returns into the caller's code: it leaves with ``os._exit``, so nothing of the parent (open
files, buffered output, atexit handlers) runs twice. Where ``os.fork`` is missing, or there is
one core, the work runs in line when its result is asked for.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


# Below this many services the fact tables take milliseconds and a fork would cost more than it saves.
FORK_FROM_SERVICES = 2_000


def forking_helps() -> bool:
    """Whether a forked child can run beside this process on a core of its own."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def worth_forking(service_count: int) -> bool:
    """Whether facts work is worth a forked child: two cores and an account large enough to gain from it."""
    return forking_helps() and service_count >= FORK_FROM_SERVICES


class Forked(Generic[T]):
    """``work()`` started in a forked child at once (or deferred, see the module); ``result()`` waits for it."""

    def __init__(self, work: Callable[[], T], *, fork: bool = True) -> None:
        self._work = work
        self._pid: int | None = None
        if not fork:
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_end)
            _run_and_send(work, write_end)  # never returns
        os.close(write_end)
        self._pid, self._read_end = pid, read_end

    def result(self) -> T:
        """The work's result; its exception, raised again here, if it failed."""
        if self._pid is None:
            return self._work()
        with os.fdopen(self._read_end, "rb") as answer:
            payload = answer.read()  # the child's whole answer: it exits once this is read
        _, status = os.waitpid(self._pid, 0)
        self._pid, self._work = None, _unwanted
        if not payload:
            raise RuntimeError(f"the forked child ended without an answer (wait status {status})")
        failed, value = pickle.loads(payload)
        if failed:
            raise value
        return value


    def abandon(self) -> None:
        """Stop a child whose result is no longer wanted (the caller failed first), so that it neither
        blocks on a full pipe nor lingers; nothing once the result has been taken or without a fork."""
        if self._pid is None:
            self._work = _unwanted
            return
        os.kill(self._pid, signal.SIGKILL)
        os.waitpid(self._pid, 0)
        os.close(self._read_end)
        self._pid = None
        self._work = _unwanted


def _unwanted() -> Any:
    raise RuntimeError("the forked work's result was taken or abandoned already")


def _run_and_send(work: Callable[[], object], write_end: int) -> None:
    code = 0
    try:
        try:
            payload = pickle.dumps((False, work()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # everything goes back to the parent, which raises it
            payload = _pickled_failure(exc)
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
    except BaseException:  # the parent is gone or the pipe broke: nobody to tell
        code = 1
    finally:
        os._exit(code)


def _pickled_failure(exc: BaseException) -> bytes:
    try:
        return pickle.dumps((True, exc), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot be pickled still reaches the parent, as text
        return pickle.dumps((True, RuntimeError(f"{type(exc).__name__}: {exc}")), protocol=pickle.HIGHEST_PROTOCOL)
