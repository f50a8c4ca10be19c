"""The one request-context factory both edges use: GraphQL (``KarpovGraphQL.get_context``)
and /v1 (``RouteEndpoint``) build the resolvers' ``Context`` from what the edge middleware
put in the request's ``scope["state"]``, so a resolver sees the same context whichever
edge called it."""

from __future__ import annotations

from starlette.types import Scope

from domain.principal import Principal, anonymous
from resolvers.context import Context, CookieJar, HeaderSink, Services


def request_context(
    scope: Scope,
    services: Services,
    cookies: CookieJar,
    response_headers: HeaderSink | None = None,
) -> Context:
    state = scope.get("state", {})
    principal = state.get("principal")
    return Context(
        services=services,
        principal=principal if isinstance(principal, Principal) else anonymous(),
        request_id=state.get("request_id", ""),
        cookies=cookies,
        session_token=state.get("session_token"),
        api_key=state.get("api_key"),
        response_headers=response_headers,
        request_headers=scope.get("headers", ()),
    )
