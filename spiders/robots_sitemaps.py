"""Sitemaps listed in a source's robots.txt, without fetching robots.txt a second time.

A robots.txt listed under `sitemaps:` has its `Sitemap:` lines read from the copy
Scrapy's RobotsTxtMiddleware downloads (the `robots_parsed` signal); the spider fetches
it only when robots.txt is not obeyed, its parser cannot list sitemaps, or no middleware
reported it by the time the crawl goes idle.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from pipelines.sources import Source
from pipelines.urls import normalize_url

__all__ = ["is_robots", "robots_sitemaps", "start_netlocs"]


def is_robots(url: str) -> bool:
    return urlsplit(url).path.endswith("/robots.txt")


def start_netlocs(sources: Iterable[Source]) -> set[str]:
    """Hosts the crawl requests from the start, so RobotsTxtMiddleware downloads their robots.txt anyway."""
    return {urlsplit(normalize_url(u)).netloc for s in sources
            for u in (*s.sitemaps, *s.feeds, *s.start_urls) if not is_robots(u)}


def robots_sitemaps(robotparser) -> list[str] | None:
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
