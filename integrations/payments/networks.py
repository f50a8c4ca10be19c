"""The networks a channel's callbacks may come from (an optional allow list).

An empty list allows every source: providers rarely publish their notify addresses, so the
signature stays the real proof. When a list is set, a callback from anywhere else, or from
an address that cannot be read, is refused. IPv4-mapped IPv6 addresses (``::ffff:1.2.3.4``,
what a dual-stack socket reports) are matched as the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class CallbackNetworks:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, cidrs: Iterable[str], *, field: str = "callbackNetworks") -> CallbackNetworks:
        """``"203.0.113.0/24"``, ``"2001:db8::/32"`` or a bare address (one host)."""
        networks: list[Network] = []
        for cidr in cidrs:
            try:
                networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
            except (ValueError, TypeError, AttributeError):
                raise InvalidInput(f"{field}: {cidr!r} is not a network", field=field) from None
        return cls(tuple(networks))

    @property
    def restricted(self) -> bool:
        return bool(self.networks)

    def allows(self, ip: str | None) -> bool:
        if not self.networks:
            return True
        if not ip:
            return False
        try:
            address = ipaddress.ip_address(ip.strip())
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)
