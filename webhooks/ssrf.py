"""Where a webhook may be sent (API.md, Webhooks): `https://` to a public address only, unless
WEBHOOK_ALLOW_PRIVATE is on (an on-premises setup: private addresses and plain `http://`).

The URL's host is resolved (`socket.getaddrinfo`) and EVERY address it resolves to is checked,
at creation and again at each delivery (a name may resolve elsewhere by then); the delivery
then connects to the address it checked, never resolving again (no DNS rebinding between the
check and the connection), and follows no redirect."""

import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass

from django.conf import settings


class UnsafeUrl(ValueError):
    """The URL may not be delivered to; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]  # checked, in the resolver's order


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or Teredo IPv6 address."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def is_public(address: str) -> bool:
    """Whether an address is a public unicast one: not loopback, private, link-local,
    multicast, reserved, unspecified (0.0.0.0, ::), shared (100.64/10) or documentation; an
    IPv6 address that embeds an IPv4 one is judged by that one too."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:  # ::ffff:a.b.c.d is a.b.c.d
            return is_public(str(ip.ipv4_mapped))
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return not (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str, *, resolve: bool = True) -> Target:
    """The URL's target, or UnsafeUrl: its scheme, and every address its host resolves to."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("Enter a valid URL.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeUrl(
            "The URL must be https://."
            if not allow_private
            else "The URL must be https:// or http://."
        )
    if not parts.hostname:
        raise UnsafeUrl("The URL needs a host.")
    if parts.username or parts.password:
        raise UnsafeUrl("The URL may not carry credentials.")
    port = port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if not resolve:
        return Target(parts.scheme, parts.hostname, port, path, ())
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"The host {parts.hostname} cannot be resolved.") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeUrl(f"The host {parts.hostname} cannot be resolved.")
    if not allow_private:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise UnsafeUrl(
                f"The host {parts.hostname} resolves to a non-public address ({refused[0]})."
            )
    return Target(parts.scheme, parts.hostname, port, path, addresses)
