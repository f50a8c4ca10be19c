"""TOTP enrolment, verification with replay protection, login challenges and recovery
codes (reference karpov-gateway.md §3.4, fixed as auth-and-keys.md §3 and §8 ask)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.errors import AccountLocked, UserNotFound
from domain.accounts.model import IssuedSession, User
from domain.accounts.ports import SessionStore
from domain.accounts.sessions import SessionIssuer
from domain.clock import Clock
from domain.errors import InvalidInput, RateLimited, Unauthenticated
from domain.ids import new_token, token_hash
from domain.keyring_service import KeyRingProvider
from domain.principal import AuthMethod, Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction
from domain.twofactor import codes
from domain.twofactor.errors import (
    TotpAlreadyEnabled,
    TotpChallengeNotFound,
    TotpInvalidCode,
    TotpNoPendingEnrolment,
    TotpNotEnabled,
)
from domain.twofactor.model import Enrolment, LoginChallenge, TotpFactor, TotpStatus
from domain.twofactor.ports import ChallengeStore, QrCodeRenderer, UnitOfWorkFactory

log = logging.getLogger("karpov.twofactor")

PENDING_TTL = timedelta(minutes=10)
CHALLENGE_TTL = timedelta(minutes=5)
CHALLENGE_MAX_ATTEMPTS = 5
USER_FAILURE_LIMIT = 10
"""Consecutive wrong codes (across challenges) before the factor locks for a while: a
password holder cannot open challenge after challenge to search the code space."""
USER_LOCK = timedelta(minutes=15)


def secret_aad(user_id: str) -> bytes:
    return f"totp:{user_id}".encode()


def pending_aad(user_id: str) -> bytes:
    return f"totp-pending:{user_id}".encode()


@dataclass(frozen=True, slots=True)
class ConfirmedEnrolment:
    user: User
    recovery_codes: list[str]


class TwoFactorService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        challenges: ChallengeStore,
        sessions: SessionStore,
        issuer: SessionIssuer,
        keys: KeyRingProvider,
        recovery_hasher: codes.RecoveryCodeHasher,
        qr: QrCodeRenderer,
        clock: Clock,
        cache: AuthenticationCache,
        audit: AuditLog,
    ) -> None:
        self._uow = uow
        self._challenges = challenges
        self._sessions = sessions
        self._issuer = issuer
        self._keys = keys
        self._recovery = recovery_hasher
        self._qr = qr
        self._clock = clock
        self._cache = cache
        self._audit = audit

    # -- enrolment ----------------------------------------------------------------------

    async def begin_enrolment(self, principal: Principal) -> Enrolment:
        user = await self._signed_in_user(principal)
        if user.totp_enabled:
            raise TotpAlreadyEnabled()
        secret = codes.new_secret()
        blob = await self._keys.encrypt(secret.encode(), pending_aad(user.id))
        async with self._uow() as uow:
            await uow.totp.save_pending(user.id, blob, self._clock.now() + PENDING_TTL)
            await uow.commit()
        url = codes.provisioning_uri(secret, user.email)
        qr = self._qr.svg_data_uri(url)
        return Enrolment(secret_base32=secret, otpauth_url=url, qr_code_svg=qr)

    async def confirm_enrolment(self, principal: Principal, code: str) -> ConfirmedEnrolment:
        user = await self._signed_in_user(principal)
        if user.totp_enabled:
            raise TotpAlreadyEnabled()
        async with self._uow() as uow:
            factor = await uow.totp.get(user.id)
        now = self._clock.now()
        if (
            factor is None
            or factor.pending_secret_enc is None
            or factor.pending_expires_at is None
            or factor.pending_expires_at <= now
        ):
            raise TotpNoPendingEnrolment()
        secret_bytes = await self._keys.decrypt(factor.pending_secret_enc, pending_aad(user.id))
        secret = secret_bytes.decode()
        step = codes.matching_step(secret, code.strip(), now)
        if step is None:
            raise TotpInvalidCode(field="code")
        recovery = codes.new_recovery_codes()
        blob = await self._keys.encrypt(secret.encode(), secret_aad(user.id))
        async with self._uow() as uow:
            await uow.totp.enable(user.id, blob, step, self._hash_codes(user.id, recovery))
            updated = await uow.users.get(user.id)
            await uow.commit()
        assert updated is not None
        await self._end_other_sessions(principal, user.id)
        await self._audit.record(AuditAction.TOTP_ENABLED, principal, subject_user_id=user.id)
        return ConfirmedEnrolment(user=updated, recovery_codes=recovery)

    # -- using the factor ---------------------------------------------------------------

    async def verify(
        self,
        user: User,
        code: str,
        *,
        allow_recovery: bool = True,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Accept a current TOTP code (never twice) or an unused recovery code, or raise.
        Wrong codes count towards a temporary lock of the factor."""
        async with self._uow() as uow:
            factor = await uow.totp.get(user.id)
        if factor is None or factor.secret_enc is None:
            raise TotpNotEnabled()
        now = self._clock.now()
        if factor.locked_until is not None and factor.locked_until > now:
            wait = int((factor.locked_until - now).total_seconds()) + 1
            await self._audit.record(
                AuditAction.CODE_GUESS_BLOCKED, subject_user_id=user.id, client_ip=client_ip,
                user_agent=user_agent, kind="totp",
            )  # fmt: skip
            raise RateLimited("too many wrong two-factor codes; try again later", retry_after=wait)
        where = (client_ip, user_agent)
        if await self._accepts(user.id, factor, (code or "").strip(), allow_recovery, where):
            if factor.failed_attempts:
                async with self._uow() as uow:
                    await uow.totp.reset_failures(user.id)
                    await uow.commit()
            return
        async with self._uow() as uow:
            await uow.totp.record_failure(
                user.id, limit=USER_FAILURE_LIMIT, lock_until=now + USER_LOCK
            )
            await uow.commit()
        await self._audit.record(
            AuditAction.TOTP_FAILED, subject_user_id=user.id, client_ip=client_ip,
            user_agent=user_agent,
        )  # fmt: skip
        raise TotpInvalidCode(field="code")

    async def _accepts(
        self,
        user_id: str,
        factor: TotpFactor,
        code: str,
        allow_recovery: bool,
        where: tuple[str | None, str | None],
    ) -> bool:
        assert factor.secret_enc is not None
        if code.isdigit():
            secret = (await self._keys.decrypt(factor.secret_enc, secret_aad(user_id))).decode()
            step = codes.matching_step(secret, code, self._clock.now())
            if step is None or (factor.last_step is not None and step <= factor.last_step):
                return False
            async with self._uow() as uow:
                fresh = await uow.totp.advance_step(user_id, step)  # the replay guard
                await uow.commit()
            return fresh
        normalized = codes.normalize_recovery_code(code)
        if not allow_recovery or normalized is None:
            return False
        async with self._uow() as uow:
            used = await uow.totp.consume_recovery_code(
                user_id, self._recovery.hash(user_id, normalized), self._clock.now()
            )
            await uow.commit()
        if used:
            await self._audit.record(
                AuditAction.RECOVERY_CODE_USED, subject_user_id=user_id, client_ip=where[0],
                user_agent=where[1],
            )  # fmt: skip
        return used

    # -- login challenge ----------------------------------------------------------------

    async def open_challenge(
        self, user: User, *, client_ip: str | None, user_agent: str | None
    ) -> str:
        challenge_id = new_token(16)
        now = self._clock.now()
        await self._challenges.add(
            LoginChallenge(
                id_hash=token_hash(challenge_id),
                user_id=user.id,
                created_at=now,
                expires_at=now + CHALLENGE_TTL,
                ip=client_ip,
                user_agent=user_agent[:512] if user_agent else None,
            )
        )
        return challenge_id

    async def complete_challenge(
        self,
        challenge_id: str,
        code: str,
        *,
        client_ip: str | None,
        user_agent: str | None,
    ) -> tuple[User, IssuedSession]:
        if not challenge_id or not code:
            raise InvalidInput("challengeId and code are required")
        id_hash = token_hash(challenge_id)
        challenge = await self._challenges.get(id_hash)
        if challenge is None or challenge.expires_at <= self._clock.now():
            raise TotpChallengeNotFound()
        async with self._uow() as uow:
            user = await uow.users.get(challenge.user_id)
        if user is None or not user.totp_enabled:
            await self._challenges.take(id_hash)
            raise TotpChallengeNotFound()
        if user.status.blocks_sign_in:
            raise AccountLocked()
        try:
            await self.verify(user, code, client_ip=client_ip, user_agent=user_agent)
        except TotpInvalidCode:
            left = CHALLENGE_MAX_ATTEMPTS - await self._challenges.record_failure(
                id_hash, CHALLENGE_MAX_ATTEMPTS
            )
            if left <= 0:
                raise TotpInvalidCode(
                    "invalid two-factor code; too many attempts, sign in again", field="code"
                ) from None
            raise
        if await self._challenges.take(id_hash) is None:
            raise TotpChallengeNotFound()  # completed concurrently by someone else
        return await self._issuer.sign_in(user, client_ip=client_ip, user_agent=user_agent)

    # -- management -----------------------------------------------------------------------

    async def disable(self, principal: Principal, code: str) -> None:
        user = await self._signed_in_user(principal)
        if not user.totp_enabled:
            raise TotpNotEnabled()
        await self.verify(user, code)
        async with self._uow() as uow:
            await uow.totp.disable(user.id)
            await uow.commit()
        await self._challenges.delete_for_user(user.id)
        await self._end_other_sessions(principal, user.id)
        await self._audit.record(AuditAction.TOTP_DISABLED, principal, subject_user_id=user.id)

    async def regenerate_recovery_codes(self, principal: Principal, code: str) -> list[str]:
        """New set of codes; needs a valid TOTP code (not a recovery code)."""
        user = await self._signed_in_user(principal)
        if not user.totp_enabled:
            raise TotpNotEnabled()
        await self.verify(user, code, allow_recovery=False)
        recovery = codes.new_recovery_codes()
        async with self._uow() as uow:
            await uow.totp.replace_recovery_codes(user.id, self._hash_codes(user.id, recovery))
            await uow.commit()
        await self._end_other_sessions(principal, user.id)
        await self._audit.record(
            AuditAction.TOTP_RECOVERY_REGENERATED, principal, subject_user_id=user.id
        )
        return recovery

    async def status(self, principal: Principal) -> TotpStatus:
        user = await self._user(principal)
        async with self._uow() as uow:
            remaining = await uow.totp.count_recovery_codes(user.id) if user.totp_enabled else 0
        return TotpStatus(enabled=user.totp_enabled, recovery_codes_remaining=remaining)

    async def recovery_codes_remaining(self, user_id: str) -> int:
        async with self._uow() as uow:
            return await uow.totp.count_recovery_codes(user_id)

    # -- helpers ------------------------------------------------------------------------

    async def _end_other_sessions(self, principal: Principal, user_id: str) -> None:
        """A change of the second factor ends every other session of the user."""
        self._cache.forget_user(user_id)
        await self._sessions.delete_for_user(user_id, except_id=principal.session_id)

    def _hash_codes(self, user_id: str, plain: list[str]) -> list[str]:
        hashes = []
        for code in plain:
            normalized = codes.normalize_recovery_code(code)
            assert normalized is not None
            hashes.append(self._recovery.hash(user_id, normalized))
        return hashes

    async def _user(self, principal: Principal) -> User:
        if principal.user_id is None:
            raise Unauthenticated()
        async with self._uow() as uow:
            user = await uow.users.get(principal.user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def _signed_in_user(self, principal: Principal) -> User:
        """Changing the second factor needs a signed-in person, not an API key."""
        if principal.method is not AuthMethod.SESSION:
            raise Unauthenticated("a signed-in session is required")
        return await self._user(principal)
