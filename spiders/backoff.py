"""Retries that honour `Retry-After`.

Scrapy's RetryMiddleware ignores `Retry-After`: a 429 is retried at once, until
RETRY_TIMES runs out, which is exactly what an overloaded server asked us not to
do. This subclass replaces it (same settings, same `retry/*` stats): when a
retryable response carries `Retry-After` (seconds or an HTTP-date), the retry is
handed back to the engine only after that many seconds. The wait is a Twisted
timer awaited inside the middleware, so the reactor keeps serving other
requests; the waiting request holds one slot of CONCURRENT_REQUESTS meanwhile.
A wait beyond NEWSMILL_RETRY_AFTER_MAX gives up at once and the response goes on
to the spider as a failure (`newsmill/backoff/gave_up/retry_after_too_long`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

__all__ = ["RetryAfterMiddleware", "retry_after_seconds"]

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks us to wait; None when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Drop-in replacement for scrapy's RetryMiddleware at the same order (550)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("NEWSMILL_RETRY_AFTER_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        reason = response_status_message(response.status)
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        stats = self.crawler.stats
        if wait is not None and wait > self.max_wait:
            stats.inc_value("newsmill/backoff/gave_up/retry_after_too_long")
            logger.warning("Gave up on %s: Retry-After %.0f s exceeds NEWSMILL_RETRY_AFTER_MAX (%.0f s)",
                           request, wait, self.max_wait)
            return response
        retry = self._retry(request, reason)  # None once RETRY_TIMES is spent (logged, counted)
        if retry is None:
            return response
        if wait:
            stats.inc_value("newsmill/backoff/waits")
            stats.inc_value("newsmill/backoff/wait_seconds", wait)
            logger.info("Waiting %.1f s (Retry-After) before retrying %s", wait, request)
            from twisted.internet import reactor  # here: a module-level import would install a reactor

            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return retry
