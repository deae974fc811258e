"""The data in flight between stages: a fetched page and an extracted article.

One module, a few slotted dataclasses: every stage speaks these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Page:
    """One HTTP response read back from a WARC record."""

    url: str  # URL fetched, after redirects (WARC-Target-URI)
    html: bytes  # decoded body (transfer/content encodings removed)
    status: int
    headers: dict[str, str]  # HTTP response headers, names lower-cased
    fetched_at: datetime  # UTC (WARC-Date)
    source: str  # sources-file name; for foreign WARC files, the domain
    # Who decided this page is an article: "pattern" (the source's
    # article_pattern), "classifier" (the spider's page classifier) or None
    # (a foreign WARC: extraction must decide).
    article_hint: str | None = None
    warc_path: str = ""
    warc_offset: int = 0


@dataclass(slots=True)
class Article:
    """One row of the `articles` dataset (schema v1 in pipelines/schema.py)."""

    article_id: str
    url: str
    canonical_url: str
    source: str
    domain: str
    title: str
    authors: list[str]
    published_at: datetime | None
    language: str | None
    text: str
    word_count: int
    fetched_at: datetime
    content_hash: str
    cluster_id: str = ""
    is_duplicate: bool = False
    duplicate_of: str | None = None
    similarity: float | None = None
    run_id: str = ""
    extras: dict[str, object] = field(default_factory=dict)  # optional columns


@dataclass(slots=True)
class Dropped:
    """A page that did not become an article, and why (a counter, never a crash)."""

    url: str
    reason: str  # short, stable, snake_case: "not_article", "timeout", "too_short"...
    detail: str = ""
