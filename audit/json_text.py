"""JSON text every machine-readable output is written as: strict JSON, never NaN or Infinity.

Python's ``json`` writes a float NaN or infinity as the bare words ``NaN``/``Infinity``, which
strict parsers (``jq``, browsers, most languages) refuse. A number that is not finite carries no
figure, so it is written as ``null``, as a missing figure is.

Large documents (a score's findings, a SARIF log's results) are written with ``write_json``:
the parts marked ``Streamed`` are encoded one item at a time, as their iterator produces them,
and each item goes out on its own line, so the whole document is never held in memory. An item
may instead be laid out as ``json_text`` lays it out (``Streamed(items, indented=True)``: the
baseline, whose file must read and diff as it always has).
"""

from __future__ import annotations

import json
import json.encoder
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol


class TextOut(Protocol):
    """Where text is written: a file opened by ``audit.safe_write.open_output``, stdout, a StringIO."""

    def write(self, text: str, /) -> Any: ...


def finite(value: Any) -> Any:
    """``value`` with every float NaN or infinity, however deep, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def json_text(data: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """``data`` as strict JSON text with a final newline (non-ASCII kept as it is)."""
    return json.dumps(finite(data), indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False) + "\n"


class Streamed:
    """A JSON array whose items ``write_json`` encodes one at a time as ``items`` yields them:
    each on one line, or (``indented``) laid out over several as ``json_text`` would."""

    def __init__(self, items: Iterable[Any], *, indented: bool = False, encoded: bool = False):
        self.items = items
        self.indented = indented
        self.encoded = encoded  # the items are JSON text already, as ``encode_item`` writes them


# One item a line: compact enough to stream fast (the C encoder runs without an indent), still
# one finding per line for grep and line diffs.
_ITEM_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _unencodable(value: Any) -> Any:
    return _ITEM_ENCODER.default(value)  # raises TypeError, as json.dumps would


def _one_encoder() -> Callable[[Any], str]:
    """``_ITEM_ENCODER.encode``, with the ``json`` module's C encoder made once rather than per item
    (``JSONEncoder.encode`` makes one each call: a third of the time on 100,000 small items)."""
    make = getattr(json.encoder, "c_make_encoder", None)  # typeshed does not declare the C hook
    if make is None:  # a Python without the json C speed-ups
        return _ITEM_ENCODER.encode
    encoder = make(None, _unencodable, json.encoder.encode_basestring, None, ": ", ", ", False, False, False)
    return lambda item: "".join(encoder(item, 0))


_encode_item = _one_encoder()


def encode_item(item: Any) -> str:
    """``item`` as one line of a ``Streamed`` array."""
    try:
        return _encode_item(item)
    except ValueError:  # a NaN or infinity somewhere in it: rare, so only then walk the item
        return _encode_item(finite(item))


# The pieces of an item made as text rather than encoded (``Streamed(..., encoded=True)``): the same
# bytes ``encode_item`` writes for a string, a list of strings, a number or None.
string_text: Callable[[str], str] = json.encoder.encode_basestring


def strings_text(values: Iterable[str]) -> str:
    """A list of strings as ``encode_item`` writes it."""
    return "[" + ", ".join(map(string_text, values)) + "]"


def optional_text(value: str | None) -> str:
    """A string or None as ``encode_item`` writes it."""
    return "null" if value is None else string_text(value)


def number_text(value: float | None) -> str:
    """A number or None as ``encode_item`` writes it: a float as ``float.__repr__`` writes it (as the
    C encoder does, for a float subclass too), NaN and infinities as null (see ``finite``)."""
    kind = type(value)
    if kind is float:  # the common case first: one comparison tells a finite float (NaN compares false)
        return repr(value) if -_INFINITY < value < _INFINITY else "null"  # type: ignore[operator]
    if kind is int:
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else "null"
    return encode_item(value)


_INFINITY = float("inf")


class LaidOut:
    """A value whose JSON text, laid out at its place in the document (the depth ``iter_json`` gives
    it), comes from ``text()`` when the writer reaches it: a part made elsewhere meanwhile (the
    score's sections laid out on a second core: ``Assessment.scores_beside``)."""

    def __init__(self, text: Callable[[], str]):
        self.text = text


def _holds_streamed(value: Any) -> bool:
    if isinstance(value, (Streamed, LaidOut)):
        return True
    if isinstance(value, dict):
        return any(_holds_streamed(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_streamed(item) for item in value)
    return False


def iter_json(value: Any, depth: int = 0, *, sort_keys: bool = False) -> Iterator[str]:
    """The pieces of ``value``'s JSON text, laid out as ``json_text`` lays it out (indent 2), but
    with each ``Streamed`` item on one line unless it is ``indented``; a ``Streamed`` part is
    encoded as it is iterated."""
    pad = "\n" + "  " * depth
    inner = pad + "  "
    if isinstance(value, LaidOut):
        yield value.text()
    elif isinstance(value, Streamed):
        separator = "[" + inner
        for item in value.items:
            if value.encoded:
                text = item
            else:
                text = _laid_out(item, inner, sort_keys) if value.indented else encode_item(item)
            yield separator + text
            separator = "," + inner
        yield "[]" if separator.startswith("[") else pad + "]"
    elif isinstance(value, dict) and _holds_streamed(value):
        separator = "{" + inner
        for key, item in sorted(value.items()) if sort_keys else value.items():
            yield separator + json.dumps(str(key), ensure_ascii=False) + ": "
            yield from iter_json(item, depth + 1, sort_keys=sort_keys)
            separator = "," + inner
        yield "{}" if separator.startswith("{") else pad + "}"
    elif isinstance(value, (list, tuple)) and _holds_streamed(value):
        separator = "[" + inner
        for item in value:
            yield separator
            yield from iter_json(item, depth + 1, sort_keys=sort_keys)
            separator = "," + inner
        yield "[]" if separator.startswith("[") else pad + "]"
    else:
        yield _laid_out(value, pad, sort_keys)


def _laid_out(value: Any, pad: str, sort_keys: bool) -> str:
    """``value`` as ``json_text`` writes it, each line after the first starting with ``pad``."""
    return json_text(value, sort_keys=sort_keys).rstrip("\n").replace("\n", pad)


def write_json(out: TextOut, data: Any, *, sort_keys: bool = False) -> None:
    """Write ``data`` to ``out`` as strict JSON text with a final newline, streaming its ``Streamed`` parts."""
    for piece in iter_json(data, sort_keys=sort_keys):
        out.write(piece)
    out.write("\n")
