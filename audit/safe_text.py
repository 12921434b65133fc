"""Text made safe to show: on a terminal, in Markdown, XML and the reports.

Strings from PagerDuty (names, ids, API error text) and from files reach people through
every output, so one module decides what of them may be shown as it is:

* controls (C0, DEL, C1: ESC starts every ANSI and OSC sequence, U+009B is a one-byte CSI)
  and bidi embeddings, overrides, isolates and marks (which reorder the text after them on
  screen, "Trojan Source", CVE-2021-42574) are replaced by U+FFFD, so a name can neither
  move the cursor, retitle the terminal nor show as something else;
* Unicode's line and paragraph separators show as a space (they break a line in some
  viewers and not others);
* lone surrogates (legal in the API's JSON, kept by the crawl, with no UTF-8 form) become
  U+FFFD instead of failing a write halfway;
* no one string is rendered longer than ``MAX_RENDERED`` characters: a 100,000-character
  name costs a PDF renderer minutes and a reader nothing useful.
"""

from __future__ import annotations

import re

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
ELLIPSIS = "…"
MAX_RENDERED = 1000  # characters of any one string an output shows (names run to 255 in PagerDuty)

# Bidi embeddings, overrides and isolates, and the marks (LRM, RLM, ALM) that steer them.
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_SURROGATE = "\ud800-\udfff"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_SURROGATE}]")
# The same, keeping tab, line feed and carriage return (plain whitespace in HTML and Markdown).
_CONTROL_BUT_WHITESPACE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}{_SURROGATE}]")
# A terminal's own whitespace: tab and line feed are layout; a carriage return would let a line
# overwrite itself, so it is replaced like any control.
_CONTROL_BUT_LAYOUT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATE}]")
_SEPARATORS = re.compile("[\u2028\u2029]")
_LINE_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\u2028\u2029]+")
_LONE_SURROGATE = re.compile(f"[{_SURROGATE}]")


def capped(text: str, limit: int = MAX_RENDERED) -> str:
    """``text`` cut to ``limit`` characters, the last of them an ellipsis when anything was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def printable(text: object, width: int | None = None, *, keep_whitespace: bool = False) -> str:
    """``text`` with controls, bidi steering and lone surrogates replaced by U+FFFD, cut to ``width``
    (at most ``MAX_RENDERED``). ``keep_whitespace`` keeps tabs and line breaks, for formats where
    they are only whitespace."""
    control = _CONTROL_BUT_WHITESPACE if keep_whitespace else _CONTROL
    raw = "" if text is None else str(text)
    limit = MAX_RENDERED if width is None else min(width, MAX_RENDERED)
    if raw.isprintable():  # no control, bidi mark, separator nor surrogate (none is printable): most names
        return raw if len(raw) <= limit else capped(capped(raw), limit)
    clean = control.sub(REPLACEMENT, _SEPARATORS.sub(" ", capped(raw)))
    return capped(clean, limit)


def one_line(text: object) -> str:
    """``text`` as one printable line (an error message quoting a file or an API's answer)."""
    return printable(_LINE_BREAKS.sub(" ", "" if text is None else str(text))).strip()


def for_terminal(text: str) -> str:
    """A whole rendered text (a table, a verdict) made safe to print: line feeds and tabs stay,
    every other control, bidi steering and lone surrogate is replaced. No length cap: the
    strings inside were capped when they were rendered."""
    return _CONTROL_BUT_LAYOUT.sub(REPLACEMENT, text)


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so it has a UTF-8 form (for files and
    machine formats, whose other characters are the format's business)."""
    return _LONE_SURROGATE.sub(REPLACEMENT, text)
