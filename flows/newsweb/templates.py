"""Shared page rendering; `skins.py` gives each site template its own markup.

Everything is rendered from the built Web on request, with the site's base URL
(scheme://host:port) passed in so pages can carry absolute links as real sites do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape

from .chrome import Chrome, chrome_for
from .model import ArticleTruth, SiteTruth
from .shapes import Shape, make_shape, page_path


def e(s: str) -> str:
    return escape(s, quote=True)


@dataclass
class Ctx:
    site: SiteTruth
    shape: Shape
    chrome: Chrome
    base: str

    def abs(self, path: str) -> str:
        return self.base + path


def make_ctx(site: SiteTruth, base: str) -> Ctx:
    shape = make_shape(site.host_index - 1)
    return Ctx(site, shape, chrome_for(shape), base)


def when(a: ArticleTruth) -> datetime:
    return datetime.fromisoformat(a.published)


MONTHS = ("January February March April May June July August September October "
          "November December").split()


class Skin:
    """Default layout; subclasses override the parts that make a site look like itself."""
    name = "base"
    wrap = "container"
    item = "teaser"

    # ---- page frame -------------------------------------------------------
    def doc(self, c: Ctx, title: str, head: str, body: str, desc: str = "") -> str:
        t = c.shape.title_fmt.format(h=title, s=c.shape.display)
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>{e(t)}</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + (f"<meta name=\"description\" content=\"{e(desc)}\">\n" if desc else "")
                + head + f"<link rel=\"alternate\" type=\"application/{c.shape.feed_kind}+xml\" "
                f"href=\"{c.abs(c.shape.feed_path)}\">\n</head>\n<body id=\"top\">\n"
                + self.header(c) + f"<div class=\"{self.wrap}\">\n" + body + "</div>\n"
                + self.footer(c) + "</body>\n</html>\n")

    def nav(self, c: Ctx) -> str:
        links = "".join(f"<li><a href=\"{c.shape.section_path(s)}\">{e(lbl)}</a></li>"
                        for s, lbl in c.site.render.sections)
        return f"<nav class=\"main-nav\"><ul><li><a href=\"/\">Home</a></li>{links}</ul></nav>\n"

    def header(self, c: Ctx) -> str:
        return (f"<header class=\"site-header\"><a class=\"logo\" href=\"{c.abs('/')}\">{e(c.shape.display)}</a>"
                f"<p class=\"tagline\">{e(c.chrome.tagline)}</p>"
                "<form class=\"search\" action=\"/search\"><input name=\"q\"><button>Search</button></form>"
                "<a class=\"login\" href=\"/login\">Sign in</a></header>\n" + self.nav(c))

    def footer_links(self, c: Ctx) -> str:
        y, m = c.site.render.last_month
        return (f"<a href=\"/archive/{y:04d}/{m:02d}/\">Archive</a> <a href=\"/login\">Sign in</a> "
                "<a href=\"/media/report.pdf\">Annual transparency report (PDF)</a> "
                "<a href=\"/private/\">Staff area</a> <a href=\"/search?q=latest\">Search</a>")

    def footer(self, c: Ctx) -> str:
        ch = c.chrome
        return (f"<footer class=\"site-footer\">{self.newsletter(c)}<p class=\"links\">{self.footer_links(c)}</p>"
                f"<p class=\"copyright\">{e(ch.copyright)}</p><a class=\"to-top\" href=\"#top\">{e(ch.back_to_top)}</a>"
                "</footer>\n")

    def newsletter(self, c: Ctx) -> str:
        ch = c.chrome
        return (f"<div class=\"newsletter\"><h4>{e(ch.news_head)}</h4><p>{e(ch.news_text)}</p>"
                "<form action=\"/private/subscribe\" method=\"post\"><input type=\"email\" name=\"email\">"
                "<button>Subscribe</button></form></div>")

    # ---- reusable blocks --------------------------------------------------
    def link(self, c: Ctx, path: str, i: int) -> str:
        """Mix absolute and root-relative hrefs, as CMS output does."""
        href = c.abs(path) if i % 3 == 0 else path
        return href + "#top" if i % 7 == 4 else href  # fragment links must not count as new pages

    def teaser(self, c: Ctx, a: ArticleTruth, i: int, href: str | None = None) -> str:
        return (f"<article class=\"{self.item}\"><h3><a href=\"{e(href or self.link(c, a.path, i))}\">{e(a.title)}</a></h3>"
                f"<p class=\"{self.item}-text\">{e(a.summary)}</p>{self.dateline(a, short=True)}</article>\n")

    def dateline(self, a: ArticleTruth, short: bool = False) -> str:
        d = when(a)
        return f"<time datetime=\"{a.published}\">{d.day} {MONTHS[d.month - 1]} {d.year}</time>"

    def aside(self, c: Ctx) -> str:
        ch, rd = c.chrome, c.site.render
        ec = "".join(f"<div class=\"pick\"><span class=\"label\">{e(ch.editors)}</span><h4>{e(h)}</h4><p>{e(p)}</p></div>"
                     for h, p in rd.editors_choice)
        pop = "".join(f"<li>{e(t)}</li>" for t in rd.popular)
        return (f"<aside class=\"sidebar\"><section class=\"picks\">{ec}</section>"
                f"<section class=\"popular\"><h3>{e(ch.popular)}</h3><ol>{pop}</ol></section></aside>\n")

    def share(self, c: Ctx, a: ArticleTruth) -> str:
        items = "".join(f"<li><a href=\"#share\">{e(lbl)}</a></li>" for lbl in c.chrome.share)
        pp = c.shape.print_path(a.path)
        if pp and pp in a.variants:
            items += f"<li><a class=\"print\" href=\"{e(pp)}\">Print</a></li>"
        return f"<ul class=\"share-bar\">{items}</ul>\n"

    def comments(self, c: Ctx, a: ArticleTruth) -> str:
        ch = c.chrome
        if not ch.comment_head:
            return ""
        return (f"<div id=\"comments\" class=\"comment-respond\"><h3>{e(ch.comment_head)}</h3>"
                f"<p class=\"note\">{e(ch.comment_note)}</p><form action=\"/private/comment\" method=\"post\">"
                "<textarea name=\"comment\"></textarea><input name=\"author\"><input name=\"email\">"
                "<button>Post Comment</button></form></div>\n")

    def related(self, c: Ctx, a: ArticleTruth) -> str:
        by = {x.path: x for x in c.site.articles}
        items = "".join(self.teaser(c, by[p], i) for i, p in enumerate(c.site.render.related[a.path]))
        big = ""
        if a.path in c.site.render.big_teasers:
            h, paras = c.site.render.big_teasers[a.path]
            big = (f"<section class=\"feature-teaser\"><span class=\"label\">{e(c.chrome.editors)}</span>"
                   f"<h3>{e(h)}</h3>" + "".join(f"<p>{e(p)}</p>" for p in paras) + "</section>\n")
        return big + f"<section class=\"related\"><h2>{e(c.chrome.related)}</h2>{items}</section>\n"

    def byline(self, c: Ctx, a: ArticleTruth) -> str:
        names = ", ".join(f"<a rel=\"author\" href=\"{c.shape.author_path(s)}\">{e(n)}</a>"
                          for s, n in c.site.render.authors if n in a.authors)
        return f"<p class=\"byline\">By {names} \u00b7 {self.dateline(a)}</p>\n"

    def figure(self, c: Ctx, a: ArticleTruth) -> str:
        return (f"<figure><img src=\"/media/{a.id}.jpg\" alt=\"\"><figcaption>{e(c.site.render.captions[a.path])}"
                "</figcaption></figure>\n")

    def body(self, a: ArticleTruth) -> str:
        return "".join(f"<p>{e(p)}</p>\n" for p in a.paragraphs)

    def tags(self, c: Ctx, a: ArticleTruth) -> str:
        return "<ul class=\"tags\">" + "".join(
            f"<li><a href=\"{c.shape.tag_path(t)}\">{e(t.capitalize())}</a></li>" for t in a.tags) + "</ul>\n"

    def section_link(self, c: Ctx, a: ArticleTruth) -> str:
        return f"<a class=\"kicker\" href=\"{c.abs(c.shape.section_path(a.section))}\">{e(a.section.capitalize())}</a>\n"

    # ---- metadata ---------------------------------------------------------
    def meta(self, c: Ctx, a: ArticleTruth) -> str:
        s, out = c.shape, []
        out.append(f"<link rel=\"canonical\" href=\"{c.abs(a.canonical_path)}\">\n")
        amp = s.amp_path(a.path)
        if amp and amp in a.variants:
            out.append(f"<link rel=\"amphtml\" href=\"{e(c.abs(amp))}\">\n")
        if s.meta_author:
            out.append(f"<meta name=\"author\" content=\"{e(', '.join(a.authors))}\">\n")
        if s.og:
            out.append(f"<meta property=\"og:type\" content=\"article\">\n<meta property=\"og:title\" content=\"{e(a.title)}\">\n"
                       f"<meta property=\"og:url\" content=\"{e(c.abs(a.canonical_path))}\">\n"
                       f"<meta property=\"article:published_time\" content=\"{a.published}\">\n"
                       f"<meta property=\"article:section\" content=\"{e(a.section)}\">\n")
        if s.jsonld:
            ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": a.title,
                  "author": [{"@type": "Person", "name": n} for n in a.authors],
                  "datePublished": a.published, "dateModified": a.published,
                  "mainEntityOfPage": c.abs(a.canonical_path),
                  "publisher": {"@type": "Organization", "name": s.display}}
            out.append("<script type=\"application/ld+json\">" + json.dumps(ld).replace("</", "<\\/") + "</script>\n")
        return "".join(out)

    # ---- pages ------------------------------------------------------------
    def article_main(self, c: Ctx, a: ArticleTruth) -> str:
        return (f"<main class=\"content\"><article class=\"post\">{self.section_link(c, a)}<h1>{e(a.title)}</h1>"
                f"{self.byline(c, a)}{self.share(c, a)}{self.figure(c, a)}<div class=\"post-body\">\n"
                f"{self.body(a)}</div>{self.tags(c, a)}</article>{self.related(c, a)}{self.comments(c, a)}</main>\n"
                + self.aside(c))

    def article(self, c: Ctx, a: ArticleTruth, mode: str = "") -> str:
        if mode == "amp":
            return self.amp(c, a)
        body = self.article_main(c, a)
        if mode == "print":  # print view: same chrome-light page, canonical back to the main URL
            body = (f"<main class=\"print\"><h1>{e(a.title)}</h1>{self.byline(c, a)}{self.body(a)}</main>\n"
                    f"<p class=\"copyright\">{e(c.chrome.copyright)}</p>\n")
        return self.doc(c, a.title, self.meta(c, a), body, a.summary)

    def amp(self, c: Ctx, a: ArticleTruth) -> str:
        t = c.shape.title_fmt.format(h=a.title, s=c.shape.display)
        return ("<!DOCTYPE html>\n<html amp lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>{e(t)}</title>\n<link rel=\"canonical\" href=\"{c.abs(a.canonical_path)}\">\n"
                "<style amp-boilerplate>body{visibility:hidden}</style>\n</head>\n<body>\n"
                f"<header class=\"amp-header\"><a href=\"{c.abs('/')}\">{e(c.shape.display)}</a></header>\n"
                f"<article><h1>{e(a.title)}</h1>{self.byline(c, a)}{self.body(a)}</article>\n"
                f"<footer><p>{e(c.chrome.copyright)}</p></footer>\n</body>\n</html>\n")

    def listing(self, c: Ctx, heading: str, items: list[ArticleTruth], pager: str = "",
                intro: str = "") -> str:
        lst = "".join(self.teaser(c, a, i) for i, a in enumerate(items))
        if not items:
            lst = "<p class=\"empty\">No articles found.</p>\n"
        body = (f"<main class=\"listing\"><h1>{e(heading)}</h1>{intro}<div class=\"items\">\n{lst}</div>"
                f"{pager}</main>\n" + self.aside(c))
        return self.doc(c, heading, "", body)

    def pager(self, prev: str | None, nxt: str | None) -> str:
        out = "<nav class=\"pagination\">"
        if prev:
            out += f"<a rel=\"prev\" href=\"{e(prev)}\">\u2039 Previous</a> "
        if nxt:
            out += f"<a rel=\"next\" href=\"{e(nxt)}\">Next \u203a</a>"
        return out + "</nav>\n"

    def home(self, c: Ctx) -> str:
        arts = c.site.articles
        top = []
        for i, a in enumerate(arts[:12]):
            href = self.link(c, a.path, i)
            utm = [v for v in a.variants if "utm_" in v]
            if utm:
                href = utm[0]
            elif i % 4 == 1 and a.path.startswith("/"):
                href = a.path[1:]  # document-relative, resolved against "/"
            top.append(self.teaser(c, a, i, href))
            if i % 5 == 2:
                top.append(f"<a class=\"comments-count\" href=\"{e(a.path)}#comments\">{3 + i} comments</a>\n")
        secs = "".join(f"<section class=\"home-section\"><h2><a href=\"{page_path(c.shape.section_path(s), 1)}\">"
                       f"{e(lbl)}</a></h2></section>\n" for s, lbl in c.site.render.sections)
        body = (f"<main class=\"home\"><h1 class=\"visually-hidden\">{e(c.shape.display)}</h1>"
                f"<div class=\"top-stories\">\n{''.join(top)}</div>{secs}</main>\n" + self.aside(c))
        return self.doc(c, "Latest news", "", body, c.chrome.tagline)
