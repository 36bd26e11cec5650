"""The client address of an API request, honouring ``X-Forwarded-For`` only from trusted proxies.

Behind a reverse proxy every request arrives from the proxy's address, so per-client limits
would lump all users together. ``X-Forwarded-For`` fixes that, but any client can send the
header, so it is read only when the socket peer is in ``trusted_proxies`` (CIDRs in the node
settings), and then from the right: each trusted proxy appends the address it saw, so the
rightmost entry that is not itself a trusted proxy is the first hop no one on our side can
vouch for — the client. Entries to its left were written by the client and are ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = ["IPNetwork", "client_ip"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address,
             proxies: Sequence[IPNetwork]) -> bool:
    return any(addr.version == net.version and addr in net for net in proxies)


def client_ip(peer: str | None, forwarded: Iterable[str], proxies: Sequence[IPNetwork]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy, else the rightmost
    untrusted ``X-Forwarded-For`` hop (``forwarded``: the header's values, in order)."""
    if peer is None:
        return "unknown"
    addr = _ip(peer)
    if addr is None or not proxies or not _trusted(addr, proxies):
        return peer
    hops = [h for value in forwarded for h in value.split(",") if h.strip()]
    client = addr
    for hop in reversed(hops):
        hop_addr = _ip(hop)
        if hop_addr is None:  # a trusted proxy wrote garbage: trust nothing beyond it
            break
        client = hop_addr
        if not _trusted(hop_addr, proxies):
            break
    return str(client)
