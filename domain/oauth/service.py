"""OAuth login: start a flow, finish it on the callback, list and unlink identities.

Rules beyond the original (reference §3.5 and §6 item 9):

* The flow is stored server-side (SQL or Redis) under the SHA-256 of a random ``state``,
  bound to the starting browser by a random value in an HttpOnly cookie (only its hash is
  stored) and to the intent; it is taken atomically, so it works once, across processes,
  for 15 minutes. The PKCE verifier is derived from that cookie value and the state, so the
  stored record alone cannot redeem a code.
* Accounts are linked by provider subject only. ``login`` never links to an existing
  account: a provider-verified e-mail that belongs to a local user answers
  ``email_exists`` (sign in, then link with ``bind``); ``bind`` links to the signed-in user
  who started the flow and nobody else (``session_mismatch``).
* A new account gets the provider's e-mail only when the provider asserts it is verified;
  otherwise a never-deliverable placeholder (``linuxdo-1001@oauth.invalid``). It has no
  password (password login refuses it) until the user sets one.
* A new account passes the registration rules of password registration (the same
  ``RegistrationRules``): the e-mail domain lists (for a verified provider e-mail, the
  account's address), the hourly cap per client address and the one-account-per-address
  rule; a refusal is ``email_domain_not_allowed`` / ``register_limited`` and creates nothing.
* ``start`` is limited per client address (30 flows per 10 minutes): each one stores a
  record.
* A provider's ``error`` answer shows the provider's text only when the state and the
  browser binding check out; otherwise a fixed message, and the code only when it is one
  of the standard OAuth / OpenID codes (else ``provider_error``): a crafted link cannot put
  words on the real frontend.
* Provider checks (Linux.do trust level, ``active``) run on every login.
* An account with two-factor authentication gets a login challenge, never a session.
* Tokens are sealed with the key ring (AES-256-GCM, associated data
  ``oauth:<provider>:<subject>``) and never leave the service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

from domain.accounts.emails import normalize_email
from domain.accounts.errors import EmailDomainNotAllowed, EmailTaken, RegisterIpLimit, UserNotFound
from domain.accounts.model import Role, User, UserStatus
from domain.accounts.ports import SecondFactor
from domain.accounts.service import RegistrationRules
from domain.accounts.sessions import SessionIssuer
from domain.clock import Clock
from domain.errors import (
    DomainError,
    InvalidInput,
    RateLimited,
    Unauthenticated,
)
from domain.ids import new_id, new_token, token_hash
from domain.keyring_service import KeyRingProvider
from domain.oauth.errors import (
    LastSignInMethod,
    OAuthAlreadyBound,
    OAuthFlowError,
    OAuthIdentityNotFound,
    TokenExchangeFailed,
    UnknownOAuthProvider,
)
from domain.oauth.model import (
    AuthorizationRequest,
    CallbackKind,
    CallbackOutcome,
    OAuthIdentity,
    OAuthIntent,
    OAuthState,
    ProviderInfo,
    ProviderProfile,
    ProviderTokens,
    StartedFlow,
)
from domain.oauth.ports import OAuthProvider, OAuthStateStore, UnitOfWorkFactory
from domain.oauth.redirects import RedirectTargets
from domain.principal import AuthMethod, Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction, WindowRule
from domain.security.ports import ThrottleStore
from domain.security.throttle import enforce_windows

log = logging.getLogger("karpov.oauth")

STATE_TTL = timedelta(minutes=15)
STARTS_PER_IP = 30
STARTS_WINDOW_SECONDS = 600
"""Each ``start`` stores a flow record: at most 30 per client address per 10 minutes."""
PLACEHOLDER_DOMAIN = "oauth.invalid"
"""RFC 2606 reserves ``.invalid``: mail to a placeholder address can never be delivered."""
_BINDING = re.compile(r"^[A-Za-z0-9_-]{43}$")
_PROVIDER_ERROR = re.compile(r"^[a-z0-9_.-]{1,64}$")
_SAFE_SUBJECT = re.compile(r"^[a-z0-9_-]{1,40}$")
STANDARD_ERRORS = frozenset(
    {
        # RFC 6749 §4.1.2.1
        "access_denied", "invalid_request", "unauthorized_client",
        "unsupported_response_type", "invalid_scope", "server_error",
        "temporarily_unavailable",
        # OpenID Connect Core §3.1.2.6
        "interaction_required", "login_required", "account_selection_required",
        "consent_required", "invalid_request_uri", "invalid_request_object",
        "request_not_supported", "request_uri_not_supported", "registration_not_supported",
    }
)  # fmt: skip
"""Provider error codes shown even when the callback carries no flow of this browser."""
UNVERIFIED_ERROR_MESSAGE = "the provider did not complete the sign-in; start again"


def token_aad(provider: str, subject: str) -> bytes:
    return f"oauth:{provider}:{subject}".encode()


def state_cookie_name(provider: str) -> str:
    return f"oauth_state_{provider}"


def code_verifier(binding: str, state: str) -> str:
    """The PKCE verifier of a flow: 43 characters of HMAC-SHA256(cookie value, state)."""
    digest = hmac.new(binding.encode(), b"pkce:" + state.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class CallbackParams:
    """The query of ``GET /v1/auth/oauth/{provider}/callback``."""

    code: str | None = None
    state: str | None = None
    error: str | None = None
    error_description: str | None = None


class _Refused(Exception):
    def __init__(self, code: str, message: str, user_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.user_id = user_id


@contextmanager
def _step(code: str, message: str) -> Iterator[None]:
    """An unexpected failure inside this step becomes the original's code for it
    (``identity_lookup_failed``, ``create_user_failed``…); expected outcomes pass."""
    try:
        yield
    except (_Refused, DomainError):
        raise
    except Exception:
        log.exception("oauth callback step failed", extra={"step": code})
        raise _Refused(code, message) from None


class OAuthService:
    def __init__(
        self,
        *,
        providers: Sequence[OAuthProvider],
        uow: UnitOfWorkFactory,
        states: OAuthStateStore,
        keys: KeyRingProvider,
        issuer: SessionIssuer,
        clock: Clock,
        frontend_base_url: str,
        second_factor: SecondFactor,
        audit: AuditLog,
        registration: RegistrationRules,
        throttle: ThrottleStore,
        state_ttl: timedelta = STATE_TTL,
        starts_per_ip: int = STARTS_PER_IP,
    ) -> None:
        self._providers = {p.name: p for p in providers}
        self._uow = uow
        self._states = states
        self._keys = keys
        self._issuer = issuer
        self._clock = clock
        self._targets = RedirectTargets(frontend_base_url)
        self._second_factor = second_factor
        self._audit = audit
        self._state_ttl = state_ttl
        self._registration = registration
        self._throttle = throttle
        self._starts_per_ip = starts_per_ip

    # -- starting ---------------------------------------------------------------------

    def providers(self) -> list[ProviderInfo]:
        return [ProviderInfo(p.name, p.display_name) for p in self._providers.values()]

    async def start(
        self,
        principal: Principal,
        provider_name: str,
        *,
        intent: str | None = None,
        next_url: str | None = None,
    ) -> StartedFlow:
        provider = self._provider(provider_name)
        flow_intent = _parse_intent(intent)
        checked_next = self._targets.check_next(next_url)
        user_id = None
        if flow_intent is OAuthIntent.BIND:
            # Linking changes how the account can be entered: a person, not an API key.
            if principal.method is not AuthMethod.SESSION or principal.user_id is None:
                raise Unauthenticated("sign in to link a provider account")
            user_id = principal.user_id
        if self._starts_per_ip > 0:
            await enforce_windows(
                self._throttle,
                [
                    WindowRule(
                        f"oauth:start:ip:{principal.client_ip or '-'}",
                        self._starts_per_ip,
                        STARTS_WINDOW_SECONDS,
                    )
                ],
                self._clock.now().timestamp(),
                "too many sign-ins started from this address; try again later",
            )
        state, binding, nonce = new_token(), new_token(), new_token(16)
        request = AuthorizationRequest(
            state=state,
            code_verifier=code_verifier(binding, state),
            nonce=nonce,
            redirect_uri=provider.redirect_uri,
        )
        url = await provider.authorization_url(request)
        now = self._clock.now()
        await self._states.add(
            OAuthState(
                state_hash=token_hash(state),
                provider=provider.name,
                intent=flow_intent,
                binding_hash=token_hash(binding),
                nonce=nonce,
                created_at=now,
                expires_at=now + self._state_ttl,
                next_url=checked_next,
                user_id=user_id,
            )
        )
        return StartedFlow(
            authorization_url=url,
            cookie_name=state_cookie_name(provider.name),
            cookie_value=binding,
            cookie_max_age=int(self._state_ttl.total_seconds()),
        )

    # -- the callback -------------------------------------------------------------------

    async def complete(
        self, principal: Principal, provider_name: str, params: CallbackParams, binding: str | None
    ) -> CallbackOutcome:
        """Finish a flow. Never raises for a refused flow: every outcome is a redirect."""
        cookie = state_cookie_name(provider_name) if provider_name in self._providers else None
        try:
            return await self._complete(principal, provider_name, params, binding)
        except _Refused as refused:
            failure = refused
        except Exception:
            # The browser is mid-navigation: it gets the frontend's error page, not JSON.
            log.exception("oauth callback failed", extra={"provider": provider_name[:32]})
            failure = _Refused("internal", "sign-in with the provider failed; try again")
        await self._audit.record(
            AuditAction.OAUTH_LOGIN_REFUSED, principal, subject_user_id=failure.user_id,
            provider=provider_name[:32], reason=failure.code,
        )  # fmt: skip
        return CallbackOutcome(
            kind=CallbackKind.FAILED,
            location=self._targets.error(failure.code, failure.message),
            cookie_name=cookie,
            error_code=failure.code,
        )

    async def _complete(
        self, principal: Principal, provider_name: str, params: CallbackParams, binding: str | None
    ) -> CallbackOutcome:
        provider = self._providers.get(provider_name)
        if provider is None:
            raise _Refused("unknown_provider", "unknown oauth provider")
        if params.error:
            errored = await self._errored_flow(provider, params, binding)
            if errored is None:
                # Anyone can craft this link: show no text of theirs on our frontend.
                code = params.error if params.error in STANDARD_ERRORS else "provider_error"
                raise _Refused(code, UNVERIFIED_ERROR_MESSAGE)
            code = params.error if _PROVIDER_ERROR.match(params.error) else "provider_error"
            raise _Refused(code, (params.error_description or params.error)[:199], errored.user_id)
        flow = await self._take_flow(provider, params, binding)
        assert binding is not None
        if not params.code:
            raise _Refused(TokenExchangeFailed.code, "the provider sent no authorization code")
        request = AuthorizationRequest(
            state=params.state or "",
            code_verifier=code_verifier(binding, params.state or ""),
            nonce=flow.nonce,
            redirect_uri=provider.redirect_uri,
        )
        try:
            tokens = await provider.exchange_code(params.code, request)
            profile = await provider.fetch_profile(tokens)
            provider.validate(profile)
        except OAuthFlowError as error:
            raise _Refused(error.code, error.message) from None
        if flow.intent is OAuthIntent.BIND:
            return await self._bind(principal, provider, flow, profile, tokens)
        return await self._login(principal, provider, flow, profile, tokens)

    async def _take_flow(
        self, provider: OAuthProvider, params: CallbackParams, binding: str | None
    ) -> OAuthState:
        """The original's checks, in its order, on our server-side record."""
        if not binding:
            raise _Refused("state_missing", "the sign-in cookie is missing; start again")
        if not _BINDING.match(binding):
            raise _Refused("state_invalid", "the sign-in cookie is malformed; start again")
        if not params.state:
            raise _Refused("state_mismatch", "the provider sent no state; start again")
        flow = await self._states.take(token_hash(params.state))
        if flow is None or flow.expires_at <= self._clock.now():
            raise _Refused("state_invalid", "the sign-in is unknown, used or expired; start again")
        if flow.provider != provider.name:
            raise _Refused(
                "state_provider_mismatch", "the sign-in was started for another provider"
            )
        if not hmac.compare_digest(flow.binding_hash, token_hash(binding)):
            raise _Refused("state_mismatch", "the sign-in was started in another browser")
        return flow

    async def _errored_flow(
        self, provider: OAuthProvider, params: CallbackParams, binding: str | None
    ) -> OAuthState | None:
        """The flow a provider's error answer ends, when this browser started it (the
        same checks as a success); ``None`` otherwise. Its record is taken either way:
        the flow is over and must not be reusable."""
        if not params.state:
            return None
        flow = await self._states.take(token_hash(params.state))
        if (
            flow is None
            or flow.expires_at <= self._clock.now()
            or flow.provider != provider.name
            or not binding
            or not _BINDING.match(binding)
            or not hmac.compare_digest(flow.binding_hash, token_hash(binding))
        ):
            return None
        return flow

    async def _bind(
        self,
        principal: Principal,
        provider: OAuthProvider,
        flow: OAuthState,
        profile: ProviderProfile,
        tokens: ProviderTokens,
    ) -> CallbackOutcome:
        user_id = principal.user_id if principal.method is AuthMethod.SESSION else None
        if user_id is None or user_id != flow.user_id:
            raise _Refused(
                "session_mismatch", "sign in as the account that started linking", flow.user_id
            )
        with _step("identity_lookup_failed", "the linked account could not be looked up"):
            async with self._uow() as uow:
                existing = await uow.identities.get(provider.name, profile.subject)
        if existing is not None and existing.user_id != user_id:
            raise _Refused(
                "already_bound", "this provider account is linked to another user", user_id
            )
        if existing is not None:
            with _step("identity_upsert_failed", "the linked account could not be updated"):
                await self._refresh(existing, profile, tokens, login=False)
        else:
            try:
                with _step("identity_upsert_failed", "the account could not be linked"):
                    await self._link(user_id, provider.name, profile, tokens)
            except OAuthAlreadyBound:
                raise _Refused(
                    "already_bound",
                    "a provider account is already linked here, or this one is linked elsewhere",
                    user_id,
                ) from None
            await self._audit.record(
                AuditAction.OAUTH_LINKED, principal, subject_user_id=user_id,
                provider=provider.name, subject=profile.subject,
            )  # fmt: skip
        return CallbackOutcome(
            kind=CallbackKind.BOUND,
            location=self._targets.after_bind(),
            cookie_name=state_cookie_name(provider.name),
        )

    async def _login(
        self,
        principal: Principal,
        provider: OAuthProvider,
        flow: OAuthState,
        profile: ProviderProfile,
        tokens: ProviderTokens,
    ) -> CallbackOutcome:
        signed_in_as = principal.user_id if principal.method is AuthMethod.SESSION else None
        with _step("identity_lookup_failed", "the linked account could not be looked up"):
            async with self._uow() as uow:
                existing = await uow.identities.get(provider.name, profile.subject)
                user = None if existing is None else await uow.users.get(existing.user_id)
        if existing is not None:
            if signed_in_as is not None and signed_in_as != existing.user_id:
                raise _Refused(
                    "already_bound",
                    "this provider account belongs to another user; sign out first",
                    signed_in_as,
                )
            if user is None:
                raise _Refused("linked_user_missing", "the linked account no longer exists")
            if user.status is not UserStatus.ACTIVE:
                raise _Refused("account_locked", "the account is locked or disabled", user.id)
            with _step("identity_upsert_failed", "the linked account could not be updated"):
                await self._refresh(existing, profile, tokens, login=True)
        else:
            if signed_in_as is not None:
                raise _Refused(
                    "session_mismatch",
                    "you are signed in; link this provider from your settings instead",
                    signed_in_as,
                )
            with _step("create_user_failed", "the account could not be created"):
                user = await self._create_account(principal, provider, profile, tokens)
        return await self._sign_in(principal, provider, flow, user)

    async def _sign_in(
        self, principal: Principal, provider: OAuthProvider, flow: OAuthState, user: User
    ) -> CallbackOutcome:
        ip, ua = principal.client_ip, principal.user_agent
        cookie = state_cookie_name(provider.name)
        if user.totp_enabled:
            with _step("session_issue_failed", "the sign-in could not be completed"):
                challenge = await self._second_factor.open_challenge(
                    user, client_ip=ip, user_agent=ua
                )
            await self._audit.record(
                AuditAction.OAUTH_LOGIN, principal, subject_user_id=user.id,
                provider=provider.name, second_factor="required",
            )  # fmt: skip
            return CallbackOutcome(
                kind=CallbackKind.TOTP_REQUIRED,
                location=self._targets.totp_challenge(challenge, flow.next_url),
                cookie_name=cookie,
                user=user,
            )
        await self._audit.record(
            AuditAction.OAUTH_LOGIN, principal, subject_user_id=user.id, provider=provider.name
        )
        with _step("session_issue_failed", "the session could not be issued"):
            user, issued = await self._issuer.sign_in(
                user, client_ip=ip, user_agent=ua, method="oauth", provider=provider.name
            )
        return CallbackOutcome(
            kind=CallbackKind.SIGNED_IN,
            location=self._targets.after_login(flow.next_url),
            cookie_name=cookie,
            user=user,
            issued=issued,
        )

    async def _create_account(
        self,
        principal: Principal,
        provider: OAuthProvider,
        profile: ProviderProfile,
        tokens: ProviderTokens,
    ) -> User:
        verified = _verified_email(profile)
        client_ip = principal.client_ip
        try:
            # Password registration's rules, in its order (domain lists, hourly cap per
            # address; the one-account-per-address claim last, before storing).
            await self._registration.admit(verified, client_ip)
        except EmailDomainNotAllowed as refused:
            raise _Refused("email_domain_not_allowed", refused.message) from None
        except RateLimited as refused:
            raise _Refused("register_limited", refused.message) from None
        if verified is not None:
            async with self._uow() as uow:
                if await uow.users.get_by_email(verified) is not None:
                    raise _Refused(
                        "email_exists",
                        "an account with this e-mail exists; sign in and link the provider "
                        "from your settings",
                    )
        try:
            claim = await self._registration.ip_claim(client_ip)
        except RegisterIpLimit as refused:
            raise _Refused("register_limited", refused.message) from None
        now = self._clock.now()
        candidates = [verified] if verified else _placeholder_emails(provider.name, profile.subject)
        identity = await self._new_identity("", provider.name, profile, tokens)
        for email in candidates:
            user = User(
                id=new_id(),
                email=email,
                password_hash=None,
                status=UserStatus.ACTIVE,
                role=Role.USER,
                created_at=now,
                updated_at=now,
                register_ip=client_ip,
                ip_claim=claim,
            )
            try:
                async with self._uow() as uow:
                    await uow.users.add(user)
                    await uow.identities.add(replace(identity, user_id=user.id))
                    await uow.commit()
            except EmailTaken:
                continue
            except RegisterIpLimit as refused:  # a concurrent registration took the address
                raise _Refused("register_limited", refused.message) from None
            except OAuthAlreadyBound:  # a concurrent callback of the same account won
                raise _Refused("already_bound", "this provider account is already linked") from None
            await self._audit.record(
                AuditAction.REGISTER, subject_user_id=user.id, client_ip=principal.client_ip,
                user_agent=principal.user_agent, method="oauth", provider=provider.name,
            )  # fmt: skip
            await self._audit.record(
                AuditAction.OAUTH_LINKED, subject_user_id=user.id, client_ip=principal.client_ip,
                user_agent=principal.user_agent, provider=provider.name, subject=profile.subject,
            )  # fmt: skip
            return user
        raise _Refused(
            "email_exists",
            "an account with this e-mail exists; sign in and link the provider from your settings",
        )

    async def _link(
        self, user_id: str, provider: str, profile: ProviderProfile, tokens: ProviderTokens
    ) -> None:
        identity = await self._new_identity(user_id, provider, profile, tokens)
        async with self._uow() as uow:
            user = await uow.users.get_for_update(user_id)
            if user is None:
                raise UserNotFound()
            await uow.identities.add(identity)
            await uow.commit()

    async def _new_identity(
        self, user_id: str, provider: str, profile: ProviderProfile, tokens: ProviderTokens
    ) -> OAuthIdentity:
        now = self._clock.now()
        access, refresh = await self._seal(provider, profile.subject, tokens)
        return OAuthIdentity(
            id=new_id(),
            user_id=user_id,
            provider=provider,
            subject=profile.subject,
            created_at=now,
            updated_at=now,
            login=profile.login,
            email=profile.email,
            name=profile.name,
            avatar_url=profile.avatar_url,
            trust_level=profile.trust_level,
            scopes=tokens.scopes,
            access_token_enc=access,
            refresh_token_enc=refresh,
            token_expires_at=tokens.expires_at,
            last_login_at=now,
        )

    async def _refresh(
        self,
        identity: OAuthIdentity,
        profile: ProviderProfile,
        tokens: ProviderTokens,
        *,
        login: bool,
    ) -> None:
        now = self._clock.now()
        access, refresh = await self._seal(identity.provider, identity.subject, tokens)
        updated = replace(
            identity,
            login=profile.login,
            email=profile.email,
            name=profile.name,
            avatar_url=profile.avatar_url,
            trust_level=profile.trust_level,
            scopes=tokens.scopes,
            access_token_enc=access,
            refresh_token_enc=refresh or identity.refresh_token_enc,
            token_expires_at=tokens.expires_at,
            updated_at=now,
            last_login_at=now if login else identity.last_login_at,
        )
        async with self._uow() as uow:
            await uow.identities.update(updated)
            await uow.commit()

    async def _seal(
        self, provider: str, subject: str, tokens: ProviderTokens
    ) -> tuple[bytes, bytes | None]:
        aad = token_aad(provider, subject)
        access = await self._keys.encrypt(tokens.access_token.encode(), aad)
        refresh = (
            await self._keys.encrypt(tokens.refresh_token.encode(), aad)
            if tokens.refresh_token
            else None
        )
        return access, refresh

    # -- identities ---------------------------------------------------------------------

    async def identities(self, principal: Principal) -> list[OAuthIdentity]:
        user_id = _require_user(principal)
        async with self._uow() as uow:
            return await uow.identities.list_for_user(user_id)

    async def unlink(self, principal: Principal, provider_name: str) -> None:
        """Allowed while another way to sign in remains: a password, or another identity of
        a provider that is still configured.

        Needs a signed-in session: unlinking changes how the account can be entered, which
        an API key must not do (listing identities stays open to a key, like listing keys)."""
        if principal.method is not AuthMethod.SESSION or principal.user_id is None:
            raise Unauthenticated("unlinking a provider needs a signed-in session")
        user_id = principal.user_id
        async with self._uow() as uow:
            # The user's row lock serialises two unlinks racing to remove the last two.
            user = await uow.users.get_for_update(user_id)
            if user is None:
                raise UserNotFound()
            identities = await uow.identities.list_for_user(user_id)
            if not any(i.provider == provider_name for i in identities):
                raise OAuthIdentityNotFound(field="provider")
            others = [
                i
                for i in identities
                if i.provider != provider_name and i.provider in self._providers
            ]
            if not others and user.password_hash is None:
                raise LastSignInMethod(field="provider")
            await uow.identities.delete(user_id, provider_name)
            await uow.commit()
        await self._audit.record(
            AuditAction.OAUTH_UNLINKED, principal, subject_user_id=user_id, provider=provider_name
        )

    # -- helpers ------------------------------------------------------------------------

    def _provider(self, name: str) -> OAuthProvider:
        provider = self._providers.get(name)
        if provider is None:
            raise UnknownOAuthProvider(field="provider")
        return provider


