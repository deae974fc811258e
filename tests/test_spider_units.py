"""Unit tests of the spider's helper modules: listing families, budgets, conditional GET,
variants, outcomes and sitemaps from robots.txt. The crawl itself is tested against a
served site in test_spider_crawl.py."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.robotstxt import ProtegoRobotParser, PythonRobotParser
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TCPTimedOutError
from twisted.python.failure import Failure

from pipelines.sources import Source
from spiders.budget import Budget
from spiders.listing import Listings, family
from spiders.outcomes import captured_page, failure_reason, page_kind, reason
from spiders.revalidate import Revalidation, conditional_headers
from spiders.robots_sitemaps import is_robots, robots_sitemaps, start_netlocs
from spiders.scope import on_domains, target
from spiders.variants import variant_links

HOST = "http://a.example"


# -- listing -------------------------------------------------------------------------

def test_family_keeps_non_page_query_sorted():
    assert family(f"{HOST}/s?b=2&a=x&page=9") == "a.example/s?a=x&b=#"
    assert family("http://A.Example/world/") == "a.example/world/?"


def test_listing_read_splits_own_family_and_counts_fresh_on_domain_links():
    listings = Listings()
    links = [f"{HOST}/world?page=1", f"{HOST}/world?page=2", f"{HOST}/news/1", "http://b.example/x",
             f"{HOST}/world?page=1"]
    hub = listings.read("s", f"{HOST}/world?page=1", links, ("a.example",), chain_idle=None)
    assert hub.own == [f"{HOST}/world?page=2"]  # itself left out
    assert hub.other == [f"{HOST}/news/1", "http://b.example/x"]
    assert hub.fresh == 1  # b.example is off the source's domains
    assert hub.idle == 0


def test_listing_chain_goes_idle_then_dead_end():
    listings = Listings()
    links = [f"{HOST}/news/1", f"{HOST}/world?page=3"]
    first = listings.read("s", f"{HOST}/world?page=1", links, ("a.example",), chain_idle=None)
    assert first.fresh == 1 and first.idle == 0
    # The same links again: nothing fresh, so the chain's idle count grows.
    second = listings.read("s", f"{HOST}/world?page=2", links, ("a.example",), chain_idle=first.idle)
    assert second.idle == 1
    assert not listings.dead_end("s", second, idle_pages=2, family_idle=6)
    third = listings.read("s", f"{HOST}/world?page=3", links, ("a.example",), chain_idle=second.idle)
    assert third.idle == 2
    assert listings.dead_end("s", third, idle_pages=2, family_idle=6)


def test_listing_root_page_is_never_idle_and_family_idle_is_per_source():
    listings = Listings()
    links = [f"{HOST}/news/1"]
    listings.read("s", f"{HOST}/cal/2024/01/", links, ("a.example",), chain_idle=None)
    root = listings.read("s", f"{HOST}/cal/2024/02/", links, ("a.example",), chain_idle=None)
    assert root.idle == 0 and not listings.dead_end("s", root, idle_pages=2, family_idle=0)
    for month in range(3, 6):  # entry points into one idle family
        hub = listings.read("s", f"{HOST}/cal/2024/{month:02}/", links, ("a.example",), chain_idle=0)
    assert listings.family_idle[("s", hub.family)] == 3
    assert listings.dead_end("s", hub, idle_pages=5, family_idle=2)
    assert listings.family_idle[("t", hub.family)] == 0


# -- budget --------------------------------------------------------------------------

def test_budget_requests_and_articles():
    budget = Budget(max_pages=10, max_requests=3)
    budget.requests = 3
    assert budget.requests_spent
    assert not budget.articles_spent and not budget.candidates_spent
    budget.captured, budget.pending = 9, 2  # slack is max(2, 10 // 10) = 2: 9 + 2 < 12
    assert not budget.candidates_spent
    budget.pending = 3
    assert budget.candidates_spent and not budget.articles_spent
    budget.captured = 10
    assert budget.articles_spent


def test_budget_seconds():
    assert Budget(1, 1).seconds() == 0.0
    assert Budget(1, 1, first=5.0).seconds() == 0.0  # no response yet
    assert Budget(1, 1, first=5.0, last=6.23456).seconds() == 1.235


# -- revalidate ----------------------------------------------------------------------

class _Seen:
    def __init__(self, stored=None):
        self.stored = dict(stored or {})

    def validators(self, url):
        return self.stored.get(url, (None, None))

    def set_validators(self, url, etag, modified):
        self.stored[url] = (etag, modified)


def test_conditional_headers():
    seen = _Seen({"u": ('"e1"', "Mon, 01 Jan 2024 00:00:00 GMT"), "v": (None, "x")})
    assert conditional_headers(seen, "u") == {"If-None-Match": '"e1"',
                                              "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    assert conditional_headers(seen, "v") == {"If-Modified-Since": "x"}
    assert conditional_headers(seen, "w") == {}


def test_dirty_child_dirties_its_index_and_clears_validators():
    rev = Revalidation()
    for doc, by in (("robots", None), ("index", "robots"), ("child", "index"), ("other", "index")):
        rev.listed(doc, by)
    for doc in ("index", "child", "other"):
        rev.fetched(doc, f"e-{doc}", None)
    rev.dirty("child")
    rev.dirty(None)  # an entry nobody listed: nothing to dirty
    assert rev.dirty_docs == {"child", "index", "robots"}
    seen = _Seen()
    rev.save(seen)
    assert seen.stored == {"index": (None, None), "child": (None, None), "other": ("e-other", None)}


# -- variants ------------------------------------------------------------------------

def _html(url: str, head: str) -> HtmlResponse:
    return HtmlResponse(url, body=f"<html><head>{head}</head><body></body></html>".encode(), encoding="utf-8")


def test_variant_links():
    response = _html(f"{HOST}/news/1", '<link rel="amphtml" href="/amp/news/1">'
                                       '<link rel="alternate amphtml" href=" /news/1?amp=1 ">'
                                       '<link rel="canonical" href=" /news/1 ">')
    amp, canonical = variant_links(response)
    assert [urlsplit(u).path for u in amp] == ["/amp/news/1", "/news/1"]
    assert canonical is not None and urlsplit(canonical).path == "/news/1"


def test_variant_links_without_html():
    assert variant_links(_html(f"{HOST}/x", '<link rel="canonical" href="  ">')) == ([], None)
    assert variant_links(Response(f"{HOST}/x", body=b"\x00")) == ([], None)


# -- scope ---------------------------------------------------------------------------

def test_scope():
    assert on_domains("news.a.example", ("a.example",))
    assert not on_domains("nota.example", ("a.example",))
    assert target(urlsplit(f"{HOST}/p?q=1")) == "/p?q=1"
    assert target(urlsplit(f"{HOST}/p")) == "/p"


# -- outcomes ------------------------------------------------------------------------

def test_reason():
    assert reason("Too short: 12 words!") == "too_short_12_words"
    assert reason("!!!") == "unknown"
    assert len(reason("x" * 100)) == 48


def test_page_kind_by_pattern():
    src = Source(name="s", article_pattern=re.compile(r"/news/\d+"))
    html = {"Content-Type": "text/html; charset=utf-8"}
    assert page_kind(src, TextResponse(f"{HOST}/news/1", headers=html, body=b"")) == ("article", "pattern", "pattern")
    assert page_kind(src, TextResponse(f"{HOST}/world", headers=html, body=b"")) == ("hub", "pattern", "pattern")
    pdf = Response(f"{HOST}/news/1", headers={"Content-Type": "application/pdf"}, body=b"%PDF")
    assert page_kind(src, pdf) == ("other", "", "not_html")


def test_captured_page_keeps_both_urls_once():
    request = Request(f"{HOST}/news/1", headers={"Accept": "text/html"}, meta={"nm_url": f"{HOST}/news/1"})
    response = HtmlResponse(f"{HOST}/news/1", body=b"<html></html>", request=request, status=200,
                            headers={"Content-Type": "text/html"})
    page = captured_page(Source(name="s"), response, "pattern", f"{HOST}/news/1")
    assert page.seen_urls == (f"{HOST}/news/1",)
    assert ("Accept", "text/html") in page.request_headers
    assert page.source == "s" and page.article_hint == "pattern" and page.status == 200


@pytest.mark.parametrize("exc,expected", [
    (HttpError(Response(f"{HOST}/x", status=503)), "http_503"),
    (IgnoreRequest("Forbidden by robots.txt"), "robots_forbidden"),
    (IgnoreRequest("Filtered offsite request"), "offsite"),
    (IgnoreRequest("something else"), "ignored"),
    (DNSLookupError(), "dns"),
    (TCPTimedOutError(), "timeout"),
    (KeyError("x"), "keyerror"),
])
def test_failure_reason(exc, expected):
    assert failure_reason(Failure(exc)) == expected


# -- robots_sitemaps -----------------------------------------------------------------

ROBOTS = "User-agent: *\nDisallow: /private\nSitemap: http://a.example/sitemap.xml\n"


def test_robots_sitemaps_from_protego_and_stdlib_parsers():
    for parser in (ProtegoRobotParser, PythonRobotParser):
        rp = parser.from_crawler(None, ROBOTS.encode())
        assert robots_sitemaps(rp) == ["http://a.example/sitemap.xml"], parser
    assert robots_sitemaps(object()) is None  # a parser we cannot read: fetch robots.txt instead


def test_start_netlocs_leave_out_robots():
    src = Source(name="s", sitemaps=("http://a.example/robots.txt", "http://b.example/sm.xml"),
                 feeds=("http://c.example/feed",), start_urls=("http://d.example/",))
    assert is_robots("http://a.example/robots.txt") and not is_robots("http://a.example/robots.txt.bak")
    assert start_netlocs([src]) == {"b.example", "c.example", "d.example"}
