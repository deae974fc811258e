"""AMP, print and other variants of an article: fetch the canonical page, once, instead.

An article whose rel=canonical names another URL on the same host is not captured;
its canonical is queued instead (`skipped/variant`), and a rel=amphtml URL is never
requested.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.http import TextResponse

from pipelines.urls import normalize_url

__all__ = ["is_variant", "variant_links"]

_AMP = "//link[contains(concat(' ', normalize-space(@rel), ' '), ' amphtml ')]/@href"
_CANONICAL = "//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href"


def is_variant(url: str, canonical: str) -> bool:
    """True when `url` is a variant of `canonical`: same host (scheme and www. aside), other path or query.

    A canonical on another host (syndication, a CDN mirror) is not taken as a reason to
    drop the page: the page is captured and the dedup stage decides.
    """
    pa, pc = urlsplit(url), urlsplit(canonical)
    if (pa.hostname or "").removeprefix("www.") != (pc.hostname or "").removeprefix("www."):
        return False
    return (pa.path, pa.query) != (pc.path, pc.query) and pc.path not in ("", "/")


def variant_links(response) -> tuple[list[str], str | None]:
    """A page's rel=amphtml URLs and its rel=canonical, normalized; nothing for a non-HTML body."""
    if not isinstance(response, TextResponse):
        return [], None
    try:
        amp = [normalize_url(response.urljoin(href.strip())) for href in response.xpath(_AMP).getall()]
        href = response.xpath(_CANONICAL).get()
    except ValueError:  # not parseable as HTML
        return [], None
    return amp, normalize_url(response.urljoin(href.strip())) if href and href.strip() else None
