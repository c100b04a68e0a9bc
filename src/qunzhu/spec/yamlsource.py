"""Read spec YAML into plain Python data plus where every key and value was written.

ruamel.yaml's round-trip loader keeps line and column on each mapping and sequence; we
copy them into flat dictionaries keyed by field path so that pydantic's errors, which
only know paths, can be pointed back at the file. Plain data (dict, list, int, str…)
goes to pydantic because strict validation rejects ruamel's own container types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from qunzhu.spec.problems import SpecError, SpecProblem

Position = tuple[int, int]


@dataclass
class Source:
    """Plain data and, by field path, where each value starts and where its key is."""

    data: dict[str, Any]
    values: dict[str, Position] = field(default_factory=dict)
    keys: dict[str, Position] = field(default_factory=dict)


class _TextDates(RoundTripConstructor):
    """Leaves timestamps as text: ruamel raises a bare ValueError, with no position, on
    2025-13-01, while pydantic parses dates itself and names the field that is wrong."""


_TextDates.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda constructor, node: constructor.construct_scalar(node),
)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def read_yaml(text: str) -> Source:
    """Parse ``text``; raise SpecError for syntax errors, duplicate keys, a non-mapping."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextDates
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        raise SpecError([_syntax_problem(exc)]) from None
    except YAMLError as exc:
        raise SpecError([SpecProblem("", 1, 1, f"YAML error: {exc}")]) from None
    if root is None:
        raise SpecError(
            [
                SpecProblem(
                    "",
                    1,
                    1,
                    "the file is empty; `qunzhu spec init` writes a template to start from",
                    "文件为空；用 `qunzhu spec init` 生成模板",
                )
            ]
        )
    duplicates: list[SpecProblem] = []
    _find_duplicates(root, "", duplicates, set())
    if duplicates:
        raise SpecError(duplicates)
    try:
        loaded = yaml.load(text)
    except MarkedYAMLError as exc:
        raise SpecError([_syntax_problem(exc)]) from None
    if not isinstance(loaded, CommentedMap):
        raise SpecError(
            [
                SpecProblem(
                    "",
                    root.start_mark.line + 1,
                    root.start_mark.column + 1,
                    "the spec must be a mapping of sections (name:, purpose:, size:, …)",
                    "规格文件顶层应为键值映射（name:、purpose:、size: …）",
                )
            ]
        )
    source = Source(data={})
    source.data = _plain(loaded, "", source)
    return source


def _syntax_problem(exc: MarkedYAMLError) -> SpecProblem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    parts = [part for part in (exc.problem, exc.context) if part]
    detail = "; ".join(parts) if parts else str(exc)
    return SpecProblem("", line, column, f"YAML syntax: {detail}", f"YAML 语法错误：{detail}")


def _find_duplicates(node: Node, path: str, found: list[SpecProblem], seen: set[int]) -> None:
    # Checked on the node graph rather than by the constructor so that every duplicate
    # is reported with its path, not only the first one.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                _find_duplicates(value_node, path, found, seen)
                continue
            key = str(key_node.value)
            here = join(path, key)
            mark = key_node.start_mark
            if key in first_line:
                found.append(
                    SpecProblem(
                        here,
                        mark.line + 1,
                        mark.column + 1,
                        f"duplicate key {key!r} (first written on line {first_line[key]}); "
                        "the later one would silently replace it",
                        f"重复的键 {key!r}（第 {first_line[key]} 行已写过）",
                    )
                )
            else:
                first_line[key] = mark.line + 1
            _find_duplicates(value_node, here, found, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, join(path, index), found, seen)


def _plain(value: Any, path: str, source: Source) -> Any:
    if isinstance(value, CommentedMap):
        out: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = str(raw_key)
            here = join(path, key)
            try:
                key_line, key_col = value.lc.key(raw_key)
                value_line, value_col = value.lc.value(raw_key)
            except KeyError:  # keys brought in by a `<<:` merge have no place of their own
                pass
            else:
                source.keys[here] = (key_line + 1, key_col + 1)
                # An empty value has no node; its key is the best place to point at.
                source.values[here] = (
                    source.keys[here] if item is None else (value_line + 1, value_col + 1)
                )
            out[key] = _plain(item, here, source)
        return out
    if isinstance(value, CommentedSeq):
        items: list[Any] = []
        for index, item in enumerate(value):
            here = join(path, index)
            line, col = value.lc.item(index)
            source.values[here] = source.keys[here] = (line + 1, col + 1)
            items.append(_plain(item, here, source))
        return items
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):  # ScalarInt, HexInt, ScalarBoolean (anchored bool)
        return bool(value) if type(value).__name__ == "ScalarBoolean" else int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, TaggedScalar):
        return str(value.value)
    if isinstance(value, dict):
        return {str(k): _scalar(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    return value
