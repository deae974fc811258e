"""Maps a request (path, query) on one site to a rendered response.

Tracking parameters (utm_*) are ignored and variant markers (amp, print,
page) are peeled off first, so `/news/x?utm_source=a` serves the same article
(with its canonical link) just as a real CMS would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import parse_qsl

from . import feeds
from .model import ArticleTruth, SiteTruth
from .shapes import page_path
from .site import PER_PAGE
from .skins import SKINS
from .templates import MONTHS, Ctx, make_ctx

ARCHIVE_RE = re.compile(r"^/archive/(\d{4})/(\d{2})/$")
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"


@dataclass
class Resp:
    status: int
    ctype: str
    body: bytes
    last_modified: datetime | None = None  # set on feeds, sitemaps and articles


def report_pdf(site: SiteTruth) -> bytes:
    """A tiny, valid one-page PDF (deterministic bytes)."""
    text = f"{site.display_name} annual transparency report".encode()
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    return out + f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()


class Router:
    """Lookup tables for one site, built once; `resolve` is thread-safe (read-only)."""

    def __init__(self, site: SiteTruth):
        self.site = site
        self.skin = SKINS[site.template]
        c = make_ctx(site, "")
        sh = c.shape
        self.shape = sh
        self.articles = {a.path: a for a in site.articles}
        rd = site.render
        self.sections = {sh.section_path(s): s for s, _ in rd.sections}
        self.subs = {sh.subsection_path(s, x): (s, x) for s, xs in rd.subsections.items() for x in xs}
        self.tags = {sh.tag_path(t): t for t, _ in rd.tags}
        self.authors = {sh.author_path(a): name for a, name in rd.authors}
        self.pdf = report_pdf(site)

    def _html(self, s: str, status: int = 200, lm: datetime | None = None) -> Resp:
        return Resp(status, HTML, s.encode("utf-8"), lm)

    def resolve(self, path: str, query: str, base: str) -> Resp:
        c = make_ctx(self.site, base)
        sh, skin, site = self.shape, self.skin, self.site
        amp = prn = False
        page = 1
        rest = []
        for k, v in parse_qsl(query, keep_blank_values=True):
            if k.startswith("utm_"):
                continue
            if k == "amp" and sh.amp == "param":
                amp = v == "1"
            elif k == "print" and sh.print_ == "param":
                prn = v == "1"
            elif k == "page" and v.isdigit():
                page = int(v)
            elif path in ("/section.php", "/story.php", "/tags.php", "/author.php"):
                rest.append(f"{k}={v}")  # query-style CMS: these parameters select the page
        if sh.amp == "prefix" and path.startswith("/amp/"):
            path, amp = path[4:], True
        elif sh.print_ == "prefix" and path.startswith("/print/"):
            path, prn = path[6:], True
        key = path + ("?" + "&".join(rest) if rest else "")

        lm = feeds.last_modified(site)
        if path == "/robots.txt":
            return Resp(200, "text/plain; charset=utf-8", feeds.robots(site, base).encode(), lm)
        if path == site.feed_path:
            kind = "application/rss+xml" if site.feed_kind == "rss" else "application/atom+xml"
            return Resp(200, kind + "; charset=utf-8", feeds.feed(site, base).encode(), lm)
        sm = feeds.sitemap(site, base, path) if path.endswith(".xml") else None
        if sm is not None:
            return Resp(200, XML, sm.encode(), lm)
        if path == "/media/report.pdf":
            return Resp(200, "application/pdf", self.pdf, lm)
        art = self.articles.get(key)
        if art is not None:
            mode = "amp" if amp else "print" if prn else ""
            return self._html(skin.article(c, art, mode), lm=datetime.fromisoformat(art.published))
        if key == "/":
            return self._html(skin.home(c))
        if key in self.sections:
            return self._html(self._section(c, key, page))
        if key in self.subs:
            s, x = self.subs[key]
            items = [a for a in site.articles if site.render.subsection_of.get(a.path) == x and a.section == s]
            return self._html(skin.listing(c, f"{s.capitalize()} / {x.capitalize()}", items))
        if key in self.tags:
            t = self.tags[key]
            return self._html(skin.listing(c, f"Tag: {t.capitalize()}", [a for a in site.articles if t in a.tags]))
        if key in self.authors:
            n = self.authors[key]
            return self._html(skin.listing(c, f"Articles by {n}", [a for a in site.articles if n in a.authors]))
        m = ARCHIVE_RE.match(path)
        if m and 1 <= int(m[2]) <= 12 and int(m[1]) >= 1:
            return self._html(self._archive(c, int(m[1]), int(m[2])))
        if path == "/login":
            return self._html(skin.doc(c, "Sign in", "<meta name=\"robots\" content=\"noindex\">\n",
                                       "<main class=\"login\"><h1>Sign in</h1><form action=\"/login\" method=\"post\">"
                                       "<label>Email <input name=\"email\" type=\"email\"></label>"
                                       "<label>Password <input name=\"password\" type=\"password\"></label>"
                                       "<button>Sign in</button></form></main>\n"))
        if path == "/search":
            q = dict(parse_qsl(query)).get("q", "")
            return self._html(skin.listing(c, f"Search results for \u201c{q}\u201d", site.articles[:5]))
        if path.startswith("/private/"):
            return self._html(skin.doc(c, "Staff area", "", "<main><h1>Staff area</h1>"
                                       "<p>Please <a href=\"/login\">sign in</a> to continue.</p></main>\n"))
        return self._html(skin.doc(c, "Page not found", "", "<main class=\"error\"><h1>Page not found</h1>"
                                   f"<p>The page {escape(path)} does not exist.</p></main>\n"), 404)

    def _section(self, c: Ctx, key: str, page: int) -> str:
        """Paginated listing; 'next' is always offered, so ?page=N never runs out (a trap)."""
        s = self.sections[key]
        items = [a for a in self.site.articles if a.section == s]
        chunk = items[(page - 1) * PER_PAGE:page * PER_PAGE] if page >= 1 else []
        pp = self.shape.section_path(s)
        pager = self.skin.pager(page_path(pp, page - 1) if page > 1 else None, page_path(pp, page + 1))
        intro = ""
        subs = self.site.render.subsections.get(s, [])
        if subs:
            intro = "<p class=\"subnav\">" + " ".join(
                f"<a href=\"{self.shape.subsection_path(s, x)}\">{x.capitalize()}</a>" for x in subs) + "</p>"
        head = s.capitalize() + (f" \u2013 page {page}" if page > 1 else "")
        return self.skin.listing(c, head, chunk, pager, intro)

    def _archive(self, c: Ctx, y: int, m: int) -> str:
        """Calendar archive for any month; prev/next links go on forever (a trap)."""
        items: list[ArticleTruth] = [a for a in self.site.articles
                                     if a.published.startswith(f"{y:04d}-{m:02d}-")]
        py, pm = (y - 1, 12) if m == 1 else (y, m - 1)
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        prev = f"/archive/{py:04d}/{pm:02d}/" if py >= 1 else None
        nxt = f"/archive/{ny:04d}/{nm:02d}/" if ny <= 9999 else None
        return self.skin.listing(c, f"Archive: {MONTHS[m - 1]} {y}", items, self.skin.pager(prev, nxt))
