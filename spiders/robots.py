"""robots.txt with RFC 9309 semantics on top of Scrapy's RobotsTxtMiddleware.

Scrapy parses whatever body comes back, so a robots.txt answering 503 (an HTML
error page, usually) means "allow all", and a download error means "no rules".
RFC 9309 section 2.3.1 says the opposite for the unreachable case:

- 2xx: parse the file; only the first NEWSMILL_ROBOTSTXT_MAX_BYTES are parsed
  (the RFC asks for at least 500 KiB), cut at a line end;
- 4xx ("unavailable"): allow all. 429 is the exception: it is the server saying
  it is overloaded, so it counts as unreachable like Google treats it;
- 5xx, timeout, reset or broken body ("unreachable"): disallow all for that
  host for the rest of the run (`newsmill/robots/unreachable`).

Connection refused and DNS failure are the exception to the exception: the
page request then fails the same way, and keeping Scrapy's "no rules" lets it
be recorded with its real reason (refused, dns) instead of "robots".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

__all__ = ["Rfc9309RobotsTxtMiddleware", "truncate_robots"]

logger = logging.getLogger(__name__)

HOST_DOWN = (IgnoreRequest, CannotResolveHostError, DownloadConnectionRefusedError,
             ConnectionRefusedError, DNSLookupError)
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
DEFAULT_MAX_BYTES = 500 * 1024


def truncate_robots(body: bytes, max_bytes: int) -> bytes:
    """The first `max_bytes` of `body`, without a half line at the end."""
    if len(body) <= max_bytes:
        return body
    head = body[:max_bytes]
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut >= 0 else b""


class Rfc9309RobotsTxtMiddleware(RobotsTxtMiddleware):
    """Replaces scrapy's RobotsTxtMiddleware at the same order (100)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.max_bytes = crawler.settings.getint("NEWSMILL_ROBOTSTXT_MAX_BYTES", DEFAULT_MAX_BYTES)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        status = response.status
        if status >= 500 or status == 429:
            self._unreachable(netloc, f"http_{status}")
            body = DISALLOW_ALL
        elif status >= 300:
            # 4xx, or a redirect we did not follow (too many, or to another scheme).
            body = b""
        else:
            body = truncate_robots(response.body, self.max_bytes)
            if len(body) < len(response.body):
                self.crawler.stats.inc_value("newsmill/robots/truncated")
        await super()._parse_robots(response.replace(body=body), netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, HOST_DOWN):
            # The page request meets the same refusal (ours, the network's) and
            # records it with its own reason, so no rule is needed.
            super()._robots_error(exc, netloc)
            return
        self.crawler.stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._unreachable(netloc, type(exc).__name__)
        parser = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        pending = self._parsers[netloc]
        self._parsers[netloc] = parser
        if isinstance(pending, Deferred):
            pending.callback(parser)

    def _unreachable(self, netloc: str, reason: str) -> None:
        self.crawler.stats.inc_value("newsmill/robots/unreachable")
        self.crawler.stats.inc_value(f"newsmill/robots/unreachable_reason/{reason}")
        logger.warning("robots.txt of %s unreachable (%s): disallowing the host for this run",
                       netloc, reason)
