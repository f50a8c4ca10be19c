"""An in-process ``OAuthProvider`` for unit tests: no HTTP, a scripted profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.oauth.model import AuthorizationRequest, ProviderProfile, ProviderTokens


@dataclass
class ScriptedProvider:
    """An ``OAuthProvider`` that answers with ``profile`` and remembers the PKCE verifier."""

    name: str = "fake"
    display_name: str = "Fake"
    redirect_uri: str = "https://api.example.com/v1/auth/oauth/fake/callback"
    profile: ProviderProfile = field(
        default_factory=lambda: ProviderProfile(subject="s1", login="sam")
    )
    verifiers: dict[str, str] = field(default_factory=dict)

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        self.verifiers[request.state] = request.code_verifier
        return f"https://idp.example/authorize?state={request.state}"

    async def exchange_code(self, code: str, request: AuthorizationRequest) -> ProviderTokens:
        assert self.verifiers[request.state] == request.code_verifier  # PKCE round trip
        return ProviderTokens(access_token=f"at-{code}", refresh_token="rt", scopes=("read",))

    async def fetch_profile(self, tokens: ProviderTokens) -> ProviderProfile:
        return self.profile

    def validate(self, profile: ProviderProfile) -> None:
        return None
