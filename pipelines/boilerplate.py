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
# "(?=\w)": every alternative starts with a letter, so a word's end need not try them all
BOILER_ANY = re.compile(
    r"\b(?=\w)(newsletters?|sign up|signing up|subscribe|subscription|subscriber agreement|inbox|"
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
TRUNCATED = ("…", "...", "[…]", "[...]")  # how a cut-off excerpt ends (`_text` leaves no trailing space)
URL_ONLY = re.compile(r"^\s*(https?://|www\.)\S+\s*$")
DATE_ONLY = re.compile(r"^[\W\d]*(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([T ]\d{1,2}:\d{2}\S*)?)?[\W\d]*$")
BLOCK_TAGS = ("p", "head", "list", "quote", "table", "item")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


# Matches a lower-cased line of more than 30 words (as `words` counts them), reading no
# further than the 31st: most lines are long paragraphs, and the checks that need a
# line's words are for short lines.
LONG_LINE = re.compile(r"(?:\W*+\w++){31}")


def _line_words(text: str) -> list[str] | None:
    """`words(text)`, or None for a line of more than 30 words."""
    low = text.lower()
    return None if LONG_LINE.match(low) else WORD.findall(low)


def _text(el: etree._Element) -> str:
    # "".join(el.itertext()): a childless element's text, else the subtree's serialized in C,
    # ~3x cheaper (a body has no entity references, the one node the two write differently)
    raw = (el.text or "") if len(el) == 0 else etree.tostring(el, method="text", encoding=str, with_tail=False)
    return " ".join(raw.split())


def _link_share(el: etree._Element, text: str) -> float:
    """Share of `text` (the `_text` of `el`) that is link text."""
    total = len(text)
    if not total:
        return 0.0
    linked = sum(len(_text(r)) for r in el.iter("ref"))
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


def _quoted(body: etree._Element) -> set[etree._Element]:
    """The elements of `body` inside a quote, found once (`_in_quote` walks up from each)."""
    if _in_quote(body):
        return set(body.iterdescendants())
    return {el for q in body.iter("quote") for el in q.iterdescendants()}


def _similar(a: str, b: str) -> bool:
    """Token containment both ways >= 0.8: a heading repeating the title."""
    wa, wb = set(words(a)), set(words(b))
    if not wa or not wb:
        return False
    inter = len(wa & wb)
    return inter / len(wa) >= 0.8 and inter / len(wb) >= 0.5


def _is_boilerplate_line(text: str, ws: list[str] | None) -> bool:
    """`ws`: the line's `_line_words`, None for a long line (where only a URL or a date counts)."""
    if URL_ONLY.match(text) or DATE_ONLY.match(text):
        return True
    if ws is None:
        return False
    if not ws or " ".join(ws) in LABELS:
        return True
    if ("@" in text and EMAIL.search(text)) or TEASER_TAG.search(text):
        return True
    if len(ws) <= 25 and BOILER_START.match(text):
        return True
    return bool(BOILER_ANY.search(text))


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
    texts: dict[etree._Element, str] = {}  # `_text` of elements, forgotten when something inside them goes

    def text(el: etree._Element) -> str:
        t = texts.get(el)
        if t is None:
            t = texts[el] = _text(el)
        return t

    def drop(el: etree._Element) -> None:
        for a in el.iterancestors():
            texts.pop(a, None)
        _drop(el)

    # 1. leading headings (and a leading standfirst) that repeat title/description
    for el in list(body):
        t = text(el)
        ws = _line_words(t) if el.tag == "p" and title else None
        if ws is not None and len(ws) <= 25 and _similar(t, title):
            drop(el)
            removed += 1
            continue
        if el.tag != "head":
            break
        if (title and _similar(t, title)) or (description and _similar(t, description)):
            drop(el)
            removed += 1
    # 2. link-dense lists and lines, boilerplate wording
    quoted = _quoted(body)
    for el in list(body.iter("list", "p", "head")):
        if el.getparent() is None or el in quoted:
            continue
        if el.tag == "list":
            items = el.findall("item")
            linky = [i for i in items if _link_share(i, text(i)) >= 0.6
                     or (_starts_with_link(i) and i.find(".//head") is not None)]
            if items and len(linky) >= max(2, 0.6 * len(items)):
                drop(el)
                removed += 1
                continue
            for item in items:
                t = text(item)
                if _is_boilerplate_line(t, _line_words(t)):
                    drop(item)
                    removed += 1
            continue
        t = text(el)
        ws = _line_words(t)
        if ws is not None and _link_share(el, t) >= 0.8 or _is_boilerplate_line(t, ws):
            drop(el)
            removed += 1
    # 3. truncated excerpts of other articles ("...", "…") when there are several
    excerpts = [el for el in body.iter("p") if text(el).endswith(TRUNCATED) and el not in quoted]
    if len(excerpts) >= 2:
        for el in excerpts:
            drop(el)
            removed += 1
    # 4. headings left dangling (followed by nothing or by another heading)
    for el in reversed(list(body)):
        if el.tag != "head":
            break
        drop(el)
        removed += 1
    return removed
