"""DNS for the downloader that never answers a non-public address: the SSRF guard's
check moved to the resolution the connection itself uses.

`SsrfGuardMiddleware` resolves a host before the request is sent, but the
downloader resolves it again when it connects: a name with a tiny TTL can answer a
public address to the guard and a private one to the connection (DNS rebinding).
This resolver is the one the reactor connects through (Scrapy's TWISTED_DNS_RESOLVER), so
the address it lets through is the address connected to. Hosts in
NEWSMILL_ALLOWED_HOSTS (the sources' own hosts) pass; NEWSMILL_SSRF_GUARD=False
turns it off with the guard. Scrapy builds it once per process, from the process's
settings (spiders/run.py puts the allowed hosts there), not a spider's.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from spiders.guard import address_block_reason, allowed_hosts

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


class PublicOnlyResolver(CachingThreadedResolver):
    allowed_hosts: frozenset[str] = frozenset()
    enabled: bool = True

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> PublicOnlyResolver:
        resolver = super().from_crawler(crawler, reactor)
        settings = crawler.settings
        resolver.enabled = settings.getbool("NEWSMILL_SSRF_GUARD", True)
        resolver.allowed_hosts = allowed_hosts(settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        d = super().getHostByName(name, timeout)
        if self.enabled and name.lower().strip("[]") not in self.allowed_hosts:
            d.addCallback(self._public_only, name)
        return d

    @staticmethod
    def _public_only(address: str, name: str) -> str:
        reason = address_block_reason(ipaddress.ip_address(address))
        if reason:
            logger.warning("DNS answer refused: %s resolves to %s address %s", name, reason, address)
            raise DNSLookupError(f"ssrf: {name} resolves to {reason} address {address}")
        return address
