"""What a fetched page carries, read from its lxml tree.

The evidence `pipelines.classify` weighs: structured data about the page itself,
its headline block, the longest run of prose, and how much of it is a listing.

Reading never changes the tree, so one parsed for something else can be reused
(`pipelines.classify.classify_tree`). It runs once per page, so it touches as few
elements from Python as it can (each new lxml.html element object costs a Python
class lookup): the head's tags come from one filtered pass, attribute values and
text from C, costly checks run only where their answer can matter, and when the
caller says what it no longer needs (`Settle`), a page whose main text settles the
verdict is not walked beyond it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from lxml import etree
from trafilatura.utils import load_html

__all__ = ["Settle", "Signals", "parse_html", "read_signals"]

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

# Attribute values and counts straight from C: no element objects, and no XPath
# predicates over many nodes (libxml2 evaluates those slower than a Python loop).
# "/descendant::a" rather than "//a": the same nodes, but libxml2 reads "//a" as a
# child step from every node. (Each call also costs a context setup of about a
# microsecond: not for every element.)
_PASSWORD = etree.XPath("boolean(descendant::input[@type='password'])")
_A_RELS = etree.XPath("/descendant::a/@rel", smart_strings=False)
_ITEMTYPES = etree.XPath("/descendant::*/@itemtype", smart_strings=False)
_COUNT_P = etree.XPath("count(descendant::p)")
_P_CHILDREN = etree.XPath("count(p)")
_MAIN_TEXTS = etree.XPath("descendant-or-self::*/p[4]/..")  # elements with four <p> children or more
# The text of the first heading / linked (href) <a> below an element: "" if none.
_HEADING_TEXT = etree.XPath("string(descendant::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5"
                            " or self::h6])", smart_strings=False)
_LINK_TEXT = etree.XPath("string(descendant::a[@href])", smart_strings=False)


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
    # text_words, link_words, article_links, password and first_prose are counted only
    # until the main text is long enough for the caller to ignore them (`Settle`).
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


@dataclass(frozen=True, slots=True)
class Settle:
    """What the caller's verdict no longer needs, so that `read_signals` can skip it.

    From `counts_until` words of main text on, the verdict ignores text and link
    words, story links, the first paragraphs and password boxes: they are no longer
    counted. From `words` on, it also ignores where the main text is and whether the
    page is paginated, and `settled(partial, more_teasers, more_h1s)` may say that
    the verdict on `partial` stands whatever the rest of the page holds, given that
    the rest can only lengthen the main text, add at most `more_teasers` teasers,
    and (if `more_h1s`) more h1s, which may date the headline. All else in `partial`
    is final.
    """

    counts_until: int
    words: int
    settled: Callable[[Signals, int, bool], bool]


def parse_html(body: bytes) -> etree._Element | None:
    """The document tree as trafilatura parses it (`load_html`: the charset decoded
    from the bytes, not left to libxml2's guess, which reads undeclared UTF-8 as
    Latin-1), or None when there is no element at all. The same tree pass 1 of the
    extraction has, so it can classify that one (`classify.classify_tree`)."""
    try:
        return load_html(body)
    except (etree.LxmlError, ValueError, TypeError):
        return None


def read_signals(url: str, tree: etree._Element, settle: Settle | None = None) -> Signals:
    """The page's signals; with `settle`, only those it leaves the verdict needing:
    the likely main text is read first, alone, and if that settles the verdict the
    rest of the body is not walked (`_settled_by_main_text`)."""
    sig = Signals()
    body, has_inputs = _read_tags(tree, sig)
    sig.microdata_articles = sum(
        1 for t in _ITEMTYPES(tree) if t.rsplit("/", 1)[-1].strip().lower() in ARTICLE_TYPES
    )
    if not _read_body(url, tree if body is None else body, has_inputs, sig, settle):
        sig.paginated = sig.paginated or any(rel in ("next", "prev") for rel in _A_RELS(tree))
    return sig


def _read_tags(tree: etree._Element, sig: Signals) -> tuple[etree._Element | None, bool]:
    """JSON-LD, meta tags, link rels and the title, in one pass over these elements
    (on a big page a pass costs more than their element objects). Also finds the
    body, and whether there is any <input> (else no password box to look for)."""
    body = title = None
    has_inputs = False
    for el in tree.iterdescendants("script", "meta", "link", "title", "body", "input"):
        tag = el.tag
        if tag == "meta":
            _read_meta(el, sig)
        elif tag == "script":
            kind = el.get("type")
            if kind and "ld+json" in kind.lower():
                _read_jsonld(el.text, sig)
        elif tag == "link":
            rel = (el.get("rel") or "").lower()
            if rel in ("next", "prev"):
                sig.paginated = True
            elif rel == "author":
                sig.has_byline = True
        elif tag == "title":
            title = el if title is None else title
        elif tag == "body":
            body = el if body is None else body
        else:
            has_inputs = True
    sig.title = (_text(title) if title is not None else "").strip()[:200]
    return body, has_inputs


def _read_jsonld(text: str | None, sig: Signals) -> None:
    try:
        items = _top_items(json.loads(text or ""))
    except (ValueError, RecursionError):  # broken or absurdly nested JSON-LD: no evidence
        return
    # Several article items side by side are the teasers of a listing.
    if sum(bool(_types(item) & ARTICLE_TYPES) for item in items) >= 3:
        sig.ld_hub = True
        return
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


def _read_meta(meta: etree._Element, sig: Signals) -> None:
    key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
    value = (meta.get("content") or "").strip()
    if not value:
        return
    if key == "og:type":
        sig.og_type = value.lower()
    elif key in DATE_META:
        sig.has_date = True
    elif key in ("author", "article:author", "sailthru.author", "parsely-author", "byl"):
        sig.has_byline = True


def _read_body(url: str, root: etree._Element, has_inputs: bool, sig: Signals, settle: Settle | None) -> bool:
    """The body's signals; True if only the main text was read (see `read_signals`)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # a malformed URL ("http://[x") has no usable host
        parts, host = None, ""
    sig.paginated = sig.paginated or bool(PAGINATION_URL.search(url))
    sig.slug_url = parts is not None and _story_path(parts.path)
    walk = _Walk(host, has_inputs)
    if settle is not None:
        if _settled_by_main_text(root, walk, sig, settle):
            return True
        walk.counts_until = settle.counts_until
    walk.visit(root, in_link=False, aside=False)
    walk.finish()
    walk.fill(sig)
    return False


