"""Failures of two-factor authentication."""

from __future__ import annotations

from domain.errors import Conflict, InvalidInput, Unauthenticated


class TotpAlreadyEnabled(Conflict):
    code = "TOTP_ALREADY_ENABLED"
    default_message = "two-factor authentication is already enabled"


class TotpNotEnabled(InvalidInput):
    code = "TOTP_NOT_ENABLED"
    default_message = "two-factor authentication is not enabled"
    failed_precondition = True


class TotpNoPendingEnrolment(InvalidInput):
    code = "TOTP_NO_PENDING_ENROLMENT"
    default_message = "no pending two-factor enrolment; start again"
    failed_precondition = True


class TotpInvalidCode(Unauthenticated):
    code = "TOTP_INVALID_CODE"
    default_message = "invalid two-factor code"


class TotpChallengeNotFound(Unauthenticated):
    code = "TOTP_CHALLENGE_NOT_FOUND"
    default_message = "two-factor challenge not found or expired; sign in again"
