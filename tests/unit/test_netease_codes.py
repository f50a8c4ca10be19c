"""NetEase answer codes → the ``ProviderFailure`` (and pool taxonomy result) each one is."""

from __future__ import annotations

import pytest

from domain.music.errors import (
    ProviderFailure,
    UpstreamAuthFailed,
    UpstreamBadAnswer,
    UpstreamNoRights,
    UpstreamNotFound,
    UpstreamRateLimit,
)
from domain.pool.model import LeaseResult
from integrations.netease.codes import answer_code, answer_message, failure_for


@pytest.mark.parametrize(
    ("code", "failure", "result", "retryable"),
    [
        (-460, UpstreamRateLimit, LeaseResult.RATE_LIMITED, True),
        (-462, UpstreamRateLimit, LeaseResult.RATE_LIMITED, True),
        (405, UpstreamRateLimit, LeaseResult.RATE_LIMITED, True),
        (406, UpstreamRateLimit, LeaseResult.RATE_LIMITED, True),
        (301, UpstreamAuthFailed, LeaseResult.AUTH_FAILED, True),
        (-2, UpstreamNoRights, LeaseResult.NO_RIGHTS, False),
        (404, UpstreamNotFound, LeaseResult.NOT_FOUND, False),
        (400, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR, True),
        (250, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR, True),
        (502, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR, True),
        (-1, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR, True),
    ],
)
def test_each_code(
    code: int, failure: type[ProviderFailure], result: LeaseResult, retryable: bool
) -> None:
    found = failure_for(code, "操作频繁")
    assert type(found) is failure
    assert found.result is result and found.retryable is retryable
    assert found.upstream_code == code and "操作频繁" in str(found)


def test_no_rights_names_its_reason() -> None:
    found = failure_for(-2)
    assert found is not None and found.reason == "no_rights"


def test_200_is_no_failure() -> None:
    assert failure_for(200) is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"code": 200}, 200, 200),
        ({"code": "-460"}, 200, -460),
        ({"code": -460}, 403, -460),
        ({"songs": []}, 200, 200),
        ({"code": True}, 200, 200),
        ({"code": "abc"}, 502, 502),
        ([], 503, 503),
    ],
)
def test_answer_code(body: object, status: int, code: int) -> None:
    assert answer_code(body, status) == code


def test_answer_message_prefers_message_then_msg() -> None:
    assert answer_message({"msg": "a", "message": "b"}) == "b"
    assert answer_message({"msg": "a", "message": ""}) == "a"
    assert answer_message({"code": 1}) == "" and answer_message("x") == ""
