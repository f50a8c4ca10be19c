"""Failures of OAuth login.

Two families. ``DomainError`` subclasses are answers of the API (start, identities,
unlink) and are mapped by both edges like every other domain error. ``OAuthFlowError``
subclasses happen while a provider sends the browser back: they never become an API
error, only a redirect to ``{frontend}/oauth-error?code=<code>&message=…`` with the
original gateway's lower-case codes (reference §3.5)."""

from __future__ import annotations

from typing import ClassVar

from domain.errors import Conflict, DomainError, InvalidInput, NotFound


class UnknownOAuthProvider(InvalidInput):
    code = "OAUTH_UNKNOWN_PROVIDER"
    default_message = "unknown or disabled oauth provider"


class OAuthIdentityNotFound(NotFound):
    code = "OAUTH_IDENTITY_NOT_FOUND"
    default_message = "no linked account for this provider"


class LastSignInMethod(InvalidInput):
    code = "OAUTH_LAST_SIGN_IN_METHOD"
    default_message = (
        "this is your only way to sign in; set a password or link another provider first"
    )
    failed_precondition = True


class OAuthAlreadyBound(Conflict):
    """The provider account is linked to another user, or the user already has an account
    of this provider linked (both unique in the store)."""

    code = "OAUTH_ALREADY_BOUND"
    default_message = "this provider account is already linked"


class OAuthProviderUnavailable(DomainError):
    code = "OAUTH_PROVIDER_UNAVAILABLE"
    default_message = "the oauth provider cannot be reached, try again later"
    http_status = 502


class OAuthFlowError(Exception):
    """A callback that cannot complete; ``code`` is the original's redirect code."""

    code: ClassVar[str] = "internal"
    default_message: ClassVar[str] = "sign-in with the provider failed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class TokenExchangeFailed(OAuthFlowError):
    code = "exchange_failed"
    default_message = "the authorization code could not be exchanged"


class EmptyTokenResponse(OAuthFlowError):
    code = "exchange_empty_token"
    default_message = "the provider granted no access token"


class IdTokenInvalid(OAuthFlowError):
    """New with OpenID Connect (the original had only Linux.do): the ID token's signature,
    issuer, audience, expiry or nonce is wrong."""

    code = "id_token_invalid"
    default_message = "the provider's id token is invalid"


class UserinfoFailed(OAuthFlowError):
    code = "userinfo_failed"
    default_message = "the provider profile could not be fetched"


class ProfileRejected(OAuthFlowError):
    code = "validate_failed"
    default_message = "the provider account does not meet the sign-in requirements"
