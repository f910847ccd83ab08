"""Who the client is behind reverse proxies: `X-Forwarded-For` / `Forwarded` from trusted peers only.

A header that says where a request came from is believed only when the peer that sent it is one
of `BOT_TRUSTED_PROXIES`; then the addresses are read from the right (the hop nearest this app)
and the first one that is not itself a trusted proxy is the client. Everything left of it was
written by the client or by proxies nobody vouches for, so it is never used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from vectorstore.errors import SettingsError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(value: str | None) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR blocks ("127.0.0.1, 10.0.0.0/8") as networks."""
    networks = []
    for raw in (value or "").split(","):
        item = raw.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"BOT_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR block; write e.g. "
                "127.0.0.1 or 10.0.0.0/8, separated by commas"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header element: bare, quoted, `[v6]:port`, or `v4:port`."""
    item = text.strip().strip('"')
    if item.startswith("["):
        item = item[1:].partition("]")[0]
    elif item.count(":") == 1:
        item = item.partition(":")[0]  # IPv4 with a port
    try:
        address = ipaddress.ip_address(item)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The hops a request names, left (client side) to right: `Forwarded` for= values if any are
    given, else `X-Forwarded-For`; several header lines are read in order as one list."""
    forwarded: list[str] = []
    x_forwarded: list[str] = []
    for name, value in headers:
        key = name.lower()
        text = value.decode("latin-1")
        if key == b"forwarded":
            for element in text.split(","):
                for pair in element.split(";"):
                    k, sep, v = pair.partition("=")
                    if sep and k.strip().lower() == "for":
                        forwarded.append(v.strip())
        elif key == b"x-forwarded-for":
            x_forwarded.extend(part.strip() for part in text.split(",") if part.strip())
    return forwarded or x_forwarded


def client_address(peer: str, headers: Iterable[tuple[bytes, bytes]], trusted: Sequence) -> str:
    """The client's address: the peer itself unless the peer is a trusted proxy, else the
    right-most forwarded address that is not a trusted proxy."""

    def is_trusted(address) -> bool:
        return address is not None and any(address in network for network in trusted)

    current = _address(peer)
    if not trusted or not is_trusted(current):
        return peer
    for hop in reversed(forwarded_chain(headers)):
        address = _address(hop)
        if address is None:
            # A trusted proxy wrote something that is no address ("unknown", a socket name):
            # the client cannot be told apart, so the nearest trusted hop stands for it.
            break
        current = address
        if not is_trusted(address):
            break
    return str(current)


class TrustedProxies:
    """Sets the ASGI scope's client to the real client address, for every route and Gradio."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            host, _port = scope["client"]
            real = client_address(host, scope.get("headers", []), self.trusted)
            if real != host:
                scope = {**scope, "client": (real, 0)}
        await self.app(scope, receive, send)
