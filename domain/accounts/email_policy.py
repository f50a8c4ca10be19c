"""Who may register, and how e-mail is used: the settings of the e-mail flows, the
domain allow/block lists and the one-account-per-IP rule (reference §3.1)."""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from datetime import timedelta

from domain.accounts.errors import EmailDomainNotAllowed
from domain.security.model import WindowRule


class VerificationMode(enum.StrEnum):
    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


class ActivationMode(enum.StrEnum):
    OFF = "off"
    REQUIRED = "required"


@dataclass(frozen=True, slots=True)
class EmailFlowsPolicy:
    app_name: str = "Karpov"
    verification: VerificationMode = VerificationMode.OFF
    activation: ActivationMode = ActivationMode.OFF
    code_ttl: timedelta = timedelta(minutes=10)
    code_cooldown_seconds: int = 60
    codes_per_email_per_hour: int = 5
    codes_per_ip_per_hour: int = 20
    registrations_per_ip_per_hour: int = 50
    """Each registration costs an argon2 hash: bound what one address can ask for
    (0 = no limit)."""
    code_max_attempts: int = 5
    activation_ttl: timedelta = timedelta(hours=24)
    activation_url: str = "http://localhost:8080/activate?token="
    reset_ttl: timedelta = timedelta(minutes=30)
    reset_url: str = "http://localhost:8080/reset-password?token="
    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    one_account_per_ip: bool = False
    ip_allowlist: tuple[str, ...] = ()
    mail_enabled: bool = False
    """Whether a mailer can deliver (SMTP configured, or the dev log mailer)."""
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(
        default=(), init=False, repr=False
    )

    def __post_init__(self) -> None:
        nets = []
        for entry in self.ip_allowlist:
            try:
                nets.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                continue  # the original skipped bad entries; settings validate them first
        object.__setattr__(self, "_networks", tuple(nets))

    def check_domain(self, email: str) -> None:
        """Block list wins; an empty allow list allows every domain. Entries are exact
        (``qq.com``) or suffixes (``*.edu.cn`` / ``.edu.cn``)."""
        domain = email.rpartition("@")[2].lower()
        if any(_matches(domain, entry) for entry in self.blocked_domains):
            raise EmailDomainNotAllowed(field="email")
        if self.allowed_domains and not any(_matches(domain, e) for e in self.allowed_domains):
            raise EmailDomainNotAllowed(field="email")

    def mail_limits(
        self, kind: str, email: str, client_ip: str | None
    ) -> tuple[list[WindowRule], list[WindowRule]]:
        """The original's limits on mails of one ``kind`` (code, activation, reset): per
        address (cooldown, hourly) and per client address (hourly), as two rule lists."""
        per_address = [
            WindowRule(f"{kind}:cooldown:{email}", 1, self.code_cooldown_seconds),
            WindowRule(f"{kind}:email:{email}", self.codes_per_email_per_hour, 3600),
        ]
        per_ip = [WindowRule(f"{kind}:ip:{client_ip or '-'}", self.codes_per_ip_per_hour, 3600)]
        return per_address, per_ip

    def ip_claim(self, client_ip: str | None) -> str | None:
        """The address this registration claims under the one-account-per-IP rule, or
        ``None`` when the rule does not apply (off, unknown address, allow-listed)."""
        if not self.one_account_per_ip or not client_ip:
            return None
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return None
        if any(address in net for net in self._networks):
            return None
        return str(address)


def _matches(domain: str, entry: str) -> bool:
    entry = entry.strip().lower()
    if not entry or any(c in entry for c in "@ \t/"):
        return False
    if entry.startswith("*."):
        entry = entry[1:]
    if entry.startswith("."):
        return domain.endswith(entry)
    return domain == entry