def _settled_by_main_text(root: etree._Element, walk: _Walk, sig: Signals, settle: Settle) -> bool:
    """Whether the likely main text, read alone, settles the verdict: the element with
    the most <p> children (four or more), walked as the whole walk from `root` would
    walk it. If so, `sig` has what `settle` needs and the body needs no whole walk;
    if not, `walk` (the whole walk, still to come) may have judged the first h1.

    Its runs of prose are never longer than the whole walk's (one of those may have
    started before it), so `settle` is asked with the longest as the main text: once
    it has `settle.words` words, and again at its end. The rest of the page can only
    add teasers: at most one per heading with a child, and one per link around a
    heading. The whole walk counts the first h1 it meets and judges its context
    first; any other h1 may add to that. (No card box can hold the main text: every
    element above it has four <p> or more.)
    """
    mains = _MAIN_TEXTS(root)
    main = mains[0] if len(mains) == 1 else max(mains, key=_P_CHILDREN, default=None)
    state = None if main is None else _walk_state(main, root)
    if state is None or state[0]:
        return False  # not read as prose
    bounds: tuple[int, bool] | None = None  # more teasers, more h1s: found when first asked

    def settled(probe: _Walk) -> bool:
        nonlocal bounds
        if bounds is None:
            headings = list(root.iter(*HEADINGS))
            h1s = [h for h in headings if h.tag == "h1"]
            h1 = next((h for h in h1s if _walk_state(h, root) is not None), None)
            sig.h1_count = int(h1 is not None)
            if h1 is not None:
                sig.headline = _text(h1).strip()[:200]
                walk._headline_context(h1)
                walk.judged = h1
                sig.headline_dated = walk.headline_date and walk.headline_byline
            teasers = sum(1 for h in headings if len(h)) + len({a for h in headings for a in h.iterancestors("a")})
            bounds = teasers, len(h1s) > sig.h1_count
        sig.main_words, sig.text_words = max(probe.run, probe.best), probe.text_words
        probe.next_ask = math.inf  # not settled: asked again at the end
        return settle.settled(sig, *bounds)

    probe = _Walk(walk.host, walk.has_inputs, settle.counts_until)
    probe.ask, probe.next_ask = settled, settle.words
    try:
        probe.visit(main, in_link=False, aside=state[1])
    except _Settled:
        return True
    words = max(probe.run, probe.best)  # once more with all of it, unless asked with as much
    return words >= settle.words and words > sig.main_words and settled(probe)


