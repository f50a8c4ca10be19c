"""``gateway.graphql_view.encode_body`` writes exactly ``json.dumps(data, separators=(",",
":"))``'s bytes, whichever of orjson and ``json.dumps`` writes them (issue 18)."""

from __future__ import annotations

import json
import random
import struct
from typing import Any

import pytest

from gateway.graphql_view import encode_body


def _stdlib(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


BODIES: list[Any] = [
    {"data": {"song": {"id": "local:song:423e8c8f32634c3c947652cd3ceb458d", "n": 50}}},
    {"data": {"ids": ["a:1e5", "b:12E7,", "c:0.00001]", ":3e4}"]}},  # number-like text
    {"data": {"a": 1e-07, "b": -3.5e-09, "c": [2e-08], "d": {"e": 5e-10}}},  # e-7 vs e-07
    {"data": {"t": "re-release one-off 1e-5, x", "u": "0.00001"}},  # the forms in text
    {"data": {"x": 1e16, "y": 1e-05, "z": 0.00001, "w": 0.0001, "v": 1e22, "u": -2.5e-300}},
    {"data": {"nan": float("nan"), "inf": float("inf"), "none": None}},
    {"data": {"big": 2**70, "text": "é \u2028 \x7f", "list": [1.5, 1e100, 0.1]}},
    {"data": None, "errors": [{"message": "m", "path": ["a", 0], "extensions": {"c": 1}}]},
]


@pytest.mark.parametrize("data", BODIES)
def test_the_body_is_the_stdlib_bytes(data: Any) -> None:
    assert encode_body(data) == _stdlib(data)


def test_random_floats_are_written_as_the_stdlib_writes_them() -> None:
    rng = random.Random(18)
    for _ in range(20_000):
        value = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        scaled = rng.random() * 10 ** rng.randint(-30, 30)
        data = {
            "data": {"f": [value, scaled], "id": f"x:{rng.randint(0, 999)}e{rng.randint(0, 9)}"}
        }
        assert encode_body(data) == _stdlib(data)
