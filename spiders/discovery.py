"""Article candidates from feeds, sitemaps and robots.txt: pure functions on bytes.

Every parser returns `Entry(url, date)` pairs and never fetches anything. XML is
parsed with entity resolution and network access off (XXE, billion laughs):
sitemaps through Scrapy's `Sitemap`, feeds through an lxml parser with the same
switches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

__all__ = [
    "Entry", "SitemapResult", "parse_feed", "parse_sitemap", "parse_robots",
    "parse_date", "in_window", "looks_like_feed",
]

# A gzip sitemap may inflate to at most this much (a .xml.gz bomb stays bounded).
MAX_SITEMAP_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    date: datetime | None = None  # UTC; None when the feed/sitemap gave none


@dataclass(frozen=True, slots=True)
class SitemapResult:
    kind: str  # "urlset", "sitemapindex" or "invalid"
    entries: list[Entry]  # pages (urlset) or child sitemaps (sitemapindex)


def parse_date(value: str | None) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, sitemaps) to an aware UTC datetime; None if unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def in_window(when: datetime | None, since: date | None, until: date | None) -> bool:
    """Inclusive date window on the UTC day; an undated entry is always in."""
    if when is None:
        return True
    day = when.date()
    return (since is None or day >= since) and (until is None or day <= until)


def _safe_parser() -> lxml.etree.XMLParser:
    return lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, recover=True, huge_tree=False,
        remove_comments=True, remove_pis=True, load_dtd=False,
    )


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def looks_like_feed(body: bytes) -> bool:
    head = body[:2048].lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def parse_feed(body: bytes, base_url: str) -> list[Entry]:
    """RSS 2.0 / RSS 1.0 items and Atom entries; relative links resolved against base_url."""
    try:
        root = lxml.etree.fromstring(body, parser=_safe_parser())
    except lxml.etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    entries: list[Entry] = []
    for el in root.iter():
        name = _local(el.tag)
        if name == "item":
            entries.extend(_rss_item(el, base_url))
        elif name == "entry":
            entries.extend(_atom_entry(el, base_url))
    return entries


def _rss_item(item: lxml.etree._Element, base_url: str) -> list[Entry]:
    fields: dict[str, str] = {}
    for child in item:
        name = _local(child.tag)
        if name and name not in fields:
            fields[name] = (child.text or "").strip()
    # <link> is the page; <guid isPermaLink> is the fallback some feeds rely on.
    url = fields.get("link") or (fields.get("guid") if fields.get("guid", "").startswith("http") else "")
    if not url:
        url = item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about", "")
    if not url:
        return []
    when = parse_date(fields.get("pubDate") or fields.get("date") or fields.get("published"))
    return [Entry(urljoin(base_url, url), when)]


def _atom_entry(entry: lxml.etree._Element, base_url: str) -> list[Entry]:
    url, when = "", None
    updated = published = None
    for child in entry:
        name = _local(child.tag)
        if name == "link" and child.get("href") and child.get("rel", "alternate") == "alternate" and not url:
            url = child.get("href")
        elif name == "updated":
            updated = child.text
        elif name == "published":
            published = child.text
    if not url:
        return []
    # The article's own date is `published`; `updated` moves on every edit.
    when = parse_date(published) or parse_date(updated)
    return [Entry(urljoin(base_url, url.strip()), when)]


class _NewsSitemap(Sitemap):
    """Scrapy's Sitemap, also keeping the nested `news:publication_date`.

    Scrapy reads only direct children of <url> and clears them; a Google News
    sitemap nests the date one level down, so we read it before that happens.
    """

    __slots__ = ()

    def _process_sitemap_element(self, elem: lxml.etree._Element) -> dict[str, Any] | None:
        news_date = None
        for el in elem.iter():
            if _local(el.tag) == "publication_date" and el.text:
                news_date = el.text.strip()
                break
        d = super()._process_sitemap_element(elem)
        if d is not None and news_date:
            d["publication_date"] = news_date
        return d


def parse_sitemap(body: bytes, base_url: str) -> SitemapResult:
    """A urlset (plain or Google News) or a sitemap index; gzip bodies are inflated, bounded."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
        except (OSError, EOFError, ValueError):
            # A broken or oversized (bomb) gzip: nothing usable, counted by the caller.
            return SitemapResult("invalid", [])
    try:
        sitemap = _NewsSitemap(body)
    except (lxml.etree.XMLSyntaxError, StopIteration):
        return SitemapResult("invalid", [])
    if sitemap.type not in ("urlset", "sitemapindex"):
        return SitemapResult("invalid", [])
    entries = []
    for d in sitemap:
        loc = d.get("loc", "")
        if not loc:
            continue
        when = parse_date(d.get("publication_date")) or parse_date(d.get("lastmod"))
        entries.append(Entry(urljoin(base_url, loc), when))
    return SitemapResult(sitemap.type, entries)


def parse_robots(body: bytes, base_url: str) -> list[Entry]:
    """The `Sitemap:` lines of a robots.txt, as sitemap entries."""
    return [Entry(url) for url in sitemap_urls_from_robots(body, base_url=base_url) if url]
