"""The news spider: feeds, sitemaps and links in; article pages out as CapturedPage items.

One spider crawls every source of a sources file. Each request carries its source
and role in `meta`; every decision (scheduled, skipped, fetched, failed, dropped)
is a flat stat, per source (`newsmill/source/<name>/...`) and in total
(`newsmill/...`).

Order: robots.txt and sitemaps, then feeds, then article candidates, then hubs by
depth, then listing pages (request priorities). Budget per source: at most
`max_pages` articles captured and 4 * max_pages + 50 requests, so a crawler trap
is bounded.

Link following is driven by productivity, with no per-site rule. Every page URL
belongs to a listing *family*: the URL with digit runs and page-number query
parameters taken out (`/archive/2024/03/` and `/archive/2031/07/` are one family,
so are `/world?page=2` and `/world`). A link from a hub to its own family is
pagination: it costs no depth, and it is followed only while the chain that led
to it stays productive. A hub page is productive when it links a page no hub
linked before (outside its own family); the first page of a chain (reached
from another family) always counts as productive. A chain is abandoned after
NEWSMILL_LISTING_IDLE_PAGES (2) unproductive pages in a row, and an
unproductive page is a dead end at once when its family has had more than
NEWSMILL_LISTING_FAMILY_IDLE (6) unproductive pages since its last productive
one (many entry points into one idle calendar). An endless calendar or `?page=N`
listing thus costs a few requests past its last story, while a listing that
keeps showing stories nobody else linked (old articles missing from feeds and
sitemaps) is walked to its end whatever the depth limit.

Variants: an article whose rel=canonical names another URL on the same host is
not captured; its canonical is queued instead (`skipped/variant`), and a
rel=amphtml URL is never requested.

robots.txt listed under `sitemaps:` is not fetched a second time: its
`Sitemap:` lines are read from the copy Scrapy's RobotsTxtMiddleware downloads
(the `robots_parsed` signal), and fetched by the spider only when robots.txt
is not obeyed, its parser cannot list sitemaps, or no middleware reported it
by the time the crawl goes idle.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError as TwistedTimeoutError,
)

from pipelines.sources import Source, load_sources
from pipelines.urls import normalize_url
from spiders import discovery
from spiders.items import CapturedPage
from spiders.seen import SeenStore

__all__ = ["NewsSpider"]

PRIORITY = {"robots": 400, "sitemap": 300, "feed": 200, "candidate": 100, "hub": 50, "page": 20}
# Defaults of NEWSMILL_LISTING_IDLE_PAGES / NEWSMILL_LISTING_FAMILY_IDLE.
MAX_IDLE_PAGES = 2  # unproductive listing pages in a row before a pagination chain is dropped
MAX_FAMILY_IDLE = 6  # a family's unproductive pages since its last productive one, before idle = dead end
# Query parameters that number a listing's pages (dropped from the family key).
PAGE_PARAMS = re.compile(r"^(page|paged|p|pg|pagenum|page_?no|offset|start|from|skip|before|after|cursor)$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_REASON_RE = re.compile(r"[^a-z0-9_]+")


def _reason(text: str) -> str:
    """A stat-key-safe reason: short snake_case."""
    return _REASON_RE.sub("_", text.lower()).strip("_")[:48] or "unknown"


def family(url: str) -> str:
    """The listing family of a normalized URL: host, path with digit runs as `#`, non-page query."""
    parts = urlsplit(url)
    query = "&".join(sorted(_DIGITS.sub("#", kv) for kv in parts.query.split("&")
                            if kv and not PAGE_PARAMS.match(kv.partition("=")[0])))
    return f"{(parts.hostname or '').lower()}{_DIGITS.sub('#', parts.path)}?{query}"


def is_variant(url: str, canonical: str) -> bool:
    """True when `url` is a variant of `canonical`: same host (scheme and www. aside), other path or query.

    A canonical on another host (syndication, a CDN mirror) is not taken as a reason to
    drop the page: the page is captured and the dedup stage decides.
    """
    pa, pc = urlsplit(url), urlsplit(canonical)
    if (pa.hostname or "").removeprefix("www.") != (pc.hostname or "").removeprefix("www."):
        return False
    return (pa.path, pa.query) != (pc.path, pc.query) and pc.path not in ("", "/")


def _day(value: str | None, flag: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{flag}: expected YYYY-MM-DD, got {value!r}") from None


def _robots_sitemaps(robotparser) -> list[str] | None:
    """The Sitemap: URLs of a parsed robots.txt (Protego or the stdlib parser); None if unknown."""
    inner = getattr(robotparser, "rp", None)
    try:
        if hasattr(inner, "sitemaps"):  # Protego
            return [u for u in inner.sitemaps if u]
        if hasattr(inner, "site_maps"):  # urllib.robotparser
            return list(inner.site_maps() or [])
    except Exception:  # noqa: BLE001 - a parser quirk must not lose the sitemaps: fetch instead
        return None
    return None


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, sources: str | None = None, run_id: str | None = None, since: str | None = None,
                 until: str | None = None, max_pages: str | int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not sources:
            raise ValueError("news spider: the sources file is required (-a sources=FILE)")
        loaded = load_sources(sources)
        if max_pages not in (None, ""):
            loaded = [dataclasses.replace(s, max_pages=int(max_pages)) for s in loaded]
        self.sources: dict[str, Source] = {s.name: s for s in loaded}
        self.since, self.until = _day(since, "since"), _day(until, "until")
        started = datetime.now(timezone.utc)
        self.crawl_date = started.strftime("%Y-%m-%d")
        self.run_id = run_id or started.strftime("%Y%m%dT%H%M%SZ")
        # Scrapy's OffsiteMiddleware gets the union; the per-source check is ours (_admit).
        self.allowed_domains = sorted({d for s in loaded for d in s.allowed_domains})
        self._scheduled: set[str] = set()  # normalized URLs requested this run: one URL, one fetch
        self._captured_urls: set[str] = set()
        self._skipped_seen: set[str] = set()
        self._requests: dict[str, int] = defaultdict(int)
        self._captured: dict[str, int] = defaultdict(int)
        self._first: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._links = LinkExtractor()
        # Conditional GET state. Validators of a feed/sitemap are saved only at a clean
        # finish and only if every entry it listed was dealt with for good: after a 304
        # we never see its entries again, so one failed, over-budget or out-of-window
        # entry (or a kill before the WARC is published) must force a full fetch next run.
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self._doc_parent: dict[str, str | None] = {}
        self._dirty_docs: set[str] = set()
        # Productivity-driven link following (see the module docstring).
        self._linked: dict[str, set[str]] = defaultdict(set)  # per source: URLs some hub page linked
        self._family_idle: dict[tuple[str, str], int] = defaultdict(int)
        self._amp: set[str] = set()  # rel=amphtml URLs: never requested
        self._pending: dict[str, int] = defaultdict(int)  # candidate requests in flight, per source
        self._robots_wanted: dict[str, list[tuple[Source, str]]] = defaultdict(list)  # netloc -> (src, url)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        data_dir = Path(crawler.settings.get("NEWSMILL_DATA_DIR") or "data")
        spider.seen = SeenStore(data_dir / "state" / "seen.sqlite")
        spider.request_factor = crawler.settings.getint("NEWSMILL_REQUEST_BUDGET_FACTOR", 4)
        spider.request_extra = crawler.settings.getint("NEWSMILL_REQUEST_BUDGET_EXTRA", 50)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        spider.idle_pages = crawler.settings.getint("NEWSMILL_LISTING_IDLE_PAGES", MAX_IDLE_PAGES)
        spider.family_idle = crawler.settings.getint("NEWSMILL_LISTING_FAMILY_IDLE", MAX_FAMILY_IDLE)
        spider.robots_obeyed = crawler.settings.getbool("ROBOTSTXT_OBEY")
        if spider.robots_obeyed:
            crawler.signals.connect(spider._on_robots, signal=signals.robots_parsed)
        return spider

    # -- stats ------------------------------------------------------------------

    def _inc(self, source: str, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"newsmill/{key}", n)
        self.crawler.stats.inc_value(f"newsmill/source/{source}/{key}", n)

    def _on_closed(self, spider, reason) -> None:
        for name in self.sources:
            seconds = self._last.get(name, 0.0) - self._first.get(name, 0.0)
            self.crawler.stats.set_value(f"newsmill/source/{name}/seconds", round(max(seconds, 0.0), 3))
            self.crawler.stats.set_value(f"newsmill/source/{name}/captured", self._captured[name])
        self.crawler.stats.set_value("newsmill/captured", sum(self._captured.values()))
        self.crawler.stats.set_value("newsmill/run_id", self.run_id)
        self.crawler.stats.set_value("newsmill/crawl_date", self.crawl_date)
        try:
            if reason == "finished":
                for url, (etag, modified) in self._validators.items():
                    clean = url not in self._dirty_docs
                    self.seen.set_validators(url, etag if clean else None, modified if clean else None)
        finally:
            self.seen.close()

    def _dirty(self, doc: str | None) -> None:
        """The feed/sitemap `doc` (and the index that listed it) must be refetched in full next run."""
        while doc and doc not in self._dirty_docs:
            self._dirty_docs.add(doc)
            doc = self._doc_parent.get(doc)

    # -- requests -----------------------------------------------------------------

    async def start(self):
        start_netlocs = {urlsplit(normalize_url(u)).netloc for s in self.sources.values()
                         for u in (*s.sitemaps, *s.feeds, *s.start_urls)
                         if not urlsplit(u).path.endswith("/robots.txt")}
        for src in self.sources.values():
            for url in src.sitemaps:
                role = "robots" if urlsplit(url).path.endswith("/robots.txt") else "sitemap"
                netloc = urlsplit(normalize_url(url)).netloc
                if role == "robots" and self.robots_obeyed and netloc in start_netlocs:
                    # Scrapy downloads this robots.txt anyway: read its Sitemap: lines from there.
                    self._robots_wanted[netloc].append((src, normalize_url(url)))
                    continue
                if req := self._request(src, url, role, depth=0):
                    yield req
            for url in src.feeds:
                if req := self._request(src, url, "feed", depth=0):
                    yield req
            for url in src.start_urls:
                if req := self._request(src, url, "hub", depth=0):
                    yield req

    def _request(self, src: Source, url: str, role: str, depth: int, parent: str | None = None,
                 priority: int | None = None, meta: dict | None = None):
        """A Request for `url` (normalized), or None when it is a repeat or over budget."""
        norm = normalize_url(url)
        if norm in self._scheduled:
            return None
        if self._requests[src.name] >= src.max_pages * self.request_factor + self.request_extra:
            self._inc(src.name, "skipped/budget_requests")
            self._dirty(parent)
            return None
        self._scheduled.add(norm)
        self._requests[src.name] += 1
        self._inc(src.name, "requests")
        self._first.setdefault(src.name, time.monotonic())
        if role == "candidate":
            self._pending[src.name] += 1
        meta = {**(meta or {}), "nm_source": src.name, "nm_role": role, "nm_depth": depth, "nm_url": norm,
                "nm_parent": parent}
        headers = {}
        if role in ("feed", "sitemap"):
            # Conditional GET: a 304 means nothing new since the last run.
            etag, modified = self.seen.validators(norm)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
            meta["handle_httpstatus_list"] = [304]
        if priority is None:
            priority = PRIORITY[role] - (depth if role == "hub" else 0)
        return scrapy.Request(norm, callback=self._parse, errback=self._failed, meta=meta,
                              headers=headers, priority=priority)

    def _on_robots(self, robotparser, request) -> None:
        """Scrapy parsed a host's robots.txt: schedule the sitemaps it lists for the sources that asked."""
        netloc = urlsplit(request.url).netloc
        wanted = self._robots_wanted.pop(netloc, [])
        if not wanted:
            return
        urls = _robots_sitemaps(robotparser)
        for src, robots_url in wanted:
            if urls is None:  # a parser that cannot list sitemaps: fetch robots.txt ourselves
                req = self._request(src, robots_url, "robots", depth=0)
            else:
                self._inc(src.name, "fetched/robots")
                self._scheduled.add(robots_url)
                self._doc_parent[robots_url] = None
                req = None
                for sitemap in urls:
                    if r := self._request(src, sitemap, "sitemap", depth=0, parent=robots_url):
                        self.crawler.engine.crawl(r)
            if req is not None:
                self.crawler.engine.crawl(req)

    def _on_idle(self) -> None:
        """A robots.txt no middleware reported (robots off for it, or fetched elsewhere): fetch it now."""
        wanted, self._robots_wanted = self._robots_wanted, defaultdict(list)
        scheduled = False
        for pairs in wanted.values():
            for src, robots_url in pairs:
                if req := self._request(src, robots_url, "robots", depth=0):
                    self.crawler.engine.crawl(req)
                    scheduled = True
        if scheduled:
            raise DontCloseSpider

    def _admit(self, src: Source, url: str, depth: int, origin: str, parent: str | None = None,
               priority: int | None = None, meta: dict | None = None):
        """Decide whether a discovered page URL is fetched; a Request or None (with a stat)."""
        norm = normalize_url(url)
        parts = urlsplit(norm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._inc(src.name, "skipped/not_http")
            return None
        host = parts.hostname.lower()
        if not any(host == d or host.endswith("." + d) for d in src.allowed_domains):
            self._inc(src.name, "skipped/offsite")
            return None
        if norm in self._scheduled:
            return None
        if norm in self._amp:
            self._inc(src.name, "skipped/variant")
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if src.deny_pattern and src.deny_pattern.search(target):
            self._inc(src.name, "skipped/denied")
            return None
        if norm in self._skipped_seen:
            return None
        if norm in self.seen:
            self._skipped_seen.add(norm)  # counted once per URL, however often it is linked
            self._inc(src.name, "skipped_seen")
            return None
        pattern_article = bool(src.article_pattern and src.article_pattern.search(target))
        candidate = pattern_article or (origin in ("feed", "sitemap", "canonical") and src.article_pattern is None)
        if not candidate:
            # A page reached by a link (or a feed/sitemap entry the pattern says is no article).
            if depth > src.max_depth:
                self._inc(src.name, "skipped/depth")
                return None
            if src.follow_pattern and not src.follow_pattern.search(target):
                self._inc(src.name, "skipped/not_followed")
                return None
        elif depth > src.max_depth and origin == "link":
            self._inc(src.name, "skipped/depth")
            return None
        # max_pages is spent on articles: once it is (or, for candidates, will likely be) reached,
        # no listing or article is worth a request any more. A little slack covers candidates
        # that fail or turn out not to be articles.
        captured = self._captured[src.name]
        slack = max(2, src.max_pages // 10)
        if captured >= src.max_pages or (candidate and captured + self._pending[src.name] >= src.max_pages + slack):
            self._inc(src.name, "skipped/budget_articles")
            self._dirty(parent)
            return None
        return self._request(src, norm, "candidate" if candidate else "hub", depth, parent=parent,
                             priority=None if candidate else priority, meta=meta)

    # -- responses ----------------------------------------------------------------

    def _parse(self, response):
        meta = response.meta
        src = self.sources[meta["nm_source"]]
        self._last[src.name] = time.monotonic()
        role = meta["nm_role"]
        if role == "candidate":
            self._pending[src.name] -= 1
        if response.status == 304:
            self._inc(src.name, "not_modified")
            return
        if role in ("robots", "sitemap", "feed"):
            yield from self._parse_discovery(src, role, response)
        else:
            yield from self._parse_page(src, response)

    def _parse_discovery(self, src: Source, role: str, response):
        body = response.body
        url = response.meta["nm_url"]
        self._doc_parent[url] = response.meta.get("nm_parent")
        if role == "robots":
            self._inc(src.name, "fetched/robots")
            for entry in discovery.parse_robots(body, response.url):
                if req := self._request(src, entry.url, "sitemap", depth=0, parent=url):
                    yield req
            return
        self._validators[url] = (
            response.headers.get("ETag", b"").decode("latin-1") or None,
            response.headers.get("Last-Modified", b"").decode("latin-1") or None,
        )
        # Feeds listed under `sitemaps:` (and the reverse) are common: trust the content.
        if discovery.looks_like_feed(body):
            self._inc(src.name, "fetched/feed")
            entries, index = discovery.parse_feed(body, response.url), False
        else:
            self._inc(src.name, "fetched/sitemap")
            result = discovery.parse_sitemap(body, response.url)
            if result.kind == "invalid":
                self._inc(src.name, "failed/invalid_sitemap")
                self.logger.warning("not a sitemap or feed: %s", url)
            entries, index = result.entries, result.kind == "sitemapindex"
        for entry in entries:
            if index:
                # A child sitemap last changed before `since` holds nothing newer.
                if self.since and entry.date and entry.date.date() < self.since:
                    self._inc(src.name, "skipped/date_window")
                    self._dirty(url)
                elif req := self._request(src, entry.url, "sitemap", depth=0, parent=url):
                    yield req
            elif not discovery.in_window(entry.date, self.since, self.until):
                self._inc(src.name, "skipped/date_window")
                self._dirty(url)
            elif req := self._admit(src, entry.url, depth=1, origin=role, parent=url):
                yield req

    def _parse_page(self, src: Source, response):
        meta = response.meta
        kind, hint, reason = self._decide(src, response)
        self._inc(src.name, f"fetched/{kind}")
        if kind == "other":
            self._inc(src.name, f"dropped_other/{reason}")
            return
        canonical = self._variant_links(response)
        if kind == "article":
            final = normalize_url(response.url)
            if canonical and not meta.get("nm_canonical_of") and is_variant(final, canonical):
                # An AMP/print/other variant: the canonical is the article, fetched (once) instead.
                self._inc(src.name, "skipped/variant")
                if req := self._admit(src, canonical, meta["nm_depth"], origin="canonical",
                                      meta={"nm_canonical_of": final}):
                    yield req
                return
            yield from self._capture(src, response, hint)
            return
        yield from self._follow(src, response)

    def _variant_links(self, response) -> str | None:
        """Remember the page's rel=amphtml URLs (never fetched); return its rel=canonical (normalized)."""
        if not isinstance(response, TextResponse):
            return None
        try:
            for href in response.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' amphtml ')]"
                                       "/@href").getall():
                self._amp.add(normalize_url(response.urljoin(href.strip())))
            href = response.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]"
                                  "/@href").get()
        except ValueError:  # not parseable as HTML
            return None
        return normalize_url(response.urljoin(href.strip())) if href and href.strip() else None

    def _follow(self, src: Source, response):
        """Links of a hub page: new pages one level deeper; its own family (pagination) by productivity."""
        meta = response.meta
        if self._captured[src.name] >= src.max_pages:
            return  # nothing a link could lead to would be captured
        depth = meta["nm_depth"]
        here = meta["nm_url"]
        fam = family(here)
        linked = self._linked[src.name]
        own, other, fresh = [], [], 0
        for link in self._links.extract_links(response):
            norm = normalize_url(link.url)
            if norm == here:
                continue
            if family(norm) == fam:
                own.append(norm)
                continue
            other.append(norm)
            if norm not in linked:
                linked.add(norm)
                host = (urlsplit(norm).hostname or "").lower()
                if any(host == d or host.endswith("." + d) for d in src.allowed_domains):
                    fresh += 1
        # The first page of a listing reached from elsewhere (not by its own pagination) always
        # gets its next/previous pages looked at: a calendar's current month often shows only
        # what the home page already linked, the stories nobody else links come later.
        root = "nm_idle" not in meta
        idle = 0 if fresh or root else meta["nm_idle"] + 1
        if fresh:
            self._family_idle[(src.name, fam)] = 0
        elif not root:
            self._family_idle[(src.name, fam)] += 1
            self._inc(src.name, "listing/idle_pages")
        for norm in other:
            if req := self._admit(src, norm, depth + 1, origin="link"):
                yield req
        if not own:
            return
        if idle and (idle >= self.idle_pages or self._family_idle[(src.name, fam)] > self.family_idle):
            # This listing stopped showing anything new: its next/previous pages are not fetched.
            fresh_own = [u for u in own if u not in self._scheduled]
            if fresh_own:
                self._inc(src.name, "skipped/idle_listing", len(fresh_own))
            return
        # Pagination costs no depth; productive chains first, idle ones last.
        priority = PRIORITY["page"] + min(fresh, 20) - 10 * idle
        for norm in own:
            if req := self._admit(src, norm, depth, origin="link", priority=priority, meta={"nm_idle": idle}):
                yield req

    def _decide(self, src: Source, response) -> tuple[str, str, str]:
        """(kind, article hint, reason): the pattern decides when the source has one, else the classifier."""
        ctype = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        if src.article_pattern is not None:
            if not ctype.startswith(HTML_TYPES):
                return "other", "", "not_html"
            parts = urlsplit(response.url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            return ("article" if src.article_pattern.search(target) else "hub"), "pattern", "pattern"
        # Imported here: the classifier is only needed for sources without an article_pattern.
        from pipelines.classify import classify_page

        page = classify_page(response.url, response.body, ctype)
        return page.kind, "classifier", _reason(page.reason)

    def _capture(self, src: Source, response, hint: str):
        final = normalize_url(response.url)
        if final in self._captured_urls or (final != response.meta["nm_url"] and final in self.seen):
            # A redirect onto a page already captured (this run or an earlier one).
            self._inc(src.name, "skipped_seen")
            return
        if self._captured[src.name] >= src.max_pages:
            self._inc(src.name, "skipped/budget_articles")
            self._dirty(response.meta.get("nm_parent"))
            return
        self._captured[src.name] += 1
        self._captured_urls.add(final)
        request = response.request
        yield CapturedPage(
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
            fetched_at=datetime.now(timezone.utc),
        )

    def _failed(self, failure):
        request = failure.request
        src = request.meta["nm_source"]
        self._last[src] = time.monotonic()
        if request.meta.get("nm_role") == "candidate":
            self._pending[src] -= 1
        self._inc(src, f"failed/{self._failure_reason(failure)}")
        self._dirty(request.meta.get("nm_parent"))

    @staticmethod
    def _failure_reason(failure) -> str:
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
        return _reason(type(failure.value).__name__)
