"""The server-side request forgery guard: which addresses outbound requests may reach.

A target is refused unless every address its host resolves to is public, or the host or
the address is allow-listed (`GATEWAY_OUTBOUND_ALLOW`: host names and CIDRs). Refused:
loopback, private (RFC 1918, IPv6 unique-local), link-local (cloud metadata lives there:
169.254.169.254, fd00:ec2::254), multicast, unspecified, shared (100.64/10), reserved and
documentation ranges — everything `ipaddress` does not call global — and the same
addresses hidden inside IPv6 (IPv4-mapped `::ffff:127.0.0.1`, 6to4, Teredo, NAT64).

The host is resolved once, here; the caller connects to the address that was checked, so
a DNS answer cannot change between the check and the connection. Numeric spellings that
the resolver accepts (`2130706433`, `0x7f.1`, `127.1`) resolve to the address they mean
and are refused like it.

    allow = AllowList.parse(["127.0.0.0/8", "hooks.internal"])
    await resolve("localhost", 80, allow)   # [IPv4Address('127.0.0.1')]
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from gateway.core.errors import ConfigError, NodeFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Named for clarity; each is already outside the global ranges.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)


class TargetRefused(NodeFailure):
    """An outbound target the guard refuses; the job ends ERROR with this message."""


@dataclass(frozen=True, slots=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, entries: tuple[str, ...] | list[str]) -> AllowList:
        """Entries are CIDRs or single addresses (`10.0.0.0/8`, `::1`) or host names."""
        hosts: set[str] = set()
        networks: list[Network] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if "/" in entry or " " in entry:
                    raise ConfigError(f"GATEWAY_OUTBOUND_ALLOW: {entry!r} is not a CIDR") from None
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def embedded(address: IPAddress) -> IPAddress | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why `address` is refused, or None when it is a public address."""
    inner = embedded(address)
    if inner is not None:
        reason = refusal(inner)
        return f"{reason} (inside {address})" if reason else None
    if address in METADATA:
        return "a cloud metadata address"
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{name}"):
            return f"a {name.replace('_', '-')} address"
    if not address.is_global:
        return "not a public address"
    return None


def literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(host: str, port: int, allow: AllowList) -> list[IPAddress]:
    """The checked addresses to connect to for `host`; `TargetRefused` when any address
    it resolves to is refused (a mixed answer is refused whole)."""
    addresses = await _lookup(host, port)
    if allow.allows_host(host):
        return addresses
    for address in addresses:
        reason = None if allow.allows(address) else refusal(address)
        if reason:
            shown = f"[{host}]" if ":" in host else host
            if literal(host) is None:
                shown = f"{shown} ({address})"
            raise TargetRefused(
                f"refused to call {shown}: {reason}; allow it with GATEWAY_OUTBOUND_ALLOW"
            )
    return addresses


async def _lookup(host: str, port: int) -> list[IPAddress]:
    address = literal(host)
    if address is not None:
        return [address]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise NodeFailure(f"cannot resolve {host}: {exc}") from exc
    found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not found:
        raise NodeFailure(f"cannot resolve {host}: no address")
    return list(dict.fromkeys(found))
