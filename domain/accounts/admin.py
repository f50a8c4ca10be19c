"""Administration of users, with the original's rules plus a role hierarchy:
an admin cannot change a superadmin, role changes and password resets are superadmin-only,
and the last active superadmin can be neither demoted nor locked."""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from typing import TypeVar

from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.emails import normalize_email
from domain.accounts.errors import InsufficientRole, LastSuperadmin, UserNotFound
from domain.accounts.model import Role, User, UserFilter, UserStatus
from domain.accounts.ports import PasswordHasher, SessionStore, UnitOfWorkFactory
from domain.accounts.service import PasswordRules, login_throttle_keys
from domain.clock import Clock
from domain.errors import InvalidInput, Unauthenticated
from domain.ids import new_id
from domain.paging import MAX_OFFSET, Page, page_size
from domain.principal import Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction, AuditEvent, AuditFilter
from domain.security.ports import ThrottleStore

log = logging.getLogger("karpov.accounts.admin")


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    user: User
    created: bool
    password: str | None
    """The generated password, present only when the account was created just now."""


E = TypeVar("E", Role, UserStatus)


def _parse_enum(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value.strip().lower())
    except ValueError:
        allowed = ", ".join(v.value for v in kind)
        raise InvalidInput(f"{field} must be one of: {allowed}", field=field) from None


def parse_role(value: str) -> Role:
    return _parse_enum(Role, value, "role")


def parse_status(value: str) -> UserStatus:
    return _parse_enum(UserStatus, value, "status")


class AdminUserService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        sessions: SessionStore,
        hasher: PasswordHasher,
        password_rules: PasswordRules,
        clock: Clock,
        cache: AuthenticationCache,
        throttle: ThrottleStore,
        audit: AuditLog,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._hasher = hasher
        self._rules = password_rules
        self._clock = clock
        self._cache = cache
        self._throttle = throttle
        self._audit = audit

    async def list_users(
        self, principal: Principal, flt: UserFilter, *, limit: int, offset: int
    ) -> Page[User]:
        self._require_admin(principal)
        limit = page_size(limit)
        offset = max(offset, 0)
        if offset > MAX_OFFSET:
            raise InvalidInput(f"offset must be at most {MAX_OFFSET}", field="offset")
        async with self._uow() as uow:
            return await uow.users.list(flt, limit=limit, offset=offset)

    async def get_user(self, principal: Principal, user_id: str) -> User:
        self._require_admin(principal)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def update_user(
        self,
        principal: Principal,
        user_id: str,
        *,
        status: UserStatus | None = None,
        role: Role | None = None,
    ) -> User:
        self._require_admin(principal)
        if role is not None and not principal.is_superadmin:
            raise InsufficientRole("role changes require the superadmin role", field="role")
        async with self._uow() as uow:
            user = await uow.users.get_for_update(user_id)
            if user is None:
                raise UserNotFound()
            if user.role is Role.SUPERADMIN and not principal.is_superadmin:
                raise InsufficientRole("an admin cannot change a superadmin")
            new_role = role or user.role
            new_status = status or user.status
            loses_super = (
                user.role is Role.SUPERADMIN
                and user.status is UserStatus.ACTIVE
                and (new_role is not Role.SUPERADMIN or new_status is not UserStatus.ACTIVE)
            )
            if loses_super and await uow.users.count_active_superadmins() <= 1:
                raise LastSuperadmin()
            updated = user.with_changes(
                role=new_role, status=new_status, updated_at=self._clock.now()
            )
            await uow.users.update(updated)
            await uow.commit()
        self._forget(user_id)
        if new_status is not UserStatus.ACTIVE or new_role.rank < user.role.rank:
            # An inactive account or a reduced role must not keep acting through old sessions.
            await self._sessions.delete_for_user(user_id)
        await self._audit.record(
            AuditAction.ADMIN_USER_UPDATED, principal, subject_user_id=user_id,
            role=new_role.value, status=new_status.value,
            previous_role=user.role.value, previous_status=user.status.value,
        )  # fmt: skip
        return updated

    async def set_password(self, principal: Principal, user_id: str, new_password: str) -> None:
        self._require_admin(principal)
        if not principal.is_superadmin:
            raise InsufficientRole("setting a user's password requires the superadmin role")
        await self._rules.check(new_password, field="newPassword")
        password_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            user = await uow.users.get_for_update(user_id)
            if user is None:
                raise UserNotFound()
            await uow.users.update(
                user.with_changes(password_hash=password_hash, updated_at=self._clock.now())
            )
            await uow.commit()
        self._forget(user_id)
        await self._sessions.delete_for_user(user_id)
        await self._audit.record(AuditAction.ADMIN_PASSWORD_SET, principal, subject_user_id=user_id)

    async def unlock(self, principal: Principal, user_id: str) -> User:
        """Lift the sign-in back-off of an account (failed-password throttling)."""
        user = await self.get_user(principal, user_id)
        await self._throttle.reset(login_throttle_keys(user.email, None)[0])
        await self._audit.record(
            AuditAction.ADMIN_USER_UNLOCKED, principal, subject_user_id=user_id
        )
        return user

    async def audit_events(
        self, principal: Principal, flt: AuditFilter, *, limit: int, offset: int
    ) -> Page[AuditEvent]:
        self._require_admin(principal)
        limit = page_size(limit)
        if offset < 0 or offset > MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
        return await self._audit.list(flt, limit=limit, offset=offset)

    async def bootstrap_superadmin(self, email: str) -> BootstrapResult:
        """Create an active superadmin with a generated password, unless the e-mail exists.

        The password is 24 random bytes in base32 (39 characters), like the original; it
        bypasses the strength and breach rules, which it passes by construction."""
        email = normalize_email(email)
        async with self._uow() as uow:
            existing = await uow.users.get_by_email(email)
        if existing is not None:
            return BootstrapResult(user=existing, created=False, password=None)
        password = base64.b32encode(secrets.token_bytes(24)).decode().rstrip("=")
        now = self._clock.now()
        user = User(
            id=new_id(),
            email=email,
            password_hash=await self._hasher.hash(password),
            status=UserStatus.ACTIVE,
            role=Role.SUPERADMIN,
            created_at=now,
            updated_at=now,
        )
        async with self._uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return BootstrapResult(user=user, created=True, password=password)

    def _forget(self, user_id: str) -> None:
        self._cache.forget_user(user_id)

    @staticmethod
    def _require_admin(principal: Principal) -> None:
        if not principal.is_authenticated:
            raise Unauthenticated()
        if not principal.is_admin:
            raise InsufficientRole()
