"""What a fetched page carries, read in one pass over its lxml tree.

The evidence `pipelines.classify` weighs: structured data about the page itself,
its headline block, the longest run of prose, and how much of it is a listing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

__all__ = ["Signals", "parse_html", "read_signals"]

ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle", "liveblogposting",
    "scholarlyarticle", "techarticle", "report", "socialmediaposting", "posting",
}
HUB_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage"}
PAGINATION_URL = re.compile(r"[?&](page|p|pg|paged|offset|start)=\d+|/page/\d+/?$", re.I)
BYLINE_TEXT = re.compile(r"^\s*(by|von|par|por|di|door|av)\s+\S", re.I)
BYLINE_ATTR = re.compile(r"byline|author|writer|reporter|contributor", re.I)
MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# A visible date in a dateline: "3 November 2026", "Nov. 3, 2026", "2026-11-03", "03.11.2026".
DATE_TEXT = re.compile(rf"\b(\d{{1,2}} {MONTH},? \d{{4}}|{MONTH} \d{{1,2}},? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}"
                       rf"|\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}})\b", re.I)
# Candidates for a byline or a visible dateline near the h1: marked-up authors, and
# short p/span lines ("By Ana Ruiz", "3 November 2026") that carry no markup.
BYLINE_XPATH = (".//*[@rel='author' or @itemprop='author' or contains(@class, 'byline')"
                " or contains(@class, 'author') or contains(@class, 'Author')] | .//p | .//span")
DATE_META = {
    "article:published_time", "og:article:published_time", "date", "pubdate", "publishdate",
    "dc.date", "dc.date.issued", "dcterms.date", "sailthru.date", "parsely-pub-date",
    "article.published", "datepublished",
}
# Elements whose text is never reader-visible prose.
SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer", "select"}
# Boxes beside the story (related, most read, editor's picks): their prose is
# someone else's teaser, so it never counts towards the page's main text.
# Matched per class/id token, at its start: "sidebar-second" is a box, "one-sidebar"
# on <body> is a layout flag.
ASIDE = re.compile(r"(sidebar|related|recommend|popular|promo|newsletter|trending|most-?read"
                   r"|editors?-?(choice|picks)|teasers?|comments?)([-_]|$)", re.I)
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}

# Plain lxml elements: lxml.html's element classes cost a lookup per node.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True)


@dataclass(slots=True)
class Signals:
    ld_article: bool = False  # a top-level JSON-LD article item: the page itself
    ld_hub: bool = False  # the page itself is declared a collection / list / search page
    ld_webpage: bool = False  # a plain WebPage item (neutral alone: many articles carry one)
    microdata_articles: int = 0  # itemtype=...Article elements (one: the page; many: teasers)
    og_type: str = ""
    h1_count: int = 0
    has_date: bool = False
    has_byline: bool = False
    headline_dated: bool = False  # a byline and a date beside the h1, outside any listing
    main_words: int = 0  # longest run of prose paragraphs
    main_apart: bool = False  # the main text is not under the h1 (before it, or after teasers)
    text_words: int = 0  # all visible non-link words
    link_words: int = 0
    teasers: int = 0  # headings that link to another page
    article_links: int = 0  # same-site links with a long slug-like path
    paginated: bool = False
    slug_url: bool = False  # the page's own URL looks like a story's (a tie-breaker only)
    password: bool = False
    title: str = ""
    headline: str = ""  # text of the first h1
    first_prose: str = ""  # the first few paragraphs, for login walls


def parse_html(body: bytes) -> etree._Element | None:
    """The document tree, or None when there is no element at all."""
    try:
        return etree.fromstring(body, _PARSER)
    except (etree.LxmlError, ValueError):
        return None


def read_signals(url: str, tree: etree._Element) -> Signals:
    sig = Signals()
    _read_jsonld(tree, sig)
    _read_meta(tree, sig)
    _read_body(url, tree, sig)
    return sig


def _read_jsonld(tree: etree._Element, sig: Signals) -> None:
    for script in tree.iterfind(".//script[@type]"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        try:
            items = _top_items(json.loads(script.text or ""))
        except (ValueError, RecursionError):  # broken or absurdly nested JSON-LD: no evidence
            continue
        # Several article items side by side are the teasers of a listing.
        if sum(bool(_types(item) & ARTICLE_TYPES) for item in items) >= 3:
            sig.ld_hub = True
            continue
        for item in items:
            # Only the page's own item counts: NewsArticle items inside an
            # ItemList are the teasers of a listing.
            types = _types(item)
            main = item.get("mainEntity")
            main_types = _types(main)
            if types & HUB_TYPES or main_types & HUB_TYPES or isinstance(main, dict) and "itemListElement" in main:
                sig.ld_hub = True
            elif types & ARTICLE_TYPES or main_types & ARTICLE_TYPES:
                sig.ld_article = True
                article = item if types & ARTICLE_TYPES else main
                sig.has_date = sig.has_date or bool(article.get("datePublished"))
                sig.has_byline = sig.has_byline or bool(article.get("author"))
            elif types & {"webpage"}:
                sig.ld_webpage = True


def _top_items(data: object) -> list[dict]:
    """The page-level items: a list, an @graph, or the object itself."""
    if isinstance(data, list):
        return [d for x in data for d in _top_items(x)]
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("@graph"), list):
        return [d for x in data["@graph"] for d in _top_items(x)]
    return [data]


def _types(item: object) -> set[str]:
    if not isinstance(item, dict):
        return set()
    t = item.get("@type", "")
    values = t if isinstance(t, list) else [t]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values}


def _read_meta(tree: etree._Element, sig: Signals) -> None:
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        value = (meta.get("content") or "").strip()
        if not value:
            continue
        if key == "og:type":
            sig.og_type = value.lower()
        elif key in DATE_META:
            sig.has_date = True
        elif key in ("author", "article:author", "sailthru.author", "parsely-author", "byl"):
            sig.has_byline = True
    sig.paginated = sig.paginated or bool(tree.xpath("//a[@rel='next' or @rel='prev']"))
    title = tree.find(".//title")
    sig.title = (_text(title) if title is not None else "").strip()[:200]
    for link in tree.iterfind(".//link[@rel]"):
        rel = link.get("rel", "").lower()
        if rel in ("next", "prev"):
            sig.paginated = True
        elif rel == "author":
            sig.has_byline = True


def _read_body(url: str, tree: etree._Element, sig: Signals) -> None:
    host = _host(url)
    sig.paginated = sig.paginated or bool(PAGINATION_URL.search(url))
    sig.slug_url = _article_like(url, host)
    walk = _Walk(host)
    body = tree.find(".//body")
    walk.visit(body if body is not None else tree, in_link=False, aside=False)
    walk.finish()
    sig.main_words = walk.best
    sig.main_apart = walk.best_apart and walk.h1_count > 0
    sig.teasers, sig.article_links = walk.teasers, len(walk.article_hrefs)
    sig.link_words, sig.text_words = walk.link_words, walk.text_words
    sig.h1_count, sig.password = walk.h1_count, walk.password
    sig.first_prose, sig.headline = walk.first_prose, walk.headline
    sig.headline_dated = walk.headline_date and walk.headline_byline
    sig.microdata_articles = sum(
        1 for t in tree.xpath("//@itemtype") if t.rsplit("/", 1)[-1].strip().lower() in ARTICLE_TYPES
    )


class _Walk:
    """One pass over the body in document order, skipping nav/footer/script subtrees."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.run = self.best = 0  # current and longest run of prose
        self.run_apart = self.best_apart = False
        self.h1_teasers: int | None = None  # teasers seen before the first h1
        self.teasers = self.h1_count = self.link_words = self.text_words = 0
        self.article_hrefs: set[str] = set()
        self.password = self.headline_date = self.headline_byline = False
        self.first_prose = self.headline = ""

    def visit(self, el: etree._Element, in_link: bool, aside: bool) -> bool:
        """Count `el`'s subtree; True if `el` is a linked headline (a teaser's title)."""
        tag = el.tag if isinstance(el.tag, str) else ""
        headline = False
        aside = aside or tag == "aside" or tag not in ("body", "main", "article") and any(
            ASIDE.match(token) for token in f"{el.get('class', '')} {el.get('id', '')}".split())
        if tag in SKIP_TAGS:
            if el.find(".//input[@type='password']") is not None:
                self.password = True
            return False
        if tag == "a":
            self._link(el)
            in_link = True
            heading = next((h for h in el.iter(*HEADINGS)), None)
            if heading is not None and _words(_text(heading)) >= 3:
                headline = True
                self.teasers += 1
                self._break()
        elif tag in HEADINGS:
            if tag == "h1":
                self.h1_count += 1
                if self.h1_teasers is None:
                    self.h1_teasers = self.teasers
                    self.headline = _text(el).strip()[:200]
                self._headline_context(el)
            link = None if in_link else el.find(".//a[@href]")  # a wrapping link counted it
            if link is not None and _words(_text(link)) >= 3:
                headline = True
                self.teasers += 1
                self._break()  # a linked headline starts a new teaser
        elif tag == "article" and len(el.xpath(".//p")) < 6:
            self._break()  # a teaser card
        elif tag == "input" and (el.get("type") or "").lower() == "password":
            self.password = True
        if tag in ("p", "pre", "blockquote") and not in_link:
            prose = _prose_words(el)
            self.text_words += prose
            if len(self.first_prose) < 500:
                self.first_prose += " " + _text(el)
            if prose >= 8 and not aside:
                self._add(prose)
            for child in el:  # links only: the prose is counted
                if isinstance(child.tag, str) and child.tag == "a":
                    self._link(child)
            return False
        if not in_link:
            # Text directly in a div/td (<br>-separated posts) is prose too.
            own = _words(el.text or "") + sum(_words(c.tail or "") for c in el)
            self.text_words += own
            if own >= 8 and not aside and tag not in HEADINGS and tag not in ("li", "a", "button", "label"):
                self._add(own)
        card = False
        for child in el:
            # After a teaser title, the rest of a small card is its summary, not a story.
            if self.visit(child, in_link, aside or card) and not card:
                card = len(el.findall(".//p")) < 4
        return headline

    def _link(self, a: etree._Element) -> None:
        words = _words(_text(a))
        self.link_words += words
        href = a.get("href") or ""
        if words >= 3 and _article_like(href, self.host):
            self.article_hrefs.add(href)
        if words >= 5 and self.run:
            self._break()  # a standalone headline link between blocks

    def _add(self, words: int) -> None:
        if not self.run:
            # Teaser titles between the h1 and this text (or no h1 yet): not the h1's story.
            self.run_apart = self.h1_teasers is None or self.teasers - self.h1_teasers >= 2
        self.run += words

    def finish(self) -> None:
        self._break()

    def _break(self) -> None:
        if self.run > self.best:
            self.best, self.best_apart = self.run, self.run_apart
        self.run = 0

    def _headline_context(self, h1: etree._Element) -> None:
        """A date or byline beside the page headline (not one per teaser of a listing)."""
        node = h1
        for _ in range(4):
            node = node.getparent()
            if node is None or _linked_headings(node):
                return  # reached a listing: its dates and bylines are the teasers' own
            if node.xpath(".//time[@datetime] | .//*[@itemprop='datePublished']"):
                self.headline_date = True
            for el in node.xpath(BYLINE_XPATH):
                self.headline_byline = self.headline_byline or _is_byline(el)
                if not self.headline_date and DATE_TEXT.search(el.text or ""):
                    self.headline_date = _words(_text(el)) <= 25
            if self.headline_date and self.headline_byline:
                return


