"""Shared plumbing of input types: the fields a client gave, for ``to_command()``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import strawberry


def given_fields(input_value: object, *, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """The input's fields, by Python name, leaving out those the client did not give
    (``strawberry.UNSET``): a partial update carries only what was given, ``None``
    included."""
    skipped = set(leave_out)
    return {
        f.name: getattr(input_value, f.name)
        for f in dataclasses.fields(input_value)  # type: ignore[arg-type]
        if f.name not in skipped and getattr(input_value, f.name) is not strawberry.UNSET
    }
