"""Change one playbook in the text of ``community.yaml`` and leave the rest as the operator
wrote it: the playbook's own lines are replaced by the new playbook, written by ruamel.yaml at
the same indentation, and every other line stays byte for byte (a full round trip would
re-space the aligned flow mappings and move comments that end a section). Only where the
playbooks are not a block list (``playbooks: [...]``) is the whole file round-tripped.

The result is text, to be loaded and linted like any edit of the file (the caller does): an
edit from a form cannot save what the YAML editor would refuse.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from qunzhu.spec.problems import SpecError, SpecProblem
from qunzhu.spec.yamlsource import read_yaml


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # a long text stays on its line
    yaml.preserve_quotes = True
    return yaml


def _step(step: Mapping[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for key in ("day", "kind", "to", "unless"):
        if step.get(key) not in (None, ""):
            out[key] = step[key]
    text = CommentedMap()
    for lang in ("zh-CN", "en"):
        if (step.get("text") or {}).get(lang):
            text[lang] = step["text"][lang]
    text.fa.set_flow_style()  # one line per step's text, as the template writes it
    out["text"] = text
    return out


def _playbook(book: Mapping[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for key in ("name", "trigger", "ends_after_days"):
        if book.get(key) not in (None, ""):
            out[key] = book[key]
    out["steps"] = CommentedSeq([_step(s) for s in book.get("steps") or []])
    return out


def _dumped(book: Mapping[str, Any], indent: int) -> list[str]:
    out = io.StringIO()
    _yaml().dump(CommentedSeq([_playbook(book)]), out)
    lines = out.getvalue().splitlines()
    own = len(lines[0]) - len(lines[0].lstrip(" "))  # where ruamel put the dash
    return [" " * indent + line[own:] if line else line for line in lines]


def _region(lines: list[str], start: int) -> tuple[int, int, int] | None:
    """(first, end, dash column) of the list item whose dash is on line ``start`` (0-based):
    the item runs while lines are indented past its dash; trailing comments stay outside."""
    head = lines[start]
    dash = len(head) - len(head.lstrip(" "))
    if not head.lstrip(" ").startswith("-"):
        return None
    end = start + 1
    last = start
    while end < len(lines):
        stripped = lines[end].strip()
        indent = len(lines[end]) - len(lines[end].lstrip(" "))
        if stripped and not stripped.startswith("#"):
            if indent <= dash:
                break
            last = end
        end += 1
    return start, last + 1, dash


def _spliced(text: str, name: str | None, book: Mapping[str, Any] | None) -> str | None:
    """The edit made on the lines, or None where only a round trip can make it."""
    try:
        source = read_yaml(text)
    except SpecError:
        return None
    books = source.data.get("playbooks")
    lines = text.splitlines()
    if books is None and "playbooks" not in source.data and book is not None and name is None:
        body = _dumped(book, 2)
        return "\n".join([*lines, "", "playbooks:", *body]) + "\n"
    if books == [] and book is not None and name is None:  # "playbooks: []" gets its first
        key = source.keys["playbooks"][0] - 1
        if lines[key].split("#")[0].strip() != "playbooks: []":
            return None
        lines[key] = lines[key].replace("playbooks: []", "playbooks:", 1)
        return "\n".join([*lines[: key + 1], *_dumped(book, 2), *lines[key + 1 :]]) + "\n"
    if not isinstance(books, list) or not books:
        return None
    names = [b.get("name") if isinstance(b, dict) else None for b in books]
    regions = [_region(lines, source.values[f"playbooks[{i}]"][0] - 1) for i in range(len(books))]
    if any(r is None for r in regions):
        return None
    if name is None:
        assert book is not None
        _, end, dash = regions[-1]  # type: ignore[misc]
        return "\n".join([*lines[:end], *_dumped(book, dash), *lines[end:]]) + "\n"
    if name not in names:
        return None
    first, end, dash = regions[names.index(name)]  # type: ignore[misc]
    new = [] if book is None else _dumped(book, dash)
    if book is None and len(books) == 1:  # the last one out: the key says "none"
        key = source.keys["playbooks"][0] - 1
        if lines[key].split("#")[0].strip() != "playbooks:":
            return None
        lines[key] = lines[key].replace("playbooks:", "playbooks: []", 1)
    return "\n".join([*lines[:first], *new, *lines[end:]]) + "\n"


def with_playbook(text: str, name: str | None, book: Mapping[str, Any] | None) -> str:
    """``text`` with the playbook called ``name`` replaced by ``book`` (added at the end when
    ``name`` is None, taken out when ``book`` is None)."""
    spliced = _spliced(text, name, book)
    if spliced is not None:
        return spliced
    yaml = _yaml()
    try:
        root = yaml.load(text) if text.strip() else CommentedMap()
    except YAMLError as exc:
        raise SpecError(
            [SpecProblem("", 1, 1, f"the spec does not parse: {exc}", "定位文件无法解析")]
        ) from None
    if not isinstance(root, CommentedMap):
        raise SpecError([SpecProblem("", 1, 1, "the spec must be a mapping", "定位文件须为映射")])
    books = root.get("playbooks")
    if books is None:
        books = CommentedSeq()
        root["playbooks"] = books
    if not isinstance(books, CommentedSeq):
        raise SpecError(
            [SpecProblem("playbooks", 1, 1, "playbooks must be a list", "playbooks 须为列表")]
        )
    index = next(
        (i for i, b in enumerate(books) if isinstance(b, Mapping) and b.get("name") == name),
        None,
    )
    if name is not None and index is None:
        raise SpecError(
            [SpecProblem("playbooks", 1, 1, f"no playbook {name!r}", f"没有剧本 {name!r}")]
        )
    if book is None:
        if index is not None:
            del books[index]
        if not books:
            del root["playbooks"]
    elif index is None:
        books.append(_playbook(book))
    else:
        books[index] = _playbook(book)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def playbook_index(text_after: str, name: str) -> int | None:
    """Where the playbook ``name`` sits in the list (to point its problems at its fields)."""
    try:
        root = _yaml().load(text_after)
    except YAMLError:
        return None
    books = root.get("playbooks") if isinstance(root, CommentedMap) else None
    for i, b in enumerate(books or []):
        if isinstance(b, Mapping) and b.get("name") == name:
            return i
    return None
