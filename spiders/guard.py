"""SSRF guard: no request leaves for a private, loopback or otherwise non-public address.

Scrapy's OffsiteMiddleware is not an SSRF guard: it skips `dont_filter=True`
requests (every start URL) and redirects inherit the flag, so a seed that
redirects to `http://169.254.169.254/` is fetched. This middleware runs on every
request that reaches the downloader (seeds, links, redirects, robots.txt) and:

- refuses any scheme but http and https;
- drops a redirect to a host outside the spider's `allowed_domains`, whatever
  its `dont_filter`;
- resolves the host and refuses it when any address is private, loopback,
  link-local, multicast, reserved, unspecified or otherwise not global. Odd
  spellings (`2130706433`, `0x7f000001`, `127.1`, `[::ffff:127.0.0.2]`) are
  parsed the way the C resolver parses them, so they land on the same address.

Hosts in `NEWSMILL_ALLOWED_HOSTS` (the sources' own hosts, e.g. a fixture on
127.0.0.1) pass as written; another spelling of the same address does not.

DNS rebinding: we resolve once here and the downloader resolves again when it
connects, so a name with a tiny TTL could answer a public address to us and a
private one to the connection. The connection's own lookups go through
`spiders.pinned_dns.PublicOnlyResolver`, which refuses non-public answers: the
address connected to is always a checked one.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, NoReturn

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.url import url_is_from_any_domain
from twisted.internet.threads import deferToThread

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

__all__ = ["SsrfGuardMiddleware", "address_block_reason", "literal_address"]

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = frozenset({"http", "https"})


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP literal names, in any spelling inet_aton accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # inet_aton is what getaddrinfo uses for numeric hosts: it accepts
        # 2130706433, 0x7f000001, 127.1 and octal 0177.0.0.1.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def address_block_reason(addr: IPAddress) -> str | None:
    """Why `addr` must not be fetched, or None for a public address."""
    if isinstance(addr, ipaddress.IPv6Address):
        # ::ffff:127.0.0.2 reaches 127.0.0.2; 6to4 and Teredo embed IPv4 too.
        embedded = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is not None:
            reason = address_block_reason(embedded)
            if reason:
                return reason
    for name in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(addr, f"is_{name}"):
            return name
    if not addr.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT)
        return "non_global"
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def allowed_hosts(settings) -> frozenset[str]:
    """NEWSMILL_ALLOWED_HOSTS as compared with a URL's host: lower case, no brackets."""
    return frozenset(h.strip().lower().strip("[]") for h in settings.getlist("NEWSMILL_ALLOWED_HOSTS") if h.strip())


class SsrfGuardMiddleware:
    """Downloader middleware; see the module docstring. Off with NEWSMILL_SSRF_GUARD=False."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSMILL_SSRF_GUARD", True):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.allowed_hosts = allowed_hosts(settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SsrfGuardMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        url = urlparse_cached(request)
        if url.scheme not in ALLOWED_SCHEMES:
            self._block(request, "scheme", f"scheme {url.scheme!r} is not http(s)")
        host = (url.hostname or "").lower()
        if not host:
            self._block(request, "no_host", "no host")
        if request.meta.get("redirect_urls"):
            self._check_redirect(request, host)
        if host in self.allowed_hosts:
            return
        addr = literal_address(host)
        if addr is not None:
            addrs = [addr]
        else:
            try:
                port = url.port or (443 if url.scheme == "https" else 80)
            except ValueError:
                self._block(request, "bad_port", "invalid port")
            try:
                # getaddrinfo blocks; a thread keeps the reactor free.
                addrs = await maybe_deferred_to_future(deferToThread(_resolve, host, port))
            except (OSError, UnicodeError):
                # Unresolvable: the downloader fails the same way and reports
                # it as a DNS error, the reason the spider already records.
                return
        for addr in addrs:
            reason = address_block_reason(addr)
            if reason:
                self._block(request, reason, f"{host} resolves to {reason} address {addr}")

    def _check_redirect(self, request: Request, host: str) -> None:
        # Redirects inherit dont_filter from the seed, so OffsiteMiddleware lets
        # them through; the source's own domains still bound where they may go.
        spider = self.crawler.spider
        domains = [d for d in getattr(spider, "allowed_domains", None) or () if d]
        if domains and not url_is_from_any_domain(request.url, domains):
            self.stats.inc_value("newsmill/offsite/redirect")
            logger.info("Dropped offsite redirect to %s (from %s)", request.url,
                        request.meta["redirect_urls"][0])
            raise IgnoreRequest(f"offsite redirect to {host}")

    def _block(self, request: Request, reason: str, detail: str) -> NoReturn:
        self.stats.inc_value("newsmill/ssrf/blocked")
        self.stats.inc_value(f"newsmill/ssrf/blocked_reason/{reason}")
        logger.warning("SSRF guard blocked %s: %s", request.url, detail)
        raise IgnoreRequest(f"ssrf: {detail}")
