"""URL helpers: canonical forms, private-address detection, credential stripping."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "canonical_url",
    "host_of",
    "is_private_url",
    "is_private_url_async",
    "redact",
    "strip_credentials",
]

_SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "email", "mailto", "token", "access_token"})


def host_of(url: str) -> str:
    """The rate-limit key of a URL: host[:port] in lower case."""
    parts = urlsplit(url)
    return (parts.netloc.rsplit("@", 1)[-1]).lower()


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port and fragment dropped."""
    p = urlsplit(url.strip())
    netloc = p.netloc.lower()
    if (p.scheme == "http" and netloc.endswith(":80")) or (
        p.scheme == "https" and netloc.endswith(":443")
    ):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((p.scheme.lower(), netloc, p.path or "/", p.query, ""))


@functools.lru_cache(maxsize=4096)
def strip_credentials(url: str) -> str:
    """Remove userinfo and secret query parameters (API keys, contact emails).

    Cached: one request strips its URL several times (gate, events, errors) and parsing a
    query string is not free (bench/cost.py: 4 % of a run's CPU before the cache).
    """
    p = urlsplit(url)
    netloc = p.netloc.rsplit("@", 1)[-1]
    pairs = parse_qsl(p.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in pairs if k.lower() not in _SECRET_PARAMS])
    return urlunsplit((p.scheme, netloc, p.path, query, p.fragment))


def _is_private_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return bool(
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
        or ip.is_multicast or ip.is_unspecified
    )


def is_private_url(url: str, *, resolve: bool = False) -> bool:
    """True for loopback/private/link-local hosts (literal IPs, `localhost`, or resolved names)."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if not host:
        return True
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return _is_private_ip(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not resolve:
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return any(_is_private_ip(ipaddress.ip_address(info[4][0])) for info in infos)


def _literal_verdict(url: str) -> tuple[str, bool | None]:
    """(hostname, verdict) where verdict is None when the name needs resolving."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if not host:
        return host, True
    if host == "localhost" or host.endswith(".localhost"):
        return host, True
    try:
        return host, _is_private_ip(ipaddress.ip_address(host))
    except ValueError:
        return host, None


async def is_private_url_async(url: str) -> bool:
    """Like `is_private_url(resolve=True)` but resolves names without blocking the loop.

    Any private address among the answers counts: a name that resolves to both a public
    and a private address could be steered to the private one.
    """
    host, verdict = _literal_verdict(url)
    if verdict is not None:
        return verdict
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False  # unresolvable: the request itself will fail as a connection error
    return any(_is_private_ip(ipaddress.ip_address(info[4][0])) for info in infos)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (emails, API keys) with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text
