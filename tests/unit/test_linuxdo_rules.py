"""Linux.do sign-in rules that need no network: which profiles may sign in, and how the
profile answer is mapped (ids as numbers or strings, avatar templates, no verified e-mail)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.clock import ManualClock
from domain.oauth.errors import ProfileRejected, UserinfoFailed
from domain.oauth.model import ProviderProfile
from integrations.oauth.linuxdo import LinuxDoConfig, LinuxDoProvider


def provider(**config: Any) -> LinuxDoProvider:
    settings = {
        "client_id": "id",
        "client_secret": "secret",
        "redirect_uri": "https://api.example.com/v1/auth/oauth/linuxdo/callback",
        "authorize_url": "https://connect.linux.do/oauth2/authorize",
        "token_url": "https://connect.linux.do/oauth2/token",
        "userinfo_url": "https://connect.linux.do/api/user",
        **config,
    }
    return LinuxDoProvider(LinuxDoConfig(**settings), clock=ManualClock())


def profile(**fields: Any) -> ProviderProfile:
    return ProviderProfile(**{"subject": "1", "active": True, "trust_level": 1, **fields})


@pytest.mark.parametrize(
    ("rules", "fields", "message"),
    [
        ({}, {"active": False}, "linux.do account is not active"),
        ({}, {"active": None}, "linux.do account is not active"),
        ({"min_trust_level": 2}, {"trust_level": 1}, "linux.do trust_level=1 below required 2"),
        ({"min_trust_level": 1}, {"trust_level": None}, "linux.do trust_level=0 below required 1"),
        ({"reject_silenced": True}, {"silenced": True}, "linux.do account is silenced"),
    ],
)
def test_refused_profiles(rules: dict[str, Any], fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileRejected) as caught:
        provider(**rules).validate(profile(**fields))
    assert (caught.value.code, caught.value.message) == ("validate_failed", message)


@pytest.mark.parametrize(
    ("rules", "fields"),
    [
        ({}, {}),
        ({"require_active": False}, {"active": False}),
        ({"min_trust_level": 4}, {"trust_level": 4}),
        ({}, {"silenced": True}),  # silenced users pass unless configured otherwise
    ],
)
def test_accepted_profiles(rules: dict[str, Any], fields: dict[str, Any]) -> None:
    provider(**rules).validate(profile(**fields))


def test_profile_mapping() -> None:
    mapped = provider()._profile(
        {
            "id": 1001,
            "username": "alice",
            "name": " Alice ",
            "email": "alice@linux.do",
            "avatar_template": "/user_avatar/connect.linux.do/alice/{size}/1.png",
            "active": True,
            "trust_level": 3,
            "silenced": False,
            "api_key": "must-not-be-kept",
        }
    )
    assert mapped == ProviderProfile(
        subject="1001",
        login="alice",
        name="Alice",
        email="alice@linux.do",
        email_verified=False,
        avatar_url="https://connect.linux.do/user_avatar/connect.linux.do/alice/96/1.png",
        trust_level=3,
        active=True,
        silenced=False,
    )


@pytest.mark.parametrize("raw_id", [None, "", True, 1.5, ["1"]])
def test_a_profile_without_a_usable_id_is_refused(raw_id: object) -> None:
    with pytest.raises(UserinfoFailed):
        provider()._profile({"id": raw_id, "username": "x"})


def test_a_string_id_and_an_absolute_avatar_are_kept() -> None:
    mapped = provider()._profile(
        {"id": "abc", "avatar_url": "https://cdn.example/a.png", "trust_level": "2"}
    )
    assert (mapped.subject, mapped.avatar_url, mapped.trust_level) == (
        "abc",
        "https://cdn.example/a.png",
        None,
    )
    assert provider()._profile({"id": 1, "avatar_url": "javascript:x"}).avatar_url is None
