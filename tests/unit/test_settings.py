"""load_settings: defaults, one-line ConfigErrors naming the setting, comma lists, and the
master key file (created once with mode 0600, then reused)."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.accounts.policy import BreachCheckMode
from gateway.settings import (
    DEFAULT_DATABASE_URL,
    ConfigError,
    Settings,
    load_or_create_master_key,
    load_settings,
)

HEX = set("0123456789abcdef")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No KARPOV_* setting leaks in from the shell (the test URLs included)."""
    for name in list(os.environ):
        if name.startswith("KARPOV_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.env == "dev"
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./var/karpov.db"
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.master_key is None
    assert settings.admin_tokens == []
    assert settings.trusted_proxies == []
    assert settings.hibp_url == "https://api.pwnedpasswords.com/range/"
    assert settings.hibp_mode is BreachCheckMode.FAIL_OPEN
    assert settings.session_ttl == timedelta(days=7)
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.timezone == "UTC"
    assert settings.secure_cookies is False


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARPOV_ENV", "prod")
    monkeypatch.setenv("KARPOV_DATABASE_URL", "postgresql+asyncpg://u@db:5432/karpov")
    monkeypatch.setenv("KARPOV_REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("KARPOV_MASTER_KEY", "AB" * 32)
    monkeypatch.setenv("KARPOV_PUBLIC_BASE_URL", "https://api.example.com")
    monkeypatch.setenv("KARPOV_HIBP_MODE", "fail-closed")
    monkeypatch.setenv("KARPOV_SESSION_TTL", "P1D")
    monkeypatch.setenv("KARPOV_TIMEZONE", "Asia/Shanghai")
    monkeypatch.setenv("KARPOV_MAX_BODY_BYTES", "2048")
    settings = load_settings()
    assert settings.env == "prod"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.master_key == "ab" * 32  # normalised
    assert settings.master_key_bytes() == bytes([0xAB]) * 32
    assert settings.secure_cookies is True
    assert settings.hibp_mode is BreachCheckMode.FAIL_CLOSED
    assert settings.session_ttl == timedelta(days=1)
    assert settings.timezone == "Asia/Shanghai"
    assert settings.max_body_bytes == 2048


def test_session_ttl_in_plain_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARPOV_SESSION_TTL", "3600")
    assert load_settings().session_ttl == timedelta(hours=1)


def test_secrets_stay_out_of_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARPOV_MASTER_KEY", "cd" * 32)
    monkeypatch.setenv("KARPOV_ADMIN_TOKENS", "super-secret-admin-token")
    text = repr(load_settings())
    assert "cd" * 32 not in text
    assert "super-secret-admin-token" not in text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KARPOV_DATABASE_URL", "mysql://x"),
        ("KARPOV_MASTER_KEY", "xyz"),
        ("KARPOV_MASTER_KEY", "g" * 64),
        ("KARPOV_MASTER_KEY", "ab" * 33),
        ("KARPOV_TRUSTED_PROXIES", "not-a-cidr"),
        ("KARPOV_TRUSTED_PROXIES", "10.0.0.0/8, nope"),
        ("KARPOV_HIBP_MODE", "sometimes"),
        ("KARPOV_SESSION_TTL", "-5"),
        ("KARPOV_SESSION_TTL", "-PT5S"),
        ("KARPOV_TIMEZONE", "Mars/Base"),
        ("KARPOV_TIMEZONE", "../../etc/passwd"),
        ("KARPOV_ENV", "staging"),
        ("KARPOV_REDIS_URL", "http://cache:6379"),
        ("KARPOV_MAX_BODY_BYTES", "lots"),
        ("KARPOV_LOG_LEVEL", "chatty"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}: "), message
    assert "\n" not in message
    assert len(message) > len(name) + 2  # says what is wrong, not just the name


def test_the_first_bad_setting_is_named_when_several_are_bad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KARPOV_ENV", "staging")
    monkeypatch.setenv("KARPOV_HIBP_MODE", "sometimes")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).split(":", 1)[0] in {"KARPOV_ENV", "KARPOV_HIBP_MODE"}


def test_keyword_overrides_are_validated_too() -> None:
    with pytest.raises(ConfigError, match=r"^KARPOV_DATABASE_URL: "):
        load_settings(database_url="mysql://x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a", ["a"]),
        ("a,b", ["a", "b"]),
        (" a , b ,, c ,", ["a", "b", "c"]),
        ("", []),
    ],
)
def test_comma_lists_parse(monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]) -> None:
    monkeypatch.setenv("KARPOV_ADMIN_TOKENS", raw)
    assert load_settings().admin_tokens == expected


