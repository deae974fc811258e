"""The one item the spider yields: an article page's HTTP exchange, to be archived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True, repr=False)
class CapturedPage:
    url: str  # URL fetched, after redirects
    seen_urls: tuple[str, ...]  # normalized URLs to mark seen once archived (requested and final)
    source: str
    article_hint: str  # "pattern" or "classifier": who decided this is an article
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes  # decoded: Scrapy already removed Content-Encoding
    fetched_at: datetime  # UTC

    def __repr__(self) -> str:
        # Scrapy logs every scraped item; the body would flood the log.
        return (f"CapturedPage({self.url!r}, source={self.source!r}, status={self.status}, "
                f"bytes={len(self.body)})")
