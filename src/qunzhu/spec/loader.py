"""``load_spec``: YAML text or file → CommunitySpec, or SpecError naming every problem with
its field path, line and column.

pydantic reports errors by location tuples; we walk each tuple against the data that was
read to rebuild the field path, drop the parts pydantic adds for unions, and look the
path up in the positions the YAML reader kept. A missing field points at its parent.
"""

from __future__ import annotations

import difflib
import re
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from qunzhu.spec.problems import SpecError, SpecProblem
from qunzhu.spec.schema import CommunitySpec, parent_path
from qunzhu.spec.yamlsource import Position, Source, join, read_yaml

_QUOTED = re.compile(r"'([^']*)'")
_BILINGUAL = re.compile(r"^(.*\S)\s*\(([^()]*[\u4e00-\u9fff][^()]*)\)$", re.DOTALL)

# Plain-language wording for the errors operators meet most; others keep pydantic's text.
_WORDING: dict[str, tuple[str, str]] = {
    "int_type": ("expected a whole number", "应为整数"),
    "int_from_float": ("expected a whole number", "应为整数"),
    "float_type": ("expected a number", "应为数字"),
    "string_type": ("expected text", "应为文本"),
    "bool_type": ("expected true or false", "应为 true 或 false"),
    "list_type": ("expected a list (- item, or [a, b])", "应为列表"),
    "dict_type": ("expected a mapping (key: value)", "应为键值映射"),
    "model_type": ("expected a mapping (key: value)", "应为键值映射"),
    "model_attributes_type": ("expected a mapping (key: value)", "应为键值映射"),
    "date_type": ("expected a date like 2025-06-30", "应为日期，如 2025-06-30"),
    "date_parsing": ("expected a date like 2025-06-30", "应为日期，如 2025-06-30"),
    "date_from_datetime_parsing": ("expected a date like 2025-06-30", "应为日期，如 2025-06-30"),
    # Bounds: the placeholders are filled from pydantic's error context.
    "greater_than_equal": ("must be at least {ge}", "应不小于 {ge}"),
    "greater_than": ("must be more than {gt}", "应大于 {gt}"),
    "less_than_equal": ("must be at most {le}", "应不大于 {le}"),
    "less_than": ("must be less than {lt}", "应小于 {lt}"),
    "string_too_short": ("must not be empty", "不能为空"),
    "too_short": ("needs at least {min_length} item(s)", "至少需要 {min_length} 项"),
    "string_pattern_mismatch": ("does not match the pattern {pattern}", "格式不符：{pattern}"),
}


def load_spec(text_or_path: str | Path) -> CommunitySpec:
    """Load and validate a spec.

    A ``Path``, or a one-line string ending in ``.yaml``/``.yml``, is read as a file (an
    OSError propagates); any other string is the YAML text itself.
    """
    text = _read(text_or_path)
    source = read_yaml(text)
    try:
        spec = CommunitySpec.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError(problems_from(exc, source)) from None
    spec._locations.update(source.values)
    return spec


def _read(text_or_path: str | Path) -> str:
    if isinstance(text_or_path, str):
        looks_like_path = (
            "\n" not in text_or_path
            and ": " not in text_or_path
            and text_or_path.endswith((".yaml", ".yml"))
        )
        if not looks_like_path:
            return text_or_path
    try:
        return Path(text_or_path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            [SpecProblem("", 1, 1, f"not UTF-8 text ({exc.reason})", "文件不是 UTF-8 编码")]
        ) from None


def problems_from(exc: ValidationError, source: Source) -> list[SpecProblem]:
    """One problem per field path; union alternatives at one path are merged."""
    merged: dict[str, list[tuple[str, str]]] = {}
    where: dict[str, Position] = {}
    for error in exc.errors(include_url=False):
        segments = _data_segments(error, source.data)
        path = _path(segments)
        en, zh = _message(error, segments)
        texts = merged.setdefault(path, [])
        if (en, zh) not in texts:
            texts.append((en, zh))
        where.setdefault(path, _position(path, source, error["type"] == "extra_forbidden"))
    problems = []
    for path, texts in merged.items():
        en, zh = _either(texts)
        line, column = where[path]
        problems.append(SpecProblem(path, line, column, en, zh))
    return problems


