"""``karpov doctor``'s configuration listing masks the secrets and only them: a setting
whose name merely mentions a password (a strength, a URL) is shown as it is."""

from __future__ import annotations

from gateway.doctor import MASK, effective_configuration
from gateway.settings import load_settings


def test_secrets_are_masked_and_the_rest_is_shown() -> None:
    settings = load_settings(
        database_url="sqlite+aiosqlite:///./var/doctor.db", master_key="ab" * 32,
        smtp_password="smtp-secret", admin_tokens="token-1",
        oauth_linuxdo_client_id="cid", oauth_linuxdo_client_secret="linuxdo-secret",
        min_password_strength=4, password_reset_url="https://app.example.com/reset?token=",
    )  # fmt: skip
    shown = effective_configuration(settings)
    for secret in ("master_key", "smtp_password", "admin_tokens", "oauth_linuxdo_client_secret"):
        assert shown[secret] == MASK, secret
    assert shown["min_password_strength"] == 4
    assert shown["password_reset_url"] == "https://app.example.com/reset?token="
    assert shown["oauth_linuxdo_client_id"] == "cid"
