"""Size, shape and credential limits the crawler keeps on the open web.

- `CrawlLimitsMiddleware`: crawler traps. A URL longer than NEWSMILL_MAX_URL_LENGTH,
  a path repeating one segment NEWSMILL_MAX_PATH_REPEAT times (`/a/a/a/`), or a
  URL that differs from one already requested only by its session id
  (`?sid=<random>` on every link) is dropped with a reason.
- `RedirectCredentialsMiddleware`: Scrapy 2.19 already drops `Authorization` when
  a redirect changes scheme, host or port, `Cookie` when it changes host or
  downgrades to http, and `Proxy-Authorization` without a proxy. It keeps
  `Cookie` across a port change on the same host; we drop it there too.
- `safe_gunzip` and `safe_xml_parser` for the spider's own sitemap and feed
  parsing. Response bodies need no helper: HttpCompressionMiddleware checks
  DOWNLOAD_MAXSIZE against the decompressed size for gzip, deflate, br and zstd
  and ignores the response with one warning; the downloader cancels a body past
  DOWNLOAD_MAXSIZE while it streams, with or without Content-Length.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import lxml.etree
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.gz import gunzip
from scrapy.utils.httpobj import urlparse_cached

try:  # private in Scrapy 2.19; the public contract is "raises when past max_size"
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded
except ImportError:  # pragma: no cover
    _DecompressionMaxSizeExceeded = ValueError  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

__all__ = [
    "BodyTooLarge", "CrawlLimitsMiddleware", "RedirectCredentialsMiddleware",
    "safe_gunzip", "safe_xml_parser", "strip_session_ids", "trap_reason",
]

logger = logging.getLogger(__name__)

# Same names as pipelines.urls.SESSION_PARAMS, plus the `;jsessionid=` path parameter.
SESSION_PARAM = re.compile(r"^(sid|sessionid|session_id|phpsessid|jsessionid|aspsessionid\w*|s_id)$", re.I)
PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sid)=[^/?#]*", re.I)
CREDENTIAL_HEADERS = (b"Authorization", b"Cookie", b"Proxy-Authorization")
DEFAULT_PORTS = {"http": 80, "https": 443}


class BodyTooLarge(ValueError):
    """A compressed body that decompresses past the size limit."""


def safe_gunzip(body: bytes, max_size: int) -> bytes:
    """Gunzip `body`, raising BodyTooLarge once the output passes `max_size` bytes.

    Decompresses in chunks, so a bomb costs at most about `max_size` of memory.
    A corrupt stream raises OSError/EOFError as gzip does.
    """
    try:
        return gunzip(body, max_size=max_size)
    except _DecompressionMaxSizeExceeded as exc:
        raise BodyTooLarge(f"gzip body decompresses past {max_size} bytes") from exc


def safe_xml_parser() -> lxml.etree.XMLParser:
    """An lxml parser for untrusted feeds and sitemaps.

    No entity expansion (billion laughs, XXE `SYSTEM "file:..."`), no DTD
    loading, no network, and libxml2's default size limits (huge_tree=False).
    """
    return lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, recover=True, remove_comments=True, remove_pis=True,
    )


def strip_session_ids(url: str) -> str:
    """`url` without session-id query or path parameters."""
    parts = urlsplit(url)
    path = PATH_SESSION.sub("", parts.path)
    query = "&".join(kv for kv in parts.query.split("&")
                     if kv and not SESSION_PARAM.match(kv.split("=", 1)[0]))
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


def trap_reason(url: str, max_length: int, max_repeat: int) -> str | None:
    """Why `url` looks like a crawler trap by its shape alone, or None."""
    if max_length and len(url) > max_length:
        return "url_too_long"
    if max_repeat:
        segments = [s for s in urlsplit(url).path.split("/") if s]
        if segments and Counter(segments).most_common(1)[0][1] >= max_repeat:
            return "path_repetition"
    return None


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()


class CrawlLimitsMiddleware:
    """Downloader middleware; off with NEWSMILL_CRAWL_LIMITS=False."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSMILL_CRAWL_LIMITS", True):
            raise NotConfigured
        self.stats = crawler.stats
        self.max_length = settings.getint("NEWSMILL_MAX_URL_LENGTH", 2048)
        self.max_repeat = settings.getint("NEWSMILL_MAX_PATH_REPEAT", 3)
        # URL without session id -> digest of the first full URL requested for it.
        # Digests keep memory at ~60 bytes per page for long crawls.
        self._session_first: dict[bytes, bytes] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlLimitsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        reason = trap_reason(request.url, self.max_length, self.max_repeat)
        if reason is None:
            reason = self._session_loop(request)
        if reason:
            self.stats.inc_value(f"newsmill/limits/{reason}")
            logger.info("Dropped %s: %s", request.url[:200], reason)
            raise IgnoreRequest(f"trap: {reason}")

    def _session_loop(self, request: Request) -> str | None:
        url = request.url
        bare = strip_session_ids(url)
        if bare == url:
            return None
        key, full = _digest(bare), _digest(url)
        first = self._session_first.setdefault(key, full)
        # The same URL again (a retry, a redirect back) is not a loop.
        return None if first == full else "session_id_loop"


class RedirectCredentialsMiddleware:
    """Drops credential headers from a redirect that leaves the origin's host and port."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectCredentialsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        previous = request.meta.get("redirect_urls")
        if not previous:
            return
        src, dst = urlsplit(previous[-1]), urlparse_cached(request)
        try:
            src_port = src.port or DEFAULT_PORTS.get(src.scheme)
            dst_port = dst.port or DEFAULT_PORTS.get(dst.scheme)
            same = src.hostname == dst.hostname and src_port == dst_port
        except ValueError:  # unparsable port: treat as another origin
            same = False
        if same:
            return
        for name in CREDENTIAL_HEADERS:
            # Proxy credentials belong to the proxy, which HttpProxyMiddleware manages.
            if name == b"Proxy-Authorization" and request.meta.get("proxy"):
                continue
            if request.headers.pop(name, None) is not None:
                self.stats.inc_value("newsmill/redirect/credentials_dropped")
