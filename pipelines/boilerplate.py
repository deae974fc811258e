"""Generic boilerplate pruning of trafilatura's body tree (no per-site rules).

trafilatura keeps the headline, teaser lists, "Read more:" lines, newsletter and
share boxes when they sit inside the article container. We drop, by structure
and vocabulary only:

- leading headings that repeat the title or the description (standfirst);
- lists and short lines made mostly of links (related-article teasers);
- short lines whose wording is boilerplate (subscribe, share, read more, ©...);
- lines that are only a URL or a date, and headings left with no text after them.
"""

from __future__ import annotations

import re

from lxml import etree

WORD = re.compile(r"\w+")
BOILER_START = re.compile(
    r"^\W*(read more|read also|read next|see more|see also|related|more from|more on this|don['’]?t miss|"
    r"you may also like|you might also like|recommended|most read|most popular|trending|top stories|"
    r"also read|also on|sign up|subscribe|click here|follow us|follow him|follow her|share this|share on|"
    r"advertisement|sponsored|copyright|all rights reserved|©|photo:|image:|picture:|getty images|"
    r"leggi anche|leia também|leia mais|veja também|lesen sie auch|mehr zum thema|lire aussi|"
    r"ver también|lee también|читайте также)\b",
    re.IGNORECASE,
)
BOILER_ANY = re.compile(
    r"\b(newsletters?|sign up|signing up|subscribe|subscription|subscriber agreement|inbox|"
    r"all rights reserved|copyright|order reprints|print article|cookie|javascript|"
    r"get the .{0,30}app|download the .{0,30}app|follow us on|share this article|"
    r"comments? (are|is) (closed|moderated)|leave a (comment|reply)|log in to comment|"
    r"error (has occurred|processing)|please try again|coment[aá]rios?|commenti|kommentare?|"
    r"comments? policy|post (a )?comment|(write|reach|email) (to )?\w+( \w+)? at|may be reached at|"
    r"contributed to this report|this (copy|article) (is for|has been sent)|"
    r"reprints?|permissions?)\b",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\S+@\w+\.\w+")
TEASER_TAG = re.compile(r"\[[A-Z ]{3,}\]\W*$")
LABELS = {"tags", "tag", "categories", "category", "categorias", "categoria", "share", "comments",
          "sorry", "thank you", "thanks", "print", "email", "advertisement", "loading", "text size", "by"}
TRUNCATED = re.compile(r"(…|\.\.\.|\[…\]|\[\.\.\.\])\s*$")
URL_ONLY = re.compile(r"^\s*(https?://|www\.)\S+\s*$")
DATE_ONLY = re.compile(r"^[\W\d]*(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([T ]\d{1,2}:\d{2}\S*)?)?[\W\d]*$")
BLOCK_TAGS = ("p", "head", "list", "quote", "table", "item")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _text(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _link_share(el: etree._Element) -> float:
    total = len(_text(el))
    if not total:
        return 0.0
    linked = sum(len(" ".join("".join(r.itertext()).split())) for r in el.iter("ref"))
    return linked / total


def _starts_with_link(el: etree._Element) -> bool:
    """A teaser item: its first text is a link (headline), a dek may follow."""
    if (el.text or "").strip():
        return False
    for child in el.iter():
        if child is el:
            continue
        if child.tag == "ref" and "".join(child.itertext()).strip():
            return True
        if (child.text or "").strip() or (child.tail or "").strip():
            return False
    return False


def _in_quote(el: etree._Element) -> bool:
    return any(a.tag == "quote" for a in el.iterancestors())


def _similar(a: str, b: str) -> bool:
    """Token containment both ways >= 0.8: a heading repeating the title."""
    wa, wb = set(words(a)), set(words(b))
    if not wa or not wb:
        return False
    inter = len(wa & wb)
    return inter / len(wa) >= 0.8 and inter / len(wb) >= 0.5


def _is_boilerplate_line(text: str) -> bool:
    n = len(words(text))
    if n == 0:
        return True
    if URL_ONLY.match(text) or DATE_ONLY.match(text):
        return True
    if " ".join(words(text)) in LABELS:
        return True
    if n <= 30 and (EMAIL.search(text) or TEASER_TAG.search(text)):
        return True
    if n <= 25 and BOILER_START.match(text):
        return True
    return n <= 30 and bool(BOILER_ANY.search(text))


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def prune(body: etree._Element, title: str = "", description: str = "") -> int:
    """Remove boilerplate from trafilatura's body tree in place; returns blocks removed."""
    removed = 0
    # 1. leading headings (and a leading standfirst) that repeat title/description
    for el in list(body):
        t = _text(el)
        if el.tag == "p" and len(words(t)) <= 25 and title and _similar(t, title):
            _drop(el)
            removed += 1
            continue
        if el.tag != "head":
            break
        if (title and _similar(t, title)) or (description and _similar(t, description)):
            _drop(el)
            removed += 1
    # 2. link-dense lists and lines, boilerplate wording
    for el in list(body.iter("list", "p", "head")):
        if el.getparent() is None or _in_quote(el):
            continue
        t = _text(el)
        n = len(words(t))
        if el.tag == "list":
            items = el.findall("item")
            linky = [i for i in items if _link_share(i) >= 0.6 or (_starts_with_link(i) and i.find(".//head") is not None)]
            if items and len(linky) >= max(2, 0.6 * len(items)):
                _drop(el)
                removed += 1
                continue
            for item in items:
                if _is_boilerplate_line(_text(item)):
                    _drop(item)
                    removed += 1
            continue
        if n <= 30 and _link_share(el) >= 0.8 or _is_boilerplate_line(t):
            _drop(el)
            removed += 1
    # 3. truncated excerpts of other articles ("...", "…") when there are several
    excerpts = [el for el in body.iter("p") if TRUNCATED.search(_text(el)) and not _in_quote(el)]
    if len(excerpts) >= 2:
        for el in excerpts:
            _drop(el)
            removed += 1
    # 4. headings left dangling (followed by nothing or by another heading)
    for el in reversed(list(body)):
        if el.tag != "head":
            break
        _drop(el)
        removed += 1
    return removed
