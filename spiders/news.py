"""The news spider: feeds, sitemaps and links in; article pages out as CapturedPage items.

One spider crawls every source of a sources file. Each request carries its source
and role in `meta`; every decision (scheduled, skipped, fetched, failed, dropped)
is a flat stat, per source (`newsmill/source/<name>/...`) and in total
(`newsmill/...`).

Order: robots.txt and sitemaps, then feeds, then article candidates, then hubs by
depth, then listing pages (request priorities). The rest lives beside it:
per-source budgets in spiders.budget, pagination by productivity in
spiders.listing, AMP/print variants in spiders.variants, conditional GET in
spiders.revalidate, sitemaps from robots.txt in spiders.robots_sitemaps.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.linkextractors import LinkExtractor

from pipelines.sources import Source, load_sources
from pipelines.urls import normalize_url
from spiders import discovery
from spiders.budget import Budget
from spiders.listing import (
    MAX_FAMILY_IDLE,
    MAX_IDLE_PAGES,
    Listings,
    family,  # noqa: F401 - its old home: callers import it from here
)
from spiders.outcomes import captured_page, failure_reason, page_kind
from spiders.revalidate import Revalidation, conditional_headers
from spiders.robots_sitemaps import is_robots, robots_sitemaps, start_netlocs
from spiders.scope import on_domains, target
from spiders.seen import SeenStore
from spiders.variants import is_variant, variant_links

__all__ = ["NewsSpider"]

PRIORITY = {"robots": 400, "sitemap": 300, "feed": 200, "candidate": 100, "hub": 50, "page": 20}


def _day(value: str | None, flag: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{flag}: expected YYYY-MM-DD, got {value!r}") from None


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
        started = datetime.now(UTC)
        self.crawl_date = started.strftime("%Y-%m-%d")
        self.run_id = run_id or started.strftime("%Y%m%dT%H%M%SZ")
        # Scrapy's OffsiteMiddleware gets the union; the per-source check is ours (_admit).
        self.allowed_domains = sorted({d for s in loaded for d in s.allowed_domains})
        self._scheduled: set[str] = set()  # normalized URLs requested this run: one URL, one fetch
        self._captured_urls: set[str] = set()
        self._skipped_seen: set[str] = set()
        self._budgets: dict[str, Budget] = {}  # per source, once the budget settings are read
        self._links = LinkExtractor()
        self._revalidation = Revalidation()
        self._listings = Listings()
        self._amp: set[str] = set()  # rel=amphtml URLs: never requested
        self._robots_wanted: dict[str, list[tuple[Source, str]]] = defaultdict(list)  # netloc -> (src, url)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        data_dir = Path(crawler.settings.get("NEWSMILL_DATA_DIR") or "data")
        spider.seen = SeenStore(data_dir / "state" / "seen.sqlite")
        spider.request_factor = crawler.settings.getint("NEWSMILL_REQUEST_BUDGET_FACTOR", 4)
        spider.request_extra = crawler.settings.getint("NEWSMILL_REQUEST_BUDGET_EXTRA", 50)
        spider._budgets = {
            name: Budget(src.max_pages, src.max_pages * spider.request_factor + spider.request_extra)
            for name, src in spider.sources.items()
        }
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._on_dropped, signal=signals.request_dropped)
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
        for name, budget in self._budgets.items():
            self.crawler.stats.set_value(f"newsmill/source/{name}/seconds", budget.seconds())
            self.crawler.stats.set_value(f"newsmill/source/{name}/captured", budget.captured)
        self.crawler.stats.set_value("newsmill/captured", sum(b.captured for b in self._budgets.values()))
        self.crawler.stats.set_value("newsmill/run_id", self.run_id)
        self.crawler.stats.set_value("newsmill/crawl_date", self.crawl_date)
        try:
            if reason == "finished":
                self._revalidation.save(self.seen)
        finally:
            self.seen.close()

    # -- requests -----------------------------------------------------------------

    async def start(self):
        netlocs = start_netlocs(self.sources.values())
        for src in self.sources.values():
            for url in src.sitemaps:
                role = "robots" if is_robots(url) else "sitemap"
                netloc = urlsplit(normalize_url(url)).netloc
                if role == "robots" and self.robots_obeyed and netloc in netlocs:
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
        budget = self._budgets[src.name]
        if budget.requests_spent:
            self._inc(src.name, "skipped/budget_requests")
            self._revalidation.dirty(parent)
            return None
        self._scheduled.add(norm)
        budget.requests += 1
        self._inc(src.name, "requests")
        if budget.first is None:
            budget.first = time.monotonic()
        if role == "candidate":
            budget.pending += 1
        meta = {**(meta or {}), "nm_source": src.name, "nm_role": role, "nm_depth": depth, "nm_url": norm,
                "nm_parent": parent}
        headers = {}
        if role in ("feed", "sitemap"):
            headers = conditional_headers(self.seen, norm)
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
        urls = robots_sitemaps(robotparser)
        for src, robots_url in wanted:
            if urls is None:  # a parser that cannot list sitemaps: fetch robots.txt ourselves
                if req := self._request(src, robots_url, "robots", depth=0):
                    self.crawler.engine.crawl(req)
                continue
            self._inc(src.name, "fetched/robots")
            self._scheduled.add(robots_url)
            self._revalidation.listed(robots_url, by=None)
            for sitemap in urls:
                if req := self._request(src, sitemap, "sitemap", depth=0, parent=robots_url):
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
        if not on_domains(parts.hostname.lower(), src.allowed_domains):
            self._inc(src.name, "skipped/offsite")
            return None
        if norm in self._scheduled:
            return None
        if norm in self._amp:
            self._inc(src.name, "skipped/variant")
            return None
        path = target(parts)
        if src.deny_pattern and src.deny_pattern.search(path):
            self._inc(src.name, "skipped/denied")
            return None
        if norm in self._skipped_seen:
            return None
        if norm in self.seen:
            self._skipped_seen.add(norm)  # counted once per URL, however often it is linked
            self._inc(src.name, "skipped_seen")
            return None
        pattern_article = bool(src.article_pattern and src.article_pattern.search(path))
        candidate = pattern_article or (origin in ("feed", "sitemap", "canonical") and src.article_pattern is None)
        if not candidate:
            # A page reached by a link (or a feed/sitemap entry the pattern says is no article).
            if depth > src.max_depth:
                self._inc(src.name, "skipped/depth")
                return None
            if src.follow_pattern and not src.follow_pattern.search(path):
                self._inc(src.name, "skipped/not_followed")
                return None
        elif depth > src.max_depth and origin == "link":
            self._inc(src.name, "skipped/depth")
            return None
        # max_pages is spent on articles: once it is (or, for candidates, will likely be) reached,
        # no listing or article is worth a request any more.
        budget = self._budgets[src.name]
        if budget.candidates_spent if candidate else budget.articles_spent:
            self._inc(src.name, "skipped/budget_articles")
            self._revalidation.dirty(parent)
            return None
        return self._request(src, norm, "candidate" if candidate else "hub", depth, parent=parent,
                             priority=None if candidate else priority, meta=meta)

    # -- responses ----------------------------------------------------------------

    def _parse(self, response):
        meta = response.meta
        src = self.sources[meta["nm_source"]]
        budget = self._budgets[src.name]
        budget.last = time.monotonic()
        role = meta["nm_role"]
        if role == "candidate":
            budget.pending -= 1
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
        self._revalidation.listed(url, by=response.meta.get("nm_parent"))
        if role == "robots":
            self._inc(src.name, "fetched/robots")
            for entry in discovery.parse_robots(body, response.url):
                if req := self._request(src, entry.url, "sitemap", depth=0, parent=url):
                    yield req
            return
        self._revalidation.fetched(
            url,
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
                    self._revalidation.dirty(url)
                elif req := self._request(src, entry.url, "sitemap", depth=0, parent=url):
                    yield req
            elif not discovery.in_window(entry.date, self.since, self.until):
                self._inc(src.name, "skipped/date_window")
                self._revalidation.dirty(url)
            elif req := self._admit(src, entry.url, depth=1, origin=role, parent=url):
                yield req

    def _parse_page(self, src: Source, response):
        meta = response.meta
        kind, hint, reason = page_kind(src, response)
        self._inc(src.name, f"fetched/{kind}")
        if kind == "other":
            self._inc(src.name, f"dropped_other/{reason}")
            return
        amp, canonical = variant_links(response)
        self._amp.update(amp)  # hubs link AMP pages too: remember them all
        if kind == "article":
            final = normalize_url(response.url)
            if canonical and not meta.get("nm_canonical_of") and is_variant(final, canonical):
                # An AMP/print/other variant: the canonical is the article, fetched (once) instead.
                self._inc(src.name, "skipped/variant")
                if req := self._admit(src, canonical, meta["nm_depth"], origin="canonical",
                                      meta={"nm_canonical_of": final}):
                    yield req
                return
            yield from self._capture(src, response, hint, final)
            return
        yield from self._follow(src, response)

    def _follow(self, src: Source, response):
        """Links of a hub page: new pages one level deeper; its own family (pagination) by productivity."""
        if self._budgets[src.name].articles_spent:
            return  # nothing a link could lead to would be captured
        meta = response.meta
        depth = meta["nm_depth"]
        links = (normalize_url(link.url) for link in self._links.extract_links(response))
        hub = self._listings.read(src.name, meta["nm_url"], links, src.allowed_domains, meta.get("nm_idle"))
        if hub.idle:
            self._inc(src.name, "listing/idle_pages")
        for norm in hub.other:
            if req := self._admit(src, norm, depth + 1, origin="link"):
                yield req
        if not hub.own:
            return
        if self._listings.dead_end(src.name, hub, self.idle_pages, self.family_idle):
            fresh_own = [u for u in hub.own if u not in self._scheduled]
            if fresh_own:
                self._inc(src.name, "skipped/idle_listing", len(fresh_own))
            return
        # Pagination costs no depth; productive chains first, idle ones last.
        priority = PRIORITY["page"] + min(hub.fresh, 20) - 10 * hub.idle
        for norm in hub.own:
            if req := self._admit(src, norm, depth, origin="link", priority=priority,
                                  meta={"nm_idle": hub.idle}):
                yield req

    def _capture(self, src: Source, response, hint: str, final: str):
        if final in self._captured_urls or (final != response.meta["nm_url"] and final in self.seen):
            # A redirect onto a page already captured (this run or an earlier one).
            self._inc(src.name, "skipped_seen")
            return
        budget = self._budgets[src.name]
        if budget.articles_spent:
            self._inc(src.name, "skipped/budget_articles")
            self._revalidation.dirty(response.meta.get("nm_parent"))
            return
        budget.captured += 1
        self._captured_urls.add(final)
        yield captured_page(src, response, hint, final)

    def _on_dropped(self, request, spider) -> None:
        """Scrapy's duplicate filter drops a request with no callback or errback (e.g.
        `%7E` vs `~`, which normalize_url keeps apart): release its candidate slot."""
        source = request.meta.get("nm_source")
        if source in self._budgets and request.meta.get("nm_role") == "candidate":
            self._budgets[source].pending -= 1
            self._inc(source, "skipped/dropped_duplicate")

    def _failed(self, failure):
        request = failure.request
        src = request.meta["nm_source"]
        budget = self._budgets[src]
        budget.last = time.monotonic()
        if request.meta.get("nm_role") == "candidate":
            budget.pending -= 1
        self._inc(src, f"failed/{failure_reason(failure)}")
        self._revalidation.dirty(request.meta.get("nm_parent"))
