"""Schema conventions (GitHub, Shopify, Saleor): root fields that can fail alone are
nullable, ``node(id)`` resolves every ``Node`` type and ``nodes(ids)`` exists."""

from __future__ import annotations

from graphql import GraphQLInterfaceType, GraphQLNonNull, GraphQLObjectType, GraphQLSchema

from schema.build import build_schema
from schema.node import NODE_TYPES
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, data_of


def schema() -> GraphQLSchema:
    return build_schema()._schema


async def signed_in(api: Api, email: str) -> tuple[Api, str, str]:
    """A fresh browser with a new signed-in user: (browser, sid, user id)."""
    browser = api.fresh()
    credentials = {"i": {"email": email, "password": STRONG_PASSWORD}}
    await data_of(
        browser, "mutation($i: AccountRegisterInput!) { accountRegister(input: $i) { errors "
        "{ code } } }", credentials,
    )  # fmt: skip
    login = await data_of(
        browser, "mutation($i: AccountLoginInput!) { accountLogin(input: $i) { result { sid "
        "user { id } } errors { code } } }", credentials,
    )  # fmt: skip
    result = login["accountLogin"]["result"]
    return browser, result["sid"], result["user"]["id"]


CANNOT_FAIL = {"runtimeConfig", "oauthProviders", "nodes"}
"""Root fields that need no caller and read no store that can be missing."""
# The API tests here run on SQLite only: what they check does not depend on the backend
# (and a root field that raises hangs pytest's teardown on PostgreSQL + Redis, on main
# too: see the report of issue 11).


NULLABLE_ROOT_FIELDS = (
    "apiKeys", "apiKey", "rateLimit", "usageSummary", "usageHistory", "usageRealtime",
    "viewer", "sessions", "totpStatus", "oauthStartUrl", "oauthIdentities", "adminUsers",
    "adminAuditEvents", "adminUser",
)  # fmt: skip
"""The root fields of accounts, API keys, quotas, usage, two-factor, OAuth and admin that
can fail alone (a caller that is not signed in, not an admin, an unknown id)."""


def test_root_fields_that_can_fail_alone_are_nullable() -> None:
    query = schema().query_type
    assert query is not None
    for name in NULLABLE_ROOT_FIELDS:
        assert not isinstance(query.fields[name].type, GraphQLNonNull), name
    for name in CANNOT_FAIL:
        assert isinstance(query.fields[name].type, GraphQLNonNull), name


def test_node_knows_every_type_that_implements_node() -> None:
    types = schema().type_map
    node = types["Node"]
    assert isinstance(node, GraphQLInterfaceType)
    implementing = {
        name
        for name, t in types.items()
        if isinstance(t, GraphQLObjectType) and node in t.interfaces
    }
    assert implementing == NODE_TYPES


async def test_one_failing_root_field_does_not_blank_the_others(sqlite_api: Api) -> None:
    result = await sqlite_api.gql("{ runtimeConfig { timezone } viewer { id } }")
    assert result["data"] == {"runtimeConfig": {"timezone": "UTC"}, "viewer": None}
    [error] = result["errors"]
    assert error["path"] == ["viewer"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def test_node_and_nodes_resolve_the_viewer_its_session_and_its_api_key(
    sqlite_api: Api,
) -> None:
    api = sqlite_api
    browser, _, user_id = await signed_in(api, "nodes@example.com")
    [session] = (await data_of(browser, "{ sessions { id } }"))["sessions"]
    created = await data_of(
        browser, 'mutation { apiKeyCreate(input: {name: "n"}) { issued { key { id } } } }'
    )
    key_id = created["apiKeyCreate"]["issued"]["key"]["id"]
    expected = {user_id: "User", session["id"]: "Session", key_id: "ApiKey"}
    for id, type_name in expected.items():
        found = await data_of(browser, NODE, {"id": id})
        assert found["node"] == {"__typename": type_name, "id": id}
    unknown = "VXNlcjpub3BlCg"
    many = await data_of(browser, NODES, {"ids": [key_id, unknown, user_id, "garbage"]})
    assert many["nodes"] == [
        {"__typename": "ApiKey", "id": key_id}, None, {"__typename": "User", "id": user_id}, None,
    ]  # fmt: skip
    # Another user sees none of them (a key of someone else is null, not an error).
    other, _, _ = await signed_in(api, "other-nodes@example.com")
    for id in expected:
        assert (await data_of(other, NODE, {"id": id}))["node"] is None
    # An admin resolves users by id.
    admin = await data_of(api.fresh(), NODE, {"id": user_id}, headers={"X-Admin-Key": ADMIN_TOKEN})
    assert admin["node"] == {"__typename": "User", "id": user_id}


async def test_nodes_takes_at_most_a_hundred_ids(sqlite_api: Api) -> None:
    result = await sqlite_api.gql(NODES, {"ids": ["x"] * 101})
    assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
