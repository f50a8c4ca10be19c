"""Accounts of the fake OAuth provider and the JSON each kind of provider shows for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oidc.core import UserInfo


@dataclass(slots=True)
class FakeUser:
    """An account at the provider. Mutable on purpose: a test may flip ``active`` or
    ``trust_level`` between two sign-ins and the next profile answer shows the change."""

    sub: str
    """The provider's stable id (``id`` in the Linux.do profile, a number when it is digits)."""
    username: str
    name: str = ""
    email: str = ""
    email_verified: bool = True
    active: bool = True
    trust_level: int = 0
    silenced: bool = False
    picture: str | None = None
    """OIDC ``picture``; ``None`` gives ``{base_url}/avatars/{username}.png``."""


def linuxdo_profile(user: FakeUser) -> dict[str, Any]:
    """The body of ``GET https://connect.linux.do/api/user`` for this user."""
    return {
        # Discourse sends a JSON number; our client must also cope with a string id.
        "id": int(user.sub) if user.sub.isdigit() else user.sub,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "avatar_template": f"/user_avatar/connect.linux.do/{user.username}/{{size}}/1.png",
        "active": user.active,
        "trust_level": user.trust_level,
        "silenced": user.silenced,
    }


def oidc_claims(user: FakeUser, scope: str, base_url: str) -> dict[str, Any]:
    """Standard claims released for ``scope`` (``openid`` -> sub, ``email``, ``profile``), as a
    real OpenID provider filters them; used for both the ID token and the userinfo answer."""
    claims = UserInfo(
        sub=user.sub,
        email=user.email,
        email_verified=user.email_verified,
        name=user.name,
        preferred_username=user.username,
        picture=user.picture or f"{base_url}/avatars/{user.username}.png",
    )
    return dict(claims.filter(scope))
