"""Which document a request runs: Apollo's automatic persisted queries and trusted
documents (``domain.documents``), over the in-process store."""

from __future__ import annotations

import pytest

from domain.documents.errors import (
    DocumentNotTrusted,
    PersistedQueryHashMismatch,
    PersistedQueryInvalid,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
)
from domain.documents.service import (
    MAX_PERSISTED_BYTES,
    PersistedDocuments,
    Resolved,
    load_trusted_documents,
    sha256_hex,
)
from persistence.memory.documents import LruPersistedQueryStore

QUERY = "{ __typename }"
HASH = sha256_hex(QUERY)


def apq(digest: str = HASH, version: object = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def test_a_plain_query_runs_as_sent() -> None:
    documents = PersistedDocuments(LruPersistedQueryStore())
    assert await documents.resolve(QUERY, None) == Resolved(QUERY)
    assert await documents.resolve(None, {}) == Resolved(None)


async def test_an_unknown_hash_is_not_found_then_the_retry_registers_it() -> None:
    store = LruPersistedQueryStore()
    documents = PersistedDocuments(store)
    with pytest.raises(PersistedQueryNotFound) as raised:
        await documents.resolve(None, apq())
    assert raised.value.message == "PersistedQueryNotFound"  # what Apollo's clients match
    retry = await documents.resolve(QUERY, apq())
    assert retry == Resolved(QUERY, register_as=HASH)
    await documents.register(HASH, QUERY)
    assert await documents.resolve(None, apq()) == Resolved(QUERY)
    assert await documents.resolve(None, apq(HASH.upper())) == Resolved(QUERY)


@pytest.mark.parametrize(
    ("extensions", "error"),
    [
        (apq(version=2), PersistedQueryNotSupported),
        (apq(version="1"), PersistedQueryNotSupported),
        (apq(digest="abc"), PersistedQueryInvalid),
        (apq(digest="g" * 64), PersistedQueryInvalid),
        ({"persistedQuery": "x"}, PersistedQueryInvalid),
        ({"persistedQuery": {"version": 1}}, PersistedQueryInvalid),
    ],
)
async def test_a_malformed_extension_says_what_is_wrong(
    extensions: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await PersistedDocuments(LruPersistedQueryStore()).resolve(None, extensions)


async def test_a_query_that_does_not_match_its_hash_is_refused_and_not_registered() -> None:
    store = LruPersistedQueryStore()
    with pytest.raises(PersistedQueryHashMismatch):
        await PersistedDocuments(store).resolve("{ other }", apq())
    assert len(store) == 0


async def test_a_huge_document_runs_but_is_not_registered() -> None:
    big = "{ __typename }" + " " * MAX_PERSISTED_BYTES
    resolved = await PersistedDocuments(LruPersistedQueryStore()).resolve(big, apq(sha256_hex(big)))
    assert resolved == Resolved(big, register_as=None)


async def test_trusted_documents_run_by_hash_or_text_and_nothing_else_does() -> None:
    other = "query Other { __typename }"
    store = LruPersistedQueryStore()
    documents = PersistedDocuments(store, trusted={HASH.upper(): QUERY})
    assert documents.trusted_only
    assert await documents.resolve(None, apq()) == Resolved(QUERY)
    assert await documents.resolve(QUERY, None) == Resolved(QUERY)
    assert await documents.resolve(QUERY, apq()) == Resolved(QUERY)  # never registered
    with pytest.raises(DocumentNotTrusted):
        await documents.resolve(other, None)
    with pytest.raises(DocumentNotTrusted):
        await documents.resolve(None, apq(sha256_hex(other)))
    with pytest.raises(DocumentNotTrusted):  # registration is off
        await documents.resolve(other, apq(sha256_hex(other)))
    assert len(store) == 0


def test_trusted_documents_load_from_a_map_a_manifest_or_a_list() -> None:
    other = "query Other { __typename }"
    expected = {HASH: QUERY, sha256_hex(other): other}
    assert load_trusted_documents({HASH: QUERY, sha256_hex(other): other}) == expected
    assert load_trusted_documents([QUERY, other]) == expected
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": HASH, "name": "A", "type": "query", "body": QUERY},
            {"id": sha256_hex(other), "name": "Other", "type": "query", "body": other},
        ],
    }
    assert load_trusted_documents(manifest) == expected


@pytest.mark.parametrize(
    "bad",
    [{"0" * 64: QUERY}, {HASH: 1}, [""], "text", {"format": "apollo-persisted-query-manifest"}],
)
def test_a_bad_trusted_documents_file_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        load_trusted_documents(bad)


async def test_the_lru_is_bounded_by_entries_and_by_bytes() -> None:
    store = LruPersistedQueryStore(max_entries=2, max_bytes=10)
    await store.put("a", "1234")
    await store.put("b", "1234")
    assert await store.get("a") == "1234"  # a is now the most recent
    await store.put("c", "1234")
    assert await store.get("b") is None
    assert await store.get("a") == "1234"
    await store.put("d", "123456789")  # 4 + 9 > 10 bytes: the oldest go
    assert await store.get("a") is None
    assert await store.get("d") == "123456789"
    await store.put("e", "x" * 11)  # larger than the whole cache: not kept
    assert await store.get("e") is None
