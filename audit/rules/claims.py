"""A list of tasks shared out between this process and a forked child: this one takes them from the
front, the child from the back, until they meet.

Neither side knows beforehand how long a task takes (a rule's cost lies in the rows it fails and the
messages it writes), so neither gets a fixed share: whichever is faster, or less disturbed by other
work on the machine, takes more. This process takes the tasks in order, so everything before the
first task it could not take is its own; the child's are all from there on.

The bounds of the untaken tasks live in memory shared with the child (an anonymous mapping survives
``fork``); a pipe holding one byte is the lock: whoever reads the byte may move the bounds, and
writes it back.
"""

from __future__ import annotations

import mmap
import os
import struct

_BOUNDS = struct.Struct("qq")  # the untaken tasks: [front, back)


class Claims:
    """``count`` tasks to share out; make it before forking the child that takes from the back."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._bounds = mmap.mmap(-1, _BOUNDS.size)  # anonymous and shared: the child sees every change
        _BOUNDS.pack_into(self._bounds, 0, 0, count)
        self._token_out, self._token_in = os.pipe()
        os.write(self._token_in, b".")
        self.met: int | None = None  # the first task the front could not take: the child's from there on

    def front(self) -> int | None:
        """The next task from the front, or None: the child has taken it, and every one after it."""
        if self.met is not None:
            return None
        return self._take(from_front=True)

    def back(self) -> int | None:
        """The next task from the back (for the child), or None once every task is taken."""
        return self._take(from_front=False)

    def untaken(self) -> range:
        """The tasks neither side has taken yet."""
        os.read(self._token_out, 1)
        try:
            return range(*_BOUNDS.unpack_from(self._bounds))
        finally:
            os.write(self._token_in, b".")

    def _take(self, *, from_front: bool) -> int | None:
        os.read(self._token_out, 1)
        try:
            front, back = _BOUNDS.unpack_from(self._bounds)
            if front >= back:
                if from_front:
                    self.met = front
                return None
            _BOUNDS.pack_into(self._bounds, 0, *((front + 1, back) if from_front else (front, back - 1)))
            return front if from_front else back - 1
        finally:
            os.write(self._token_in, b".")

    def close(self) -> None:
        """Free the pipe and the mapping (in this process; the child's copies go when it exits)."""
        os.close(self._token_out)
        os.close(self._token_in)
        self._bounds.close()
