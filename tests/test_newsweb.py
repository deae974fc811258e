"""The bundled sample news web: truth consistency, real HTTP serving, feeds, traps."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import yaml
from lxml import etree, html

from flows.newsweb import SiteTruth, Web, build_web, serve_web
from flows.newsweb.routes import Router

N_SITES, N_ART = 6, 20


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def text_of(body: bytes) -> str:
    return " ".join(html.fromstring(body).text_content().split())


def words(paras: list[str]) -> int:
    return sum(len(p.split()) for p in paras)


def shingles(paras: list[str], k: int = 5) -> set[tuple[str, ...]]:
    toks = " ".join(paras).lower().split()
    return {tuple(toks[i:i + k]) for i in range(len(toks) - k + 1)}


@pytest.fixture(scope="module")
def web() -> Web:
    return build_web(N_SITES, N_ART, seed=7)


@pytest.fixture(scope="module")
def served(web: Web, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("nw") / "requests.jsonl"
    server = serve_web(web, log_path=log)
    yield server, log
    server.stop()


# ---- pure truth ---------------------------------------------------------------

def test_deterministic_and_fast() -> None:
    t = time.perf_counter()
    big = build_web(6, 60, seed=7)
    assert time.perf_counter() - t < 2.0
    assert big.dumps() == build_web(6, 60, seed=7).dumps()
    assert build_web(3, 20, seed=8).dumps() != build_web(3, 20, seed=7).dumps()
    json.dumps(big.truth_json())  # serialisable
    assert len({s.template for s in big.sites}) == 6


def test_pages_deterministic(web: Web) -> None:
    other = build_web(N_SITES, N_ART, seed=7)
    for s1, s2 in zip(web.sites, other.sites):
        r1, r2 = Router(s1), Router(s2)
        for p in ["/", s1.articles[0].path, s1.hub_paths[1], s1.feed_path, "/sitemap_index.xml"]:
            path, _, q = p.partition("?")
            assert r1.resolve(path, q, "http://h").body == r2.resolve(path, q, "http://h").body


def test_truth_consistency(web: Web) -> None:
    names = set()
    for site in web.sites:
        assert re.fullmatch(r"[a-z0-9_-]+", site.name) and site.name not in names
        names.add(site.name)
        paths = [a.path for a in site.articles]
        assert len(paths) == len(set(paths)) == N_ART
        assert not set(paths) & set(site.hub_paths)
        assert sum(a.in_feed for a in site.articles) == 10
        old = [a for a in site.articles if not a.in_feed and not a.in_sitemap]
        assert old, "some old articles must be reachable only by links"
        assert 0 < sum(a.in_sitemap for a in site.articles) < N_ART
        assert any(a.variants for a in site.articles)
        pat = re.compile(site.article_pattern)
        for a in site.articles:
            assert a.canonical_path == a.path and a.language == "en"
            assert pat.search(a.path) and a.title and a.authors and a.published.endswith("+00:00")
            assert not any(pat.search(h) for h in site.hub_paths)
            assert a.title not in " ".join(a.paragraphs)
            n = words(a.paragraphs)
            assert (40 <= n <= 80) if a.short else (150 <= n <= 900), (a.path, n)
        for x, y in site.teaser_pairs:
            assert site.article(x).short and site.article(y).short
            assert site.render.big_teasers[x] == site.render.big_teasers[y]
            assert words(site.render.big_teasers[x][1]) >= 300
        assert site.teaser_pairs
        body = "\n".join(p for a in site.articles for p in a.paragraphs)
        for block in site.template_blocks:
            assert block not in body, (site.name, block)
    groups = web.syndicated_groups()
    assert len(groups) >= N_SITES * 3
    for g in groups:
        assert len({m["site"] for m in g}) == len(g) >= 2


def test_prose_variety(web: Web) -> None:
    arts = [a for s in web.sites for a in s.articles if not a.short and not a.syndicated_from]
    sh = [shingles(a.paragraphs) for a in arts[:40]]
    worst = max(len(x & y) / len(x | y) for i, x in enumerate(sh) for y in sh[i + 1:])
    assert worst < 0.1
    # a syndicated copy stays a near-duplicate of its original
    site = web.sites[1]
    copy = next(a for a in site.articles if a.syndicated_from)
    src_site, src_path = copy.syndicated_from.split(":", 1)
    orig = web.site(src_site).article(src_path)
    a, b = shingles(orig.paragraphs), shingles(copy.paragraphs)
    assert len(a & b) / len(a | b) > 0.5
    all_paras = [p for s in web.sites for x in s.articles for p in x.paragraphs]
    assert "This article was updated to correct a date." in all_paras
    assert any(all_paras.count(p) >= 2 and p.startswith("\u201c") for p in all_paras)  # pull quote


# ---- served -------------------------------------------------------------------

def test_sources_yaml(web: Web, served) -> None:
    server, _ = served
    doc = yaml.safe_load(server.sources_yaml())
    assert [s["name"] for s in doc["sources"]] == [s.name for s in web.sites]
    for src, site in zip(doc["sources"], web.sites):
        base = server.base_url(site.name)
        assert re.fullmatch(rf"http://127\.0\.1\.{site.host_index}:\d+", base)
        assert src["start_urls"] == [base + "/"] and src["sitemaps"] == [base + "/robots.txt"]
        assert src["feeds"] == [base + site.feed_path]
        assert all(re.search(src["article_pattern"], a.path) for a in site.articles)
        assert not any(re.search(src["article_pattern"], h) for h in site.hub_paths)
    plain = yaml.safe_load(server.sources_yaml(patterns=False))
    assert "article_pattern" not in plain["sources"][0]


def test_robots_feeds_sitemaps(web: Web, served) -> None:
    server, _ = served
    for site in web.sites:
        base = server.base_url(site.name)
        st, hd, body = fetch(base + "/robots.txt")
        lines = body.decode().splitlines()
        assert st == 200 and "Disallow: /private/" in lines and "Disallow: /search" in lines
        maps = [ln.split(" ", 1)[1] for ln in lines if ln.startswith("Sitemap:")]
        assert maps == [base + "/sitemap_index.xml", base + "/news-sitemap.xml"]
        _, hd, home = fetch(base + "/")
        assert 'href="/private/"' in home.decode() and "charset=utf-8" in hd["Content-Type"]
        # feed
        st, hd, body = fetch(base + site.feed_path)
        root = etree.fromstring(body)
        want = {base + a.path for a in site.articles if a.in_feed}
        if site.feed_kind == "rss":
            links = {x.text for x in root.iterfind("channel/item/link")}
            assert len(root.findall("channel/item/pubDate")) == len(want)
        else:
            ns = {"a": "http://www.w3.org/2005/Atom"}
            links = {x.get("href") for x in root.iterfind("a:entry/a:link", ns)}
            assert len(root.findall("a:entry/a:updated", ns)) == len(want)
        assert links == want
        # sitemap index -> urlsets
        ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
              "n": "http://www.google.com/schemas/sitemap-news/0.9"}
        idx = etree.fromstring(fetch(maps[0])[2])
        locs: set[str] = set()
        for child in idx.iterfind("s:sitemap/s:loc", ns):
            us = etree.fromstring(fetch(child.text)[2])
            assert all(u.findtext("s:lastmod", namespaces=ns) for u in us.iterfind("s:url", ns))
            locs |= {x.text for x in us.iterfind("s:url/s:loc", ns)}
        assert {base + a.path for a in site.articles if a.in_sitemap} <= locs
        assert not {base + a.path for a in site.articles if not a.in_sitemap} & locs
        news = etree.fromstring(fetch(maps[1])[2])
        items = news.findall("s:url", ns)
        assert items and all(u.findtext("n:news/n:publication_date", namespaces=ns)
                             and u.findtext("n:news/n:title", namespaces=ns) for u in items)


def test_conditional_get(web: Web, served) -> None:
    server, _ = served
    site = web.sites[0]
    for path in [site.feed_path, "/sitemap_index.xml", "/news-sitemap.xml"]:
        url = server.base_url(site.name) + path
        st, hd, body = fetch(url)
        assert st == 200 and hd["ETag"] and hd["Last-Modified"] and int(hd["Content-Length"]) == len(body)
        assert fetch(url, {"If-None-Match": hd["ETag"]})[0] == 304
        assert fetch(url, {"If-Modified-Since": hd["Last-Modified"]})[0] == 304
        assert fetch(url, {"If-None-Match": '"stale"'})[0] == 200
        assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})[0] == 200


def _links(base: str, page_url: str, body: bytes) -> list[str]:
    doc = html.fromstring(body)
    return [urljoin(page_url, h) for h in doc.xpath("//a/@href")]


def test_traps_are_endless(web: Web, served) -> None:
    server, _ = served
    for site in web.sites:
        base = server.base_url(site.name)
        url = base + "/archive/2026/10/"
        for _ in range(6):  # walk far into the future: always another month
            st, _, body = fetch(url)
            assert st == 200
            nxt = html.fromstring(body).xpath("//a[@rel='next']/@href")
            assert nxt
            url = urljoin(url, nxt[0])
        st, _, body = fetch(base + "/archive/1999/02/")
        assert st == 200 and html.fromstring(body).xpath("//a[@rel='prev']")
        sec = site.render.sections[0][0]
        from flows.newsweb.shapes import make_shape, page_path
        far = base + page_path(make_shape(site.host_index - 1).section_path(sec), 500)
        st, _, body = fetch(far)
        links = _links(base, far, body)
        pat = re.compile(site.article_pattern)
        assert st == 200 and html.fromstring(body).xpath("//a[@rel='next']")
        main = html.fromstring(body).xpath("//main")[0]
        assert not [h for h in main.xpath(".//a/@href") if pat.search(urlsplit(urljoin(far, h)).path)]
        assert links


def test_variants_and_misc(web: Web, served) -> None:
    server, _ = served
    seen_amp = seen_print = False
    for site in web.sites:
        base = server.base_url(site.name)
        for a in site.articles:
            for v in a.variants:
                st, _, body = fetch(base + v)
                doc = html.fromstring(body)
                assert st == 200 and doc.xpath("//link[@rel='canonical']/@href") == [base + a.path]
                seen_amp |= "amp" in v
                seen_print |= "print" in v
            amp = [v for v in a.variants if "amp" in v]
            if amp:
                doc = html.fromstring(fetch(base + a.path)[2])
                assert doc.xpath("//link[@rel='amphtml']/@href") == [base + amp[0]]
        assert fetch(base + "/no/such/page")[0] == 404
        st, hd, body = fetch(base + "/media/report.pdf")
        assert st == 200 and hd["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
        assert b"<form" in fetch(base + "/login")[2]
        assert html.fromstring(fetch(base + "/")[2]).get("lang") == "en"
    assert seen_amp and seen_print
    metas = {s.template: fetch(server.base_url(s.name) + s.articles[0].path)[2] for s in web.sites}
    assert b"application/ld+json" in metas["harbor"] and b"og:type" in metas["ledger"]
    assert b"ld+json" not in metas["gazette"] and b"og:type" not in metas["gazette"]


def _norm(url: str) -> str:
    """path+query without tracking params or fragment."""
    p = urlsplit(url)
    q = [(k, v) for k, v in parse_qsl(p.query) if not k.startswith("utm_")]
    return p.path + ("?" + urlencode(q) if q else "")


def test_every_article_reachable_by_links(web: Web, served) -> None:
    server, _ = served
    for site in web.sites:
        base = server.base_url(site.name)
        host = urlsplit(base).netloc
        hubs, arts = set(site.hub_paths), {a.path for a in site.articles}
        todo, seen, found = deque([base + "/"]), {"/"}, set()
        while todo:
            url = todo.popleft()
            st, _, body = fetch(url)
            assert st == 200, url
            for link in _links(base, url, body):
                if urlsplit(link).netloc != host:
                    continue
                key = _norm(link)
                if key in arts:
                    found.add(key)
                if (key in hubs or key in arts) and key not in seen:  # bounded: no trap pages
                    seen.add(key)
                    todo.append(base + key)
        assert found == arts, (site.name, arts - found)
        assert seen == hubs | arts, (site.name, (hubs | arts) ^ seen)


def test_template_blocks_on_pages(web: Web, served) -> None:
    server, _ = served
    for site in web.sites:
        base = server.base_url(site.name)
        from flows.newsweb.chrome import chrome_for
        from flows.newsweb.shapes import make_shape
        ch = chrome_for(make_shape(site.host_index - 1))
        common = [ch.copyright, ch.news_text, ch.back_to_top, site.render.editors_choice[0][1]]
        for path in ["/", site.hub_paths[1], site.hub_paths[-2]]:
            page = text_of(fetch(base + path)[2])
            assert all(b in page for b in common), (site.name, path)
        for a in site.articles[:6]:
            page = text_of(fetch(base + a.path)[2])
            assert all(b in page for b in common + [ch.related] + list(ch.share))
            assert all(p in page for p in a.paragraphs)
        x, y = site.teaser_pairs[0]
        big = site.render.big_teasers[x][1][0]
        assert big in text_of(fetch(base + x)[2]) and big in text_of(fetch(base + y)[2])
        assert all(b in site.template_blocks for b in common)


def test_concurrency_and_request_log(web: Web, served) -> None:
    server, log = served
    site = web.sites[2]
    base = server.base_url(site.name)
    urls = [base + a.path for a in site.articles] * 3
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda u: fetch(u)[0], urls))
    assert statuses == [200] * len(urls)
    reqs = server.requests()
    mine = [r for r in reqs if r["site"] == site.name]
    assert len(mine) >= len(urls)
    assert set(reqs[0]) == {"site", "host", "path", "query", "method", "status", "t"}
    lines = log.read_text().splitlines()
    assert len(lines) == len(reqs) or len(lines) >= len(mine)
    assert json.loads(lines[-1])["site"]


def test_site_truth_types(web: Web) -> None:
    assert all(isinstance(s, SiteTruth) for s in web.sites)
    tj = web.truth_json()
    a = tj["sites"][0]["articles"][0]
    for key in ["path", "title", "authors", "published", "language", "paragraphs", "in_feed",
                "in_sitemap", "canonical_path", "variants", "story_id", "short"]:
        assert key in a
    for key in ["name", "template", "host_index", "hub_paths", "disallowed_paths", "template_blocks",
                "syndicated", "teaser_pairs"]:
        assert key in tj["sites"][0]


def test_cli_serves_and_stops(tmp_path) -> None:
    import signal
    import subprocess
    import sys
    out = tmp_path / "sources.yaml"
    proc = subprocess.Popen([sys.executable, "-m", "flows.newsweb", "--sites", "2", "--articles", "8",
                             "--sources-out", str(out)], stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("# harbor-times (harbor): http://127.0.1.1:")
        base = first.split(": ", 1)[1].strip()
        proc.stdout.readline(), proc.stdout.readline()
        assert fetch(base)[0] == 200
        assert yaml.safe_load(out.read_text())["sources"][1]["name"] == "valley-ledger"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
