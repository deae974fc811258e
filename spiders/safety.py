"""Settings that make the crawler safe on the open web; merged into spiders/settings.py.

    from spiders.safety import SAFETY_SETTINGS
    globals().update(SAFETY_SETTINGS)

NEWSMILL_ALLOWED_HOSTS must name the sources' own hosts when they are private
or loopback (the demo and tests on 127.0.0.1); public hosts need no entry.
`source_hosts(urls)` gives them from the sources' start, feed and sitemap URLs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["SAFETY_SETTINGS", "source_hosts"]

MIB = 1024 * 1024

SAFETY_SETTINGS: dict[str, Any] = {
    "DOWNLOADER_MIDDLEWARES": {
        # Before OffsiteMiddleware (50) and robots.txt (100): a blocked host gets
        # no request at all, not even for its robots.txt.
        "spiders.guard.SsrfGuardMiddleware": 40,
        "spiders.limits.CrawlLimitsMiddleware": 45,
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "spiders.robots.Rfc9309RobotsTxtMiddleware": 100,
        # Before HttpAuthMiddleware (300), which adds its own credentials back
        # for the one domain they belong to.
        "spiders.limits.RedirectCredentialsMiddleware": 290,
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "spiders.backoff.RetryAfterMiddleware": 550,
    },
    # The connection's own DNS answers are checked too (DNS rebinding): spiders/pinned_dns.py.
    "TWISTED_DNS_RESOLVER": "spiders.pinned_dns.PublicOnlyResolver",
    # Only http(s): a link or redirect to file:, data:, ftp: or s3: must never be fetched.
    "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
    "DOWNLOAD_MAXSIZE": 16 * MIB,  # also caps decompressed bodies (HttpCompressionMiddleware)
    "DOWNLOAD_WARNSIZE": 4 * MIB,
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_FAIL_ON_DATALOSS": True,  # a short or broken body is an error and is retried
    "REDIRECT_MAX_TIMES": 10,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 2,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
    "ROBOTSTXT_OBEY": True,
    "TELNETCONSOLE_ENABLED": False,
    "NEWSMILL_SSRF_GUARD": True,
    "NEWSMILL_CRAWL_LIMITS": True,
    "NEWSMILL_ALLOWED_HOSTS": [],
    "NEWSMILL_RETRY_AFTER_MAX": 120,
    "NEWSMILL_ROBOTSTXT_MAX_BYTES": 500 * 1024,
    "NEWSMILL_MAX_URL_LENGTH": 2048,
    "NEWSMILL_MAX_PATH_REPEAT": 3,
    "NEWSMILL_SITEMAP_MAX_BYTES": 16 * MIB,  # for safe_gunzip of .xml.gz sitemaps
}


def source_hosts(urls: Iterable[str]) -> list[str]:
    """Hosts of the sources' own URLs, for NEWSMILL_ALLOWED_HOSTS.

    sources.yaml is operator config, so its hosts are trusted as written; a listed
    host skips the address check, so list only URLs you would fetch on purpose.
    """
    return sorted({host for url in urls if (host := (urlsplit(url).hostname or "").lower())})
