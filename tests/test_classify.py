"""pipelines.classify: real article pages, handcrafted hubs and non-pages, the sample web."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from lxml import etree
from trafilatura.utils import load_html

from pipelines.classify import PageKind, classify_page, classify_tree

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "extraction" / "dev"

SUMMARY = ("Officials in the port city said on Tuesday that the long delayed harbour dredging "
           "would begin next spring after a court cleared the final objection from residents")
PROSE = ("The council voted late on Monday to approve the new transport budget, ending weeks of "
         "argument between the mayor and the opposition over how much to spend on buses, "
         "cycle lanes and the repair of the ageing river bridges that carry most commuter traffic.")


def _page(body: str, head: str = "", title: str = "Harbor Times") -> bytes:
    nav = "".join(f'<li><a href="/section/{s}/">{s.title()}</a></li>'
                  for s in ("world", "business", "politics", "science", "sport", "culture"))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>{head}"
            f"</head><body><header><a href='/'>Harbor Times</a><nav><ul>{nav}</ul></nav></header>"
            f"<main>{body}</main><footer><p>&copy; 2026 Harbor Times. All rights reserved. "
            f"<a href='/about'>About us</a> <a href='/privacy'>Privacy</a></p></footer></body></html>"
            ).encode()


def _teasers(n: int, start: int = 0, summary: bool = True, byline: bool = False) -> str:
    cards = []
    for i in range(start, start + n):
        slug = f"harbour-dredging-plan-wins-approval-after-court-ruling-{i}"
        extra = (f"<span class='byline'>By Amara Okafor</span> "
                 f"<time datetime='2026-11-{1 + i % 28:02d}T08:00:00Z'>Nov {1 + i % 28}</time>" if byline else "")
        text = f"<p class='summary'>{SUMMARY} ({i}).</p>" if summary else ""
        cards.append(f"<article class='teaser'><a href='/news/{slug}'><img src='/img/{i}.jpg' alt=''></a>"
                     f"<h3><a href='/news/{slug}'>Harbour dredging plan wins approval after ruling {i}</a></h3>"
                     f"{extra}{text}</article>")
    return "".join(cards)


def _article(paragraphs: int, head: str = "", related: int = 6) -> bytes:
    body = (f"<article><h1>Council approves transport budget after weeks of argument</h1>"
            f"<p class='byline'>By Lena Marchetti</p><time datetime='2026-11-03T08:15:00Z'>3 November 2026</time>"
            + "".join(f"<p>{PROSE}</p>" for _ in range(paragraphs)) + "</article>"
            f"<aside><h2>Related</h2>{_teasers(related, summary=False)}</aside>")
    return _page(body, head, title="Council approves transport budget | Harbor Times")


OG_ARTICLE = "<meta property='og:type' content='article'>"
CALENDAR = "<table class='calendar'>" + "".join(
    "<tr>" + "".join(f"<td><a href='/archive/2026/11/{d:02d}/'>{d}</a></td>" for d in range(w * 7 + 1, w * 7 + 8))
    + "</tr>" for w in range(4)) + "</table><a href='/archive/2026/10/'>‹ October</a>"
PICK_BOX = ("<div class='box'><h2>Editor's choice</h2><h3>Westfield questioned rail timetable</h3>"
            f"<p>{PROSE} {PROSE}</p></div>")
HUBS = {
    "home": _page("<h1 class='visually-hidden'>Harbor Times</h1>" + _teasers(24, byline=True),
                  "<meta property='og:type' content='website'>"),
    # og:type=article on every page of the site: content must decide.
    "section_20_teasers": _page("<h1>Business</h1><p>The latest business news, analysis and "
                                "comment from our reporters.</p>" + _teasers(20, byline=True), OG_ARTICLE,
                                "Business | Harbor Times"),
    "section_no_summaries": _page("<h1>World</h1>" + _teasers(20, summary=False), OG_ARTICLE),
    "tag": _page("<h1>Tag: dredging</h1><ul>" + "".join(
        f"<li><a href='/news/harbour-dredging-story-number-{i}-update'>Harbour dredging story number {i} "
        f"gets another update</a> <time datetime='2026-10-{1 + i:02d}'>Oct {1 + i}</time></li>"
        for i in range(15)) + "</ul>"),
    "author": _page("<h1>Amara Okafor</h1><p class='bio'>Amara Okafor covers the port, shipping and the "
                    "regional economy for the Harbor Times. She joined the paper in 2019 after six years "
                    "at a trade weekly.</p>" + _teasers(12, byline=True), OG_ARTICLE),
    "archive_calendar": _page("<h1>Archive: November 2026</h1>" + CALENDAR + _teasers(10, summary=False)),
    "calendar_only": _page("<h1>Archive: November 2026</h1>" + CALENDAR),
    "paginated_page_7": _page("<h1>Politics</h1>" + _teasers(15, start=90) +
                              "<nav class='pager'><a href='?page=6'>Previous</a> <a href='?page=8'>Next</a></nav>",
                              "<link rel='next' href='/section/politics/?page=8'>"),
    "search_results": _page("<h1>Search results for “budget”</h1><p>About 214 results</p>" + "".join(
        f"<div class='result'><h2><a href='/news/budget-vote-story-with-long-slug-{i}'>Budget vote story {i} "
        f"sees new twist</a></h2><p>…the council <b>budget</b> vote was delayed again as members argued "
        f"about bus fares and bridges…</p></div>" for i in range(10))),
    "search_results_jsonld": _page("<h1>Search</h1>" + _teasers(4), "<script type='application/ld+json'>"
                                   '{"@context": "https://schema.org", "@type": "SearchResultsPage"}</script>'),
    # A hub that embeds its teasers as NewsArticle items of an ItemList.
    "itemlist_of_newsarticles": _page("<h1>Science</h1>" + _teasers(8),
        "<script type='application/ld+json'>" + json.dumps({
            "@context": "https://schema.org", "@type": "CollectionPage", "mainEntity": {
                "@type": "ItemList", "itemListElement": [
                    {"@type": "ListItem", "position": i, "item": {"@type": "NewsArticle", "headline": f"Story {i}",
                                                                 "url": f"https://h.example/news/s-{i}"}}
                    for i in range(8)]}}) + "</script>" + OG_ARTICLE),
    # The longest prose on the page is an editor's pick box, not under the h1; og:type is sitewide.
    "section_with_pick_box": _page("<h1>Business</h1>" + _teasers(5) + PICK_BOX, OG_ARTICLE),
    "pick_box_before_h1": _page(PICK_BOX + "<h1>Business</h1>" + _teasers(5), OG_ARTICLE),
    "home_with_lead_story": _page(
        "<div class='lead'><h2><a href='/news/council-approves-transport-budget-after-weeks'>Council approves "
        f"transport budget after weeks</a></h2><p>{PROSE}</p><p>{PROSE}</p></div>" + _teasers(20, byline=True),
        OG_ARTICLE),
    "jsonld_list_of_articles": _page("<h1>Latest</h1>" + _teasers(6), "<script type='application/ld+json'>"
                                     + json.dumps([{"@type": "NewsArticle", "headline": f"h{i}"} for i in range(6)])
                                     + "</script>"),
    "microdata_teasers": _page("<h1>Latest</h1>" + _teasers(8).replace(
        "<article class='teaser'>", "<article class='teaser' itemscope itemtype='https://schema.org/NewsArticle'>")),
    "dated_section_header": _page("<div class='top'><h1>Politics</h1><span class='date'>Monday, 3 November 2026"
                                  "</span></div>" + _teasers(10), OG_ARTICLE),
}
OTHERS = {
    "login_form": (_page("<h1>Sign in</h1><form method='post' action='/login'><label>Email <input name='email'></label>"
                         "<label>Password <input type='password' name='pw'></label><button>Sign in</button>"
                         "<p><a href='/reset'>Forgot your password?</a></p></form>", title="Sign in | Harbor Times"),
                   "login_form"),
    "soft_404": (_page("<h1>Page not found</h1><p>Sorry, we could not find that page. Try our latest stories:</p>"
                       + _teasers(5, summary=False), title="Page not found | Harbor Times"), "error_page"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n", "pdf"),
    "json": (b'{"articles": [{"id": 1, "title": "Budget"}], "next": "/api/articles?page=2"}', "json"),
    "png_as_html": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_html"),
    "rss_as_html": (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>', "not_html"),
    "empty": (b"", "empty"),
    "blank_html": (b"<html><head><title></title></head><body>  </body></html>", "empty"),
}


@pytest.mark.parametrize("name", sorted(HUBS))
def test_handcrafted_hubs_are_hubs(name: str) -> None:
    result = classify_page(f"https://harbor.example/{name}/", HUBS[name])
    assert result.kind == "hub" and result.score < 0.5, result


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_non_pages_are_other_with_reason(name: str) -> None:
    body, reason = OTHERS[name]
    result = classify_page(f"https://harbor.example/{name}", body)
    assert (result.kind, result.reason) == ("other", reason), result
    assert result.score < 0.1


def test_pdf_by_content_type_and_text_plain() -> None:
    assert classify_page("https://h.example/a", b"binary", "application/pdf").reason == "pdf"
    assert classify_page("https://h.example/a.txt", b"just words here", "text/plain").kind == "other"


@pytest.mark.parametrize("head", ["", OG_ARTICLE], ids=["no_metadata", "og_article"])
def test_short_article_with_big_teaser_block_is_article(head: str) -> None:
    # About 60 words of story, then 20 related teasers with summaries.
    body = (f"<article><h1>Bridge closed after barge strike</h1><p class='byline'>By Kofi Weber</p>"
            f"<time datetime='2026-11-03T08:15:00Z'>3 November 2026</time><p>{PROSE}</p>"
            f"<p>Engineers will inspect the piers on Wednesday.</p></article>"
            f"<section class='more'><h2>More from Harbor Times</h2>{_teasers(20, byline=True)}</section>")
    result = classify_page("https://harbor.example/news/bridge-closed", _page(body, head))
    assert result.kind == "article", result


def test_article_with_only_visible_byline_and_date() -> None:
    result = classify_page("https://harbor.example/story.php?id=12", _article(6))
    assert result.kind == "article" and result.score > 0.5, result


@pytest.mark.parametrize("related", [0, 4])
def test_article_with_text_only(related: int) -> None:
    # No metadata, no byline: about 90 words under the h1 still make a story.
    body = f"<h1>Bridge closed after barge strike</h1><p>{PROSE}</p><p>{PROSE}</p>" + _teasers(related, summary=False)
    result = classify_page("https://harbor.example/x", _page(body))
    assert result.kind == "article", result


def test_jsonld_graph_article_wins() -> None:
    ld = json.dumps({"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": "https://h.example/x"}, {"@type": "BreadcrumbList", "itemListElement": []},
        {"@type": ["NewsArticle"], "headline": "x", "datePublished": "2026-11-03", "author": {"name": "A"}}]})
    result = classify_page("https://harbor.example/x", _article(2, f"<script type='application/ld+json'>{ld}</script>"))
    assert result == PageKind("article", "jsonld_article", result.score) and result.score > 0.9


def test_public_surface() -> None:
    import pipelines.classify

    assert pipelines.classify.__all__ == ["PageKind", "classify_page", "classify_tree"]


def test_score_is_a_probability() -> None:
    for body in (_article(8), HUBS["home"], b"", b"%PDF-1.4"):
        assert 0.0 <= classify_page("https://h.example/", body).score <= 1.0


def _dev_pages() -> list[tuple[str, bytes]]:
    truth = json.loads((DEV / "ground_truth.json").read_text())
    files = sorted(DEV.glob("*.html.gz"))[::5]  # a spread sample of ~20
    return [(truth[p.name[:-8]]["url"], gzip.decompress(p.read_bytes())) for p in files]


@pytest.mark.skipif(not DEV.is_dir(), reason=f"dev set not found at {DEV} (shared extraction data)")
def test_real_dev_articles_are_articles() -> None:
    wrong = [(url, r) for url, body in _dev_pages() if (r := classify_page(url, body)).kind != "article"]
    assert not wrong, wrong


def _tree_pages() -> list[tuple[str, bytes]]:
    """The pages above, real dev pages, and one with non-ASCII text and no charset."""
    pages = [(f"https://harbor.example/{name}/", body) for name, body in sorted(HUBS.items())]
    pages += [(f"https://harbor.example/{name}", body) for name, (body, _) in sorted(OTHERS.items())]
    pages += [("https://harbor.example/story.php?id=12", _article(n)) for n in (2, 8)]
    undeclared = _article(4).replace(b"<meta charset='utf-8'>", b"").replace(b"Council", "Cöuncil".encode())
    pages.append(("https://harbor.example/news/coeuncil", undeclared))
    return pages + (_dev_pages() if DEV.is_dir() else [])


def test_classify_tree_matches_classify_page_and_leaves_the_tree_alone() -> None:
    for url, body in _tree_pages():
        tree = load_html(body)  # what pageparse has already parsed
        before = None if tree is None else etree.tostring(tree)
        assert classify_tree(url, body, tree) == classify_page(url, body), url
        assert (None if tree is None else etree.tostring(tree)) == before, url


def test_undeclared_utf8_is_read_as_utf8() -> None:
    """No charset declared: the text is read as UTF-8 (libxml2 alone would guess Latin-1)."""
    from pipelines.classify_signals import parse_html, read_signals

    body = _article(4).replace(b"<meta charset='utf-8'>", b"").replace(b"Council", "Cöuncil".encode())
    sig = read_signals("https://harbor.example/news/coeuncil", parse_html(body))
    assert "Cöuncil" in sig.headline or "Cöuncil" in sig.title, (sig.title, sig.headline)


@pytest.fixture(scope="module")
def newsweb():
    nw = pytest.importorskip("flows.newsweb", reason="sample news web (flows/newsweb) not available")
    web = nw.build_web(n_sites=6, articles_per_site=30, seed=7)
    server = nw.serve_web(web)
    yield web, server
    server.stop()


def _expected(site) -> list[tuple[str, str]]:
    """(path, kind) for every page of a sample-web site whose kind is known."""
    pages = [(a.path, "article") for a in site.articles]
    pages += [(v, "article") for a in site.articles for v in a.variants]  # amp, print, utm
    pages += [(h, "other" if h == "/login" else "hub") for h in site.hub_paths]
    return pages + [("/media/report.pdf", "other"), ("/private/", "other"), ("/search?q=latest", "hub")]


def test_newsweb_pages_by_kind(newsweb) -> None:
    from urllib.request import urlopen

    web, server = newsweb
    wrong, total = [], 0
    for site in web.sites:
        base = server.base_url(site.name)
        for path, want in _expected(site):
            with urlopen(base + path, timeout=10) as resp:
                result = classify_page(resp.geturl(), resp.read(), resp.headers.get("Content-Type", ""))
            total += 1
            if result.kind != want:
                wrong.append((site.template, path, want, result))
    assert total > 500
    assert not wrong, wrong


# Reading less (`Settle`): the verdict must be the one the whole walk gives.
def _mixed_page(seed: int) -> tuple[str, bytes]:
    """A page made of randomly chosen parts that stress what reading less must get
    right: the main text where the walk reads it as prose or not (under a link, a box,
    a blockquote, nav), teasers before and after it (linked headings, links around
    headings, nested links), h1s before, after, inside links and nav, bylines and
    dates beside a later h1, pagination, JSON-LD and og:type that do or do not
    settle the score."""
    rng = random.Random(seed)
    head = ""
    if rng.random() < 0.5:
        ld = {"@type": rng.choice(["NewsArticle", "WebPage", "CollectionPage"])}
        if rng.random() < 0.7:
            ld.update(datePublished="2026-11-03", author={"name": "A"})
        head += f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    if rng.random() < 0.5:
        head += f"<meta property='og:type' content='{rng.choice(['article', 'website'])}'>"
    if rng.random() < 0.3:
        head += "<meta name='author' content='Lena Marchetti'>"
    if rng.random() < 0.2:
        head += "<link rel='next' href='?page=2'>"

    def h1(dated: bool) -> str:
        extra = ("<p class='byline'>By Lena Marchetti</p><time datetime='2026-11-03'>3 November 2026</time>"
                 if dated else "")
        return f"<div class='top'><h1>Council approves budget {rng.randrange(99)}</h1>{extra}</div>"

    def main_text() -> str:
        paras = "".join(f"<p>{' '.join([PROSE] * rng.randint(1, 3))[:rng.randint(60, 700)]}"
                        + (f" <a href='/news/x-{i}'>{rng.choice(['a link', 'a much longer link text here'])}</a>"
                           if rng.random() < 0.2 else "") + "</p>"
                        for i in range(rng.randint(4, 16)))
        wrap = rng.choice(["div class='post-body'", "div class='post-body'", "div class='related'",
                           "section", "blockquote", "nav", "a href='/x'", "article"])
        return f"<{wrap}>{paras}</{wrap.split()[0]}>"

    parts = [main_text()]
    if rng.random() < 0.8:
        parts.insert(rng.randrange(len(parts) + 1), h1(rng.random() < 0.6))
    for _ in range(rng.randint(0, 3)):
        kind = rng.randrange(6)
        if kind == 0:
            block = _teasers(rng.randint(1, 12), summary=rng.random() < 0.5, byline=rng.random() < 0.3)
        elif kind == 1:  # links around headings, some nested
            block = "".join(f"<a href='/news/story-{i}-with-a-long-slug'><h3>Story number {i} gets an update</h3>"
                            + ("<a href='/y'><h4>Inner heading with words</h4></a>" if rng.random() < 0.3 else "")
                            + "</a>" for i in range(rng.randint(1, 8)))
        elif kind == 2:
            block = h1(rng.random() < 0.5)
        elif kind == 3:
            block = "<nav><h1>Menu</h1><h3><a href='/a'>Section link with three words</a></h3></nav>"
        elif kind == 4:
            block = f"<aside class='sidebar'><h2><a href='/b'>Most read story of the day</a></h2><p>{PROSE}</p></aside>"
        else:
            block = f"<div><p>{PROSE}</p><h2><a href='/c'>Another linked heading here</a></h2><p>{PROSE}</p></div>"
        parts.insert(rng.randrange(len(parts) + 1), block)
    url = rng.choice(["https://harbor.example/news/council-approves-budget-after-weeks",
                      "https://harbor.example/section/politics/", "https://harbor.example/story.php?id=12"])
    return url, _page("".join(parts), head)


def test_reading_less_gives_the_whole_walks_verdict() -> None:
    from pipelines.classify import _decide
    from pipelines.classify_signals import read_signals

    pages = [_mixed_page(seed) for seed in range(400)] + _tree_pages()
    for url, body in pages:
        tree = load_html(body)
        if tree is None:
            continue
        assert classify_tree(url, body, tree) == _decide(read_signals(url, tree)), url


def test_walk_state_is_the_walks(monkeypatch) -> None:
    """`_walk_state` says which elements the walk visits, in or out of a link, as the
    walk does (its aside may lack the boxes cards open)."""
    from pipelines import classify_signals as cs

    visited = {}
    visit = cs._Walk.visit

    def spy(self, el, in_link, aside):
        visited[el] = (in_link, aside)
        return visit(self, el, in_link, aside)

    monkeypatch.setattr(cs._Walk, "visit", spy)
    for url, body in [_mixed_page(seed) for seed in range(60)] + _tree_pages():
        tree = load_html(body)
        if tree is None:
            continue
        root = next(tree.iterdescendants("body"), tree)
        visited.clear()
        cs.read_signals(url, tree)
        for el in root.iter():
            state, seen = cs._walk_state(el, root), visited.get(el)
            assert (state is None) == (seen is None), (url, el.tag)
            if state is not None:
                assert state[0] == seen[0] and state[1] <= seen[1], (url, el.tag)
