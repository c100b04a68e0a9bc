"""The JSON Schema of the events' JSON form, generated from the dataclasses themselves.

``docs/events.schema.json`` is this output; a test keeps the two the same.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from typing import Any

from qunzhu import bounds
from qunzhu.events import EVENT_TYPES, MESSAGE_KINDS, PLATFORMS, Event

_FIELD_DOCS = {
    "platform": "Platform the event happened on.",
    "community": "Community slug (must exist).",
    "group": "The platform's id of the group / chat / channel.",
    "member": "The platform's id of the member the event is about.",
    "occurred_at": "ISO 8601 time with a zone (e.g. 2026-03-01T20:15:00+08:00) or Unix seconds.",
    "key": "Idempotency key; omitted: derived from the event's identifying fields.",
    "raw": "The platform's payload, kept for audit.",
    "message_id": "The platform's id of the message.",
    "reply_to": "message_id of the message this one replies to.",
    "reply_inferred": "True when the reply link was inferred rather than given by the platform.",
    "inviter": "member id of who invited.",
    "member_is_bot": "True when the platform says the member is a bot (kept out of rankings).",
    "amount_cents": "Amount in the currency's minor unit (fen for CNY).",
}


def _type_schema(annotation: str, name: str) -> dict[str, Any]:
    nullable = "None" in annotation
    base = annotation.replace(" | None", "")
    schema: dict[str, Any]
    if name == "occurred_at":
        schema = {"type": ["string", "number"]}
    elif name == "platform":
        schema = {"enum": list(PLATFORMS)}
    elif name == "kind" and "str" in base:
        schema = {"enum": list(MESSAGE_KINDS)}
    elif base == "str":
        schema = {"type": "string"}
    elif base == "int":
        schema = {"type": "integer"}
    elif base == "bool":
        schema = {"type": "boolean"}
    elif base.startswith("tuple"):
        schema = {"type": "array", "items": {"type": "string"}}
    elif base.startswith("Mapping[str, str]"):
        schema = {"type": "object", "additionalProperties": {"type": "string"}}
    else:
        schema = {}
    schema.update(_bounds(name, base))
    if nullable and "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = [*kinds, "null"]
    if name in _FIELD_DOCS:
        schema["description"] = _FIELD_DOCS[name]
    return schema


def _bounds(name: str, base: str) -> dict[str, Any]:
    """The bounds of qunzhu.bounds a JSON Schema can say (NUL and surrogates it cannot)."""
    if name == "occurred_at":
        return {
            "minimum": bounds.EARLIEST.timestamp(),
            "exclusiveMaximum": bounds.LATEST.timestamp(),
        }
    if base == "int":
        return {"minimum": 0, "maximum": bounds.count_limit(name)}
    if base != "str" or name in ("platform", "kind"):
        return {}
    if name in ("text", "note", "attachment"):
        return {"maxLength": bounds.MAX_TEXT}
    if name in ("member_name", "old_name", "new_name"):
        return {}  # cut to MAX_NAME, not refused
    return {"maxLength": bounds.IDENTIFIER_LIMITS.get(name, bounds.MAX_IDENTIFIER)}


def _event_schema(cls: type[Event]) -> dict[str, Any]:
    props: dict[str, Any] = {"type": {"const": cls.type_name}}
    required = ["type"]
    for f in fields(cls):
        props[f.name] = _type_schema(str(f.type), f.name)
        if f.default is MISSING and f.default_factory is MISSING:
            required.append(f.name)
    return {
        "type": "object",
        "title": cls.__name__,
        "description": (cls.__doc__ or "").strip(),
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def json_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://qunzhu.example/events.schema.json",
        "title": "qunzhu normalized event",
        "description": "One event per JSON object; `qunzhu ingest FILE.jsonl` takes one a line, "
        "POST /api/v1/events takes one object or a list.",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in EVENT_TYPES],
        "$defs": {name: _event_schema(cls) for name, cls in EVENT_TYPES.items()},
    }


def render() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