def _either(texts: list[tuple[str, str]]) -> tuple[str, str]:
    # A union field fails once per alternative: "expected a whole number or text".
    en = texts[0][0]
    for text, _ in texts[1:]:
        en += " or " + (text.removeprefix("expected ") if en.startswith("expected ") else text)
    zh = texts[0][1]
    for _, text in texts[1:]:
        if zh and text:
            zh += "或" + text.removeprefix("应为")
    return en, zh


def _data_segments(error: ErrorDetails, data: Any) -> list[str | int]:
    loc = error["loc"]
    segments: list[str | int] = []
    node = data
    for index, seg in enumerate(loc):
        in_list = isinstance(seg, int) and isinstance(node, list) and 0 <= seg < len(node)
        in_dict = isinstance(seg, str) and isinstance(node, dict) and seg in node
        if in_list or in_dict:
            node = node[seg]
        elif index == len(loc) - 1 and error["type"] == "missing":
            pass
        else:
            continue  # a union member's tag such as "DemoteRule": not in the file
        segments.append(seg)
    return segments


def _path(segments: list[str | int]) -> str:
    path = ""
    for seg in segments:
        path = join(path, seg)
    return path


def _position(path: str, source: Source, at_key: bool) -> Position:
    table = source.keys if at_key else source.values
    if path in table:
        return table[path]
    parent = parent_path(path)
    while parent is not None:
        if parent in source.keys:
            return source.keys[parent]
        parent = parent_path(parent)
    return (1, 1)


def _message(error: ErrorDetails, segments: list[str | int]) -> tuple[str, str]:
    kind = error["type"]
    name = segments[-1] if segments else ""
    if kind == "missing":
        return f"missing required field {name!r}", f"缺少必填字段 {name}"
    if kind == "extra_forbidden":
        hint = _suggest(str(name), _field_names(segments[:-1]))
        en = f"unknown field {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
        zh = f"未知字段 {name!r}" + (f"，是否想写 {hint!r}？" if hint else "")
        return en, zh
    if kind == "literal_error":
        choices = _QUOTED.findall(str((error.get("ctx") or {}).get("expected", "")))
        hint = _suggest(str(error["input"]), choices)
        en = f"{error['input']!r} is not one of: {', '.join(choices)}"
        zh = f"{error['input']!r} 不在可选值中：{', '.join(choices)}"
        if hint:
            en, zh = en + f"; did you mean {hint!r}?", zh + f"，是否想写 {hint!r}？"
        return en, zh
    if kind == "value_error":
        # Our validators write "English text (中文)"; split it into the two languages.
        text = str(error["msg"]).removeprefix("Value error, ")
        both = _BILINGUAL.match(text)
        return (both.group(1), both.group(2)) if both else (text, "")
    en, zh = _WORDING.get(kind, (str(error["msg"]), ""))
    context = {k: _shown(v) for k, v in (error.get("ctx") or {}).items()}
    if context:
        try:
            en, zh = en.format(**context), zh.format(**context)
        except (KeyError, IndexError):  # a wording that names a bound this error lacks
            en, zh = str(error["msg"]), ""
    given = error.get("input")
    if isinstance(given, str | int | float | bool) or given is None:
        shown = repr(given) if len(repr(given)) <= 60 else repr(given)[:57] + "..."
        en, zh = f"{en}, got {shown}", (f"{zh}，实际为 {shown}" if zh else "")
    return en, zh


def _shown(value: object) -> str:
    # 0.0 reads better as 0 in "must be more than 0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _suggest(word: str, choices: list[str]) -> str | None:
    # A shortened name (``minutes`` for ``duration_minutes``) is likelier than a near spelling.
    containing = [choice for choice in choices if word and word in choice and word != choice]
    if len(containing) == 1:
        return containing[0]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _field_names(segments: list[str | int]) -> list[str]:
    """Keys a mapping at ``segments`` may hold, for "did you mean" hints."""
    annotation: Any = CommunitySpec
    for seg in segments:
        annotation = _step(_unwrap(annotation), seg)
        if annotation is None:
            return []
    model = _unwrap(annotation)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    names = list(model.model_fields)
    names += [f.alias for f in model.model_fields.values() if f.alias]
    return names


def _step(annotation: Any, seg: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not isinstance(seg, str):
            return None
        for field_name, info in annotation.model_fields.items():
            if seg in (field_name, info.alias):
                return info.annotation
        return None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and isinstance(seg, int):
        return args[0]
    if origin is dict and isinstance(seg, str):
        return args[1]
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else options[0]
        else:
            return annotation
