"""A page's candidate text blocks with their structural context.

A block is the normalized text of one block-level element (paragraph, list item,
heading, cell, caption, or a div/span holding its own text) and the container
path it sits in: the chain of ancestor tags with their first class or id, digits
removed (`main/aside.teasers/ul.list/li`). Template learning counts blocks across
a domain's pages; the path says whether a repeated block lives in a container
whose content repeats (a teaser rail) or in the article body (a quote).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import NamedTuple

from lxml import etree

WORD = re.compile(r"\w+")
DIGITS = re.compile(r"\d+")
BLOCK_TAGS = frozenset(
    ["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "blockquote", "figcaption", "caption", "summary", "label", "button"]
)
LEAF_TAGS = frozenset(("div", "span", "a", "section", "aside", "footer", "header", "small", "strong", "em", "b", "font"))
SKIP_TAGS = frozenset(("script", "style", "noscript", "template", "svg", "head", "title", "meta", "link", "iframe"))
MAX_BLOCKS = 3000  # a page with more candidate blocks is sampled no further
PATH_DEPTH = 8  # labels in a path: the element and its 7 nearest ancestors below <body>
# Only these tags matter to the walk; lxml skips the others in C (no Python object per element).
WALK_TAGS = tuple(sorted(BLOCK_TAGS | LEAF_TAGS | SKIP_TAGS))
# ASCII text (most of it) is normalized by one byte translation: for ASCII, `\w` is [A-Za-z0-9_].
ASCII_WORD = bytes(
    (c | 0x20 if 65 <= c <= 90 else c) if c < 128 and (chr(c).isalnum() or c == 95) else 32 for c in range(256)
)
FORMS_MAX = 10_000  # cached text forms per process: a site's template blocks recur on every page
FORMS_MAX_CHARS = 1_000  # longer texts (article paragraphs) rarely recur: not cached


class Block(NamedTuple):  # a tuple: cheap to pickle back from the workers by the thousand
    key: str  # hash of the normalized text
    path: str
    text: str  # normalized text


def normalize(text: str) -> str:
    """Lower-cased `\\w+` tokens joined by spaces: the form blocks are compared in."""
    if text.isascii():
        return b" ".join(text.encode("ascii").translate(ASCII_WORD).split()).decode("ascii")
    return " ".join(WORD.findall(text.lower()))


def text_key(norm: str) -> str:
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()


_FORMS: dict[str, tuple[str, str]] = {}


def _forms(raw: str) -> tuple[str, str]:
    """(normalize(raw), its text_key), cached: a worker sees the same nav and footer
    blocks on every page of a site."""
    got = _FORMS.get(raw)
    if got is None:
        norm = normalize(raw)
        got = (norm, text_key(norm) if norm else "")
        if len(raw) <= FORMS_MAX_CHARS:
            if len(_FORMS) >= FORMS_MAX:
                _FORMS.clear()
            _FORMS[raw] = got
    return got


_MARKS: dict[tuple[str | None, str | None], str] = {}  # (class, id) -> a label's mark; bounded as _FORMS


def _label(el: etree._Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    cls = el.get("class")
    ident = el.get("id")
    if not cls and not ident:  # most elements: no need to split or strip digits
        return tag
    mark = _MARKS.get((cls, ident))
    if mark is None:
        words = (cls or "").split()
        mark = DIGITS.sub("", words[0] if words else ident or "")[:40]
        if len(_MARKS) >= FORMS_MAX:
            _MARKS.clear()
        _MARKS[cls, ident] = mark
    return f"{tag}.{mark}" if mark else tag


def _own_text(el: etree._Element) -> str:
    """The element's own text and its children's tails, whitespace left as is."""
    return (el.text or "") if not len(el) else "".join(_TEXT_NODES(el))


def _all_text(el: etree._Element) -> str:
    """All the text inside the element (`itertext()`, serialized in C)."""
    return (el.text or "") if not len(el) else etree.tostring(el, method="text", encoding="unicode", with_tail=False)


_TEXT_NODES = etree.XPath("text()", smart_strings=False)


def page_blocks(tree: etree._Element) -> list[Block]:
    """Blocks of a parsed page (read-only walk; call before trafilatura mutates the tree)."""
    return [b for _, b in iter_blocks(tree)]


def drop_blocks(tree: etree._Element, keys: frozenset[str] | set[str]) -> int:
    """Remove from the tree the blocks whose key is in `keys` (before re-extraction)."""
    hits = [el for el, b in iter_blocks(tree) if b.key in keys]
    remove_blocks(hits)
    return len(hits)


def remove_blocks(elements: list[etree._Element]) -> None:
    """Take out of their tree elements `iter_blocks` yielded (all found before any is removed)."""
    for el in elements:
        if el.tag in BLOCK_TAGS:
            parent = el.getparent()
            if parent is not None:
                tail = el.tail
                el.tail = None
                prev = el.getprevious()
                if tail and tail.strip():
                    if prev is not None:
                        prev.tail = (prev.tail or "") + tail
                    else:
                        parent.text = (parent.text or "") + tail
                parent.remove(el)
        else:  # a container with its own text: drop that text, keep its children
            el.text = None
            for child in el:
                child.tail = None


def _texts(root: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """(element, raw text) of the candidate blocks below `root`, in document order: a
    block element holds all its text (nothing inside it is visited), a leaf container
    its own; skipped elements are not entered."""
    walk = etree.iterwalk(root, events=("start",), tag=WALK_TAGS)
    if root.tag in WALK_TAGS:  # the root itself is walked, never a block
        next(walk)
    for _, el in walk:
        tag = el.tag
        if tag in LEAF_TAGS:
            yield el, _own_text(el)
        else:
            walk.skip_subtree()
            if tag in BLOCK_TAGS:
                yield el, _all_text(el)


def _chain(el: etree._Element, chains: dict[etree._Element, tuple[str, ...]]) -> tuple[str, ...]:
    """Labels of `el` and its ancestors below the root (whose chain is ()), the last
    PATH_DEPTH - 1; cached per element."""
    todo = []
    while el not in chains:
        todo.append(el)
        el = el.getparent()
    chain = chains[el]
    for a in reversed(todo):
        chain = chains[a] = (*chain[2 - PATH_DEPTH:], _label(a))
    return chain


def _path(el: etree._Element, prefixes: dict[etree._Element, str], chains: dict) -> str:
    """`el`'s container path: its chain, the prefix cached per parent (siblings share it)."""
    parent = el.getparent()
    prefix = prefixes.get(parent)
    if prefix is None:
        prefix = prefixes[parent] = "".join(f"{lab}/" for lab in _chain(parent, chains))
    return prefix + _label(el)


def iter_blocks(tree: etree._Element) -> Iterator[tuple[etree._Element, Block]]:
    """(element, Block) of each distinct block below <body>, in document order."""
    root = next(tree.iterdescendants("body"), None)  # tree.find(".//body") without ElementPath
    if root is None:
        root = tree
    count = 0
    seen: set[str] = set()
    chains: dict[etree._Element, tuple[str, ...]] = {root: ()}
    prefixes: dict[etree._Element, str] = {root: ""}
    for el, raw in _texts(root):
        norm, key = _forms(raw)
        if not norm or key in seen:
            continue
        seen.add(key)
        count += 1
        yield el, Block(key, _path(el, prefixes, chains), norm)
        if count >= MAX_BLOCKS:
            return
