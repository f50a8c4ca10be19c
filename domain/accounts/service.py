"""Use cases of the accounts context: registration, sign-in, sessions, password change."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.email_policy import EmailFlowsPolicy, VerificationMode
from domain.accounts.emails import normalize_email
from domain.accounts.errors import (
    AccountLocked,
    AccountNotActivated,
    BreachCheckUnavailable,
    EmailTaken,
    InvalidCredentials,
    PasswordAlreadySet,
    PwnedPassword,
    RegisterIpLimit,
    SessionNotFound,
    UserNotFound,
    WeakPassword,
)
from domain.accounts.model import (
    LoginResult,
    RegisterResult,
    Role,
    Session,
    User,
    UserStatus,
)
from domain.accounts.passwords import MAX_PASSWORD_LENGTH, strength_score
from domain.accounts.policy import AccountPolicy, BreachCheckMode
from domain.accounts.ports import (
    BreachedPasswordChecker,
    PasswordHasher,
    SecondFactor,
    SessionStore,
    UnitOfWorkFactory,
)
from domain.accounts.sessions import SessionIssuer
from domain.clock import Clock
from domain.errors import InvalidInput, RateLimited, Unauthenticated
from domain.ids import new_id, token_hash
from domain.principal import AuthMethod, Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction, BackoffRule, WindowRule
from domain.security.ports import ThrottleStore
from domain.security.throttle import enforce_windows
from domain.singleflight import SingleFlight

if TYPE_CHECKING:
    from domain.accounts.activation import Activation
    from domain.accounts.email_codes import EmailCodes

log = logging.getLogger("karpov.accounts")


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The outcome of resolving a bearer session token."""

    session: Session
    user: User

    def principal(self, client_ip: str | None, user_agent: str | None) -> Principal:
        return Principal(
            AuthMethod.SESSION,
            user_id=self.user.id,
            role=self.user.role,
            session_id=self.session.id,
            client_ip=client_ip,
            user_agent=user_agent,
        )


def login_throttle_keys(email: str, client_ip: str | None) -> tuple[str, str]:
    """The back-off keys of an account and of a client address (admin unlock resets the
    account key)."""
    return f"login:account:{email}", f"login:ip:{client_ip or '-'}"


@dataclass(frozen=True, slots=True)
class EmailFlows:
    """The e-mail side of registration: policy, verification codes, activation links."""

    policy: EmailFlowsPolicy
    codes: EmailCodes
    activation: Activation


class RegistrationRules:
    """Who may open an account, and how often (reference §3.1): the e-mail domain allow and
    block lists, the hourly cap of registrations per client address and the
    one-account-per-address rule. Password registration and sign-up through an OAuth
    provider both go through these, so neither path skips one; the hourly window key
    (``register:ip:<address>``) is shared, so the two paths count together."""

    def __init__(
        self,
        policy: EmailFlowsPolicy,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        throttle: ThrottleStore,
    ) -> None:
        self._policy = policy
        self._uow = uow
        self._clock = clock
        self._throttle = throttle

    async def admit(self, email: str | None, client_ip: str | None) -> None:
        """The first checks of a registration: the domain lists for ``email`` (``None`` when
        the account gets no real address, e.g. a provider placeholder), then one attempt
        against the hourly cap of ``client_ip``. ``EmailDomainNotAllowed`` /
        ``RateLimited``."""
        if email is not None:
            self._policy.check_domain(email)
        if self._policy.registrations_per_ip_per_hour > 0:
            await enforce_windows(
                self._throttle,
                [
                    WindowRule(
                        f"register:ip:{client_ip or '-'}",
                        self._policy.registrations_per_ip_per_hour,
                        3600,
                    )
                ],
                self._clock.now().timestamp(),
                "too many registrations from this address; try again later",
            )

    async def ip_claim(self, client_ip: str | None) -> str | None:
        """The last check before the account is stored: the address it claims under the
        one-account-per-address rule (store it as ``User.ip_claim``; the unique index
        decides races), or ``None`` when the rule does not apply. ``RegisterIpLimit`` when
        an account already claims it."""
        claim = self._policy.ip_claim(client_ip)
        if claim is not None:
            async with self._uow() as uow:
                if await uow.users.ip_claimed(claim):
                    raise RegisterIpLimit()
        return claim


