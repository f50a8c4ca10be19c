"""Use cases of the accounts context: registration, sign-in, sessions, password change."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.emails import normalize_email
from domain.accounts.errors import (
    AccountLocked,
    AccountNotActivated,
    BreachCheckUnavailable,
    EmailTaken,
    InvalidCredentials,
    PwnedPassword,
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
    SessionStore,
    UnitOfWorkFactory,
)
from domain.accounts.sessions import SessionIssuer
from domain.clock import Clock
from domain.errors import InvalidInput, ServiceUnavailable, Unauthenticated
from domain.ids import new_id, token_hash
from domain.principal import AuthMethod, Principal

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


class SecondFactor(Protocol):
    """What sign-in needs from two-factor authentication (domain/twofactor)."""

    async def verify(self, user: User, code: str, *, allow_recovery: bool = True) -> None: ...

    async def open_challenge(
        self, user: User, *, client_ip: str | None, user_agent: str | None
    ) -> str: ...


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
        cache: AuthenticationCache | None = None,
        second_factor: SecondFactor | None = None,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._hasher = hasher
        self._rules = password_rules
        self._clock = clock
        self._policy = policy
        self._cache = cache or AuthenticationCache(clock, ttl=timedelta(0))
        self._issuer = SessionIssuer(
            sessions=sessions, uow=uow, clock=clock, policy=policy, cache=self._cache
        )
        self._second_factor = second_factor

    # -- registration and sign-in -------------------------------------------------------

    async def register(
        self, email: str, password: str, *, client_ip: str | None = None
    ) -> RegisterResult:
        email = normalize_email(email)
        await self._rules.check(password)
        async with self._uow() as uow:
            if await uow.users.get_by_email(email) is not None:
                raise EmailTaken(field="email")
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User(
            id=new_id(),
            email=email,
            password_hash=password_hash,
            status=UserStatus.ACTIVE,
            role=Role.USER,
            created_at=now,
            updated_at=now,
            register_ip=client_ip,
        )
        async with self._uow() as uow:
            await uow.users.add(user)  # the unique index decides a concurrent race
            await uow.commit()
        log.info("user registered", extra={"user_id": user.id})
        return RegisterResult(user=user)

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
            await self._hasher.burn()
            raise InvalidCredentials() from None
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
        if user is None or user.password_hash is None:
            await self._hasher.burn()
            raise InvalidCredentials()
        if not await self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials()
        # Status is checked only after the password: a wrong password learns nothing.
        self._ensure_may_sign_in(user)
        if user.totp_enabled:
            if self._second_factor is None:
                raise ServiceUnavailable("two-factor authentication is not available")
            if not totp_code:
                challenge_id = await self._second_factor.open_challenge(
                    user, client_ip=client_ip, user_agent=user_agent
                )
                return LoginResult(
                    issued=None, user=user, totp_required=True, challenge_id=challenge_id
                )
            await self._second_factor.verify(user, totp_code)  # a code sent with the login
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
        cached = self._cache.lookup(hashed)
        if cached is not None and cached[0].expires_at > now:
            return Authenticated(session=cached[0], user=cached[1])
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

    async def change_password(
        self, principal: Principal, old_password: str, new_password: str
    ) -> int:
        """Set a new password; revokes every other session. Returns how many."""
        user = await self.me(principal)
        if user.password_hash is not None and not await self._hasher.verify(
            user.password_hash, old_password
        ):
            raise InvalidCredentials("current password is incorrect", field="oldPassword")
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
        return await self._sessions.delete_for_user(user.id, except_id=principal.session_id)

    async def list_sessions(self, principal: Principal) -> list[Session]:
        user_id = self._require_user(principal)
        now = self._clock.now()
        return [s for s in await self._sessions.list_for_user(user_id) if s.expires_at > now]

    async def revoke_session(self, principal: Principal, session_id: str) -> None:
        user_id = self._require_user(principal)
        if not await self._sessions.delete(user_id, session_id):
            raise SessionNotFound(field="sessionId")
        self._cache.forget_user(user_id)

    async def revoke_other_sessions(self, principal: Principal) -> int:
        user_id = self._require_user(principal)
        self._cache.forget_user(user_id)
        return await self._sessions.delete_for_user(user_id, except_id=principal.session_id)

    @staticmethod
    def _require_user(principal: Principal) -> str:
        if principal.user_id is None:
            raise Unauthenticated()
        return principal.user_id