def test_trusted_proxies_parse_as_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARPOV_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1 ,2001:db8::/32")
    assert load_settings().trusted_proxies == ["10.0.0.0/8", "192.168.1.1", "2001:db8::/32"]


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.env = "prod"


# -- master key file -----------------------------------------------------------------------


def test_master_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "master.key"
    key = load_or_create_master_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text().strip()
    assert len(text) == 64
    assert set(text) <= HEX
    assert bytes.fromhex(text) == key


def test_master_key_file_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = load_or_create_master_key(path)
    written = path.read_bytes()
    assert load_or_create_master_key(path) == first
    assert path.read_bytes() == written


def test_two_creations_in_different_places_differ(tmp_path: Path) -> None:
    assert load_or_create_master_key(tmp_path / "a.key") != load_or_create_master_key(
        tmp_path / "b.key"
    )


@pytest.mark.parametrize("content", ["not hex at all", "ab" * 31, "ab" * 33, ""])
def test_a_corrupt_master_key_file_is_a_config_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "master.key"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_or_create_master_key(path)
    message = str(caught.value)
    assert message.startswith("KARPOV_MASTER_KEY")
    assert "\n" not in message
    assert path.read_text() == content  # never overwritten


def test_settings_without_a_master_key_use_var_master_key_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    key = settings.master_key_bytes()
    path = tmp_path / "var" / "master.key"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings().master_key_bytes() == key  # another process start: same key


def test_a_master_key_setting_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KARPOV_MASTER_KEY", "0f" * 32)
    assert load_settings().master_key_bytes() == bytes([0x0F]) * 32
    assert not (tmp_path / "var").exists()


def test_with_master_key_resolves_the_file_once_and_keeps_a_set_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    resolved = load_settings().with_master_key()
    assert resolved.master_key == (tmp_path / "var" / "master.key").read_text().strip()
    assert resolved.with_master_key() is resolved
    set_key = load_settings(master_key="0f" * 32)
    assert set_key.with_master_key() is set_key


def test_the_quota_gate_timeout_is_a_quarter_second_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().quota_gate_timeout == 0.25
    monkeypatch.setenv("KARPOV_QUOTA_GATE_TIMEOUT", "2.5")
    assert load_settings().quota_gate_timeout == 2.5
    monkeypatch.setenv("KARPOV_QUOTA_GATE_TIMEOUT", "0")
    with pytest.raises(ConfigError, match="KARPOV_QUOTA_GATE_TIMEOUT"):
        load_settings()


# -- OAuth providers ---------------------------------------------------------------------


def test_oauth_is_off_by_default_and_linuxdo_has_the_public_endpoints() -> None:
    settings = load_settings()
    assert settings.linuxdo_enabled is False
    assert settings.oauth_oidc_providers == {}
    assert settings.oauth_linuxdo_authorize_url == "https://connect.linux.do/oauth2/authorize"
    assert settings.oauth_linuxdo_token_url == "https://connect.linux.do/oauth2/token"
    assert settings.oauth_linuxdo_userinfo_url == "https://connect.linux.do/api/user"
    assert (settings.oauth_linuxdo_min_trust_level, settings.oauth_linuxdo_require_active) == (
        0,
        True,
    )
    assert settings.frontend_url == "http://localhost:8080"
    assert settings.oauth_callback_url("linuxdo") == (
        "http://localhost:8080/v1/auth/oauth/linuxdo/callback"
    )