def _parse_intent(raw: str | None) -> OAuthIntent:
    if raw is None or raw == "":
        return OAuthIntent.LOGIN
    try:
        return OAuthIntent(raw.strip().lower())
    except ValueError:
        raise InvalidInput("intent must be login or bind", field="intent") from None


def _require_user(principal: Principal) -> str:
    if principal.user_id is None:
        raise Unauthenticated()
    return principal.user_id


def _verified_email(profile: ProviderProfile) -> str | None:
    if not profile.email or not profile.email_verified:
        return None
    try:
        return normalize_email(profile.email)
    except InvalidInput:
        return None


def _placeholder_emails(provider: str, subject: str) -> list[str]:
    """``linuxdo-1001@oauth.invalid``, then a variant with a random suffix (in case an
    earlier account of the same subject still holds the first one)."""
    key = subject.lower() if _SAFE_SUBJECT.match(subject.lower()) else ""
    if key != subject:  # mixed case or unusual characters: hash, so two never collide
        key = hashlib.sha256(subject.encode()).hexdigest()[:32]
    first = f"{provider}-{key}@{PLACEHOLDER_DOMAIN}"
    return [
        first,
        f"{provider}-{key}-{new_token(6).lower().replace('_', 'x')}@{PLACEHOLDER_DOMAIN}",
    ]
