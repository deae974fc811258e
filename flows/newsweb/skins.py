"""One skin per site template: distinct markup, class names and layout per site."""

from __future__ import annotations

from .model import ArticleTruth
from .templates import MONTHS, Ctx, Skin, e, when


class Harbor(Skin):
    """Magazine theme: header/nav, article then 'Related articles', comments, sidebar."""
    name = "harbor"
    wrap = "td-container"
    item = "td-module"


class Ledger(Skin):
    """WordPress-like: entry-* classes, date in the URL, comment form, 'Back to top'."""
    name = "ledger"
    wrap = "site-content"
    item = "entry-card"

    def header(self, c: Ctx) -> str:
        secs = "".join(f"<li class=\"menu-item\"><a href=\"{c.abs(c.shape.section_path(s))}\">{e(lbl)}</a></li>"
                       for s, lbl in c.site.render.sections)
        return (f"<div class=\"top-bar\"><a href=\"/login\">Log in</a> | <a href=\"/search?q=today\">Search</a></div>\n"
                f"<header id=\"masthead\"><div class=\"site-branding\"><p class=\"site-title\"><a href=\"/\">{e(c.shape.display)}</a></p>"
                f"<p class=\"site-description\">{e(c.chrome.tagline)}</p></div>"
                f"<nav id=\"site-navigation\"><ul id=\"primary-menu\">{secs}</ul></nav></header>\n")

    def dateline(self, a: ArticleTruth, short: bool = False) -> str:
        d = when(a)
        return f"<span class=\"posted-on\"><time class=\"entry-date published\" datetime=\"{a.published}\">{MONTHS[d.month - 1]} {d.day}, {d.year}</time></span>"

    def article_main(self, c: Ctx, a: ArticleTruth) -> str:
        return (f"<div id=\"primary\"><main id=\"main\"><article class=\"post type-post\"><header class=\"entry-header\">"
                f"<span class=\"cat-links\">{self.section_link(c, a)}</span><h1 class=\"entry-title\">{e(a.title)}</h1>"
                f"<div class=\"entry-meta\">{self.byline(c, a)}</div></header>{self.figure(c, a)}"
                f"<div class=\"entry-content\">\n{self.body(a)}{self.share(c, a)}</div>"
                f"<footer class=\"entry-footer\">{self.tags(c, a)}</footer></article>"
                f"{self.related(c, a)}{self.comments(c, a)}</main></div>\n{self.aside(c)}")


class Courier(Skin):
    """Big-city daily: story-* classes, JSON-LD, no comments, teasers in a grid."""
    name = "courier"
    wrap = "page-grid"
    item = "story-card"

    def footer(self, c: Ctx) -> str:
        ch = c.chrome
        secs = " ".join(f"<a href=\"{c.shape.section_path(s)}\">{e(lbl)}</a>" for s, lbl in c.site.render.sections)
        return (f"<div class=\"briefing-signup\">{self.newsletter(c)}</div>\n<footer class=\"global-footer\"><div class=\"sections\">{secs}</div>"
                f"<div class=\"legal\">{self.footer_links(c)}<small>{e(ch.copyright)}</small></div>"
                f"<a href=\"#top\" class=\"back\">{e(ch.back_to_top)}</a></footer>\n")

    def article_main(self, c: Ctx, a: ArticleTruth) -> str:
        return (f"<main role=\"main\"><div class=\"story-header\">{self.section_link(c, a)}<h1 class=\"story-headline\">{e(a.title)}</h1>"
                f"<div class=\"story-meta\">{self.byline(c, a)}</div>{self.share(c, a)}</div>"
                f"<div class=\"story-media\">{self.figure(c, a)}</div><section class=\"story-body\" itemprop=\"articleBody\">\n"
                f"{self.body(a)}</section>{self.tags(c, a)}</main>\n<div class=\"rail\">{self.aside(c)}</div>\n"
                f"<div class=\"more-stories\">{self.related(c, a)}</div>\n")