def test_linuxdo_and_frontend_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARPOV_OAUTH_LINUXDO_CLIENT_ID", "id")
    monkeypatch.setenv("KARPOV_OAUTH_LINUXDO_CLIENT_SECRET", "linuxdo-secret-value")
    monkeypatch.setenv("KARPOV_OAUTH_LINUXDO_MIN_TRUST_LEVEL", "2")
    monkeypatch.setenv("KARPOV_OAUTH_LINUXDO_REQUIRE_ACTIVE", "false")
    monkeypatch.setenv("KARPOV_FRONTEND_BASE_URL", "https://app.example.com/")
    settings = load_settings()
    assert settings.linuxdo_enabled
    assert settings.oauth_linuxdo_min_trust_level == 2
    assert settings.oauth_linuxdo_require_active is False
    assert settings.frontend_url == "https://app.example.com"
    assert settings.oauth_oidc_providers == {}  # LINUXDO is not an OpenID provider
    assert "linuxdo-secret-value" not in repr(settings)


@pytest.mark.parametrize("only", ["CLIENT_ID", "CLIENT_SECRET"])
def test_half_configured_linuxdo_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, only: str
) -> None:
    monkeypatch.setenv(f"KARPOV_OAUTH_LINUXDO_{only}", "x")
    with pytest.raises(ConfigError, match="KARPOV_OAUTH_LINUXDO_CLIENT_ID and"):
        load_settings()


def test_oidc_providers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    base = "https://idp.example.com/.well-known/openid-configuration"
    for name in ("CORP", "MY_IDP"):
        monkeypatch.setenv(f"KARPOV_OAUTH_{name}_DISCOVERY_URL", base)
        monkeypatch.setenv(f"KARPOV_OAUTH_{name}_CLIENT_ID", f"{name}-id")
        monkeypatch.setenv(f"KARPOV_OAUTH_{name}_CLIENT_SECRET", "oidc-secret-value")
    monkeypatch.setenv("KARPOV_OAUTH_CORP_DISPLAY_NAME", "Corp SSO")
    monkeypatch.setenv("KARPOV_OAUTH_CORP_SCOPES", "openid email, groups")
    settings = load_settings()
    corp, mine = settings.oauth_oidc_providers["corp"], settings.oauth_oidc_providers["my_idp"]
    assert (corp.client_id, corp.display_name, corp.scopes) == (
        "CORP-id",
        "Corp SSO",
        ["openid", "email", "groups"],
    )
    assert (mine.client_id, mine.display_name, mine.scopes) == (
        "MY_IDP-id",
        None,
        ["openid", "email", "profile"],
    )
    assert "oidc-secret-value" not in repr(settings)


@pytest.mark.parametrize("missing", ["DISCOVERY_URL", "CLIENT_ID", "CLIENT_SECRET"])
def test_an_incomplete_oidc_provider_names_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    values = {
        "DISCOVERY_URL": "https://idp.example.com/.well-known/openid-configuration",
        "CLIENT_ID": "id",
        "CLIENT_SECRET": "secret",
    }
    for key, value in values.items():
        if key != missing:
            monkeypatch.setenv(f"KARPOV_OAUTH_CORP_{key}", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"KARPOV_OAUTH_CORP_{missing}: required")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KARPOV_OAUTH_CORP_DISCOVERY_URL", "idp.example.com/.well-known/openid-configuration"),
        ("KARPOV_FRONTEND_BASE_URL", "app.example.com"),
        ("KARPOV_OAUTH_LINUXDO_TOKEN_URL", "ftp://connect.linux.do/token"),
        ("KARPOV_OAUTH_LINUXDO_MIN_TRUST_LEVEL", "5"),
    ],
)
def test_bad_oauth_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    if name.startswith("KARPOV_OAUTH_CORP"):
        monkeypatch.setenv("KARPOV_OAUTH_CORP_CLIENT_ID", "id")
        monkeypatch.setenv("KARPOV_OAUTH_CORP_CLIENT_SECRET", "secret")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{name}:"), caught.value


