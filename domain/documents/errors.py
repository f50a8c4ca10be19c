"""The errors of persisted and trusted documents. The codes and the not-found message are
Apollo's, which its clients (and urql's, Relay's) recognise to retry with the query."""

from __future__ import annotations

from domain.errors import Forbidden, InvalidInput, NotFound


class PersistedQueryNotFound(NotFound):
    code = "PERSISTED_QUERY_NOT_FOUND"
    default_message = "PersistedQueryNotFound"


class PersistedQueryNotSupported(InvalidInput):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"
    default_message = "PersistedQueryNotSupported: only persistedQuery version 1 is supported"


class PersistedQueryInvalid(InvalidInput):
    code = "PERSISTED_QUERY_INVALID"
    default_message = (
        'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 hex digits>"}'
    )


class PersistedQueryHashMismatch(InvalidInput):
    code = "PERSISTED_QUERY_HASH_MISMATCH"
    default_message = "provided sha256Hash does not match the query"


class DocumentNotTrusted(Forbidden):
    code = "DOCUMENT_NOT_TRUSTED"
    default_message = (
        "only trusted documents run on this server (KARPOV_GRAPHQL_TRUSTED_DOCUMENTS): "
        "this one is not listed"
    )
