"""Errors marked with the step of the facts stage that raised them, so that work done beside (in
forked children, at the same time) reports the error a run one step after the other would meet first.

A step is a collection being read (``users``) or a table being built (``service table``). When
several steps fail at once, :func:`first_error` picks the one earliest in the order the caller gives:
two broken collections are reported as reading them in order would, forked or not.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager


@contextmanager
def step(name: str) -> Iterator[None]:
    """Mark an error raised in the block with the step it was raised in (it travels with a pickled error)."""
    try:
        yield
    except Exception as error:
        if getattr(error, "facts_step", None) is None:  # the innermost step names it
            error.facts_step = name  # type: ignore[attr-defined]
        raise


def first_error(order: Sequence[str], *errors: BaseException | None) -> BaseException | None:
    """Of ``errors`` (None where a step succeeded), the one whose step comes first in ``order``;
    an error of no listed step comes after those of listed steps."""
    def position(error: BaseException) -> int:
        name = getattr(error, "facts_step", None)
        return order.index(name) if name in order else len(order)

    met = [error for error in errors if error is not None]
    return min(met, key=position) if met else None