class _Settled(Exception):
    """The verdict stands whatever the rest of the page holds: the walk ends."""


def _walk_state(el: etree._Element, root: etree._Element) -> tuple[bool, bool] | None:
    """(in_link, aside) as the walk from `root` reaches `el`, or None if it never does.
    Boxes a card opens are not known here: aside only from the elements above."""
    if el is root:
        return False, False
    above = []
    for parent in el.iterancestors():
        above.append(parent)
        if parent is root:
            break
    else:
        return None
    in_link = aside = False
    for parent in reversed(above):
        tag = parent.tag
        if tag in SKIP_TAGS:
            return None
        if tag == "a":
            in_link = True
        elif not in_link:
            if tag in PROSE_TAGS:
                return None
            aside = aside or _boxed(parent, tag)
    return in_link, aside


class _Walk:
    """One pass over the body (or a part of it) in document order, skipping
    nav/footer/script subtrees."""

    __slots__ = ("article_hrefs", "ask", "ask_due", "best", "best_apart", "counting", "counts_until", "first_prose",
                 "h1_count", "h1_teasers", "h1s", "has_inputs", "headline", "headline_byline", "headline_date", "host",
                 "judged", "link_words", "next_ask", "password", "run", "run_apart", "seen", "teasers", "text_words")

    def __init__(self, host: str, has_inputs: bool = True, counts_until: float = math.inf) -> None:
        self.host = host
        # Text and link words, story links, the first paragraphs and password boxes are
        # counted until a run of prose has counts_until words (the caller's verdict
        # ignores them then); runs, teasers and h1s always.
        self.counting = True
        self.counts_until = counts_until
        self.has_inputs = has_inputs  # no <input> under the root: no password box to look for
        self.run = self.best = 0  # current and longest run of prose
        self.run_apart = self.best_apart = False
        self.h1_teasers: int | None = None  # teasers seen before the first h1
        self.teasers = self.h1_count = self.link_words = self.text_words = 0
        self.article_hrefs: set[str] = set()
        self.password = self.headline_date = self.headline_byline = False
        self.first_prose = self.headline = ""
        self.h1s: list[etree._Element] = []  # their context is read after the walk
        self.judged: etree._Element | None = None  # an h1 whose context was read before it
        # Asked, between two children once a run of prose has next_ask words, whether
        # the walk can end: it does (raising _Settled) if ask(self) says so.
        self.ask: Callable[[_Walk], bool] | None = None
        self.next_ask: float = math.inf
        self.ask_due = False
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
            if self.counting and self.has_inputs and len(el) and _PASSWORD(el):
                self.password = True
            return False
        headline = False
        if tag == "a":
            if self.counting or self.run:
                self._link(el, _words(_text(el)))
            in_link = True
            if len(el) and _words(_HEADING_TEXT(el)) >= 3:
                headline = True
                self.teasers += 1
                self._break()
        elif tag in HEADINGS:
            headline = self._heading(el, tag, in_link)
        elif tag == "article" and _fewer_p(el, 6):
            self._break()  # a teaser card
        elif tag == "input" and self.counting and (el.get("type") or "").lower() == "password":
            self.password = True
        if in_link:  # a link's text is never prose: only links, headings and boxes inside count
            for child in el:
                self.visit(child, True, aside)
            return headline
        if tag in PROSE_TAGS:
            self._prose(el, aside)
            return False
        children = list(el) if len(el) else ()
        if children:
            self.seen.append(children)
        prose = False
        if self.counting or not aside:  # else its own words count for nothing
            # Text directly in a div/td (<br>-separated posts) is prose too.
            text = el.text
            own = len(text.split()) if text else 0
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
                card = _fewer_p(el, 4)
            if self.ask_due:
                self.ask_due = False
                if self.ask(self):
                    raise _Settled
        return headline

    def fill(self, sig: Signals) -> None:
        """Put the walk's counts into `sig`."""
        sig.main_words = self.best
        sig.main_apart = self.best_apart and self.h1_count > 0
        sig.teasers, sig.article_links = self.teasers, len(self.article_hrefs)
        sig.link_words, sig.text_words = self.link_words, self.text_words
        sig.h1_count, sig.password = self.h1_count, self.password
        sig.first_prose, sig.headline = self.first_prose, self.headline
        sig.headline_dated = self.headline_date and self.headline_byline

    def _heading(self, el: etree._Element, tag: str, in_link: bool) -> bool:
        """Count a heading; True if it links to another page (a teaser's title)."""
        if tag == "h1":
            self.h1_count += 1
            if self.h1_teasers is None:
                self.h1_teasers = self.teasers
                self.headline = _text(el).strip()[:200]
            self.h1s.append(el)
        # A wrapping link counted it already.
        if not in_link and len(el) and _words(_LINK_TEXT(el)) >= 3:
            self.teasers += 1
            self._break()  # a linked headline starts a new teaser
            return True
        return False

    def _prose(self, p: etree._Element, aside: bool) -> None:
        """A paragraph: its words outside links (inline links in a sentence still count
        as prose), then its own links; its subtree is not walked further."""
        if aside and not (self.counting or self.run):
            return  # no words count, and no link can break a run
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
        if self.counting and len(self.first_prose) < 500:
            self.first_prose += " " + text
        if prose >= 8 and not (aside or _boxed(p, p.tag)):
            self._add(prose)
        for a, words in own_links:  # links only: the prose is counted
            self._link(a, words)

    def _link(self, a: etree._Element, words: int) -> None:
        if self.counting:
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
        if self.run >= self.next_ask:
            self.ask_due = True
        if self.run >= self.counts_until:
            self.counting = False

    def finish(self) -> None:
        self._break()
        # The flags are only read at the end, so the h1s' context can wait until now.
        for h1 in self.h1s:
            if self.headline_date and self.headline_byline:
                break
            if h1 is not self.judged:
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
            if _listing(node, below):
                return  # reached a listing: its dates and bylines are the teasers' own
            roots = [child for child in node if child is not below]
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


