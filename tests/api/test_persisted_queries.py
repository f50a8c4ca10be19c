"""Automatic persisted queries over HTTP (Apollo's protocol) on both backends, and
trusted documents (``KARPOV_GRAPHQL_TRUSTED_DOCUMENTS``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.documents.service import sha256_hex
from gateway.settings import ConfigError, load_settings
from tests.api.harness import Api, running_app

QUERY = "query Tz { runtimeConfig { timezone } }"
HASH = sha256_hex(QUERY)
GRAPHQL_RESPONSE = "application/graphql-response+json"


def apq(digest: str = HASH) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def post(api: Api, body: dict[str, Any], accept: str = "application/json") -> httpx.Response:
    return await api.http.post("/graphql", json=body, headers={"Accept": accept})


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def test_the_hash_alone_is_not_found_until_a_request_with_the_query_registers_it(
    api: Api,
) -> None:
    missing = await post(api, {"extensions": apq()})
    assert missing.status_code == 200  # application/json: a GraphQL error, as Apollo's
    assert codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert missing.headers["cache-control"] == "private, no-store"
    modern = await post(api, {"extensions": apq()}, GRAPHQL_RESPONSE)
    assert modern.status_code == 404
    assert "data" not in modern.json()

    registered = await post(api, {"query": QUERY, "extensions": apq()})
    assert registered.json() == {"data": {"runtimeConfig": {"timezone": "UTC"}}}

    by_hash = await post(api, {"extensions": apq(), "operationName": "Tz"})
    assert by_hash.json() == {"data": {"runtimeConfig": {"timezone": "UTC"}}}
    # GET with the hash (a short, cacheable URL), as useGETForHashedQueries sends it.
    get = await api.http.get(
        "/graphql", params={"operationName": "Tz", "extensions": json.dumps(apq())}
    )
    assert get.status_code == 200, get.text
    assert get.json() == {"data": {"runtimeConfig": {"timezone": "UTC"}}}


async def test_a_mismatched_hash_or_a_bad_extension_is_refused(api: Api) -> None:
    mismatch = await post(api, {"query": "{ __typename }", "extensions": apq()})
    assert codes(mismatch) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert (await post(api, {"extensions": apq()})).status_code == 200  # still unknown
    assert codes(await post(api, {"extensions": apq()})) == ["PERSISTED_QUERY_NOT_FOUND"]
    version = await post(
        api, {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": HASH}}}
    )
    assert codes(version) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
    malformed = await post(api, {"extensions": {"persistedQuery": {"version": 1}}})
    assert codes(malformed) == ["PERSISTED_QUERY_INVALID"]


async def test_a_document_that_does_not_validate_is_never_registered(api: Api) -> None:
    bad = "{ noSuchField }"
    first = await post(api, {"query": bad, "extensions": apq(sha256_hex(bad))})
    assert codes(first) == ["GRAPHQL_VALIDATION_FAILED"]
    again = await post(api, {"extensions": apq(sha256_hex(bad))})
    assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_mutation_by_hash_still_needs_a_post(api: Api) -> None:
    mutation = "mutation Out { accountLogout(input: {}) { ok } }"
    await post(api, {"query": mutation, "extensions": apq(sha256_hex(mutation))})
    get = await api.http.get(
        "/graphql", params={"extensions": json.dumps(apq(sha256_hex(mutation)))}
    )
    assert get.status_code == 405
    assert codes(get) == ["METHOD_NOT_ALLOWED"]


# -- trusted documents ---------------------------------------------------------------------


@pytest.fixture
def trusted_file(tmp_path: Path) -> Path:
    path = tmp_path / "trusted.json"
    path.write_text(json.dumps({HASH: QUERY}))
    return path


async def test_only_trusted_documents_run_when_a_file_is_configured(
    sqlite_url: str, trusted_file: Path
) -> None:
    async with running_app(sqlite_url, graphql_trusted_documents=str(trusted_file)) as (api, _):
        by_hash = await post(api, {"extensions": apq()})
        assert by_hash.json() == {"data": {"runtimeConfig": {"timezone": "UTC"}}}
        by_text = await post(api, {"query": QUERY})
        assert by_text.json() == {"data": {"runtimeConfig": {"timezone": "UTC"}}}
        other = "{ __typename }"
        refused = await post(api, {"query": other})
        assert codes(refused) == ["DOCUMENT_NOT_TRUSTED"]
        assert "KARPOV_GRAPHQL_TRUSTED_DOCUMENTS" in refused.json()["errors"][0]["message"]
        assert (await post(api, {"query": other}, GRAPHQL_RESPONSE)).status_code == 403
        # Registration is off: sending the query with its hash does not list it.
        assert codes(await post(api, {"query": other, "extensions": apq(sha256_hex(other))})) == [
            "DOCUMENT_NOT_TRUSTED"
        ]


def test_a_bad_trusted_documents_file_stops_start_up_naming_the_setting(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"0" * 64: QUERY}))
    for path in (tmp_path / "missing.json", wrong):
        with pytest.raises(ConfigError, match="KARPOV_GRAPHQL_TRUSTED_DOCUMENTS"):
            load_settings(graphql_trusted_documents=str(path))
