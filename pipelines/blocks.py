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


class Block(NamedTuple):  # a tuple: cheap to pickle back from the workers by the thousand
    key: str  # hash of the normalized text
    path: str
    text: str  # normalized text


def normalize(text: str) -> str:
    """Lower-cased `\\w+` tokens joined by spaces: the form blocks are compared in."""
    return " ".join(WORD.findall(text.lower()))


def text_key(norm: str) -> str:
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()


def _label(el: etree._Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    cls = (el.get("class") or "").split()
    ident = el.get("id") or ""
    mark = cls[0] if cls else ident
    mark = DIGITS.sub("", mark)[:40]
    return f"{tag}.{mark}" if mark else tag


def _own_text(el: etree._Element) -> str:
    parts = [el.text or ""]
    parts.extend(child.tail or "" for child in el)
    return " ".join("".join(parts).split())


def page_blocks(tree: etree._Element) -> list[Block]:
    """Blocks of a parsed page (read-only walk; call before trafilatura mutates the tree)."""
    return [b for _, b in iter_blocks(tree)]


def drop_blocks(tree: etree._Element, keys: frozenset[str] | set[str]) -> int:
    """Remove from the tree the blocks whose key is in `keys` (before re-extraction)."""
    hits = [(el, b) for el, b in iter_blocks(tree) if b.key in keys]
    for el, _ in hits:
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
    return len(hits)


def iter_blocks(tree: etree._Element) -> Iterator[tuple[etree._Element, Block]]:
    body = tree.find(".//body")
    root = body if body is not None else tree
    count = 0
    seen: set[str] = set()
    labels: dict[etree._Element, str] = {}
    stack: list[tuple[etree._Element, tuple[etree._Element, ...]]] = [(c, ()) for c in reversed(root)]
    while stack and count < MAX_BLOCKS:
        el, parents = stack.pop()
        tag = el.tag
        if not isinstance(tag, str) or tag in SKIP_TAGS:
            continue
        if tag in BLOCK_TAGS:
            text = " ".join("".join(el.itertext()).split())  # the outermost block holds the text
        else:
            if len(el):
                chain = (*parents[-7:], el)
                stack.extend((child, chain) for child in reversed(el))
            if tag not in LEAF_TAGS:
                continue
            text = _own_text(el)
        if not text:
            continue
        norm = normalize(text)
        if not norm:
            continue
        key = text_key(norm)
        if key not in seen:
            seen.add(key)
            path = []
            for a in (*parents[-7:], el):
                lab = labels.get(a)
                if lab is None:
                    lab = labels[a] = _label(a)
                path.append(lab)
            count += 1
            yield el, Block(key, "/".join(path), norm)
