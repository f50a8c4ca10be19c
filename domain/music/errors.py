"""Errors of the music context.

Two families. ``ProviderFailure`` is raised by provider clients and never reaches a
caller: it names the release taxonomy result (``domain.pool.model.LeaseResult``) the
music service applies to the lease, and whether another credential may be tried. The
``DomainError`` subclasses are what callers see (404, 403 with a reason, 502, 503).
"""

from __future__ import annotations

from typing import ClassVar

from domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    UpstreamFailed,
)
from domain.leases import LeaseResult

# -- raised by provider clients -----------------------------------------------------------


class ProviderFailure(Exception):
    """An upstream call failed. ``upstream_code`` is the upstream's own code, for logs."""

    result: ClassVar[LeaseResult] = LeaseResult.UPSTREAM_ERROR
    retryable: ClassVar[bool] = True
    """Whether the same call may succeed with another credential."""

    def __init__(
        self,
        message: str = "",
        *,
        upstream_code: int | str | None = None,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message
        self.upstream_code = upstream_code
        self.retry_after = retry_after
        self.reason = reason
        """For ``UpstreamNoRights``: an ``UnavailableReason`` value."""


class UpstreamNotFound(ProviderFailure):
    result = LeaseResult.NOT_FOUND
    retryable = False


class UpstreamNoRights(ProviderFailure):
    result = LeaseResult.NO_RIGHTS
    retryable = False


class UpstreamRateLimit(ProviderFailure):
    result = LeaseResult.RATE_LIMITED


class UpstreamAuthFailed(ProviderFailure):
    result = LeaseResult.AUTH_FAILED


class UpstreamBadAnswer(ProviderFailure):
    """The upstream answered an error code or something we cannot read."""

    result = LeaseResult.UPSTREAM_ERROR


class UpstreamUnreachable(ProviderFailure):
    """Connection refused, reset, timed out."""

    result = LeaseResult.NETWORK_ERROR


# -- what callers see ---------------------------------------------------------------------


class InvalidMusicId(InvalidInput):
    code = "INVALID_MUSIC_ID"
    default_message = "not a music id (expected provider:kind:id)"


class InvalidCredentialPayload(InvalidInput):
    code = "INVALID_CREDENTIAL_PAYLOAD"
    default_message = "the credential payload is not usable for this provider"


class UnknownMusicProvider(NotFound):
    code = "MUSIC_PROVIDER_UNKNOWN"
    default_message = "unknown music provider"


class MusicProviderUnavailable(ServiceUnavailable):
    """The provider exists but has no client configured on this deployment."""

    code = "MUSIC_PROVIDER_UNAVAILABLE"
    default_message = "this music provider is not available on this server"


class MusicNotFound(NotFound):
    code = "MUSIC_NOT_FOUND"
    default_message = "no such song, album, artist, playlist or chart"


class MusicNoRights(Forbidden):
    code = "MUSIC_NO_RIGHTS"
    default_message = "this content cannot be played"

    def __init__(self, message: str | None = None, *, reason: str, field: str | None = None):
        super().__init__(message, field=field)
        self.reason = reason


class MusicUpstreamFailed(UpstreamFailed):
    code = "MUSIC_UPSTREAM_FAILED"
    default_message = "the music provider failed, try again later"


class NoUsableCredential(ServiceUnavailable):
    code = "POOL_EXHAUSTED"
    default_message = "no upstream account is available right now, try again later"


class MusicUpstreamRateLimited(ServiceUnavailable):
    code = "MUSIC_UPSTREAM_RATE_LIMITED"
    default_message = "the music provider is rate limiting us, try again later"

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


__all__ = [
    "DomainError",
    "InvalidCredentialPayload",
    "InvalidMusicId",
    "MusicNoRights",
    "MusicNotFound",
    "MusicOperationUnsupported",
    "MusicProviderUnavailable",
    "MusicQueryTooLong",
    "MusicUpstreamFailed",
    "MusicUpstreamRateLimited",
    "NoUsableCredential",
    "ProviderFailure",
    "StreamLinkInvalid",
    "UnknownMusicProvider",
    "UpstreamAuthFailed",
    "UpstreamBadAnswer",
    "UpstreamNoRights",
    "UpstreamNotFound",
    "UpstreamRateLimit",
    "UpstreamUnreachable",
]


class MusicOperationUnsupported(NotFound):
    """The provider exists but has no such operation (a local catalog has no VIP)."""

    code = "MUSIC_OPERATION_UNSUPPORTED"
    default_message = "this music provider does not offer this operation"


class MusicQueryTooLong(InvalidInput):
    code = "MUSIC_QUERY_INVALID"
    default_message = "the search query must be 1 to 200 characters"


class StreamLinkInvalid(Forbidden):
    code = "MUSIC_STREAM_LINK_INVALID"
    default_message = "this stream link is invalid or has expired; ask for a new play URL"
