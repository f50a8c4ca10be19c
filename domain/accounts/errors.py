"""Failures of the accounts context. Codes are stable: clients and both edges rely on them."""

from __future__ import annotations

from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "INVALID_CREDENTIALS"
    default_message = "invalid email or password"


class EmailTaken(Conflict):
    code = "EMAIL_TAKEN"
    default_message = "an account with this email already exists"


class WeakPassword(InvalidInput):
    code = "WEAK_PASSWORD"
    default_message = "password is too weak"


class PwnedPassword(InvalidInput):
    code = "PWNED_PASSWORD"
    default_message = "this password has appeared in a data breach; choose another"


class BreachCheckUnavailable(DomainError):
    code = "BREACH_CHECK_UNAVAILABLE"
    default_message = "the password breach check is unavailable, try again later"
    http_status = 503


class AccountNotActivated(DomainError):
    code = "ACCOUNT_NOT_ACTIVATED"
    default_message = "account is not activated yet"
    http_status = 412
    failed_precondition = True


class AccountLocked(Forbidden):
    code = "ACCOUNT_LOCKED"
    default_message = "account is locked or disabled"


class InsufficientRole(Forbidden):
    code = "INSUFFICIENT_ROLE"
    default_message = "insufficient role"


class LastSuperadmin(Conflict):
    code = "LAST_SUPERADMIN"
    default_message = "the last active superadmin cannot be demoted or locked"
    failed_precondition = True


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"
    default_message = "user not found"


class SessionNotFound(NotFound):
    code = "SESSION_NOT_FOUND"
    default_message = "session not found"


class PasswordAlreadySet(Conflict):
    code = "PASSWORD_ALREADY_SET"
    default_message = "the account already has a password; change it instead"


class EmailDomainNotAllowed(InvalidInput):
    code = "EMAIL_DOMAIN_NOT_ALLOWED"
    default_message = "registration with this e-mail domain is not allowed"
    failed_precondition = True


class RegisterIpLimit(Forbidden):
    code = "REGISTER_IP_LIMIT"
    default_message = "an account was already registered from this network address"


class EmailNotConfigured(DomainError):
    code = "EMAIL_NOT_CONFIGURED"
    default_message = "e-mail is not configured on this server"
    http_status = 501


class EmailCodeRequired(InvalidInput):
    code = "EMAIL_CODE_REQUIRED"
    default_message = "an e-mail verification code is required"


class EmailCodeInvalid(InvalidInput):
    code = "EMAIL_CODE_INVALID"
    default_message = "the e-mail verification code is invalid or expired"


class ActivationTokenInvalid(NotFound):
    code = "ACTIVATION_TOKEN_INVALID"
    default_message = "activation link is invalid"


class ActivationTokenExpired(DomainError):
    code = "ACTIVATION_TOKEN_EXPIRED"
    default_message = "activation link has expired; ask for a new one"
    http_status = 410
    failed_precondition = True


class ActivationTokenUsed(Conflict):
    code = "ACTIVATION_TOKEN_USED"
    default_message = "activation link was already used"


class AccountAlreadyActive(Conflict):
    code = "ACCOUNT_ALREADY_ACTIVE"
    default_message = "account is already active"


class ResetTokenInvalid(InvalidInput):
    code = "RESET_TOKEN_INVALID"
    default_message = "the password reset link is invalid, used or expired"