@pytest.mark.parametrize("name", ["PROVIDERS", "IDENTITIES"])
def test_provider_names_that_clash_with_routes_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(
        f"KARPOV_OAUTH_{name}_DISCOVERY_URL",
        "https://idp.example.com/.well-known/openid-configuration",
    )
    monkeypatch.setenv(f"KARPOV_OAUTH_{name}_CLIENT_ID", "id")
    monkeypatch.setenv(f"KARPOV_OAUTH_{name}_CLIENT_SECRET", "secret")
    with pytest.raises(ConfigError, match="not a usable provider name"):
        load_settings()


# -- upstreams (issue 15) ------------------------------------------------------------------


def test_both_upstreams_answer_music_by_default_at_their_public_origins() -> None:
    settings = load_settings()
    assert settings.music_upstreams == ["qqmusic", "netease"]
    assert settings.qqmusic_api_url == "https://u.y.qq.com/cgi-bin/musicu.fcg"
    assert settings.qqmusic_ptlogin_url == "https://ssl.ptlogin2.qq.com"
    assert settings.qqmusic_graph_url == "https://graph.qq.com"
    assert settings.wechat_open_url == "https://open.weixin.qq.com"
    assert settings.qqmusic_stream_url == "https://ws.stream.qqmusic.qq.com/"
    assert settings.netease_api_url == "https://music.163.com"
    assert settings.qr_login_ttl == 180


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("none", []),
        ("netease", ["netease"]),
        (" qqmusic , netease ", ["qqmusic", "netease"]),
    ],
)
def test_music_upstreams_narrow_or_turn_off(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("KARPOV_MUSIC_UPSTREAMS", raw)
    assert load_settings().music_upstreams == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KARPOV_MUSIC_UPSTREAMS", "spotify"),
        ("KARPOV_NETEASE_WEAPI_KEY", "not-hex"),
        ("KARPOV_QQMUSIC_PTLOGIN_URL", "ftp://ptlogin"),
        ("KARPOV_QR_LOGIN_TTL", "5"),
    ],
)
def test_bad_upstream_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^{name}: "):
        load_settings()


def test_the_upstream_settings_reach_the_clients_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.adapters import netease_config, qqmusic_config

    for name, value in {
        "KARPOV_QQMUSIC_API_URL": "http://qq.mirror/cgi-bin/musicu.fcg",
        "KARPOV_QQMUSIC_PTLOGIN_URL": "http://ptlogin.mirror",
        "KARPOV_QQMUSIC_GRAPH_URL": "http://graph.mirror",
        "KARPOV_WECHAT_OPEN_URL": "http://open.mirror",
        "KARPOV_QQMUSIC_STREAM_URL": "http://stream.mirror/",
        "KARPOV_QQMUSIC_IMAGE_URL": "http://img.mirror/",
        "KARPOV_QQMUSIC_SIGN": "true",
        "KARPOV_QQMUSIC_TIMEOUT": "3",
        "KARPOV_QQMUSIC_MAX_CONCURRENCY": "4",
        "KARPOV_NETEASE_API_URL": "http://netease.mirror",
        "KARPOV_NETEASE_TIMEOUT": "7",
        "KARPOV_NETEASE_WEAPI_KEY": "c5:3",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    qq = qqmusic_config(settings)
    assert (qq.api_url, qq.ptlogin_url, qq.graph_url, qq.wechat_open_url) == (
        "http://qq.mirror/cgi-bin/musicu.fcg", "http://ptlogin.mirror", "http://graph.mirror",
        "http://open.mirror",
    )  # fmt: skip
    assert (qq.stream_url, qq.image_url, qq.sign_requests) == (
        "http://stream.mirror/", "http://img.mirror/", True,
    )  # fmt: skip
    assert (qq.timeout_s, qq.max_concurrency) == (3.0, 4)
    netease = netease_config(settings)
    assert (netease.api_url, netease.timeout) == ("http://netease.mirror", 7.0)
    assert (netease.weapi_key.modulus, netease.weapi_key.exponent) == (0xC5, 3)
