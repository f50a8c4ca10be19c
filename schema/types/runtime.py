"""GraphQL view of the public runtime configuration (mirrors ``domain.runtime``)."""

from __future__ import annotations

from domain import runtime
from schema.mirror import Mirrored, mirror


@mirror(runtime.EmailVerificationConfig)
class EmailVerificationConfig(Mirrored):
    pass


@mirror(runtime.AccountActivationConfig)
class AccountActivationConfig(Mirrored):
    pass


@mirror(runtime.RuntimeConfig)
class RuntimeConfig(Mirrored):
    pass
