"""Who is calling: the client address that failed-authentication limits count by."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from typing import Any


def client_address(scope: Mapping[str, Any]) -> str:
    """Who is calling, for failed-authentication counts: the peer address (behind a proxy,
    uvicorn's proxy headers support puts the real client there), IPv6 grouped by /64."""
    client = scope.get("client")
    return _group(str(client[0]) if client else "unknown")


@functools.lru_cache(maxsize=4096)
def _group(host: str) -> str:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
