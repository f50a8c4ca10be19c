"""The input boundary: what every value a client sends must be, in ONE place.

Both edges apply these rules (the edge middleware to headers, cookies, query parameters,
paths and JSON bodies; the GraphQL schema to variables, inline literals and its
``DateTime`` scalar; the /v1 request helpers to integers and times), so a value refused on
one edge is refused on the other with the same message:

* text is valid Unicode without lone surrogates and without NUL (``check_text``);
* JSON is UTF-8, parses, and nests at most ``MAX_JSON_DEPTH`` levels (``decode_json``),
  and every string in it, keys included, is valid text (``check_json``);
* integers fit GraphQL's ``Int`` (32-bit signed) unless a narrower range is given
  (``check_int``);
* times carry a zone and lie between ``MIN_INSTANT`` and ``MAX_INSTANT`` (``parse_instant``,
  ``check_instant``): a time without a zone is refused, not guessed.

A refusal is ``InvalidInput`` (400 on /v1, ``INVALID_INPUT`` in GraphQL) naming the field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidInput

MAX_JSON_DEPTH = 32
"""Arrays and objects inside each other; a request body needs far fewer."""
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
MIN_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(9999, 1, 1, tzinfo=UTC)


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or ``None``."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode (it contains a lone surrogate)"
    return None


def check_text(value: str, field: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput(f"{field} {problem}", field=field)
    return value


def check_json(value: Any, field: str = "") -> None:
    """Every string (keys included) of a decoded JSON value is valid text, and it nests at
    most ``MAX_JSON_DEPTH`` levels. ``field`` prefixes the path named in the error (a
    top-level key is named alone: ``password``, ``input.name``, ``scopes[0]``)."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, path or "value")
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise InvalidInput(
                    f"{path or 'the JSON document'} is nested too deep (at most "
                    f"{MAX_JSON_DEPTH} levels)",
                    field=path or None,
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    name = f"{path}.{key}" if path else str(key)
                    if isinstance(key, str) and text_problem(key) is not None:
                        check_text(key, f"{path or 'a'} key")
                    stack.append((child, name, depth + 1))
            else:
                for index, child in enumerate(item):
                    stack.append((child, f"{path}[{index}]", depth + 1))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


NOT_JSON: Any = type("NotJson", (), {"__repr__": lambda self: "NOT_JSON"})()
"""What a lenient ``decode_json`` returns for UTF-8 text that is not JSON."""


def decode_json(raw: bytes, what: str = "request body", *, lenient: bool = False) -> Any:
    """Decode a JSON body by the rules above (``InvalidInput`` naming ``what`` or the field
    inside it). ``lenient``: UTF-8 text that does not parse is ``NOT_JSON``, for a caller
    that answers that case itself."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not valid UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deep (at most {MAX_JSON_DEPTH} levels)") from None
    except ValueError:
        if lenient:
            return NOT_JSON
        raise InvalidInput(f"{what} is not valid JSON") from None
    check_json(value)
    return value


def check_int(value: int, field: str, low: int = INT_MIN, high: int = INT_MAX) -> int:
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}", field=field)
    return value


def check_instant(value: datetime, field: str) -> datetime:
    """A time that carries its zone and lies in the accepted range, in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{field} must carry a time zone (for example 2030-01-01T00:00:00Z)", field=field
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_INSTANT <= utc < MAX_INSTANT:
        raise InvalidInput(
            f"{field} must lie between {MIN_INSTANT.date()} and {MAX_INSTANT.date()}",
            field=field,
        )
    return utc


def parse_instant(text: str, field: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset required), checked by ``check_instant``."""
    check_text(text, field)
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field} must be an RFC 3339 time", field=field) from None
    return check_instant(value, field)