class PasswordRules:
    """Length, strength and breach rules shared by every path that sets a password."""

    def __init__(
        self, policy: AccountPolicy, breach_checker: BreachedPasswordChecker | None
    ) -> None:
        self._policy = policy
        self._breaches = breach_checker

    async def check(self, password: str, *, field: str = "password") -> None:
        if not password:
            raise InvalidInput("password is required", field=field)
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidInput(
                f"password must be at most {MAX_PASSWORD_LENGTH} characters", field=field
            )
        if strength_score(password) < self._policy.min_password_strength:
            raise WeakPassword(field=field)
        await self._check_breaches(password, field)

    async def _check_breaches(self, password: str, field: str) -> None:
        mode = self._policy.breach_check
        if mode is BreachCheckMode.OFF or self._breaches is None:
            return
        try:
            count = await self._breaches.times_pwned(password)
        except BreachCheckUnavailable:
            if mode is BreachCheckMode.FAIL_CLOSED:
                raise
            log.warning("breach check unavailable; accepted the password (fail-open)")
            return
        if count > 0:
            raise PwnedPassword(field=field)


class AccountService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        sessions: SessionStore,
        hasher: PasswordHasher,
        password_rules: PasswordRules,
        clock: Clock,
        policy: AccountPolicy,
        cache: AuthenticationCache,
        issuer: SessionIssuer,
        registration: RegistrationRules,
        second_factor: SecondFactor,
        throttle: ThrottleStore,
        audit: AuditLog,
        flows: EmailFlows,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._hasher = hasher
        self._rules = password_rules
        self._clock = clock
        self._policy = policy
        self._cache = cache
        self._lookups = SingleFlight()  # perf (issue 18)
        self._audit = audit
        self._issuer = issuer
        self._second_factor = second_factor
        self._throttle = throttle
        self._flows = flows
        self._registration = registration

    # -- registration and sign-in -------------------------------------------------------

    async def register(
        self,
        email: str,
        password: str,
        *,
        client_ip: str | None = None,
        user_agent: str | None = None,
        verification_code: str | None = None,
    ) -> RegisterResult:
        """The original's order: domain policy, strength, breach check, duplicate, e-mail
        code, one account per address; then create (pending when activation is on)."""
        email = normalize_email(email)
        flows = self._flows
        await self._registration.admit(email, client_ip)
        await self._rules.check(password)
        async with self._uow() as uow:
            if await uow.users.get_by_email(email) is not None:
                raise EmailTaken(field="email")
        mode = flows.policy.verification
        if mode is VerificationMode.REQUIRED or (
            mode is VerificationMode.OPTIONAL and verification_code
        ):
            await flows.codes.consume(
                email, verification_code, client_ip=client_ip, user_agent=user_agent
            )
        claim = await self._registration.ip_claim(client_ip)
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        needs_activation = flows.activation.required
        user = User(
            id=new_id(),
            email=email,
            password_hash=password_hash,
            status=UserStatus.PENDING_EMAIL if needs_activation else UserStatus.ACTIVE,
            role=Role.USER,
            created_at=now,
            updated_at=now,
            register_ip=client_ip,
            ip_claim=claim,
        )
        async with self._uow() as uow:
            await uow.users.add(user)  # unique indexes decide concurrent races
            await uow.commit()
        sent = await flows.activation.send_link(user) if needs_activation else False
        await self._audit.record(
            AuditAction.REGISTER, subject_user_id=user.id, client_ip=client_ip,
            user_agent=user_agent,
        )  # fmt: skip
        return RegisterResult(
            user=user,
            email_verification_required=mode is VerificationMode.REQUIRED,
            activation_email_sent=sent,
        )

    async def login(
        self,
        email: str,
        password: str,
        *,
        client_ip: str | None = None,
        user_agent: str | None = None,
        totp_code: str | None = None,
    ) -> LoginResult:
        try:
            email = normalize_email(email)
        except InvalidInput:
            email = ""  # still counted against the address below; never a valid account
        # Throttle by account and by address before any work: the same for unknown
        # e-mails, so a 429 reveals nothing about whether the account exists.
        account_key, ip_key = login_throttle_keys(email, client_ip)
        rules = [BackoffRule(ip_key, free=20, reset_after=3600)]
        if email:
            rules.append(BackoffRule(account_key, free=5))
        wait = await self._throttle.acquire(rules, self._clock.now().timestamp())
        if wait > 0:
            await self._audit.record(
                AuditAction.LOGIN_THROTTLED, client_ip=client_ip, user_agent=user_agent
            )
            raise RateLimited(
                "too many sign-in attempts; try again later", retry_after=math.ceil(wait)
            )
        if not email:
            await self._hasher.burn()
            raise InvalidCredentials()
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
        if user is None or user.password_hash is None:
            await self._hasher.burn()
            await self._audit.record(
                AuditAction.LOGIN_FAILED, client_ip=client_ip, user_agent=user_agent
            )
            raise InvalidCredentials()
        if not await self._hasher.verify(user.password_hash, password):
            await self._audit.record(
                AuditAction.LOGIN_FAILED, subject_user_id=user.id, client_ip=client_ip,
                user_agent=user_agent,
            )  # fmt: skip
            raise InvalidCredentials()
        # The password was right: it no longer counts against the account or the address.
        await self._throttle.reset(account_key)
        await self._throttle.refund(ip_key)
        # Status is checked only after the password: a wrong password learns nothing.
        self._ensure_may_sign_in(user)
        if user.totp_enabled:
            if not totp_code:
                challenge_id = await self._second_factor.open_challenge(
                    user, client_ip=client_ip, user_agent=user_agent
                )
                return LoginResult(
                    issued=None, user=user, totp_required=True, challenge_id=challenge_id
                )
            # A code sent with the login.
            await self._second_factor.verify(
                user, totp_code, client_ip=client_ip, user_agent=user_agent
            )
        user, issued = await self._issuer.sign_in(user, client_ip=client_ip, user_agent=user_agent)
        return LoginResult(issued=issued, user=user)

    @staticmethod
    def _ensure_may_sign_in(user: User) -> None:
        if user.status.blocks_sign_in:
            raise AccountLocked()
        if user.status is UserStatus.PENDING_EMAIL:
            raise AccountNotActivated()

    async def authenticate(self, token: str) -> Authenticated | None:
        """Resolve a bearer session token; ``None`` when it is unknown, expired or the
        account may no longer sign in. Cheap: one session and one user lookup."""
        if not token or len(token) > 256:
            return None
        hashed = token_hash(token)
        now = self._clock.now()
        cached = self._cache.lookup(hashed, now)
        if cached is not None and cached[0].expires_at > now:
            return Authenticated(session=cached[0], user=cached[1])
        # perf (issue 18): the requests of one session that miss the memo together (it
        # lapses every second under load) share one lookup.
        return await self._lookups.run(hashed, lambda: self._look_up(hashed, now))

    async def _look_up(self, hashed: str, now: datetime) -> Authenticated | None:
        session = await self._sessions.get_by_token_hash(hashed)
        if session is None:
            return None
        if session.expires_at <= now:
            self._cache.forget_token(hashed)
            await self._sessions.delete(session.user_id, session.id)
            return None
        async with self._uow() as uow:
            user = await uow.users.get(session.user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            return None
        if now - session.last_seen_at >= self._policy.session_touch_interval:
            await self._sessions.touch(session, now)
            session = replace(session, last_seen_at=now)
        self._cache.store(session, user)
        return Authenticated(session=session, user=user)

    # -- the signed-in user -----------------------------------------------------------

    async def me(self, principal: Principal) -> User:
        user_id = self._require_user(principal)
        user = self._cache.user(user_id)
        if user is not None:
            return user
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def logout(self, principal: Principal, token: str | None = None) -> None:
        """End the caller's session, or the session of ``token`` when given."""
        if token:
            session = await self._sessions.get_by_token_hash(token_hash(token))
            if session is None:
                raise Unauthenticated("session not found or expired")
            await self._sessions.delete(session.user_id, session.id)
            self._cache.forget_user(session.user_id)
            return
        if principal.session_id is None or principal.user_id is None:
            raise Unauthenticated()
        await self._sessions.delete(principal.user_id, principal.session_id)
        self._cache.forget_user(principal.user_id)
        await self._audit.record(AuditAction.LOGOUT, principal, subject_user_id=principal.user_id)

    async def change_password(
        self, principal: Principal, old_password: str, new_password: str
    ) -> int:
        """Set a new password; revokes every other session. Returns how many.

        Needs a signed-in session and the current password: an API key must not be able
        to take an account over. An account without a password (made by an OAuth login)
        gets one through ``set_password``."""
        if principal.method is not AuthMethod.SESSION:
            raise Unauthenticated("a signed-in session is required")
        user = await self.me(principal)
        if user.password_hash is None:
            raise InvalidCredentials(
                "this account has no password yet; set one instead", field="oldPassword"
            )
        # Guesses of the current password share the sign-in back-off of the account:
        # a stolen session must not become an unlimited password oracle.
        account_key, _ = login_throttle_keys(user.email, principal.client_ip)
        wait = await self._throttle.acquire(
            [BackoffRule(account_key, free=5)], self._clock.now().timestamp()
        )
        if wait > 0:
            raise RateLimited(
                "too many password attempts; try again later", retry_after=math.ceil(wait)
            )
        if not await self._hasher.verify(user.password_hash, old_password):
            raise InvalidCredentials("current password is incorrect", field="oldPassword")
        await self._throttle.reset(account_key)
        await self._rules.check(new_password, field="newPassword")
        new_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            current = await uow.users.get_for_update(user.id)
            if current is None:
                raise UserNotFound()
            await uow.users.update(
                current.with_changes(password_hash=new_hash, updated_at=self._clock.now())
            )
            await uow.commit()
        self._cache.forget_user(user.id)
        await self._audit.record(AuditAction.PASSWORD_CHANGED, principal, subject_user_id=user.id)
        return await self._sessions.delete_for_user(user.id, except_id=principal.session_id)

    async def set_password(self, principal: Principal, new_password: str) -> int:
        """Give a password to an account that has none (one created by an OAuth login);
        ends every other session, as a password change does. Returns how many.

        Needs a signed-in session; an account that has a password changes it instead."""
        if principal.method is not AuthMethod.SESSION:
            raise Unauthenticated("a signed-in session is required")
        user = await self.me(principal)
        if user.password_hash is not None:
            raise PasswordAlreadySet()
        await self._rules.check(new_password, field="newPassword")
        new_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            current = await uow.users.get_for_update(user.id)
            if current is None:
                raise UserNotFound()
            if current.password_hash is not None:  # set concurrently
                raise PasswordAlreadySet()
            await uow.users.update(
                current.with_changes(password_hash=new_hash, updated_at=self._clock.now())
            )
            await uow.commit()
        # Whoever else holds a session of the account (a session taken over before the
        # password existed) must not outlive the new credential.
        ended = await self._sessions.delete_for_user(user.id, except_id=principal.session_id)
        self._cache.forget_user(user.id)
        await self._audit.record(
            AuditAction.PASSWORD_SET, principal, subject_user_id=user.id,
            sessions_revoked=str(ended),
        )  # fmt: skip
        return ended

    async def list_sessions(self, principal: Principal) -> list[Session]:
        user_id = self._require_user(principal)
        now = self._clock.now()
        return [s for s in await self._sessions.list_for_user(user_id) if s.expires_at > now]

    async def revoke_session(self, principal: Principal, session_id: str) -> None:
        user_id = self._require_user(principal)
        if not await self._sessions.delete(user_id, session_id):
            raise SessionNotFound(field="sessionId")
        self._cache.forget_user(user_id)
        await self._audit.record(AuditAction.SESSION_REVOKED, principal, subject_user_id=user_id)

    async def revoke_other_sessions(self, principal: Principal) -> int:
        user_id = self._require_user(principal)
        self._cache.forget_user(user_id)
        count = await self._sessions.delete_for_user(user_id, except_id=principal.session_id)
        await self._audit.record(
            AuditAction.SESSION_REVOKED, principal, subject_user_id=user_id, count=str(count)
        )
        return count

    @staticmethod
    def _require_user(principal: Principal) -> str:
        if principal.user_id is None:
            raise Unauthenticated()
        return principal.user_id