class Gazette(Skin):
    """Old table-free portal: breadcrumb 'Site » Section » Headline', no metadata at all."""
    name = "gazette"
    wrap = "wrapper"
    item = "news-item"

    def dateline(self, a: ArticleTruth, short: bool = False) -> str:
        d = when(a)
        return f"<span class=\"date\">{d.day} {MONTHS[d.month - 1]} {d.year} [{d:%H:%M}]</span>"

    def nav(self, c: Ctx) -> str:
        links = " | ".join(f"<a href=\"{c.shape.section_path(s)}\">{e(lbl)}</a>" for s, lbl in c.site.render.sections)
        return f"<div class=\"menu\">{links} | <a href=\"/login\">Login</a></div>\n"

    def byline(self, c: Ctx, a: ArticleTruth) -> str:
        names = ", ".join(f"<a href=\"{c.shape.author_path(s)}\">{e(n)}</a>"
                          for s, n in c.site.render.authors if n in a.authors)
        return f"<div class=\"author\">{self.dateline(a)} - {names}</div>\n"

    def article_main(self, c: Ctx, a: ArticleTruth) -> str:
        crumb = (f"<div class=\"breadcrumb\"><a href=\"/\">{e(c.shape.display)}</a> \u00bb "
                 f"<a href=\"{c.shape.section_path(a.section)}\">{e(a.section.capitalize())}</a> \u00bb {e(a.title)}</div>")
        return (f"<div class=\"left-col\">{crumb}<div class=\"news-full\"><h1>{e(a.title)}</h1>{self.byline(c, a)}"
                f"{self.figure(c, a)}<div class=\"text\">\n{self.body(a)}</div>{self.share(c, a)}{self.tags(c, a)}</div>"
                f"{self.related(c, a)}{self.comments(c, a)}</div>\n<div class=\"right-col\">{self.aside(c)}</div>\n")


class Dispatch(Skin):
    """Modern SPA-ish markup: data attributes, sections and articles share '/<word>/<slug>'."""
    name = "dispatch"
    wrap = "layout"
    item = "card"

    def nav(self, c: Ctx) -> str:
        rd = c.site.render
        out = []
        for s, lbl in rd.sections:
            subs = "".join(f"<a data-nav=\"sub\" href=\"{c.shape.subsection_path(s, x)}\">{e(x.capitalize())}</a>"
                           for x in rd.subsections.get(s, []))
            out.append(f"<div class=\"nav-group\"><a data-nav=\"section\" href=\"{c.abs(c.shape.section_path(s))}\">{e(lbl)}</a>{subs}</div>")
        return f"<nav class=\"nav\" aria-label=\"Sections\">{''.join(out)}</nav>\n"

    def dateline(self, a: ArticleTruth, short: bool = False) -> str:
        d = when(a)
        return f"<time class=\"ts\" datetime=\"{a.published}\">{d:%d.%m.%Y %H:%M} UTC</time>"

    def article_main(self, c: Ctx, a: ArticleTruth) -> str:
        sub = c.site.render.subsection_of.get(a.path)
        kicker = self.section_link(c, a) + (
            f"<a class=\"kicker sub\" href=\"{c.shape.subsection_path(a.section, sub)}\">{e(sub.capitalize())}</a>"
            if sub else "")
        return (f"<main data-page=\"article\"><div class=\"article-head\">{kicker}<h1 data-testid=\"headline\">{e(a.title)}</h1>"
                f"{self.byline(c, a)}</div>{self.figure(c, a)}<div class=\"article-grid\"><div data-component=\"text-block\">\n"
                f"{self.body(a)}</div>{self.share(c, a)}</div>{self.tags(c, a)}"
                f"<div data-component=\"related\">{self.related(c, a)}</div></main>\n{self.aside(c)}")


class Bulletin(Skin):
    """Legacy PHP portal: query-string URLs, everything (JSON-LD, og, meta author)."""
    name = "bulletin"
    wrap = "main-table"
    item = "newsline"

    def header(self, c: Ctx) -> str:
        return (f"<div id=\"logo\"><a href=\"/\">{e(c.shape.display)}</a> <span>{e(c.chrome.tagline)}</span></div>\n"
                + self.nav(c) + "<div id=\"ticker\"><a href=\"/search?q=breaking\">Breaking news search</a></div>\n")

    def article_main(self, c: Ctx, a: ArticleTruth) -> str:
        return (f"<div id=\"content\">{self.section_link(c, a)}<h1 class=\"news-title\">{e(a.title)}</h1>{self.byline(c, a)}"
                f"{self.share(c, a)}<div id=\"news-text\">\n{self.figure(c, a)}{self.body(a)}</div>{self.tags(c, a)}"
                f"{self.comments(c, a)}{self.related(c, a)}</div>\n<div id=\"sidebar\">{self.aside(c)}</div>\n")


SKINS: dict[str, Skin] = {s.name: s for s in (Harbor(), Ledger(), Courier(), Gazette(), Dispatch(), Bulletin())}
