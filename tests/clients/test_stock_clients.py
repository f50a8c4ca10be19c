"""Stock GraphQL clients against a real Karpov on a loopback port, with no setup beyond a
URL and (after signing in) a token: gql (Python, its aiohttp and httpx transports),
graphql-request and Apollo Client (Node, ``tests/clients/stock_clients.mjs``), and the
GraphQL-over-HTTP conformance audit of the npm package ``graphql-http``.

Node 20+ and npm are required: the Node dependencies are pinned in
``tests/clients/package-lock.json`` and installed with ``npm ci`` when
``node_modules`` is absent. A missing Node fails these tests, it never skips them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from gql import Client
from gql.graphql_request import GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.httpx import HTTPXAsyncTransport

from tests.api.harness import STRONG_PASSWORD
from tests.support.live import live_karpov, run_node

REGISTER = """mutation Register($input: AccountRegisterInput!) {
  accountRegister(input: $input) { result { user { email } } errors { code message } }
}"""
LOGIN = """mutation Login($input: AccountLoginInput!) {
  accountLogin(input: $input) { result { sid } errors { code message } }
}"""
VIEWER = "query Viewer { viewer { email } }"


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    with live_karpov(sqlite_url) as base:
        yield f"{base}/graphql"


def node_json(script: str, *args: str) -> dict[str, Any]:
    done = run_node(script, *args)
    lines = done.stdout.strip().splitlines()
    assert lines, f"{script} printed nothing (exit {done.returncode}):\n{done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0, json.dumps(report, indent=1)[-4000:] + done.stderr[-2000:]
    return report


# -- the graphql-http audit ----------------------------------------------------------------


def test_the_graphql_http_audit_passes_with_no_error_and_no_warning(server: str) -> None:
    report = node_json("audit.mjs", server)
    problems = [r for r in report["results"] if r["status"] != "ok"]
    print(f"graphql-http audit: {report['ok']} ok, {report['warn']} warn, {report['error']} error")
    assert (report["error"], report["warn"]) == (0, 0), json.dumps(problems, indent=1)
    assert report["ok"] == len(report["results"]) >= 60


# -- Node clients ----------------------------------------------------------------------------


def test_graphql_request_works_from_its_first_request(server: str) -> None:
    report = node_json("stock_clients.mjs", "graphql-request", server)
    assert report["result"] == {
        "typename": "Query", "introspection": "Query", "registered": True, "viewer": True,
        "byKey": "Query",
    }  # fmt: skip
    assert report["exchanges"][0]["status"] == 200  # the very first request


def test_apollo_client_works_from_its_first_request(server: str) -> None:
    report = node_json("stock_clients.mjs", "apollo", server)
    assert report["result"] == {"typename": "Query", "registered": True, "viewer": True}
    first = report["exchanges"][0]
    assert first["status"] == 200
    # Apollo Client 4 asks for the GraphQL response type first; it gets it.
    assert first["contentType"].startswith("application/graphql-response+json")


# -- gql (Python) ----------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_gql_works_with_introspection_sign_in_and_a_token(
    server: str, transport: str
) -> None:
    def make(headers: dict[str, str] | None = None) -> Any:
        if transport == "aiohttp":
            return AIOHTTPTransport(url=server, headers=headers)
        return HTTPXAsyncTransport(url=server, headers=headers)

    email = f"gql-{uuid.uuid4().hex[:8]}@example.com"
    credentials = {"input": {"email": email, "password": STRONG_PASSWORD}}
    # fetch_schema_from_transport: the first request is the introspection query.
    async with Client(transport=make(), fetch_schema_from_transport=True) as session:
        assert session.client.schema is not None
        assert (await session.execute(GraphQLRequest("{ __typename }"))) == {"__typename": "Query"}
        registered = await session.execute(GraphQLRequest(REGISTER, variable_values=credentials))
        assert registered["accountRegister"]["result"]["user"]["email"] == email
        login = await session.execute(GraphQLRequest(LOGIN, variable_values=credentials))
        sid = login["accountLogin"]["result"]["sid"]
    bearer = {"Authorization": f"Bearer {sid}"}
    async with Client(transport=make(bearer)) as session:
        viewer = await session.execute(GraphQLRequest(VIEWER))
        assert viewer == {"viewer": {"email": email}}


def test_apollo_clients_persisted_query_link_registers_on_the_retry_and_then_sends_hashes(
    server: str,
) -> None:
    report = node_json("stock_clients.mjs", "apollo-apq", server)

    def steps(name: str) -> list[tuple[str, bool, int, list[str]]]:
        seen = report["result"][name]
        assert seen["first"] == seen["second"] == "UTC"
        return [(e["method"], e["sentQuery"], e["status"], e["codes"]) for e in seen["exchanges"]]

    # The hash alone, unknown: PERSISTED_QUERY_NOT_FOUND; the link retries with the query
    # (which registers it); the next request sends the hash alone and runs.
    not_found = ["PERSISTED_QUERY_NOT_FOUND"]
    assert steps("post") == [
        ("POST", False, 404, not_found), ("POST", True, 200, []), ("POST", False, 200, []),
    ]  # fmt: skip
    # useGETForHashedQueries: the hash in a GET URL (cacheable), the retry as a POST.
    assert steps("get") == [
        ("GET", False, 404, not_found), ("POST", True, 200, []), ("GET", False, 200, []),
    ]  # fmt: skip
