"""GraphQL view of the public runtime configuration (mirrors ``domain.runtime``)."""

from __future__ import annotations

from domain import runtime
from schema.mirror import Mirrored, mirror


@mirror(
    runtime.EmailVerificationConfig,
    descriptions={
        "enabled": "Whether codes can be sent.",
        "required": "Whether registering needs a code.",
        "cooldown_seconds": "Seconds between two codes to one address.",
        "code_ttl_seconds": "How long a code is valid.",
        "hourly_limit_per_email": "Codes per address per hour.",
        "allowed_domains": "If not empty, the only e-mail domains that may register.",
        "blocked_domains": "E-mail domains that may not register.",
        "app_name": "The name the mails are signed with.",
    },
    description="Registration codes sent by e-mail.",
)
class EmailVerificationConfig(Mirrored):
    pass


@mirror(
    runtime.AccountActivationConfig,
    descriptions={
        "enabled": "Whether activation mails are sent.",
        "required": "Whether an account must be activated before it may sign in.",
        "ttl_seconds": "How long a link is valid.",
    },
    description="Activation links sent after registering.",
)
class AccountActivationConfig(Mirrored):
    pass


@mirror(
    runtime.RuntimeConfig,
    descriptions={
        "timezone": "The timezone of usage days and months (IANA name).",
        "email_verification": "Registration codes sent by e-mail.",
        "account_activation": "Activation links sent after registering.",
    },
    description="What a client needs to know of this server's configuration (public).",
)
class RuntimeConfig(Mirrored):
    pass