def _listing(node: etree._Element, below: etree._Element | None) -> bool:
    """A heading with a link inside, or a link with a heading inside, among the
    elements `_region` yields: all strictly below `node`, but none below `below`."""
    if below is not None and _linked_heading(below):
        return True
    for heading in node.iterdescendants("h2", "h3", "h4"):
        for parent in heading.iterancestors():
            if parent is below:
                break
            if parent is node:
                if next(heading.iter("a"), None) is not None:
                    return True
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
    return bool(cls or ident) and _names_box(cls, ident)


@lru_cache(maxsize=8192)
def _names_box(cls: str | None, ident: str | None) -> bool:
    """Cached: a site repeats its class names on every page."""
    return ASIDE.search(f"{cls or ''} {ident or ''}") is not None


def _fewer_p(el: etree._Element, n: int) -> bool:
    """Fewer than `n` <p> descendants (counted in C: no element objects)."""
    return not len(el) or _COUNT_P(el) < n


def _text(el: etree._Element) -> str:
    """All the text below `el`, as "".join(el.itertext()): a leaf's own text, else in C
    (libxml2's text content, as XPath's string() gives it, without an XPath call's setup)."""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False) if len(el) else el.text or ""


def _words(text: str) -> int:
    return len(text.split())


@lru_cache(maxsize=8192)
def _article_like(href: str, host: str) -> bool:
    """A link whose path looks like a story: same site, a long slug or a long numeric id.
    Cached: a site repeats its links (sections, related stories) on many pages."""
    try:
        parts = urlsplit(href)
        other = parts.hostname if parts.netloc else None
    except ValueError:  # a malformed href ("http://[x") is no story link
        return False
    if other and host and not other.endswith(host.removeprefix("www.")):
        return False
    return _story_path(parts.path)


def _story_path(path: str) -> bool:
    """A long slug or a long numeric id in a URL path."""
    last = path.rstrip("/").rpartition("/")[2]  # the last non-empty segment
    if not last:
        return False
    slug = last.rsplit(".", 1)[0]
    return slug.count("-") + slug.count("_") >= 3 or bool(LONG_ID.search(path))


def _is_byline(el: etree._Element) -> bool:
    tag = el.tag
    if tag in ("a", "span", "div", "p", "address", "li") and (
        el.get("rel") == "author" or el.get("itemprop") == "author"
        or BYLINE_ATTR.search(el.get("class") or "") and _words(_text(el)) <= 12
    ):
        return True
    return tag in ("p", "span", "div") and len(el) <= 3 and bool(
        BYLINE_TEXT.match(el.text or "")) and _words(_text(el)) <= 8
