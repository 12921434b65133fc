"""Counts in words: ``1 violation``, ``3 violations``, ``12,000 services``.

One place for the rule every message, summary and report sentence follows, so that no output
says "1 violations".
"""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """The count (thousands separated) with ``noun`` in the right number (a regular English plural)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
