"""Article metadata from the page head, JSON-LD and trafilatura's Document.

title without the site suffix, authors as a list, published_at as an aware UTC
datetime, language as ISO 639-1, canonical_url resolved and normalized.
Read from the parsed tree *before* trafilatura cleans it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

from lxml import etree

from pipelines.urls import normalize_url

SEPARATORS = re.compile(r"\s+[|\-–—:·»•/]\s+|\s+::\s+")
LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_].*)?$")
AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|&|\band\b|\bund\b|\be\b|\by\b)\s*", re.IGNORECASE)
AUTHOR_PREFIX = re.compile(r"^(by|von|por|par|di|de)\s+", re.IGNORECASE)
BYLINE_CLASS = re.compile(r"\b(byline|author|authors|by-line|article-author)\b", re.IGNORECASE)
DATE_CLASS = re.compile(r"(date|time|posted|publish|byline|author|dateline)", re.IGNORECASE)
CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
DATE_KEYS = ("article:published_time", "og:article:published_time", "datepublished", "date", "pubdate",
             "publishdate", "dc.date.issued", "dc.date", "sailthru.date", "parsely-pub-date")


@dataclass(slots=True)
class Meta:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    canonical_url: str = ""
    description: str = ""


@dataclass(slots=True)
class HeadInfo:
    """What the raw tree says, gathered in one pass before trafilatura runs."""

    html_title: str = ""
    og_title: str = ""
    h1: str = ""
    site_name: str = ""
    lang: str = ""
    canonical: str = ""
    og_url: str = ""
    dates: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    description: str = ""
    date_texts: list[str] = field(default_factory=list)  # visible text of date/byline elements


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _text(el: etree._Element) -> str:
    # "".join(el.itertext()): a childless element's text, else the subtree's serialized in C,
    # ~3x cheaper (a parsed HTML tree has no entity references, the one node the two write
    # differently)
    if len(el) == 0:
        return el.text or ""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


# What read_head reads. The head tags come from a walk of the whole document (the tag test
# runs in C: only these elements become Python objects; an XPath costs a full pass per tag).
HEAD_TAGS = ("title", "meta", "link", "script", "h1", "time")
# Byline and date elements: author links and elements whose class has one of these words. The
# class test runs in Python on the class attributes (smart strings, their element one call
# away): nine XPath contains() per element cost more than twice as much.
CLASS_WORDS = re.compile("author|Author|byline|Byline|date|Date|time|publish|posted")
# (/descendant::a is //a without first gathering every node of the document)
BYLINE_XPATH = etree.XPath(
    "/descendant::a[@rel][contains(concat(' ', normalize-space(@rel), ' '), ' author ')] | //@class")
MAX_BYLINES = 40  # byline/date elements read, in document order


def read_head(tree: etree._Element) -> HeadInfo:
    info = HeadInfo(lang=_clean(tree.get("lang") or tree.get("xml:lang")))
    # the whole document, as an XPath's // reads it (`tree` may be an element inside it)
    for el in tree.getroottree().getroot().iter(*HEAD_TAGS):
        tag = el.tag
        if tag == "meta":
            _read_meta(el, info)
        elif tag == "title" and not info.html_title:
            info.html_title = _clean(_text(el))
        elif tag == "h1" and not info.h1:
            info.h1 = _clean(_text(el))
        elif tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "canonical" in rel and not info.canonical:
                info.canonical = _clean(el.get("href"))
        elif tag == "script" and (el.get("type") or "").lower() == "application/ld+json":
            _read_jsonld(el.text or "", info)
        elif tag == "time":
            when = el.get("datetime")
            if when is not None and (el.get("pubdate") is not None or "publish" in (el.get("class") or "")):
                info.dates.append(when)
    bylines: list[str] = []
    seen = 0
    last = None
    for hit in BYLINE_XPATH(tree):
        if isinstance(hit, str):  # a class attribute
            if not CLASS_WORDS.search(hit):
                continue
            el, cls = hit.getparent(), hit
        else:  # an author link: an <a>, read before any class would be
            el, cls = hit, None
        if el is last:  # an author link whose class matches too: once
            continue
        last = el
        seen += 1
        if seen > MAX_BYLINES:
            break
        if el.tag == "a":
            bylines.append(_clean(_text(el)))
            continue
        if len(bylines) < 8 and BYLINE_CLASS.search(cls):
            bylines.extend(n for n in (_clean(_text(a)) for a in el.iter("a")) if n)
        if len(info.date_texts) < 8 and DATE_CLASS.search(cls):
            info.date_texts.append(_clean(_text(el))[:200])
    if not info.authors:
        for name in bylines:
            for part in _split_authors(name):
                if part not in info.authors and len(part.split()) <= 5:
                    info.authors.append(part)
    return info


def _read_meta(el: etree._Element, info: HeadInfo) -> None:
    content = _clean(el.get("content"))
    if not content:  # e.g. <meta charset>: no need to look for a key
        return
    key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").lower()
    if not key:
        return
    if key == "og:title" and not info.og_title:
        info.og_title = content
    elif key == "og:site_name" and not info.site_name:
        info.site_name = content
    elif key == "og:url" and not info.og_url:
        info.og_url = content
    elif key in ("content-language", "og:locale", "language", "dc.language") and not info.lang:
        info.lang = content
    elif key in DATE_KEYS:
        info.dates.append(content)
    elif key in ("author", "article:author", "dc.creator", "sailthru.author", "parsely-author"):
        if not content.startswith("http"):
            info.authors.extend(_split_authors(content))
    elif key in ("description", "og:description") and not info.description:
        info.description = content


def _read_jsonld(raw: str, info: HeadInfo) -> None:
    try:
        data = json.loads(raw)
    except ValueError:
        return
    items = data if isinstance(data, list) else [data]
    items = [i for i in items if isinstance(i, dict)]
    for item in list(items):
        graph = item.get("@graph")
        if isinstance(graph, list):
            items.extend(g for g in graph if isinstance(g, dict))
    for item in items:
        kind = item.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(isinstance(k, str) and ("Article" in k or k in ("BlogPosting", "Report")) for k in kinds):
            continue
        if isinstance(item.get("datePublished"), str):
            info.dates.insert(0, item["datePublished"])
        authors = item.get("author")
        authors = authors if isinstance(authors, list) else [authors]
        names = [a.get("name") if isinstance(a, dict) else a for a in authors]
        names = [_clean(n) for n in names if isinstance(n, str) and n.strip()]
        if names:
            info.authors = names + [a for a in info.authors if a not in names]
        if isinstance(item.get("headline"), str) and not info.og_title:
            info.og_title = _clean(item["headline"])
        pub = item.get("publisher")
        if isinstance(pub, dict) and isinstance(pub.get("name"), str) and not info.site_name:
            info.site_name = _clean(pub["name"])


def _split_authors(raw: str) -> list[str]:
    out = []
    for part in AUTHOR_SPLIT.split(AUTHOR_PREFIX.sub("", raw.strip())):
        part = _clean(part)
        if part and len(part) <= 60 and not part.startswith(("http", "@")) and part not in out:
            out.append(part)
    return out


def strip_site(title: str, h1: str = "", site_name: str = "") -> str:
    """'Headline | Site' and 'Site - Headline' -> 'Headline'."""
    title = _clean(title)
    if h1 and len(h1) >= 10 and h1.lower() in title.lower():
        return h1
    parts = SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    site = site_name.lower()
    if site:
        kept = [p for p in parts if p.lower() != site and p.lower() not in site]
        if kept and len(kept) < len(parts):
            return _rejoin(title, kept)
    # no known site name: drop the shorter end segment (the site is the short side)
    first, last = parts[0], parts[-1]
    if len(last.split()) <= 4 and len(last) < len(first):
        return _rejoin(title, parts[:-1])
    if len(first.split()) <= 4 and len(first) < len(last):
        return _rejoin(title, parts[1:])
    return title


def _rejoin(title: str, kept: list[str]) -> str:
    start = title.find(kept[0])
    end = title.rfind(kept[-1]) + len(kept[-1])
    return title[start:end].strip() if start >= 0 and end > start else " ".join(kept)


def parse_date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    raw = raw.strip()
    try:
        dt = datetime.fromisoformat(raw)  # 3.11 reads "Z" and offsets
    except ValueError:
        m = re.match(r"(\d{4})-(\d{2})-(\d{2})", raw)
        if not m:
            return None
        try:
            dt = datetime(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def language_of(head_lang: str, fallback: str | None) -> str | None:
    m = LANG.match(head_lang.strip()) if head_lang else None
    if m:
        return m[1].lower()
    m = LANG.match(fallback.strip()) if fallback else None
    return m[1].lower() if m else None


def canonical_of(page_url: str, head: HeadInfo) -> str:
    for href in (head.canonical, head.og_url):
        if href and not href.startswith(("javascript:", "#")):
            resolved = urljoin(page_url, href)
            if resolved.startswith(("http://", "https://")):
                return normalize_url(resolved)
    return normalize_url(page_url)


def build_meta(page_url: str, head: HeadInfo, doc: object | None, html: bytes | str | None = None) -> Meta:
    """Combine the head, JSON-LD and trafilatura's Document (`doc`, may be None)."""
    d_title = getattr(doc, "title", None) or ""
    d_author = getattr(doc, "author", None) or ""
    d_date = getattr(doc, "date", None)
    d_lang = getattr(doc, "language", None)
    raw_title = head.og_title or head.html_title or d_title
    if head.og_title:
        title = strip_site(head.og_title, head.h1, head.site_name)
    else:
        title = strip_site(head.html_title or d_title, head.h1, head.site_name)
    authors = head.authors or _split_authors(d_author.replace("; ", ";"))
    published = next((p for p in (parse_date(x) for x in head.dates) if p), None)
    if published is None:
        published = parse_date(d_date)
    if published is None:
        published = _text_date(head.date_texts)
    if published is None and html is not None:
        published = _htmldate(html)
    if published is not None and (published.hour, published.minute) == (0, 0):
        published = _with_clock(published, head.date_texts)
    return Meta(
        title=title or raw_title,
        authors=authors,
        published_at=published,
        language=language_of(head.lang, d_lang),
        canonical_url=canonical_of(page_url, head),
        description=head.description or (getattr(doc, "description", None) or ""),
    )


MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"])}
MONTHS.update({m[:3]: n for m, n in list(MONTHS.items())})
MONTHS["sept"] = 9
TEXT_DATES = (
    re.compile(r"\b(?P<d>\d{1,2})\.? (?P<m>[a-z]{3,9})\.? (?P<y>\d{4})\b", re.IGNORECASE),   # 21 October 2026
    re.compile(r"\b(?P<m>[a-z]{3,9})\.? (?P<d>\d{1,2}),? (?P<y>\d{4})\b", re.IGNORECASE),   # October 21, 2026
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),                 # 2026-10-21
    re.compile(r"\b(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})\b"),          # 21.10.2026 (day first)
)


def _text_date(texts: list[str]) -> datetime | None:
    """A date written out in the page's date/byline elements (sites with no metadata)."""
    for t in texts:
        for rx in TEXT_DATES:
            m = rx.search(t)
            if not m:
                continue
            month = m["m"]
            mon = int(month) if month.isdigit() else MONTHS.get(month.lower())
            if not mon:
                continue
            try:
                return datetime(int(m["y"]), mon, int(m["d"]), tzinfo=UTC)
            except ValueError:
                continue
    return None


def _with_clock(day: datetime, texts: list[str]) -> datetime:
    """A date without time of day, completed by the first HH:MM in the page's date/byline text."""
    for t in texts:
        m = CLOCK.search(t)
        if m:
            return day.replace(hour=int(m[1]), minute=int(m[2]))
    return day


