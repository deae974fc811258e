"""What a fetch came to, as stat reasons: a page's kind, the item an article becomes, why a request failed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError
from twisted.internet.error import TimeoutError as TwistedTimeoutError

from pipelines.sources import Source
from spiders.items import CapturedPage
from spiders.scope import target

__all__ = ["HTML_TYPES", "captured_page", "failure_reason", "page_kind", "reason"]

HTML_TYPES = ("text/html", "application/xhtml+xml")
_REASON_RE = re.compile(r"[^a-z0-9_]+")


def reason(text: str) -> str:
    """A stat-key-safe reason: short snake_case."""
    return _REASON_RE.sub("_", text.lower()).strip("_")[:48] or "unknown"


def page_kind(src: Source, response) -> tuple[str, str, str]:
    """(kind, article hint, reason): the pattern decides when the source has one, else the classifier."""
    ctype = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    if src.article_pattern is not None:
        if not ctype.startswith(HTML_TYPES):
            return "other", "", "not_html"
        kind = "article" if src.article_pattern.search(target(urlsplit(response.url))) else "hub"
        return kind, "pattern", "pattern"
    # Imported here: the classifier is only needed for sources without an article_pattern.
    from pipelines.classify import classify_page

    page = classify_page(response.url, response.body, ctype)
    return page.kind, "classifier", reason(page.reason)


def captured_page(src: Source, response, hint: str, final: str) -> CapturedPage:
    """The HTTP exchange of an article page; `final` is its normalized URL after redirects."""
    request = response.request
    return CapturedPage(
        url=response.url,
        seen_urls=tuple(dict.fromkeys((response.meta["nm_url"], final))),
        source=src.name,
        article_hint=hint,
        method=request.method,
        request_headers=[(k.decode("latin-1"), v.decode("latin-1"))
                         for k, vs in request.headers.items() for v in vs],
        status=response.status,
        response_headers=[(k.decode("latin-1"), v.decode("latin-1"))
                          for k, vs in response.headers.items() for v in vs],
        body=response.body,
        fetched_at=datetime.now(UTC),
    )


def failure_reason(failure) -> str:
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(IgnoreRequest):
        message = str(failure.value).lower()
        if "robots" in message:
            return "robots_forbidden"
        if "offsite" in message:
            return "offsite"
        return "ignored"
    if failure.check(DNSLookupError):
        return "dns"
    if failure.check(ConnectionRefusedError):
        return "refused"
    if failure.check(TwistedTimeoutError, TCPTimedOutError):
        return "timeout"
    return reason(type(failure.value).__name__)
