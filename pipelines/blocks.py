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
# ASCII text (most of it) is normalized by one byte translation: for ASCII, `\w` is [A-Za-z0-9_].
ASCII_WORD = bytes(
    (c | 0x20 if 65 <= c <= 90 else c) if c < 128 and (chr(c).isalnum() or c == 95) else 32 for c in range(256)
)
FORMS_MAX = 10_000  # cached text forms per process: a site's template blocks recur on every page
FORMS_MAX_CHARS = 1_000  # longer texts (article paragraphs) rarely recur: not cached
# A word character outside ASCII. Text with none (ASCII words among typographic quotes,
# dashes, ©) is normalized as ASCII, those characters as "?": no character outside `\w`
# lower-cases to one inside it (a test checks every code point).
NON_ASCII_WORD = re.compile(r"[^\x00-\x7f\W]")


class Block(NamedTuple):  # a tuple: cheap to pickle back from the workers by the thousand
    key: str  # hash of the normalized text
    path: str
    text: str  # normalized text


def normalize(text: str) -> str:
    """Lower-cased `\\w+` tokens joined by spaces: the form blocks are compared in."""
    if text.isascii():
        return _ascii_words(text.encode("ascii"))
    if not NON_ASCII_WORD.search(text):
        return _ascii_words(text.encode("ascii", "replace"))
    return " ".join(WORD.findall(text.lower()))


def _ascii_words(data: bytes) -> str:
    data = data.translate(ASCII_WORD)  # word bytes lower-cased, the others spaces
    while b"  " in data:  # runs of spaces to one, in C (no object per word, as split() makes)
        data = data.replace(b"  ", b" ")
    return data.strip().decode("ascii")


_KEY_HASH = hashlib.blake2b(digest_size=8)  # copied: cheaper than a new one with its parameters


def text_key(norm: str) -> str:
    h = _KEY_HASH.copy()
    h.update(norm.encode("utf-8"))
    return h.hexdigest()


_FORMS: dict[str, tuple[str, str]] = {}


def _forms(raw: str) -> tuple[str, str]:
    """(normalize(raw), its text_key) of a text not in `_FORMS` (callers look there first),
    now cached: a worker sees the same nav and footer blocks on every page of a site."""
    norm = normalize(raw)
    got = (norm, text_key(norm) if norm else "")
    if len(raw) <= FORMS_MAX_CHARS:
        if len(_FORMS) >= FORMS_MAX:
            _FORMS.clear()
        _FORMS[raw] = got
    return got


_MARKS: dict[tuple[str | None, str | None], str] = {}  # (class, id) -> a label's mark; bounded as _FORMS


def _label(el: etree._Element, tag: str) -> str:
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


def _all_text(el: etree._Element) -> str:
    """All the text inside the element (`itertext()`, serialized in C)."""
    return (el.text or "") if not len(el) else etree.tostring(el, method="text", encoding="unicode", with_tail=False)


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


def _below(parent: tuple[tuple[str, ...], str], label: str) -> tuple[tuple[str, ...], str]:
    """(labels, path prefix) below an element labelled `label`, from those below its parent:
    the last PATH_DEPTH - 1 labels of the element and its ancestors, each followed by "/"
    in the prefix (a child's path is the prefix and the child's label)."""
    labels, prefix = parent
    if len(labels) < PATH_DEPTH - 1:
        return (*labels, label), f"{prefix}{label}/"
    return (*labels[1:], label), f"{prefix[len(labels[0]) + 1:]}{label}/"  # the farthest label drops out


_new_block = tuple.__new__  # Block(...) without NamedTuple's __new__, a Python call per block


def iter_blocks(tree: etree._Element) -> Iterator[tuple[etree._Element, Block]]:
    """(element, Block) of each distinct block below <body>, in document order: a
    block element holds all its text (nothing inside it is visited), a leaf container
    its own; skipped elements are not entered."""
    root = next(tree.iterchildren("body"), None)  # where lxml's HTML parser puts it: no search
    if root is None:
        root = next(tree.iterdescendants("body"), tree)  # a fragment: its root is walked
    count = 0
    seen: set[str] = set()
    # `_below` of each element with children, made from its parent's as the walk enters it:
    # a block's path is its parent's prefix and its own label, no walk up the ancestors.
    below = {root: ((), "")}
    # Children listed for their tails stay referenced: the walk reaches them next and gets
    # these Python objects back instead of making (and class-looking-up) new ones.
    kids_kept = []
    # No tag filter: building lxml's tag matcher costs more per page than the steps it saves.
    walk = etree.iterwalk(root, events=("start",))
    next(walk)  # the root itself is walked, never a block
    for _, el in walk:
        tag = el.tag
        label = None  # made only for a block, or for an element with children
        if tag in BLOCK_TAGS:
            walk.skip_subtree()
            raw = _all_text(el)
        elif tag in SKIP_TAGS:
            walk.skip_subtree()
            continue
        elif len(el):
            label = _label(el, tag)
            below[el] = _below(below[el.getparent()], label)
            if tag not in LEAF_TAGS:
                continue
            kids = list(el)
            kids_kept.append(kids)
            raw = (el.text or "") + "".join([kid.tail or "" for kid in kids])  # its own text
        elif tag in LEAF_TAGS:
            raw = el.text or ""
        else:
            continue
        norm, key = _FORMS.get(raw) or _forms(raw)
        if not norm or key in seen:
            continue
        seen.add(key)
        count += 1
        path = below[el.getparent()][1] + (label or _label(el, tag))
        yield el, _new_block(Block, (key, path, norm))
        if count >= MAX_BLOCKS:
            return