def _htmldate(html: bytes | str) -> datetime | None:
    from htmldate import find_date

    try:
        found = find_date(html, extensive_search=True, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S")
    except Exception:  # noqa: BLE001 - htmldate raises assorted errors on odd markup; no date is fine
        return None
    return parse_date(found)


# A stopword vote, used only when the page declares no language: a few common
# words per language separate the languages news is mostly written in.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(["the", "and", "of", "to", "in", "is", "that", "for", "was", "with", "on", "said", "by", "it", "as"]),
    "de": frozenset(["der", "die", "und", "das", "ist", "nicht", "mit", "den", "von", "zu", "sich", "auf", "für", "ein", "eine"]),
    "fr": frozenset(["le", "la", "les", "et", "des", "est", "une", "dans", "pour", "que", "qui", "sur", "pas", "au", "du"]),
    "es": frozenset(["el", "la", "los", "las", "y", "que", "del", "en", "por", "una", "con", "para", "es", "se", "al"]),
    "pt": frozenset(["o", "a", "os", "as", "e", "que", "do", "da", "em", "um", "uma", "para", "com", "não", "dos", "das"]),
    "it": frozenset(["il", "la", "che", "di", "e", "per", "un", "una", "sono", "non", "del", "della", "nel", "con", "gli"]),
    "nl": frozenset(["de", "het", "een", "en", "van", "is", "dat", "op", "te", "in", "niet", "met", "zijn", "voor"]),
    "id": frozenset(["yang", "dan", "di", "ini", "itu", "dengan", "untuk", "dari", "dalam", "tidak", "akan", "pada"]),
    "ru": frozenset(["и", "в", "не", "на", "что", "с", "по", "как", "это", "из", "за", "от", "для", "он", "она"]),
}


SCRIPTS = (("ko", re.compile(r"[\uac00-\ud7af]")), ("ja", re.compile(r"[\u3040-\u30ff]")),
           ("zh", re.compile(r"[\u4e00-\u9fff]")))


def guess_language(text: str) -> str | None:
    sample = text[:4000]
    for lang, script in SCRIPTS:
        if len(script.findall(sample)) >= 0.2 * max(1, len(sample.split())):
            return lang
    words = re.findall(r"\w+", text.lower())[:2000]
    if len(words) < 20:
        return None
    scores = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    return lang if best >= 0.05 * len(words) else None
