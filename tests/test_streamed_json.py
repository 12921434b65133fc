"""Streamed writing (``json_text.write_json``, ``safe_write.open_output``): the same strict JSON
as ``json_text``, each streamed item written before the next is made, and a file published whole
or not at all even when the writing fails half-way."""

from __future__ import annotations

import io
import json
import math

import pytest

from audit.json_text import Streamed, json_text, write_json
from audit.safe_write import open_output


def _write(data) -> str:
    out = io.StringIO()
    write_json(out, data)
    return out.getvalue()


SARIF_LIKE = {"version": "2.1.0", "runs": [{"tool": {"name": "x"}, "results": [{"a": 1}, {"b": [1, 2]}],
                                            "properties": {"nan": math.nan}}]}


def _streamed(value):
    """The same data with every list named results or findings made a Streamed generator."""
    if isinstance(value, dict):
        return {k: Streamed(iter(v)) if k in ("results", "findings") else _streamed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_streamed(item) for item in value]
    return value


@pytest.mark.parametrize("data", [
    SARIF_LIKE,
    {"findings": [], "after": {"x": None}},
    {"findings": [{"name": "Zoë ☃ \ud800"}, {"score": math.inf}], "tail": [1]},
    {"outer": {"findings": [{"deep": {"n": -math.nan}}]}},
])
def test_streamed_documents_read_back_as_json_text_writes_them(data):
    text = _write(_streamed(data))
    assert json.loads(text) == json.loads(json_text(data))
    assert text.endswith("\n") and "NaN" not in text and "Infinity" not in text


def test_each_streamed_item_is_one_line_and_the_rest_is_indented():
    text = _write({"format": "v", "findings": Streamed(iter([{"a": 1, "b": {"c": 2}}, {"a": 2}]))})
    assert text == '{\n  "format": "v",\n  "findings": [\n    {"a": 1, "b": {"c": 2}},\n    {"a": 2}\n  ]\n}\n'


def test_items_are_written_before_the_next_is_made():
    out = io.StringIO()
    seen = []

    def items():
        for number in range(3):
            seen.append(out.getvalue().count('"n"'))  # items already written when this one is made
            yield {"n": number}

    write_json(out, {"findings": Streamed(items())})
    assert seen == [0, 1, 2]


def test_a_failure_half_way_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "score.json"
    target.write_text("old\n", encoding="utf-8")

    def items():
        yield {"n": 1}
        raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError), open_output(target) as out:
        write_json(out, {"findings": Streamed(items())})
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["score.json"]


def test_open_output_publishes_the_whole_text_with_surrogates_replaced(tmp_path):
    target = tmp_path / "out.json"
    with open_output(target) as out:
        write_json(out, {"findings": Streamed(iter([{"name": "a\ud800b"}]))})
    assert json.loads(target.read_bytes().decode("utf-8")) == {"findings": [{"name": "a\N{REPLACEMENT CHARACTER}b"}]}


@pytest.mark.parametrize("data", [
    {"z": 1, "entries": [{"b": [1, {"y": 2, "x": None}], "a": "Zoë"}, {"n": math.nan}], "a": {"k": [], "j": {}}},
    {"entries": [], "count": 0},
    {"outer": {"entries": [{"deep": {"list": [1, 2]}}]}, "format": "v"},
])
def test_indented_streamed_items_sorted_are_the_bytes_json_text_writes(data):
    def streamed(value):
        if isinstance(value, dict):
            return {k: Streamed(iter(v), indented=True) if k == "entries" else streamed(v) for k, v in value.items()}
        return value

    out = io.StringIO()
    write_json(out, streamed(data), sort_keys=True)
    assert out.getvalue() == json_text(data, sort_keys=True)
