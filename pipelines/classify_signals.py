"""What a fetched page carries, read in one pass over its lxml tree.

The evidence `pipelines.classify` weighs: structured data about the page itself,
its headline block, the longest run of prose, and how much of it is a listing.

Reading never changes the tree, so one parsed for something else can be reused
(`pipelines.classify.classify_tree`). It runs once per
page, so it keeps Python work per element small: text and attribute values come
from compiled XPath (C), costly checks run only where their answer can matter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from urllib.parse import urlsplit

from lxml import etree
from trafilatura.utils import load_html

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
# on <body> is a layout flag. One search over "class id": a token starts after
# whitespace (str.split's) and ends before whitespace or the end.
ASIDE = re.compile(r"(?<!\S)(sidebar|related|recommend|popular|promo|newsletter|trending|most-?read"
                   r"|editors?-?(choice|picks)|teasers?|comments?)(?:[-_]|(?!\S))", re.I)
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
PROSE_TAGS = {"p", "pre", "blockquote"}
NO_RUN_TAGS = HEADINGS | {"li", "a", "button", "label"}  # their own text never starts a run of prose
LONG_ID = re.compile(r"\d{5,}")
TWO_DIGITS = re.compile(r"\d\d")

# Compiled once: string() is "".join(itertext()) done in C, several times faster.
_TEXT = etree.XPath("string()", smart_strings=False)
# Attribute values straight from C: no element objects, and no XPath predicates
# (libxml2 evaluates those slower than a Python loop). "/descendant::a" rather than
# "//a": the same nodes, but libxml2 reads "//a" as a child step from every node.
_PASSWORD = etree.XPath("boolean(descendant::input[@type='password'])")
_A_RELS = etree.XPath("/descendant::a/@rel", smart_strings=False)
_LINK_RELS = etree.XPath("descendant::link/@rel", smart_strings=False)
_ITEMTYPES = etree.XPath("/descendant::*/@itemtype", smart_strings=False)
_SCRIPT_TYPES = etree.XPath("descendant::script/@type")  # smart strings: .getparent() is the script


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
    """The document tree as trafilatura parses it (`load_html`: the charset decoded
    from the bytes, not left to libxml2's guess, which reads undeclared UTF-8 as
    Latin-1), or None when there is no element at all. The same tree pass 1 of the
    extraction has, so it can classify that one (`classify.classify_tree`)."""
    try:
        return load_html(body)
    except (etree.LxmlError, ValueError, TypeError):
        return None


def read_signals(url: str, tree: etree._Element) -> Signals:
    sig = Signals()
    _read_jsonld(tree, sig)
    _read_meta(tree, sig)
    _read_body(url, tree, sig)
    return sig


def _read_jsonld(tree: etree._Element, sig: Signals) -> None:
    for kind in _SCRIPT_TYPES(tree):
        if "ld+json" not in kind.lower():
            continue
        script = kind.getparent()
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
    for meta in tree.iterdescendants("meta"):
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
    sig.paginated = sig.paginated or any(rel in ("next", "prev") for rel in _A_RELS(tree))
    title = next(tree.iterdescendants("title"), None)
    sig.title = (_text(title) if title is not None else "").strip()[:200]
    for rel in _LINK_RELS(tree):
        rel = rel.lower()
        if rel in ("next", "prev"):
            sig.paginated = True
        elif rel == "author":
            sig.has_byline = True


def _read_body(url: str, tree: etree._Element, sig: Signals) -> None:
    host = _host(url)
    sig.paginated = sig.paginated or bool(PAGINATION_URL.search(url))
    sig.slug_url = _article_like(url, host)
    body = next(tree.iterdescendants("body"), None)
    root = body if body is not None else tree
    walk = _Walk(host, has_inputs=next(root.iter("input"), None) is not None)
    walk.visit(root, in_link=False, aside=False)
    walk.finish()
    sig.main_words = walk.best
    sig.main_apart = walk.best_apart and walk.h1_count > 0
    sig.teasers, sig.article_links = walk.teasers, len(walk.article_hrefs)
    sig.link_words, sig.text_words = walk.link_words, walk.text_words
    sig.h1_count, sig.password = walk.h1_count, walk.password
    sig.first_prose, sig.headline = walk.first_prose, walk.headline
    sig.headline_dated = walk.headline_date and walk.headline_byline
    sig.microdata_articles = sum(
        1 for t in _ITEMTYPES(tree) if t.rsplit("/", 1)[-1].strip().lower() in ARTICLE_TYPES
    )


class _Walk:
    """One pass over the body in document order, skipping nav/footer/script subtrees."""

    __slots__ = ("article_hrefs", "best", "best_apart", "first_prose", "h1_count", "h1_teasers", "h1s", "has_inputs",
                 "headline", "headline_byline", "headline_date", "host", "link_words", "password", "run",
                 "run_apart", "seen", "teasers", "text_words")

    def __init__(self, host: str, has_inputs: bool = True) -> None:
        self.host = host
        self.has_inputs = has_inputs  # no <input> under the root: no password box to look for
        self.run = self.best = 0  # current and longest run of prose
        self.run_apart = self.best_apart = False
        self.h1_teasers: int | None = None  # teasers seen before the first h1
        self.teasers = self.h1_count = self.link_words = self.text_words = 0
        self.article_hrefs: set[str] = set()
        self.password = self.headline_date = self.headline_byline = False
        self.first_prose = self.headline = ""
        self.h1s: list[etree._Element] = []  # their context is read after the walk
        # The walk's elements, kept so that reading the h1s' context reuses them
        # (a new lxml.html element costs a Python class lookup).
        self.seen: list[list[etree._Element]] = []

    def visit(self, el: etree._Element, in_link: bool, aside: bool) -> bool:
        """Count `el`'s subtree; True if `el` is a linked headline (a teaser's title).

        `aside`: under a box beside the story; looked up only where it can matter.
        """
        tag = el.tag
        if tag.__class__ is not str:
            tag = ""
        if tag in SKIP_TAGS:
            if self.has_inputs and len(el) and _PASSWORD(el):
                self.password = True
            return False
        headline = False
        if tag == "a":
            self._link(el, _words(_text(el)))
            in_link = True
            heading = next(el.iter(*HEADINGS), None) if len(el) else None
            if heading is not None and _words(_text(heading)) >= 3:
                headline = True
                self.teasers += 1
                self._break()
        elif tag in HEADINGS:
            headline = self._heading(el, tag, in_link)
        elif tag == "article" and _fewer(el, "p", 6):
            self._break()  # a teaser card
        elif tag == "input" and (el.get("type") or "").lower() == "password":
            self.password = True
        if in_link:  # a link's text is never prose: only links, headings and boxes inside count
            for child in el:
                self.visit(child, True, aside)
            return headline
        if tag in PROSE_TAGS:
            self._prose(el, aside)
            return False
        # Text directly in a div/td (<br>-separated posts) is prose too.
        text = el.text
        own = len(text.split()) if text else 0
        children = list(el) if len(el) else ()
        if children:
            self.seen.append(children)
        for child in children:
            text = child.tail
            if text:
                own += len(text.split())
        self.text_words += own
        prose = own >= 8 and tag not in NO_RUN_TAGS
        if children or prose:
            aside = aside or _boxed(el, tag)
        if prose and not aside:
            self._add(own)
        card = False
        for child in children:
            # After a teaser title, the rest of a small card is its summary, not a story.
            if self.visit(child, False, aside or card) and not card:
                card = _fewer(el, "p", 4)
        return headline

    def _heading(self, el: etree._Element, tag: str, in_link: bool) -> bool:
        """Count a heading; True if it links to another page (a teaser's title)."""
        if tag == "h1":
            self.h1_count += 1
            if self.h1_teasers is None:
                self.h1_teasers = self.teasers
                self.headline = _text(el).strip()[:200]
            self.h1s.append(el)
        # A wrapping link counted it already.
        link = None if in_link or not len(el) else next(
            (a for a in el.iterdescendants("a") if a.get("href") is not None), None)
        if link is not None and _words(_text(link)) >= 3:
            self.teasers += 1
            self._break()  # a linked headline starts a new teaser
            return True
        return False

    def _prose(self, p: etree._Element, aside: bool) -> None:
        """A paragraph: its words outside links (inline links in a sentence still count
        as prose), then its own links; its subtree is not walked further."""
        text = _text(p)
        total = len(text.split())
        linked = 0
        own_links = []
        for a in p.iterdescendants("a") if len(p) else ():
            words = _words(_text(a))
            linked += words
            if a.getparent() is p:
                own_links.append((a, words))
        prose = total - linked if linked < total * 0.5 else 0
        self.text_words += prose
        if len(self.first_prose) < 500:
            self.first_prose += " " + text
        if prose >= 8 and not (aside or _boxed(p, p.tag)):
            self._add(prose)
        for a, words in own_links:  # links only: the prose is counted
            self._link(a, words)

    def _link(self, a: etree._Element, words: int) -> None:
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
        # The flags are only read at the end, so the h1s' context can wait until now.
        for h1 in self.h1s:
            if self.headline_date and self.headline_byline:
                break
            self._headline_context(h1)

    def _break(self) -> None:
        if self.run > self.best:
            self.best, self.best_apart = self.run, self.run_apart
        self.run = 0

    def _headline_context(self, h1: etree._Element) -> None:
        """A date or byline beside the page headline (not one per teaser of a listing).

        Looks below the h1's parent, then below up to three ancestors more. Each level
        only looks at what the level below did not: both flags only ever turn on, and
        an element judged once is judged the same again. (Plain iteration: the XPath
        predicates this replaces cost more than a Python loop over the same elements.)
        """
        below, node = None, h1.getparent()
        for _ in range(4):
            if node is None:
                return
            roots = [child for child in node if child is not below]
            if _listing(node, roots, below):
                return  # reached a listing: its dates and bylines are the teasers' own
            for el in _region(roots, below):
                tag, itemprop = el.tag, el.get("itemprop")
                if not self.headline_date and (itemprop == "datePublished"
                                               or tag == "time" and el.get("datetime") is not None):
                    self.headline_date = True
                # Candidates: marked-up authors, and p/span lines ("By Ana Ruiz",
                # "3 November 2026") that carry no markup.
                if tag in ("p", "span") or itemprop == "author" or el.get("rel") == "author" \
                        or _authorish(el.get("class")):
                    self.headline_byline = self.headline_byline or _is_byline(el)
                    if not self.headline_date and _dated_text(el.text):
                        self.headline_date = _words(_text(el)) <= 25
                if self.headline_date and self.headline_byline:
                    return
            below, node = node, node.getparent()


def _region(roots: list[etree._Element], below: etree._Element | None) -> Iterator[etree._Element]:
    """The elements a level adds: `roots` and all below them, and `below` itself."""
    if below is not None:
        yield below
    for root in roots:
        yield from root.iter(etree.Element)


def _listing(node: etree._Element, roots: list[etree._Element], below: etree._Element | None) -> bool:
    """A heading with a link inside, or a link with a heading inside, among the
    elements `_region` yields (all of them strictly below `node`)."""
    if below is not None and _linked_heading(below):
        return True
    for root in roots:
        for heading in root.iter("h2", "h3", "h4"):
            if next(heading.iter("a"), None) is not None:
                return True
            for parent in heading.iterancestors():
                if parent is node:
                    break
                if parent.tag == "a":
                    return True
    return False


def _linked_heading(el: etree._Element) -> bool:
    if el.tag in ("h2", "h3", "h4"):
        return next(el.iter("a"), None) is not None
    return el.tag == "a" and next(el.iter("h2", "h3", "h4"), None) is not None


def _dated_text(text: str | None) -> bool:
    # Every date DATE_TEXT knows has two digits in a row; most text has none, and
    # looking for them costs a tenth of DATE_TEXT's search.
    return bool(text) and TWO_DIGITS.search(text) is not None and DATE_TEXT.search(text) is not None


def _authorish(cls: str | None) -> bool:
    return bool(cls) and ("byline" in cls or "author" in cls or "Author" in cls)


def _boxed(el: etree._Element, tag: str) -> bool:
    """`el` opens a box beside the story: an <aside>, or a class/id token naming one."""
    if tag == "aside":
        return True
    if tag in ("body", "main", "article"):
        return False
    cls, ident = el.get("class"), el.get("id")
    return bool((cls or ident) and _names_box(f"{cls or ''} {ident or ''}"))


@lru_cache(maxsize=8192)
def _names_box(names: str) -> bool:
    """Cached: a site repeats its class names on every page."""
    return ASIDE.search(names) is not None


def _fewer(el: etree._Element, tag: str, n: int) -> bool:
    """Fewer than `n` `tag` descendants (stops counting at n)."""
    return not len(el) or len(list(islice(el.iterdescendants(tag), n))) < n


def _text(el: etree._Element) -> str:
    """All the text below `el`, as "".join(el.itertext()): a leaf's own text, else in C."""
    return _TEXT(el) if len(el) else el.text or ""


def _words(text: str) -> int:
    return len(text.split())


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed URL ("http://[x") has no usable host
        return ""


def _article_like(href: str, host: str) -> bool:
    """A link whose path looks like a story: same site, a long slug or a long numeric id."""
    try:
        parts = urlsplit(href)
        other = parts.hostname if parts.netloc else None
    except ValueError:  # a malformed href ("http://[x") is no story link
        return False
    if other and host and not other.endswith(host.removeprefix("www.")):
        return False
    last = parts.path.rstrip("/").rpartition("/")[2]  # the last non-empty segment
    if not last:
        return False
    slug = last.rsplit(".", 1)[0]
    return slug.count("-") + slug.count("_") >= 3 or bool(LONG_ID.search(parts.path))


def _is_byline(el: etree._Element) -> bool:
    tag = el.tag
    if tag in ("a", "span", "div", "p", "address", "li") and (
        el.get("rel") == "author" or el.get("itemprop") == "author"
        or BYLINE_ATTR.search(el.get("class") or "") and _words(_text(el)) <= 12
    ):
        return True
    return tag in ("p", "span", "div") and len(el) <= 3 and bool(
        BYLINE_TEXT.match(el.text or "")) and _words(_text(el)) <= 8
