"""GraphQL over HTTP on /graphql: CSRF prevention as Apollo Server's ``csrfPrevention``
(content type x preflight header x cookie), the media types and their status codes, and
every transport error as a JSON GraphQL error with a code."""

from __future__ import annotations

import itertools

import httpx
import pytest

from schema.errors import ErrorCode
from tests.api.harness import Api

ERROR_CODES = {member.value for member in ErrorCode}

QUERY = b'{"query": "{ __typename }"}'
GRAPHQL_RESPONSE = "application/graphql-response+json"

CONTENT_TYPES: dict[str | None, bool] = {
    # content type -> whether it alone lets a POST through (a browser cannot send it
    # cross-site without a preflight)
    "application/json": True,
    "application/json; charset=utf-8": True,
    "Application/JSON": True,
    GRAPHQL_RESPONSE: True,
    "text/plain": False,
    "text/plain; charset=utf-8": False,
    "application/x-www-form-urlencoded": False,
    "multipart/form-data; boundary=x": False,
    None: False,
}
HEADERS: dict[str, dict[str, str]] = {
    "none": {},
    "X-CSRF-Token": {"X-CSRF-Token": "anything"},
    "Apollo-Require-Preflight": {"Apollo-Require-Preflight": "true"},
    "GraphQL-Preflight": {"GraphQL-Preflight": "1"},
    "X-Apollo-Operation-Name": {"X-Apollo-Operation-Name": "Hello"},
    "empty Apollo-Require-Preflight": {"Apollo-Require-Preflight": ""},
}


def csrf_refused(response: httpx.Response) -> bool:
    if response.status_code != 400:
        return False
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    return codes == ["CSRF_FAILED"]


@pytest.mark.parametrize("cookie", [False, True], ids=["no-cookie", "csrf-cookie"])
async def test_csrf_matrix_content_type_by_header_by_cookie(sqlite_api: Api, cookie: bool) -> None:
    http = sqlite_api.http
    if cookie:
        await sqlite_api.prime_csrf()  # the double-submit cookie changes nothing on /graphql
    else:
        http.cookies.clear()
    for (content_type, simple_ok), (name, extra) in itertools.product(
        CONTENT_TYPES.items(), HEADERS.items()
    ):
        headers = dict(extra)
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = await http.post("/graphql", content=QUERY, headers=headers)
        passes = simple_ok or (name != "none" and not name.startswith("empty"))
        assert csrf_refused(response) is not passes, (content_type, name, response.text)
        assert response.headers["content-type"].startswith("application/json")
        media = (content_type or "").split(";")[0].lower()
        if passes and media in ("application/json", GRAPHQL_RESPONSE):
            assert response.json() == {"data": {"__typename": "Query"}}
        elif passes:  # through CSRF, then the transport: 415 for what is not JSON
            assert response.status_code == 415, response.text
            assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_csrf_refusal_says_why_and_what_to_send(sqlite_api: Api) -> None:
    response = await sqlite_api.http.post(
        "/graphql", data={"query": "mutation { accountLogout(input: {}) { ok } }"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert "cross-site request forgery" in error["message"]
    for hint in ("application/json", "Apollo-Require-Preflight", "GraphQL-Preflight"):
        assert hint in error["message"]


async def test_header_credentials_force_a_preflight_so_they_pass(sqlite_api: Api) -> None:
    for header in ({"Authorization": "Bearer nope"}, {"X-Session-Id": "nope"}):
        response = await sqlite_api.http.post(
            "/graphql", content=QUERY, headers={**header, "Content-Type": "text/plain"}
        )
        assert not csrf_refused(response), header


async def test_a_get_never_runs_a_mutation(sqlite_api: Api) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = await sqlite_api.http.get(
            "/graphql", params={"query": "mutation { accountLogout(input: {}) { ok } }"},
            headers={"Accept": accept},
        )  # fmt: skip
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_get_runs_a_query_with_json_variables(sqlite_api: Api) -> None:
    response = await sqlite_api.http.get(
        "/graphql",
        params={"query": "query Q($id: ID!) { node(id: $id) { id } }", "variables": '{"id": "x"}'},
    )
    assert response.status_code == 200, response.text
    assert "errors" in response.json() or response.json()["data"] == {"node": None}


# -- media types and status codes -----------------------------------------------------------


async def post(api: Api, body: dict[str, object], accept: str | None) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return await api.http.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
    ],
)
async def test_the_answer_has_the_media_type_the_client_prefers(
    sqlite_api: Api, accept: str | None, media: str
) -> None:
    response = await post(sqlite_api, {"query": "{ __typename }"}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query Q($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}},
         "BAD_USER_INPUT"),
    ],
    ids=["parse", "validation", "variable-coercion"],
)  # fmt: skip
async def test_request_errors_are_200_as_json_and_400_as_graphql_response_without_data(
    sqlite_api: Api, body: dict[str, object], code: str
) -> None:
    legacy = await post(sqlite_api, body, "application/json")
    assert legacy.status_code == 200
    assert legacy.json()["errors"][0]["extensions"]["code"] == code
    modern = await post(sqlite_api, body, GRAPHQL_RESPONSE)
    assert modern.status_code == 400
    assert modern.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in modern.json()
    assert modern.json()["errors"][0]["extensions"]["code"] == code
    assert code in ERROR_CODES


