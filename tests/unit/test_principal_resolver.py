"""The principal resolver returns the caller or raises a ``DomainError`` (which the edge
answers through the /v1 error table like any other): no rejection of its own."""

from __future__ import annotations

from typing import Any

import pytest

from domain.accounts.service import AccountService, Authenticated
from domain.apikeys.verifier import VerifiedKey
from domain.errors import DomainError, Forbidden, ServiceUnavailable, Unauthenticated
from domain.principal import AuthMethod, Principal
from gateway.middleware import AdminTokens, ClientIpResolver, PrincipalResolver
from rest.errors import http_error


class BrokenStores:
    """Session and key lookups whose store is down."""

    async def authenticate(self, token: str) -> Authenticated | None:
        raise ConnectionError("the session store is down")

    async def verify(self, presented: str, client_ip: str | None) -> VerifiedKey:
        raise ConnectionError("the key store is down")


class NoKeys:
    async def verify(self, presented: str, client_ip: str | None) -> VerifiedKey:
        raise Unauthenticated("invalid api key")


def resolver(stores: Any, tokens: tuple[bytes, ...] = ()) -> PrincipalResolver:
    accounts: AccountService = stores
    return PrincipalResolver(
        accounts=lambda: accounts, api_keys=lambda: stores, admin_tokens=AdminTokens(tokens),
        client_ips=ClientIpResolver([]),
    )  # fmt: skip


def scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "headers": list(headers), "client": ("198.51.100.9", 1234)}


async def refusal(resolve: PrincipalResolver, request: dict[str, Any]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await resolve.resolve(request)
    return refused.value


async def test_no_credential_is_the_anonymous_caller() -> None:
    request = scope((b"user-agent", b"pytest"))
    principal = await resolver(BrokenStores()).resolve(request)
    assert principal == Principal(
        AuthMethod.ANONYMOUS, client_ip="198.51.100.9", user_agent="pytest"
    )
    assert request["state"]["principal"] is principal


@pytest.mark.parametrize(
    ("tokens", "presented", "message"),
    [((), b"anything", "admin disabled"), ((b"right",), b"wrong", "admin token invalid")],
)
async def test_a_refused_admin_token_is_forbidden(
    tokens: tuple[bytes, ...], presented: bytes, message: str
) -> None:
    error = await refusal(resolver(BrokenStores(), tokens), scope((b"x-admin-key", presented)))
    assert isinstance(error, Forbidden) and error.message == message
    assert (http_error(error).status, http_error(error).biz) == (403, 40300)


@pytest.mark.parametrize(
    ("credential", "message"),
    [((b"x-session-id", b"tok"), "session store unavailable"),
     ((b"x-api-key", b"mk_whatever"), "api key store unavailable")],
)  # fmt: skip
async def test_a_store_that_is_down_is_503(credential: tuple[bytes, bytes], message: str) -> None:
    error = await refusal(resolver(BrokenStores()), scope(credential))
    assert isinstance(error, ServiceUnavailable) and error.message == message
    assert (http_error(error).status, http_error(error).biz) == (503, 50300)


async def test_the_key_verifiers_refusal_is_raised_as_it_is() -> None:
    error = await refusal(resolver(NoKeys()), scope((b"authorization", b"Bearer mk_abc")))
    assert isinstance(error, Unauthenticated) and error.message == "invalid api key"
