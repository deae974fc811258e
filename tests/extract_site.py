"""A small news site built like the seeds' sites, for the extraction tests.

Every article page carries the site's repeated junk (nav, "Editor's choice"
teasers, "Related articles" of other stories, newsletter box, share bar, comment
form, footer); two articles share a pull quote; three end with the same
correction line. Hub pages list the teasers. Deterministic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape

from pipelines.models import Page

WORDS = ["council", "budget", "harbour", "bridge", "ministry", "tariff", "river", "school", "railway", "election", "court", "hospital", "farmers", "union", "energy", "grid", "market", "export", "housing", "police", "festival", "museum", "airport", "coalition", "reform", "inflation", "drought", "flood", "contract", "tender", "licence", "survey", "vote"]
VERBS = ["approved", "rejected", "delayed", "reviewed", "announced", "questioned", "defended", "blocked", "funded"]
PLACES = ["Northam", "Redcliff", "Eastvale", "Westfield", "Carrow", "Drayton", "Millbrook", "Thornbury"]
NAMES = ["Amara Okafor", "Tobias Lindqvist", "Lena Marchetti", "Marco Haddad", "Priya Novak", "Henrik Brennan"]
QUOTE = "“We will not accept a deal that leaves the coast without protection,” the harbour master said."
CORRECTION = "This article was updated to correct a date."
EDITORS = [("Editor's choice", "Ferry strike ends after talks", "Crews return to work as the union accepts the offer."),
           ("Editor's choice", "Museum reopens its east wing", "Visitors can see the restored gallery from Friday.")]
JUNK = ["Share on Facebook", "Share on X", "Send by email",
        "Subscribe to our newsletter and get the morning briefing in your inbox.",
        "Leave a comment", "Your email address will not be published.",
        "Copyright © 2026 Coast Courier. All rights reserved."]


@dataclass
class SiteArticle:
    path: str
    title: str
    authors: list[str]
    published: datetime
    paragraphs: list[str]
    summary: str


@dataclass
class Site:
    host: str
    name: str
    articles: list[SiteArticle] = field(default_factory=list)
    hubs: list[str] = field(default_factory=list)

    @property
    def template_texts(self) -> list[str]:
        out = JUNK + [x for e in EDITORS for x in e] + [f"{b}. {c}" for _, b, c in EDITORS]
        out += ["Related articles", "Most read"]
        return out + [a.summary for a in self.articles]

    def url(self, path: str) -> str:
        return f"https://{self.host}{path}"


def _sentence(r: random.Random) -> str:
    w = r.sample(WORDS, 3)
    return (f"{r.choice(PLACES)} {r.choice(VERBS)} the {w[0]} {w[1]} plan on {r.choice(['Monday', 'Friday', 'Sunday'])} "
            f"after the {w[2]} talks, with {r.randrange(2, 900)} million euros at stake.")


def build_site(n_articles: int = 8, seed: int = 3, host: str = "www.coastcourier.example") -> Site:
    r = random.Random(seed)
    site = Site(host, "Coast Courier")
    base = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for i in range(n_articles):
        paras = [" ".join(_sentence(r) for _ in range(r.randrange(2, 4))) for _ in range(r.randrange(3, 6))]
        if i in (1, 4):
            paras.insert(1, QUOTE)
        if i in (2, 5, 7):
            paras.append(CORRECTION)
        title = f"{r.choice(PLACES)} {r.choice(VERBS)} {r.choice(WORDS)} plan number {i + 1}"
        site.articles.append(SiteArticle(
            f"/news/{i + 1}-story", title, r.sample(NAMES, r.choice((1, 1, 2))),
            base + timedelta(days=i, hours=i), paras, _sentence(r)))
    site.hubs = ["/", "/news/"]
    return site


def _chrome_top(site: Site) -> str:
    return (f"<header class='site-header'><a class='logo' href='/'>{site.name}</a><nav class='menu'>"
            "<a href='/news/'>News</a> <a href='/sport/'>Sport</a> <a href='/culture/'>Culture</a></nav></header>")


def _aside(site: Site, skip: int) -> str:
    picks = "".join(f"<div class='pick'><span class='label'>{escape(a)}</span><h4>{escape(b)}</h4><p>{escape(c)}</p></div>"
                    for a, b, c in EDITORS)
    related = [a for j, a in enumerate(site.articles) if j != skip][:4] if skip >= 0 else site.articles[:4]
    rel = "".join(f"<li class='teaser'><a href='{a.path}'>{escape(a.title)}</a><p class='dek'>{escape(a.summary)}</p></li>"
                  for a in related)
    return (f"<aside class='sidebar'><section class='editors'>{picks}</section>"
            f"<section class='related'><h3>Related articles</h3><ul>{rel}</ul></section>"
            "<section class='most-read'><h3>Most read</h3></section></aside>")


def _promo(site: Site, skip: int) -> str:
    """Junk inside the article container, where trafilatura keeps it."""
    picks = "".join(f"<div class='pick'><h4>{escape(a)}</h4><p>{escape(b)}. {escape(c)}</p></div>" for a, b, c in EDITORS)
    others = [a for j, a in enumerate(site.articles) if j != skip][skip % 3:][:3]
    more = "".join(f"<p class='more'>{escape(a.summary)}</p>" for a in others)
    return (f"{picks}<p class='signup'>Subscribe to our newsletter and get the morning briefing in your inbox.</p>"
            f"<h3>Related articles</h3>{more}")


def _bottom(site: Site) -> str:
    return ("<div class='newsletter-box'><p>Subscribe to our newsletter and get the morning briefing in your inbox.</p>"
            "<form><input name='email'><button>Sign up</button></form></div>"
            "<div id='comments'><h3>Leave a comment</h3><p class='note'>Your email address will not be published.</p>"
            "<form><textarea></textarea></form></div>"
            f"<footer class='site-footer'><p>Copyright © 2026 {site.name}. All rights reserved.</p></footer>")


def article_html(site: Site, i: int) -> bytes:
    a = site.articles[i]
    share = "<ul class='share'>" + "".join(f"<li><a href='#'>{s}</a></li>" for s in JUNK[:3]) + "</ul>"
    authors = ", ".join(f"<a rel='author' href='/by/{n.split()[0].lower()}'>{escape(n)}</a>" for n in a.authors)
    body = "".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
    html = (f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>"
            f"<title>{escape(a.title)} | {site.name}</title>"
            f"<link rel='canonical' href='{a.path}'>"
            f"<meta property='og:site_name' content='{site.name}'>"
            f"<meta property='article:published_time' content='{a.published.isoformat()}'>"
            f"<meta name='author' content='{escape(', '.join(a.authors))}'></head><body>"
            f"{_chrome_top(site)}<main><article class='story'><h1>{escape(a.title)}</h1>"
            f"<p class='byline'>By {authors}</p>{share}<div class='story-body'>{body}"
            f"<div class='inline-promo'>{_promo(site, i)}</div></div></article>"
            f"{_aside(site, i)}</main>{_bottom(site)}</body></html>")
    return html.encode("utf-8")


def hub_html(site: Site, path: str) -> bytes:
    items = "".join(f"<article class='card'><h2><a href='{a.path}'>{escape(a.title)}</a></h2>"
                    f"<p class='dek'>{escape(a.summary)}</p></article>" for a in site.articles)
    html = (f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'><title>{site.name}</title></head><body>"
            f"{_chrome_top(site)}<main><h1>Latest news</h1><div class='list'>{items}</div>{_aside(site, -1)}</main>"
            f"{_bottom(site)}</body></html>")
    return html.encode("utf-8")


def site_pages(site: Site, hubs: bool = True, hint: str | None = "pattern") -> list[Page]:
    when = datetime(2026, 4, 1, tzinfo=UTC)
    ctype = {"content-type": "text/html; charset=utf-8"}
    pages = [Page(site.url(a.path), article_html(site, i), 200, ctype, when, "coast", hint)
             for i, a in enumerate(site.articles)]
    if hubs:
        pages += [Page(site.url(h), hub_html(site, h), 200, ctype, when, "coast", None) for h in site.hubs]
    return pages