def _linked_headings(node: etree._Element) -> int:
    return len(node.xpath(".//h2[.//a] | .//h3[.//a] | .//h4[.//a] | .//a[.//h2 or .//h3 or .//h4]"))


def _text(el: etree._Element) -> str:
    return "".join(el.itertext())


def _words(text: str) -> int:
    return len(text.split())


def _prose_words(p: etree._Element) -> int:
    """Words of `p` outside links: inline links in a sentence still count as prose."""
    total = _words(_text(p))
    linked = sum(_words(_text(a)) for a in p.iterfind(".//a"))
    return total - linked if linked < total * 0.5 else 0


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed URL ("http://[x") has no usable host
        return ""


def _article_like(href: str, host: str) -> bool:
    """A link whose path looks like a story: same site, a long slug or a long numeric id."""
    try:
        parts = urlsplit(href)
        other = parts.hostname
    except ValueError:  # a malformed href ("http://[x") is no story link
        return False
    if other and host and not other.endswith(host.removeprefix("www.")):
        return False
    last = [s for s in parts.path.split("/") if s]
    if not last:
        return False
    slug = last[-1].rsplit(".", 1)[0]
    return slug.count("-") + slug.count("_") >= 3 or bool(re.search(r"\d{5,}", parts.path))


def _is_byline(el: etree._Element) -> bool:
    tag = el.tag
    if tag in ("a", "span", "div", "p", "address", "li") and (
        el.get("rel") == "author" or el.get("itemprop") == "author"
        or BYLINE_ATTR.search(el.get("class") or "") and _words(_text(el)) <= 12
    ):
        return True
    return tag in ("p", "span", "div") and len(el) <= 3 and bool(
        BYLINE_TEXT.match(el.text or "")) and _words(_text(el)) <= 8
