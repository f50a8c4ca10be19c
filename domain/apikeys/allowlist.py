"""Per-key IP allowlists: IPv4/IPv6 addresses and CIDR blocks.

Rules are validated and put in canonical text form when a key is written (the original
skipped bad rules silently; we reject them with a field error). At request time the
rules are compiled once per distinct tuple (cached) into integer ranges, so a check is a
few integer comparisons: this runs on every API-key request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from domain.apikeys.errors import InvalidIpRule

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX_SHOWN = 64
_V4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _invalid(entry: str, why: str) -> InvalidIpRule:
    shown = entry if len(entry) <= _MAX_SHOWN else entry[:_MAX_SHOWN] + "…"
    return InvalidIpRule(f"invalid IP allowlist entry {shown!r}: {why}")


def _unmap(network: IPNetwork) -> IPNetwork:
    """``::ffff:a.b.c.d/n`` (n >= 96) as the IPv4 block it denotes."""
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_V4_MAPPED):
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def canonical_rule(entry: str) -> str:
    """The canonical text of one rule: an address for a single host (``10.0.0.1``, not
    ``10.0.0.1/32``; compressed IPv6), else the network with its host bits cleared
    (``10.1.2.3/8`` is ``10.0.0.0/8``, as Go's ParseCIDR matched it in the original)."""
    text = entry.strip()
    if not text:
        raise _invalid(entry, "empty")
    if "%" in text:
        raise _invalid(entry, "IPv6 zone identifiers are not allowed")
    try:
        network = _unmap(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise _invalid(entry, "not an IPv4/IPv6 address or CIDR block") from None
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def normalise_allowlist(raw: Iterable[str]) -> tuple[str, ...]:
    """Canonical rules, empty entries dropped, duplicates removed (first kept); raises
    :class:`InvalidIpRule` naming the first bad entry."""
    kept: dict[str, None] = {}
    for entry in raw:
        if entry.strip():
            kept.setdefault(canonical_rule(entry))
    return tuple(kept)


def parse_client_ip(client_ip: str | None) -> IPAddress | None:
    """The client's address without port, zone or IPv4 mapping; ``None`` if unparsable.

    Accepts ``1.2.3.4``, ``1.2.3.4:5678``, ``::1``, ``[::1]`` and ``[::1]:443``.
    """
    if not client_ip:
        return None
    text = client_ip.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not (end == len(text) - 1 or text[end + 1 : end + 2] == ":"):
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))
    return address


@dataclass(frozen=True, slots=True)
class CompiledAllowlist:
    """Rules as integer ranges per address family."""

    allow_any: bool
    v4: tuple[tuple[int, int], ...]
    v6: tuple[tuple[int, int], ...]

    def allows(self, client_ip: str | None) -> bool:
        if self.allow_any:
            return True
        parsed = _client_number(client_ip) if client_ip else None
        if parsed is None:
            return False
        version, value = parsed
        ranges = self.v4 if version == 4 else self.v6
        return any(first <= value <= last for first, last in ranges)


@lru_cache(maxsize=65_536)
def _client_number(client_ip: str) -> tuple[int, int] | None:
    """(IP version, address as an integer), cached: a client sends many requests, and
    parsing text costs several times more than the range check itself."""
    address = parse_client_ip(client_ip)
    return None if address is None else (address.version, int(address))


@lru_cache(maxsize=4096)
def compile_allowlist(rules: tuple[str, ...]) -> CompiledAllowlist:
    """Compiled ``rules`` (cached per distinct tuple). Stored rules are already valid; a
    rule that is not (hand-edited data) is skipped, and a list left with no usable rule
    denies everyone rather than becoming "any address"."""
    v4: list[tuple[int, int]] = []
    v6: list[tuple[int, int]] = []
    for rule in rules:
        try:
            network = _unmap(ipaddress.ip_network(rule.strip(), strict=False))
        except ValueError:
            continue
        span = (int(network.network_address), int(network.broadcast_address))
        (v4 if network.version == 4 else v6).append(span)
    return CompiledAllowlist(allow_any=not rules, v4=tuple(v4), v6=tuple(v6))


def ip_allowed(rules: Sequence[str], client_ip: str | None) -> bool:
    """Whether ``client_ip`` may use a key with these rules: no rules means any address;
    with rules, a missing or unparsable client address is denied."""
    if not rules:
        return True
    return compile_allowlist(tuple(rules)).allows(client_ip)
