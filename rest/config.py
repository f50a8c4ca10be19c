"""``GET /v1/config/runtime``: the original's snake_case shape."""

from __future__ import annotations

from typing import Any

from resolvers import runtime
from rest.router import RestRequest


async def runtime_config(req: RestRequest) -> dict[str, Any]:
    cfg = await runtime.runtime_config(req.ctx)
    ev, aa = cfg.email_verification, cfg.account_activation
    return {
        "timezone": cfg.timezone,
        "email_verification": {
            "enabled": ev.enabled,
            "required": ev.required,
            "cooldown_seconds": ev.cooldown_seconds,
            "code_ttl_seconds": ev.code_ttl_seconds,
            "hourly_limit_per_email": ev.hourly_limit_per_email,
            "allowed_domains": ev.allowed_domains,
            "blocked_domains": ev.blocked_domains,
            "app_name": ev.app_name,
        },
        "account_activation": {
            "enabled": aa.enabled,
            "required": aa.required,
            "ttl_seconds": aa.ttl_seconds,
        },
    }
