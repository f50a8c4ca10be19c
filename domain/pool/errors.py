"""Errors of the credential pool."""

from __future__ import annotations

from domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    UpstreamFailed,
)


class PoolAdminRequired(Forbidden):
    code = "POOL_ADMIN_REQUIRED"
    default_message = "the credential pool is managed by admins only"


class PoolCredentialNotFound(NotFound):
    code = "POOL_CREDENTIAL_NOT_FOUND"
    default_message = "no such pool credential"


class PoolInvalidInput(InvalidInput):
    """A field of a pool request is malformed; ``field`` names it."""

    code = "POOL_INVALID_INPUT"
    default_message = "invalid pool request"


class PoolUnknownProvider(InvalidInput):
    code = "POOL_UNKNOWN_PROVIDER"
    default_message = "unknown provider"


class PoolInvalidPayload(InvalidInput):
    code = "POOL_INVALID_PAYLOAD"
    default_message = "the credential payload is not usable"


class PoolRefreshInProgress(Conflict):
    code = "POOL_REFRESH_IN_PROGRESS"
    default_message = "this credential is already being refreshed"


class PoolLifecycleUnavailable(ServiceUnavailable):
    """The provider has no credential lifecycle on this server (no client configured, or
    it has no upstream accounts to refresh or check)."""

    code = "POOL_LIFECYCLE_UNAVAILABLE"
    default_message = "this provider's credentials cannot be refreshed or tested on this server"


class PoolRefreshFailed(UpstreamFailed):
    code = "POOL_REFRESH_FAILED"
    default_message = "the provider refused to renew this login"


class PoolUnavailable(ServiceUnavailable):
    """The lease registry (Redis) cannot be reached: no credential can be leased safely."""

    code = "POOL_UNAVAILABLE"
    default_message = "the credential pool is unavailable, try again later"


# -- upstreams (issue 15): admin QR logins --------------------------------------------------


class QrLoginNotFound(NotFound):
    code = "QR_LOGIN_NOT_FOUND"
    default_message = "no such QR login session (unknown, finished or expired)"


class QrLoginUnavailable(ServiceUnavailable):
    code = "QR_LOGIN_UNAVAILABLE"
    default_message = "QR logins are not available on this server"


class QrLoginFailed(UpstreamFailed):
    code = "QR_LOGIN_FAILED"
    default_message = "the login page failed, try again"


class UpstreamLoginUnavailable(ServiceUnavailable):
    code = "UPSTREAM_LOGIN_UNAVAILABLE"
    default_message = "NetEase logins are not available on this server"


class UpstreamLoginFailed(UpstreamFailed):
    code = "UPSTREAM_LOGIN_FAILED"
    default_message = "NetEase could not be reached, try again"
