"""OAuth 2.0 / OpenID Connect identity providers behind ``domain.oauth.ports.OAuthProvider``,
built on authlib's async (httpx) client."""
