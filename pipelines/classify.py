"""Is a fetched page an article, a hub (a listing to follow), or neither?

Used for sources without an article URL pattern, so it must decide from what
the page carries, never from per-site rules. URL shape is only a tie-breaker:
some sites give sections slug-like URLs and articles opaque ones.

Evidence (read by `classify_signals`), weighed into one additive score,
positive = article:
- structured data naming the page itself: a top-level schema.org Article type
  in JSON-LD (also in @graph or lists) or a single microdata Article; a
  CollectionPage/ItemList/SearchResultsPage as the page's type. Article items
  inside a list, or many side by side, are a listing's teasers;
- og:type (weak: some sites set "article" on every page);
- a byline and a date beside the h1 (visible or marked up), or in meta tags;
- the longest run of prose not broken by teaser headlines: an article has one
  long run under its h1 even if a related-stories block follows it, a listing
  has one short summary per teaser (summaries are not counted at all);
- teaser headlines (weighed against the main text), slug-like links, link
  density, pagination; the page's own URL shape as a tie-breaker.

Pages that are not HTML, empty, login walls or error pages served with 200 are
"other" and get a reason the crawler can count.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from operator import itemgetter

from lxml import etree

from .classify_signals import Settle, Signals, parse_html, read_signals

__all__ = ["PageKind", "classify_page", "classify_tree"]

MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"\x1f\x8b", b"PK\x03", b"\x00\x00\x00")
HTML_START = re.compile(rb"<(!doctype html|html|head|body|div|p|title|meta)\b", re.I)
# Feeds and sitemaps: their first element, after an XML declaration, comments or stylesheet.
XML_START = re.compile(rb"^(\xef\xbb\xbf)?\s*(<[?!][^>]*>\s*)*<(rss|feed|urlset|sitemapindex|rdf:rdf)\b", re.I)

LOGIN_TEXT = re.compile(
    r"\b(sign|log) ?in to (continue|read|view|access)|please (sign|log) ?in\b|(subscribers|members) only", re.I)
LONG_MAIN = 250  # words of main text that make an article by themselves
# Words of main text from which link density, story links, password boxes and the
# first paragraphs no longer weigh (and the page is not empty).
ENOUGH_MAIN = 80
ERROR_TITLE = re.compile(
    r"\b404\b|\berror (410|500|503)\b|page not found|not be found|does(?:n't| not) exist|no longer available"
    r"|^\s*(error|not found|oops)\b|seite nicht gefunden|page introuvable|página no encontrada",
    re.I,
)


@dataclass(frozen=True, slots=True)
class PageKind:
    kind: str  # "article" | "hub" | "other"
    reason: str  # short snake_case evidence for the decision
    score: float  # article-likeness in [0, 1]


def classify_page(url: str, body: bytes, content_type: str = "text/html") -> PageKind:
    """Decide what `body` (fetched from `url`) is; never raises on bad input."""
    other = _sniff_other(body, content_type)
    if other:
        return PageKind("other", other, 0.0)
    return _classify_html(url, parse_html(body))


def classify_tree(url: str, body: bytes, tree: etree._Element | None, content_type: str = "text/html") -> PageKind:
    """`classify_page(url, body, content_type)` on `tree`, the page already parsed by
    `trafilatura.utils.load_html(body)` (as `classify_page` parses it) and not changed
    since; `tree` is only read."""
    other = _sniff_other(body, content_type)
    if other:
        return PageKind("other", other, 0.0)
    return _classify_html(url, tree)


def _classify_html(url: str, tree: etree._Element | None) -> PageKind:
    if tree is None:
        return PageKind("other", "empty", 0.0)
    return _decide(read_signals(url, tree, _SETTLE))


def _settled(sig: Signals, more_teasers: int, more_h1s: bool) -> bool:
    """Whether `_decide`'s verdict on `sig`, the signals of a page's first part, holds
    whatever the rest holds: it can only lengthen the main text, add up to
    `more_teasers` teasers and, if `more_h1s`, date the headline (see `Settle`).

    From `LONG_MAIN` words of main text on, only two points can still move: the
    teaser penalty, between its worst case (all those teasers over this main text)
    and none, and the headline's, up to dated. The score rises with both, so if the
    worst and the best case get the same verdict, so does every page between them:
    the same score and kind, and the same reason (for an article a positive point
    the headline's cannot pass, or the headline's at the same level; for a hub a
    penalty the teasers' cannot pass, or the teasers').
    """
    if sig.main_words < LONG_MAIN:
        return False
    worst = _verdict(sig, sig.teasers + more_teasers, sig.main_words, sig.headline_dated)
    return worst == _verdict(sig, sig.teasers, math.inf, sig.headline_dated or more_h1s)


def _sniff_other(body: bytes, content_type: str) -> str:
    """Reason for a body that is not an HTML page at all, else ''.

    Servers mislabel often (PDFs and JSON served as text/html), so the bytes
    decide and the declared type only breaks ties.
    """
    head = body[:1024].lstrip()
    ctype = content_type.split(";")[0].strip().lower()
    if head.startswith(b"%PDF") or ctype == "application/pdf":
        return "pdf"
    if head[:1] in (b"{", b"[") or "json" in ctype:
        try:
            json.loads(body)
            return "json"
        except (ValueError, RecursionError):
            if "json" in ctype:
                return "json"
    if head.startswith(MAGIC):
        return "not_html"
    if not head.strip():
        return "empty"
    if XML_START.match(head):
        return "not_html"
    if HTML_START.search(head):
        return ""
    return "not_html" if b"<" not in head or "html" not in ctype and "xml" not in ctype else ""


def _decide(sig: Signals) -> PageKind:
    return _verdict(sig, sig.teasers, sig.main_words, sig.headline_dated)


def _verdict(sig: Signals, teasers: int, main_words: float, headline_dated: bool) -> PageKind:
    """`_decide`, with the three signals the rest of a page can still change given apart
    (`_settled` weighs what-ifs of them)."""
    if sig.text_words + sig.link_words < 5:
        return PageKind("other", "empty", 0.0)
    strong = sig.ld_article or sig.microdata_articles == 1
    if main_words < 120 and not strong and (ERROR_TITLE.search(sig.title) or ERROR_TITLE.search(sig.headline)):
        return PageKind("other", "error_page", 0.02)
    # A login box in the header is common; a page that is little but the box is a wall.
    # (The text search last: it costs more than the rest of the decision.)
    if main_words < 40 and not strong and teasers < 3 \
            and (sig.password or LOGIN_TEXT.search(sig.first_prose)):
        return PageKind("other", "login_form", 0.02)

    points: dict[str, float] = {}
    if sig.ld_article and sig.ld_hub:
        pass  # an article with a JSON-LD list of related stories, or a confused CMS: let content decide
    elif sig.ld_article:
        points["jsonld_article"] = 3.0
    elif sig.ld_hub:
        points["jsonld_collection"] = -4.0
    elif sig.ld_webpage:
        points["jsonld_webpage"] = -0.5
    if not sig.ld_article and sig.microdata_articles == 1:
        points["microdata_article"] = 2.0
    if sig.microdata_articles >= 3:
        points["many_microdata_articles"] = -2.5
    if sig.og_type == "article":
        points["og_type_article"] = 1.0
    elif sig.og_type == "website":
        points["og_type_website"] = -1.0
    if headline_dated:
        points["byline_date_headline"] = 3.0
    elif sig.has_date and sig.has_byline and sig.h1_count >= 1:
        points["byline_date_meta"] = 1.5
    elif (sig.has_date or sig.has_byline) and sig.h1_count >= 1:
        points["date_headline"] = 0.5
    # Main text: decisive when metadata is missing or set on every page of a site.
    # Without metadata of its own, a short main text away from the h1 is likely a
    # box beside a listing.
    vouched = sig.ld_article or sig.microdata_articles == 1 or headline_dated
    if main_words >= LONG_MAIN:
        points["long_main_text"] = 3.0
    elif main_words >= 80:
        points["main_text"] = 2.0 if vouched or not sig.main_apart else 0.0
    elif main_words >= 40:
        points["short_main_text"] = 1.0 if vouched or not sig.main_apart else -0.5
    else:
        points["no_main_text"] = -2.0
    # Teasers, slug links and link density all measure "a listing": count it once.
    listing = {
        # Related-story blocks under a long article weigh less than a page of teasers.
        "teaser_blocks": min(3.0, teasers / max(4.0, main_words / 20)) if teasers >= 3 else 0.0,
        "many_article_links": 2.0 if sig.article_links >= 10 and main_words < ENOUGH_MAIN else 0.0,
        "link_dense": 2.0 if _link_density(sig) > 0.5 and main_words < ENOUGH_MAIN else 0.0,
    }
    name, weight = max(listing.items(), key=itemgetter(1))
    if weight:
        points[name] = -weight
    if sig.paginated and main_words < LONG_MAIN:
        points["pagination"] = -1.0
    if sig.slug_url:
        # Weak on purpose: some sites give sections slug-like URLs.
        points["slug_url"] = 0.25

    # No evidence either way leans hub: following a page costs one fetch, storing
    # a non-article pollutes the dataset.
    total = sum(points.values()) - 0.5
    score = 1 / (1 + math.exp(-total))
    kind = "article" if total > 0 else "hub"
    # The strongest point (the first of equals): for an article the highest, for a hub the lowest.
    strongest = max if kind == "article" else min
    reason = strongest(points.items(), key=itemgetter(1))[0] if points else "no_evidence"
    return PageKind(kind, reason, round(score, 3))


# What `read_signals` may leave unread for `_decide`.
_SETTLE = Settle(ENOUGH_MAIN, LONG_MAIN, _settled)


def _link_density(sig: Signals) -> float:
    return sig.link_words / max(1, sig.link_words + sig.text_words)
