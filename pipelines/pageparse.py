"""One page -> body lines, metadata and candidate blocks (the per-page, CPU-heavy work).

Runs inside a worker process. Parses the HTML once: blocks and head metadata are
read from the raw tree, then trafilatura (recall-oriented, links kept so link
density can be judged) extracts the body, `boilerplate.prune` drops generic
boilerplate, and the body becomes one line per paragraph. Template filtering
happens later, in the parent, once the whole batch has been seen; the templates
its domain already had before this batch (`Cut`) leave the tree before extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC

from lxml import etree
from trafilatura.core import trafilatura_sequence
from trafilatura.settings import Extractor
from trafilatura.utils import load_html
from trafilatura.xml import xmltotxt

from pipelines import boilerplate
from pipelines.blocks import Block, drop_blocks, iter_blocks, normalize, remove_blocks, text_key
from pipelines.metadata import Meta, build_meta, guess_language, read_head
from pipelines.models import Dropped, Page
from pipelines.urls import domain_of

HTML_TYPES = ("text/html", "application/xhtml")
# A domain's known template: block keys, and container paths whose blocks are all template
Cut = tuple[frozenset[str], frozenset[str]]
FALLBACK_WORDS = 20  # fewer body words from the fast path (a page about to be dropped as too short): extract again with trafilatura's fallbacks


@dataclass(slots=True)
class Parsed:
    """A page after pass 1: what template learning and filtering need."""

    url: str
    lines: list[str]
    meta: Meta
    blocks: list[Block]
    hub: str = ""  # non-empty: the page is not an article (reason); its blocks still teach templates
    pruned: int = 0
    extras: dict[str, object] = field(default_factory=dict)
    norms: list[str] = field(default_factory=list)  # each line normalized (`blocks.normalize`)
    keys: list[str] = field(default_factory=list)  # each line's block key (`blocks.text_key`)


def _load(html: bytes) -> etree._Element | None:
    """`load_html(html)`, parsed the same: UTF-8 (most pages) is decoded here, which skips
    trafilatura's attempts to decompress the bytes as brotli and deflate first (~15% of a
    parse). Page bytes are already decompressed (`warc_read`), and compressed data is next
    to never valid UTF-8; anything else goes to trafilatura as bytes, as before."""
    try:
        text = html.decode("utf-8")
    except UnicodeDecodeError:
        return load_html(html)
    return load_html(text)


def _looks_html(page: Page) -> bool:
    ctype = page.headers.get("content-type", "").lower()
    if any(t in ctype for t in HTML_TYPES):
        return True
    head = page.html[:512].lstrip().lower()
    return not ctype and head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _hub_reason(page: Page, tree: etree._Element) -> str:
    """Why the page is not an article ("" if it is), judged on its tree, still unchanged."""
    if page.article_hint is not None:
        return ""
    try:
        from pipelines.classify import classify_tree
    except ImportError:  # classifier not installed: trust extraction length alone
        return ""
    kind = classify_tree(page.url, page.html, tree, page.headers.get("content-type", "text/html"))
    return "" if kind.kind == "article" else f"{kind.kind}:{kind.reason}"


# trafilatura's settings, built once per process (per call they cost ~3% of an extraction).
# Recall-oriented; links kept so `boilerplate.prune` can judge link density. No URL: it
# would only make the links absolute (a urljoin each), and links are dropped. Format
# "txt": trafilatura then leaves the body tree unserialized; we serialize it after
# pruning.
_EXTRACTORS = {fast: Extractor(output_format="txt", fast=fast, recall=True, comments=False, links=True)
               for fast in (True, False)}


def _body(tree: etree._Element, options: Extractor) -> etree._Element | None:
    """`bare_extraction(tree, options=options).body`, on `tree` itself: bare_extraction
    first copies a tree it is given (~3% of a page's pass 1), and we have no further use
    for ours. The rest are its steps for our options (no metadata, language or dedup).
    `tests/test_extract.py` checks the two agree."""
    try:
        body, text, _, comments = trafilatura_sequence(tree, options, None)
    except (TypeError, ValueError):
        return None
    if options.max_tree_size and len(body) > options.max_tree_size:
        etree.strip_tags(body, "hi")
        if len(body) > options.max_tree_size:
            return None
    if len(text) < options.min_output_size and len(comments) < options.min_output_comm_size:
        return None
    return body


def _body_lines(tree: etree._Element, meta: Meta, html_title: str, fast: bool) -> tuple[list[str], int]:
    body = _body(tree, _EXTRACTORS[fast])
    if body is None:
        return [], 0
    pruned = boilerplate.prune(body, meta.title or html_title, meta.description)
    etree.strip_tags(body, "ref")
    lines = [" ".join(x.split()) for x in xmltotxt(body, False).split("\n")]
    return [x for x in lines if x], pruned


@dataclass(slots=True)
class Body:
    """A re-extracted body (pass 2): what changes from pass 1's `Parsed`."""

    lines: list[str]
    pruned: int
    norms: list[str]
    keys: list[str]

    def into(self, first: Parsed) -> Parsed:
        """`first` with this body: blocks, metadata and the page's kind stay pass 1's."""
        return Parsed(first.url, self.lines, first.meta, first.blocks, first.hub, self.pruned,
                      first.extras, self.norms, self.keys)


def _words(lines: list[str]) -> int:
    return sum(len(x.split()) for x in lines)


def _extract_body(page: Page, tree: etree._Element, meta: Meta, html_title: str,
                  drop_keys: frozenset[str] | None, dropped: bool = False) -> tuple[list[str], int]:
    """Body lines of a parsed page: trafilatura's fast path, then its fallbacks when that
    found next to nothing (on a fresh tree: the first one was cleaned in place).
    `dropped`: the blocks `drop_keys` are already out of `tree`."""
    if drop_keys and not dropped:
        drop_blocks(tree, drop_keys)
    lines, pruned = _body_lines(tree, meta, html_title, fast=True)
    if _words(lines) < FALLBACK_WORDS:
        tree = _load(page.html)
        if drop_keys:
            drop_blocks(tree, drop_keys)
        lines2, pruned2 = _body_lines(tree, meta, html_title, fast=False)
        if _words(lines2) > _words(lines):
            lines, pruned = lines2, pruned2
    return lines, pruned


def reparse_body(page: Page, drop_keys: frozenset[str], meta: Meta) -> Body | Dropped:
    """Pass 2's re-extraction: the body again, without the template blocks `drop_keys`
    (a teaser block trafilatura took for the main content can no longer be chosen).
    Only the body: the page's blocks, metadata and kind are known from pass 1."""
    tree = _load(page.html)
    if tree is None:
        return Dropped(page.url, "empty", "no parsable markup")
    lines, pruned = _extract_body(page, tree, meta, "", drop_keys)
    norms = [normalize(x) for x in lines]
    return Body(lines, pruned, norms, [text_key(n) for n in norms])


def parse_page(page: Page, cut: Cut | None = None) -> Parsed | Dropped:
    """Pass 1 for one page (pass 2's re-extraction without template blocks is
    `reparse_body`). `cut`: its domain's template as known before this batch; those
    blocks leave the tree before trafilatura chooses the body, so a shared teaser
    cannot be taken for it (and the page needs no second extraction)."""
    if not page.html or not page.html.strip():
        return Dropped(page.url, "empty")
    if not _looks_html(page):
        return Dropped(page.url, "not_html", page.headers.get("content-type", ""))
    tree = _load(page.html)
    if tree is None:
        return Dropped(page.url, "empty", "no parsable markup")
    # One Python object per element, held until the page is done: the block walk,
    # classification, the head and trafilatura's many passes then reuse them instead of
    # each making (and class-looking-up) its own (~3% of a page's pass 1).
    elements = list(tree.iter())  # noqa: F841 - held, not read
    found = list(iter_blocks(tree))  # read-only walk, before anything changes the tree
    blocks = [b for _, b in found]
    head = read_head(tree)
    hub = _hub_reason(page, tree)
    meta = build_meta(page.url, head, None, page.html)
    if hub:  # not an article: only its blocks (template learning) are needed
        return Parsed(page.url, [], meta, blocks, hub, 0)
    drop_keys = None
    if cut is not None:
        keys, paths = cut
        hits = [(el, b.key) for el, b in found if b.key in keys or b.path in paths]
        drop_keys = frozenset(k for _, k in hits)
        remove_blocks([el for el, _ in hits])
    lines, pruned = _extract_body(page, tree, meta, head.html_title, drop_keys, dropped=True)
    if meta.language is None and lines:
        meta.language = guess_language("\n".join(lines))
    norms = [normalize(x) for x in lines]  # what template filtering compares, done here in the worker
    return Parsed(page.url, lines, meta, blocks, hub, pruned, norms=norms, keys=[text_key(n) for n in norms])


_WARM = False


def warm_up() -> None:
    """Load what the first page would load lazily (jusText stop lists, htmldate's
    parsers) once in the parent, so forked workers start warm. Once per process."""
    global _WARM
    if _WARM:
        return
    _WARM = True
    html = (b"<html lang='en'><head><title>Warm up</title></head><body><article><h1>Warm up</h1>"
            b"<p>Published 3 March 2021 by the desk.</p>" + b"<p>Some words of text in a paragraph here.</p>" * 5
            + b"</article></body></html>")
    from datetime import datetime

    parse_page(Page("http://warm.example/a", html, 200, {"content-type": "text/html"},
                    datetime(2021, 1, 1, tzinfo=UTC), "warm", "pattern"))
    domain_of("http://www.warm.example.co.uk/")  # tldextract's suffix trie (~0.2 s), else built per reader and worker
    try:  # month names of every dateparser locale (~0.3 s), built the first time a date cue is unclear
        from htmldate.extractors import month_words
    except ImportError:
        return
    month_words()
