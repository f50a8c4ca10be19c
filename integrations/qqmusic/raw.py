"""Tolerant reading of upstream JSON: QQ's answers spell one field several ways across
calls (``albumMid``, ``albumMID``, ``mid``) and put ``null`` where a list or object belongs.
These helpers never raise; a missing or mistyped field reads as empty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JsonObject = Mapping[str, Any]
_EMPTY: JsonObject = {}


def obj(data: Any, *keys: str) -> JsonObject:
    """The first of ``keys`` that holds an object (``data`` itself when no key is given)."""
    if not keys:
        return data if isinstance(data, Mapping) else _EMPTY
    if isinstance(data, Mapping):
        for key in keys:
            value = data.get(key)
            if isinstance(value, Mapping):
                return value
    return _EMPTY


def objects(data: Any, *keys: str) -> list[JsonObject]:
    """The objects of the first of ``keys`` that holds a list."""
    if isinstance(data, Mapping):
        for key in keys:
            value = data.get(key)
            if isinstance(value, list):
                return [item for item in value if isinstance(item, Mapping)]
    return []


def text(data: Any, *keys: str) -> str:
    if isinstance(data, Mapping):
        for key in keys:
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, int) and not isinstance(value, bool) and value:
                return str(value)
    return ""


def number(data: Any, *keys: str) -> int:
    if isinstance(data, Mapping):
        for key in keys:
            value = data.get(key)
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
    return 0


def strings(data: Any, key: str) -> list[str]:
    if isinstance(data, Mapping):
        value = data.get(key)
        if isinstance(value, list):
            return [item for item in value if isinstance(item, str)]
    return []
