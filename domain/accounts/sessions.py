"""Issuing sessions: ONE issuer, shared by every way of signing in (password, a two-factor
challenge, OAuth), so every sign-in is audited (``login.succeeded``) and clears the
authentication memo the same way."""

from __future__ import annotations

from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.model import IssuedSession, Session, User
from domain.accounts.policy import AccountPolicy
from domain.accounts.ports import SessionStore, UnitOfWorkFactory
from domain.clock import Clock
from domain.ids import new_id, new_token, token_hash
from domain.security.audit import AuditLog
from domain.security.model import AuditAction


class SessionIssuer:
    def __init__(
        self,
        *,
        sessions: SessionStore,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policy: AccountPolicy,
        cache: AuthenticationCache,
        audit: AuditLog,
    ) -> None:
        self._sessions = sessions
        self._uow = uow
        self._clock = clock
        self._policy = policy
        self._cache = cache
        self._audit = audit

    async def sign_in(
        self, user: User, *, client_ip: str | None, user_agent: str | None, **details: str
    ) -> tuple[User, IssuedSession]:
        """Issue a session for a fully authenticated user and record the login time.
        ``details`` go to the audit event (e.g. ``method="oauth"``)."""
        issued = await self.issue(user, client_ip=client_ip, user_agent=user_agent)
        async with self._uow() as uow:
            current = await uow.users.get(user.id)
            if current is not None:
                user = current.with_changes(last_login_at=issued.session.created_at)
                await uow.users.update(user)
                await uow.commit()
        self._cache.forget_user(user.id)
        await self._audit.record(
            AuditAction.LOGIN_SUCCEEDED, None, subject_user_id=user.id, client_ip=client_ip,
            user_agent=user_agent, **details,
        )  # fmt: skip
        return user, issued

    async def issue(
        self, user: User, *, client_ip: str | None, user_agent: str | None
    ) -> IssuedSession:
        token = new_token()
        now = self._clock.now()
        session = Session(
            id=new_id(),
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + self._policy.session_ttl,
            last_seen_at=now,
            ip=client_ip,
            user_agent=user_agent[:512] if user_agent else None,
        )
        await self._sessions.add(session)
        return IssuedSession(session=session, token=token)
