"""Reading on past corrupt elements of a JSON array (what the JSON importers fall back to)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qunzhu.adapters.importers import jsonsalvage, jsonstream
from qunzhu.adapters.importers.jsonsalvage import Unreadable


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "x.json"
    path.write_bytes(data)
    return path


def _read(path: Path) -> list[object]:
    return list(jsonstream.items(path, "messages.item", None))


def _doc(n: int, indent: int | None) -> bytes:
    messages = [{"id": i, "text": f"m{i}", "parts": [{"t": "a"}, {"t": "b"}]} for i in range(n)]
    return json.dumps({"name": "x", "messages": messages}, indent=indent).encode()


@pytest.mark.parametrize("indent", [None, 1, 4])
def test_one_bad_byte_costs_one_element_pretty_printed_or_not(tmp_path, indent):
    data = _doc(50, indent)
    at = data.index(b'"m25"') + 2
    items = _read(_file(tmp_path, data[:at] + b"\xff" + data[at:]))
    ids = [i["id"] for i in items if isinstance(i, dict)]
    assert 25 not in ids and len(ids) >= 49 - (indent is None)  # minified: an inner object
    stretches = [i for i in items if isinstance(i, Unreadable)]
    assert len(stretches) == 1 and stretches[0].element and stretches[0].skipped > 0


def test_stray_bytes_between_elements_cost_nothing_but_are_reported(tmp_path):
    data = _doc(10, 1)
    at = data.index(b"},\n  {") + 2
    items = _read(_file(tmp_path, data[:at] + b"\x00junk" + data[at:]))
    assert [i["id"] for i in items if isinstance(i, dict)] == list(range(10))
    (stray,) = [i for i in items if isinstance(i, Unreadable)]
    assert (
        not stray.element
        and stray.skipped == len(b"\x00junk\n  ")
        and stray.line == data[:at].count(b"\n") + 1
    )


def test_a_file_cut_in_an_element_keeps_what_came_before(tmp_path):
    data = _doc(10, 1)
    items = _read(_file(tmp_path, data[: data.index(b'"m7"')]))
    assert [i["id"] for i in items if isinstance(i, dict)] == list(range(7))
    assert isinstance(items[-1], Unreadable) and "invalid JSON" in items[-1].reason


def test_a_file_unreadable_from_its_first_element_is_refused_as_broken(tmp_path):
    data = _doc(3, 1)
    path = _file(tmp_path, data[: data.index(b'"m0"') + 2])
    with pytest.raises(jsonstream.BrokenJson):
        _read(path)


def test_an_element_nested_far_too_deep_is_skipped_without_exhausting_memory(tmp_path):
    data = _doc(10, 1).replace(b'"m4"', b"[" * 200_000 + b"]" * 200_000)
    items = _read(_file(tmp_path, data))
    assert [i["id"] for i in items if isinstance(i, dict)] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert any(isinstance(i, Unreadable) and "deep" in i.reason for i in items)


def test_the_array_is_found_by_its_key_not_by_text_that_quotes_it(tmp_path):
    data = json.dumps({"name": 'say "messages": [ here', "messages": [1, 2]}).encode()
    path = _file(tmp_path, data)
    start = jsonsalvage.array_start(path, "messages")
    assert start is not None and data[start - 1 : start] == b"["
    assert data[:start].count(b'"messages"') == 1