async def test_a_field_error_is_200_with_data_in_both_media_types(sqlite_api: Api) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = await post(sqlite_api, {"query": "{ viewer { id } }"}, accept)
        assert response.status_code == 200
        body = response.json()
        assert "data" in body
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# -- transport errors: JSON with a code, never text/plain -----------------------------------

TRANSPORT_ERRORS = [
    ("PUT", {"Content-Type": "application/json"}, QUERY, 405, "METHOD_NOT_ALLOWED"),
    ("DELETE", {}, b"", 405, "METHOD_NOT_ALLOWED"),
    ("PATCH", {"Content-Type": "application/json"}, QUERY, 405, "METHOD_NOT_ALLOWED"),
    ("POST", {"Content-Type": "application/json"}, b"", 400, "BAD_REQUEST"),
    ("POST", {"Content-Type": "application/json"}, b'{"query": ', 400, "BAD_REQUEST"),
    ("POST", {"Content-Type": "application/json"}, b'{"notquery": 1}', 400, "BAD_REQUEST"),
    ("POST", {"Content-Type": "application/json"}, b'{"query": 1}', 400, "BAD_REQUEST"),
    ("POST", {"Content-Type": "application/json"}, b'{"query": "{ __typename }", '
     b'"variables": "x"}', 400, "BAD_REQUEST"),
    ("POST", {"Content-Type": "application/json"}, b'"just a string"', 400, "BAD_REQUEST"),
    # the edge's input boundary (issue 12) refuses a body that is not UTF-8 first
    ("POST", {"Content-Type": "application/json"}, b"\xff\xfe{}", 400, "INVALID_INPUT"),
    ("POST", {"Content-Type": "application/json"}, b'[{"query": "{ __typename }"}]', 400,
     "BATCHING_NOT_SUPPORTED"),
    ("POST", {"Content-Type": "application/xml", "GraphQL-Preflight": "1"}, QUERY, 415,
     "UNSUPPORTED_MEDIA_TYPE"),
    ("POST", {"Content-Type": "application/json; charset=latin-1"}, QUERY, 415,
     "UNSUPPORTED_MEDIA_TYPE"),
    ("POST", {"Content-Type": "application/json", "Accept": "text/csv"}, QUERY, 406,
     "NOT_ACCEPTABLE"),
    ("GET", {"Accept": "application/json"}, b"", 400, "BAD_REQUEST"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "headers", "body", "status", "code"), TRANSPORT_ERRORS)
async def test_every_transport_error_is_json_with_a_code(
    sqlite_api: Api, method: str, headers: dict[str, str], body: bytes, status: int, code: str
) -> None:
    response = await sqlite_api.http.request(method, "/graphql", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert code in ERROR_CODES  # every code a client can see is in the schema's ErrorCode
    assert error["message"]
    if status == 405:
        assert response.headers["allow"] == "GET, POST, OPTIONS"


async def test_graphiql_still_opens_for_a_browser(sqlite_api: Api) -> None:
    page = await sqlite_api.http.get("/graphql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
