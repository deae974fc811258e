"""Listing families and their productivity: which pagination a hub page earns.

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
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from spiders.scope import on_domains

__all__ = ["MAX_FAMILY_IDLE", "MAX_IDLE_PAGES", "PAGE_PARAMS", "HubLinks", "Listings", "family"]

# Defaults of NEWSMILL_LISTING_IDLE_PAGES / NEWSMILL_LISTING_FAMILY_IDLE.
MAX_IDLE_PAGES = 2  # unproductive listing pages in a row before a pagination chain is dropped
MAX_FAMILY_IDLE = 6  # a family's unproductive pages since its last productive one, before idle = dead end
# Query parameters that number a listing's pages (dropped from the family key).
PAGE_PARAMS = re.compile(r"^(page|paged|p|pg|pagenum|page_?no|offset|start|from|skip|before|after|cursor)$",
                         re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


def family(url: str) -> str:
    """The listing family of a normalized URL: host, path with digit runs as `#`, non-page query."""
    parts = urlsplit(url)
    query = "&".join(sorted(_DIGITS.sub("#", kv) for kv in parts.query.split("&")
                            if kv and not PAGE_PARAMS.match(kv.partition("=")[0])))
    return f"{(parts.hostname or '').lower()}{_DIGITS.sub('#', parts.path)}?{query}"


@dataclass(slots=True)
class HubLinks:
    """The links of one hub page, split by family, and what they say about its chain."""

    family: str
    own: list[str]  # its own family: pagination
    other: list[str]  # everything else, in page order
    fresh: int  # links on the source's domains that no hub page linked before
    idle: int  # unproductive pages in a row on this chain, this one included (0: productive)


@dataclass(slots=True)
class Listings:
    """Per source: every URL some hub page linked, and each family's idle pages since it was productive."""

    linked: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    family_idle: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def read(self, source: str, here: str, links: Iterable[str], domains: Iterable[str],
             chain_idle: int | None) -> HubLinks:
        """Record a hub page's (normalized) links; `chain_idle` is None for the first page of a chain."""
        fam = family(here)
        linked = self.linked[source]
        own, other, fresh = [], [], 0
        for url in links:
            if url == here:
                continue
            if family(url) == fam:
                own.append(url)
                continue
            other.append(url)
            if url not in linked:
                linked.add(url)
                if on_domains((urlsplit(url).hostname or "").lower(), domains):
                    fresh += 1
        # The first page of a listing reached from elsewhere (not by its own pagination) always
        # gets its next/previous pages looked at: a calendar's current month often shows only
        # what the home page already linked, the stories nobody else links come later.
        root = chain_idle is None
        idle = 0 if fresh or root else chain_idle + 1
        if fresh:
            self.family_idle[(source, fam)] = 0
        elif not root:
            self.family_idle[(source, fam)] += 1
        return HubLinks(fam, own, other, fresh, idle)

    def dead_end(self, source: str, hub: HubLinks, idle_pages: int, family_idle: int) -> bool:
        """True when the listing stopped showing anything new: its own-family links are not followed."""
        return bool(hub.idle) and (hub.idle >= idle_pages or self.family_idle[(source, hub.family)] > family_idle)
