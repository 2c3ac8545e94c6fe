"""Which hosts a feed and its links may reach: the special-address checks (:func:`_special`),
address literals refused before any request (:func:`_check_literal`), :class:`Refused`
and a URL's host (:func:`_host`)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class Refused(Exception):
    """A hop whose address a request may not reach."""


def _check_literal(url: str) -> None:
    """Raise :class:`Refused` when ``url``'s host is a special address written out
    (``127.0.0.1``, ``[::1]``, ``2130706433``): refused before any transport is asked.
    A name is checked by :class:`Transport` as it connects."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(
            host, parts.port or 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except (OSError, UnicodeError):
        return  # a name, or no host: the request itself will say what is wrong
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if kind := _special(address):
            raise Refused(_refusal(host, kind, address))


def _refusal(host: str, kind: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return (
        f"refused: {host} is a {kind} address ({address}); a feed and its links may "
        "reach one only on the feed's own host, or with "
        "settings.allow_private_networks = true"
    )


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_PROTOCOL_ASSIGNMENTS = ipaddress.IPv4Network("192.0.0.0/24")
"""IANA's, not reachable on the internet; Oracle Cloud's old metadata address is in it."""


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """What kind of address a link from a feed may not reach; "" for a public one.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64) is judged by the IPv4
    one, so ``[2002:a9fe:a9fe::]`` is 169.254.169.254 and a DNS64 network's addresses of
    public sites stay public. Anything else not globally reachable (100.64.0.0/10, where
    Alibaba Cloud answers metadata requests) is refused too.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            return _special(embedded)
        if address.is_site_local:
            return "non-public"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "reserved"
    if not address.is_global or address in _PROTOCOL_ASSIGNMENTS:
        return "non-public"
    return ""


def _host(url: str) -> str:
    """The host of ``url``, or "" when it has none or cannot be parsed."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
