"""THE /v1 route table. Every route names its GraphQL twin; a parity test runs each one."""

from __future__ import annotations

from rest import admin, auth, config, oauth, security, twofactor
from rest.envelope import Style
from rest.router import Route

GIN, GRPC = Style.GIN, Style.GRPC

ROUTES: list[Route] = [
    # -- accounts (grpc-gateway in the original: bare JSON) -----------------------------
    Route("POST", "/v1/auth/register", auth.register, GRPC, "Register an account",
          twin="accountRegister", request_fields=("email", "password", "verificationCode")),
    Route("POST", "/v1/auth/login", auth.login, GRPC, "Sign in (sets the sid cookie)",
          twin="accountLogin", request_fields=("email", "password", "totpCode")),
    Route("POST", "/v1/auth/logout", auth.logout, GRPC, "Sign out (clears the sid cookie)",
          auth="session", twin="accountLogout", request_fields=("sid",)),
    Route("GET", "/v1/auth/me", auth.me, GRPC, "The signed-in user",
          auth="session", twin="viewer"),
    Route("POST", "/v1/auth/password/change", auth.password_change, GRPC,
          "Change the password (ends every other session)", auth="session",
          twin="accountPasswordChange", request_fields=("oldPassword", "newPassword")),
    Route("POST", "/v1/auth/password/set", oauth.password_set, GRPC,
          "Set a password on an account that has none (created by a provider sign-in)",
          auth="session", twin="accountPasswordSet", request_fields=("newPassword",)),
    # -- e-mail flows (grpc-gateway in the original) -------------------------------------
    Route("POST", "/v1/auth/email/send-code", security.send_code, GRPC,
          "Mail a registration code (cooldown 60 s; 5/h per e-mail, 20/h per IP)",
          twin="emailCodeSend", request_fields=("email", "purpose")),
    Route("POST", "/v1/auth/email/verify", security.verify_email, GRPC,
          "Activate an account from its e-mailed link token", twin="emailVerify",
          request_fields=("token",)),
    Route("POST", "/v1/auth/email/resend", security.resend_activation, GRPC,
          "Mail a new activation link (same answer for unknown addresses)",
          twin="emailActivationResend", request_fields=("email",)),
    Route("POST", "/v1/auth/password/reset/request", security.reset_request, GRPC,
          "Mail a password reset link (same answer whether or not the account exists)",
          twin="passwordResetRequest", request_fields=("email",)),
    Route("POST", "/v1/auth/password/reset", security.reset, GRPC,
          "Set a new password from a reset link (ends every session)", twin="passwordReset",
          request_fields=("token", "newPassword")),
    # -- two-factor (grpc-gateway in the original) --------------------------------------
    Route("POST", "/v1/auth/totp/enable", twofactor.enable, GRPC,
          "Start enrolling an authenticator (secret, otpauth URL, QR code)", auth="session",
          twin="totpEnable"),
    Route("POST", "/v1/auth/totp/enable/confirm", twofactor.enable_confirm, GRPC,
          "Confirm enrolment; returns the user and 10 recovery codes", auth="session",
          twin="totpEnableConfirm", request_fields=("code",)),
    Route("POST", "/v1/auth/totp/verify", twofactor.verify, GRPC,
          "Complete a login challenge (sets the sid cookie)", twin="totpVerify",
          request_fields=("challengeId", "code")),
    Route("POST", "/v1/auth/totp/disable", twofactor.disable, GRPC,
          "Turn two-factor off (TOTP or recovery code)", auth="session", twin="totpDisable",
          request_fields=("code",)),
    Route("POST", "/v1/auth/totp/recovery-codes", twofactor.regenerate_recovery_codes, GIN,
          "Replace the recovery codes (needs a TOTP code)", auth="session",
          twin="totpRecoveryCodesRegenerate", request_fields=("code",)),
    Route("GET", "/v1/auth/totp", twofactor.status, GIN,
          "Two-factor status and recovery codes remaining", auth="session", twin="totpStatus"),
    # -- OAuth login (gin) ----------------------------------------------------------------
    Route("GET", "/v1/auth/oauth/providers", oauth.providers, GIN,
          "Configured sign-in providers", twin="oauthProviders"),
    Route("GET", "/v1/auth/oauth/{provider}/start", oauth.start, GIN,
          "Start a provider sign-in (302 to the provider; sets the flow cookie). "
          "intent=login|bind (bind needs a session); next= a same-site path or a frontend URL",
          twin="oauthStartUrl", query_fields=("intent", "next"), status=302),
    Route("GET", "/v1/auth/oauth/{provider}/callback", oauth.callback, GIN,
          "Where the provider sends the browser back: 302 to next (with the sid cookie), to "
          "{frontend}/oauth-totp?challengeId= (two-factor), {frontend}/settings?bind=ok, or "
          "{frontend}/oauth-error?code=&message=. No GraphQL twin: it is a browser redirect",
          query_fields=("code", "state", "error", "error_description"), status=302),
    Route("GET", "/v1/auth/oauth/identities", oauth.identities, GIN,
          "My linked provider accounts (tokens are never returned)", auth="session",
          twin="oauthIdentities"),
    Route("DELETE", "/v1/auth/oauth/identities/{provider}", oauth.unlink, GIN,
          "Unlink a provider (only while a password or another provider remains)",
          auth="session", twin="oauthUnlink"),
    # -- sessions (new) ------------------------------------------------------------------
    Route("GET", "/v1/auth/sessions", auth.list_sessions, GIN, "My active sessions",
          auth="session", twin="sessions"),
    Route("DELETE", "/v1/auth/sessions/{id}", auth.revoke_session, GIN, "End one of my sessions",
          auth="session", twin="sessionRevoke"),
    Route("POST", "/v1/auth/sessions/revoke-others", auth.revoke_other_sessions, GIN,
          "End every session but this one", auth="session", twin="sessionRevokeOthers"),
    # -- administration (gin) ------------------------------------------------------------
    Route("GET", "/v1/admin/users", admin.list_users, GIN,
          "List users (filters email, role, status; limit, offset)", auth="admin",
          twin="adminUsers"),
    Route("GET", "/v1/admin/users/{id}", admin.get_user, GIN, "One user", auth="admin",
          twin="adminUser"),
    Route("PATCH", "/v1/admin/users/{id}", admin.update_user, GIN,
          "Change a user's status or role (role: superadmin only)", auth="admin",
          twin="adminUserUpdate", request_fields=("status", "role")),
    Route("POST", "/v1/admin/users/{id}/password", admin.set_password, GIN,
          "Set a user's password (superadmin)", auth="superadmin",
          twin="adminUserPasswordSet", request_fields=("newPassword",)),
    Route("POST", "/v1/admin/users/{id}/unlock", security.unlock_user, GIN,
          "Lift a user's sign-in back-off", auth="admin", twin="adminUserUnlock"),
    Route("GET", "/v1/admin/audit", security.audit, GIN,
          "Security audit log (filters action, userId, actor, since, until; limit, offset)",
          auth="admin", twin="adminAuditEvents"),
    # -- configuration -------------------------------------------------------------------
    Route("GET", "/v1/config/runtime", config.runtime_config, GIN,
          "Public runtime configuration", twin="runtimeConfig"),
]  # fmt: skip
