"""Which document a request runs: the query it sent, or the one its
``extensions.persistedQuery`` names by hash (Apollo's automatic persisted queries), and,
with trusted documents configured, only listed ones."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.documents.errors import (
    DocumentNotTrusted,
    PersistedQueryHashMismatch,
    PersistedQueryInvalid,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
)
from domain.documents.ports import PersistedQueryStore

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_PERSISTED_BYTES = 100_000
"""Longer documents run but are not registered (the store is a shared cache)."""


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Resolved:
    """The document to run, and the hash to register it under once it ran (a new
    automatic persisted query), if any."""

    document: str | None
    register_as: str | None = None


class PersistedDocuments:
    def __init__(
        self, store: PersistedQueryStore, *, trusted: Mapping[str, str] | None = None
    ) -> None:
        self._store = store
        self._trusted = (
            {key.lower(): value for key, value in trusted.items()} if trusted is not None else None
        )

    @property
    def trusted_only(self) -> bool:
        return self._trusted is not None

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolved:
        """The document for ``query`` and ``extensions``; raises the errors of
        ``domain.documents.errors``. ``Resolved(None)``: no document at all."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            trusted = self._trusted
            if query is not None and trusted is not None and sha256_hex(query) not in trusted:
                raise DocumentNotTrusted()
            return Resolved(query)
        digest = _hash_of(persisted)
        if query is not None:
            if sha256_hex(query) != digest:
                raise PersistedQueryHashMismatch()
            if self._trusted is not None:
                if digest not in self._trusted:
                    raise DocumentNotTrusted()
                return Resolved(query)
            register = digest if len(query.encode("utf-8")) <= MAX_PERSISTED_BYTES else None
            return Resolved(query, register_as=register)
        if self._trusted is not None:
            found = self._trusted.get(digest)
            if found is None:
                raise DocumentNotTrusted()
            return Resolved(found)
        stored = await self._store.get(digest)
        if stored is None:
            raise PersistedQueryNotFound()
        return Resolved(stored)

    async def register(self, digest: str, document: str) -> None:
        """Remember ``document`` under its hash (after it parsed and validated)."""
        await self._store.put(digest, document)


def _hash_of(persisted: object) -> str:
    if not isinstance(persisted, Mapping):
        raise PersistedQueryInvalid()
    if persisted.get("version") != 1:
        raise PersistedQueryNotSupported()
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.match(digest):
        raise PersistedQueryInvalid()
    return digest.lower()


def load_trusted_documents(data: Any) -> dict[str, str]:
    """Trusted documents from a parsed JSON file: ``{"<sha256>": "<document>", ...}``
    (graphql-codegen's persisted documents), Apollo's persisted query manifest
    (``{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}``),
    or a list of documents. Every hash must be the SHA-256 of its document; ``ValueError``
    says which one is not."""
    pairs: list[tuple[str | None, object]]
    if isinstance(data, list):
        pairs = [(None, item) for item in data]
    elif isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        operations = data.get("operations")
        if not isinstance(operations, list):
            raise ValueError("the manifest has no operations list")
        pairs = [
            (op.get("id"), op.get("body")) if isinstance(op, dict) else (None, op)
            for op in operations
        ]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise ValueError("expected a JSON object of hash -> document, a manifest or a list")
    documents: dict[str, str] = {}
    for given, document in pairs:
        if not isinstance(document, str) or not document.strip():
            raise ValueError(f"entry {given or len(documents)}: the document must be a string")
        digest = sha256_hex(document)
        if given is not None and (not isinstance(given, str) or given.lower() != digest):
            raise ValueError(f"entry {given!r}: the hash is not the SHA-256 of its document")
        documents[digest] = document
    return documents
