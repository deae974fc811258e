"""The spider end to end: `python -m spiders.run` as a subprocess against a loopback site.

The fixture site (a threaded http.server on 127.0.0.1, port 0) has articles
reachable only by links (three hub levels), only by RSS, only by Atom and only by
a Google News sitemap found through robots.txt; plus a robots-disallowed article
and hub, a denied tag page, `#top` and utm_* link variants, a 404, a JSON page,
an off-site link and an out-of-window sitemap entry. Articles are served gzip
encoded so the WARC must hold the decoded body with honest headers. Under /desk/
the same server has a small site with no article_pattern whose old stories only an
endless calendar reaches, an endless `?page=N` listing and AMP/print variants
(issue 9: crawl order and budget, one URL one fetch).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

REPO = Path(__file__).resolve().parent.parent
N_ARTICLES = 12
WORDS = ("the council said on tuesday that the new bridge would open next spring after "
         "years of delay and a budget that grew twice while residents waited").split()


def article_path(i: int) -> str:
    return f"/news/2026/11/story-number-{i}-about-the-bridge.html"


SECRET_ARTICLE = "/news/2026/11/secret-story-about-the-bridge.html"
OLD_ARTICLE = "/news/2020/01/old-story-about-the-bridge.html"
MISSING_ARTICLE = "/news/2026/11/missing-story-about-the-bridge.html"


def article_html(i: int) -> str:
    paras = "".join(f"<p>{' '.join(WORDS[(i + k) % 7:] + WORDS[:(i + k) % 7])}</p>" for k in range(12))
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": f"Story {i}", "datePublished": "2026-11-0%dT10:00:00Z" % (1 + i % 9)})
    return (f"<!doctype html><html><head><title>Story {i}</title>"
            f'<meta property="og:type" content="article"><script type="application/ld+json">{ld}</script>'
            f"</head><body><nav><a href='/news/'>News</a></nav><article><h1>Story {i}</h1>"
            f"<p class='byline'>By Ann Writer</p><time datetime='2026-11-01'>1 Nov 2026</time>"
            f"<div class='body'>MARKER-{i} {paras}</div></article></body></html>")


def hub_html(title: str, links: list[str]) -> str:
    items = "".join(f"<li><h2><a href='{href}'>Headline for {href}</a></h2></li>" for href in links)
    return (f"<!doctype html><html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1><ul>{items}</ul></body></html>")


# -- "desk": a site whose old stories only an endless calendar reaches -----------------------
# /desk/ (home) links the three newest stories, a print variant and the chrome; its feed
# lists the same three. /cal/YYYY/MM/ is a calendar with prev/next links forever; the older
# stories sit in months with one-month gaps between them and are in no feed or sitemap.
# /list/?page=N is a listing that never runs out of pages (empty past page 1).
DESK_MONTHS = {(2026, 11): [100, 101, 102], (2026, 9): [103, 104], (2026, 7): [105],
               (2026, 5): [106, 107], (2026, 3): [108], (2026, 1): [109]}
DESK_FEED = [100, 101, 102]
DESK_CHROME = ["/desk/", "/cal/2026/11/", "/list/", "/desk/about/#top"]


def desk_path(i: int) -> str:
    y, m = next(k for k, v in DESK_MONTHS.items() if i in v)
    return f"/desk/{y}/{m:02d}/story-{i}.html"


DESK_ARTICLES = [desk_path(i) for ids in DESK_MONTHS.values() for i in ids]
DESK_AMP = "/amp" + desk_path(100)


def desk_article(i: int, canonical: str) -> bytes:
    head = f'<link rel="canonical" href="{canonical}">'
    if i == 100:
        head += f'<link rel="amphtml" href="{DESK_AMP}">'
    return article_html(i).replace("</head>", head + "</head>").encode()


def desk_route(path: str, query: str) -> tuple[int, str, bytes, dict]:
    html = "text/html; charset=utf-8"
    if path == "/desk/feed.xml":
        items = "".join(f"<item><link>{desk_path(i)}</link></item>" for i in DESK_FEED)
        return 200, "application/rss+xml", f'<rss version="2.0"><channel>{items}</channel></rss>'.encode(), {}
    if path == "/desk/":
        links = DESK_CHROME + [desk_path(i) + "#top" for i in DESK_FEED] + [desk_path(101) + "?print=1"]
        return 200, html, hub_html("Desk", links).encode(), {}
    if path == "/desk/about/":
        return 200, html, hub_html("About", DESK_CHROME).encode(), {}
    if path.startswith("/cal/"):
        try:
            y, m = (int(x) for x in path.strip("/").split("/")[1:3])
        except ValueError:
            y, m = 0, 0
        if not 1 <= m <= 12 or y < 1:
            return 404, html, b"<html><body>no such month</body></html>", {}
        prev = f"/cal/{y - (m == 1)}/{12 if m == 1 else m - 1:02d}/"
        nxt = f"/cal/{y + (m == 12)}/{1 if m == 12 else m + 1:02d}/"
        ids = DESK_MONTHS.get((y, m), [])
        links = [desk_path(i) for i in ids if i != 105]
        if (y, m) == (2026, 7):
            links.append(desk_path(105) + "?print=1")  # only the print variant is linked
        if (y, m) == (2026, 5):
            links.append(DESK_AMP)  # the AMP URL of story 100, linked directly
        return 200, html, hub_html(f"Archive {y}-{m:02d}", DESK_CHROME + links + [prev, nxt]).encode(), {}
    if path == "/list/":
        page = int(dict(kv.partition("=")[::2] for kv in query.split("&") if kv).get("page", "1") or 1)
        links = [desk_path(i) for i in DESK_FEED] if page == 1 else []
        pager = ([f"/list/?page={page - 1}"] if page > 1 else []) + [f"/list/?page={page + 1}"]
        return 200, html, hub_html(f"List page {page}", DESK_CHROME + links + pager).encode(), {}
    for i in (i for ids in DESK_MONTHS.values() for i in ids):
        if path == desk_path(i):
            return 200, html, desk_article(i, desk_path(i)), {}
        if path == "/amp" + desk_path(i):
            return 200, html, desk_article(i, desk_path(i)), {}
    return 404, html, b"<html><body>gone</body></html>", {}


class Site:
    """Routes and a request log; `base` is http://127.0.0.1:<port>."""

    def __init__(self):
        self.delay = 0.0  # seconds before each article answers (the kill test needs a slow site)
        self.log: list[dict] = []
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                parts = urlsplit(self.path)
                with site.lock:
                    site.log.append({"path": parts.path, "query": parts.query,
                                     "headers": dict(self.headers)})
                status, ctype, body, extra = site.route(parts.path, self.headers, parts.query)
                gzip_ok = "gzip" in self.headers.get("Accept-Encoding", "")
                if ctype.startswith("text/html") and status == 200 and gzip_ok:
                    body = gzip.compress(body)
                    extra = {**extra, "Content-Encoding": "gzip"}
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # the request log above replaces stderr noise
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def route(self, path: str, headers, query: str = "") -> tuple[int, str, bytes, dict]:
        b = self.base
        if path.startswith(("/desk/", "/cal/", "/list/", "/amp/")):
            return desk_route(path, query)
        xml = "application/xml"
        if path == "/robots.txt":
            text = (f"User-agent: *\nDisallow: /private/\nDisallow: {SECRET_ARTICLE}\n"
                    f"Sitemap: {b}/sitemap_index.xml\n")
            return 200, "text/plain", text.encode(), {}
        if path == "/sitemap_index.xml":
            return 200, xml, (
                '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{b}/sitemap-news.xml</loc></sitemap>"
                f"<sitemap><loc>{b}/sitemap-pages.xml</loc><lastmod>2026-11-01</lastmod></sitemap>"
                "</sitemapindex>").encode(), {}
        if path == "/sitemap-news.xml":
            return 200, xml, (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                f"<url><loc>{b}{article_path(11)}</loc><news:news><news:publication_date>2026-11-05T09:00:00Z"
                "</news:publication_date></news:news></url>"
                f"<url><loc>{b}{OLD_ARTICLE}</loc><news:news><news:publication_date>2020-01-05T09:00:00Z"
                "</news:publication_date></news:news></url></urlset>").encode(), {}
        if path == "/sitemap-pages.xml":
            return 200, xml, (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{b}{article_path(1)}</loc><lastmod>2026-11-02</lastmod></url>"
                f"<url><loc>{b}/news/</loc></url></urlset>").encode(), {}
        if path == "/feed.xml":
            if headers.get("If-None-Match") == '"feed-v1"':
                return 304, "application/rss+xml", b"", {"ETag": '"feed-v1"'}
            return 200, "application/rss+xml", (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>Fixture</title>'
                f"<item><link>{b}{article_path(0)}?utm_source=rss</link>"
                "<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>"
                f"<item><link>{b}{article_path(9)}</link>"
                "<pubDate>Tue, 03 Nov 2026 10:00:00 GMT</pubDate></item>"
                "</channel></rss>").encode(), {"ETag": '"feed-v1"'}
        if path == "/atom.xml":
            return 200, "application/atom+xml", (
                '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>'
                f'<entry><link href="{b}{article_path(10)}"/>'
                "<published>2026-11-04T10:00:00Z</published></entry>"
                "</feed>").encode(), {}
        if path == "/news/":
            links = [article_path(i) for i in range(6)] + [
                article_path(0) + "#top", article_path(1) + "?utm_source=hub&utm_medium=web",
                f"{b}{article_path(2)}#comments", "/news/page/2", "/tag/bridges", "/private/",
                SECRET_ARTICLE, MISSING_ARTICLE, "/news/data.json", "http://127.0.0.2:9/elsewhere",
                "mailto:desk@example.org",
            ]
            return 200, "text/html; charset=utf-8", hub_html("News", links).encode(), {}
        if path == "/news/page/2":
            links = [article_path(6), article_path(7), "/news/page/3"]
            return 200, "text/html", hub_html("News page 2", links).encode(), {}
        if path == "/news/page/3":
            return 200, "text/html", hub_html("News page 3", [article_path(8), "/news/"]).encode(), {}
        if path.startswith("/maze/"):  # a maze: every page links two pages never seen before
            # Segments unique per level, so the path-repetition limit does not stop it first.
            level = path.count("/")
            return 200, "text/html", hub_html("Maze", [path + f"a{level}/", path + f"b{level}/"]).encode(), {}
        if path.startswith("/trap/"):  # an endless calendar: every page links to the next
            n = int(path.rsplit("/", 1)[1] or 0)
            return 200, "text/html", hub_html(f"Day {n}", [f"/trap/{n + 1}", f"/trap/{n + 2}"]).encode(), {}
        if path == "/news/data.json":
            return 200, "application/json", b'{"items": []}', {}
        if path in ("/tag/bridges", "/private/"):
            return 200, "text/html", hub_html("Tag", [SECRET_ARTICLE]).encode(), {}
        for i in range(N_ARTICLES):
            if path == article_path(i):
                time.sleep(self.delay)
                return 200, "text/html; charset=utf-8", article_html(i).encode(), {}
        gone = b"<html><head><title>404 Not Found</title></head><body>gone</body></html>"
        return 404, "text/html", gone, {}

    def requests(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.log if path is None or r["path"] == path]


@pytest.fixture
def site():
    s = Site()
    yield s
    s.stop()


def sources_yaml(site: Site, tmp_path: Path, patterns: bool = True) -> Path:
    b = site.base
    text = (
        "sources:\n  - name: fixture\n"
        f"    start_urls: [{b}/news/]\n"
        f"    feeds: [{b}/feed.xml, {b}/atom.xml]\n"
        f"    sitemaps: [{b}/robots.txt]\n"
        "    deny_pattern: '/tag/'\n    max_depth: 3\n    max_pages: 100\n"
    )
    if patterns:
        text += "    article_pattern: '^/news/\\d{4}/\\d\\d/[^/]+\\.html$'\n"
    path = tmp_path / ("sources.yaml" if patterns else "sources-nopattern.yaml")
    path.write_text(text)
    return path


def crawl(sources: Path, data: Path, run_id: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    stats = data.parent / f"stats-{run_id}.json"
    proc = subprocess.run(
        [sys.executable, "-m", "spiders.run", "--sources", str(sources), "--data-dir", str(data),
         "--run-id", run_id, "--stats-out", str(stats), "--log-level", "WARNING", *extra],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, json.loads(stats.read_text())


def warc_responses(data: Path) -> list[tuple[str, dict, dict, bytes]]:
    out = []
    for path in sorted(data.glob("raw/crawl_date=*/*.warc.gz")):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response":
                    warc = dict(rec.rec_headers.headers)
                    http = {k.lower(): v for k, v in rec.http_headers.headers}
                    url = rec.rec_headers.get_header("WARC-Target-URI")
                    out.append((url, warc, http, rec.content_stream().read()))
    return out


def article_fetches(site: Site) -> Counter:
    return Counter(r["path"] for r in site.requests() if r["path"].startswith("/news/20"))


@pytest.mark.timeout(180)
def test_crawl_captures_every_article_once_and_respects_robots(site, tmp_path):
    data = tmp_path / "data"
    _, report = crawl(sources_yaml(site, tmp_path), data, "r1", "--since", "2025-01-01")

    truth = {site.base + article_path(i) for i in range(N_ARTICLES)}
    responses = warc_responses(data)
    urls = [u for u, *_ in responses]
    assert sorted(urls) == sorted(truth), "every truth article captured exactly once"
    for url, warc, http, body in responses:
        i = int(url.split("story-number-")[1].split("-")[0])
        assert warc["WARC-Newsmill-Source"] == "fixture"
        assert warc["WARC-Newsmill-Article"] == "pattern"
        assert f"MARKER-{i} ".encode() in body  # decoded, not gzip
        assert "content-encoding" not in http and "transfer-encoding" not in http
        assert int(http["content-length"]) == len(body)

    # One URL, one fetch: #top, #comments and utm_* variants did not double anything.
    fetched = article_fetches(site)
    assert all(n == 1 for n in fetched.values()), fetched
    # robots.txt obeyed; the out-of-window sitemap entry and denied/offsite links never requested.
    paths = {r["path"] for r in site.requests()}
    assert SECRET_ARTICLE not in paths and "/private/" not in paths
    assert OLD_ARTICLE not in paths and "/tag/bridges" not in paths
    assert all(r["query"] == "" for r in site.requests()), "tracking parameters are dropped"

    src = report["sources"]["fixture"]
    assert src["captured"] == report["totals"]["captured"] == N_ARTICLES
    assert src["fetched"]["article"] == N_ARTICLES
    assert src["fetched"]["feed"] == 2 and src["fetched"]["robots"] == 1 and src["fetched"]["sitemap"] == 3
    assert src["fetched"]["hub"] == 3
    assert src["failed"] == {"http_404": 1, "robots_forbidden": 2}
    assert src["dropped_other"] == {"not_html": 1}
    assert src["skipped"]["date_window"] == 1
    assert src["skipped"]["denied"] == 1 and src["skipped"]["offsite"] == 1
    # Article paths (12 + the 404) + 2 feeds, 3 sitemaps, 3 hubs + the JSON page
    # + /private/ and the secret article (requested, refused by robots.txt, never sent).
    # robots.txt is not the spider's request: its Sitemap: lines come from Scrapy's own copy.
    assert src["requests"] == len(fetched) + 8 + 1 + 2
    assert len(site.requests("/robots.txt")) == 1, "robots.txt fetched once, not once per role"
    assert len(report["warc_files"]) == 1 and all(Path(p).exists() for p in report["warc_files"])
    assert report["finish_reason"] == "finished"
    assert not list(data.rglob(".tmp-*"))


@pytest.mark.timeout(180)
def test_second_run_fetches_no_article_again(site, tmp_path):
    data = tmp_path / "data"
    sources = sources_yaml(site, tmp_path)
    crawl(sources, data, "r1")
    first = article_fetches(site)
    assert len(first) == N_ARTICLES + 2  # + the 404 link and the (undated-window) old sitemap entry

    before = len(site.requests())
    _, report = crawl(sources, data, "r2")
    second = Counter(r["path"] for r in site.requests()[before:])
    assert not [p for p in second if p in {article_path(i) for i in range(N_ARTICLES)}], second
    assert second["/news/"] == 1 and second["/sitemap-news.xml"] == 1  # hubs and sitemaps every run
    feed_again = [r for r in site.requests()[before:] if r["path"] == "/feed.xml"]
    assert feed_again[0]["headers"].get("If-None-Match") == '"feed-v1"'
    src = report["sources"]["fixture"]
    assert src["captured"] == 0 and report["warc_files"] == []
    # Article 9 is listed only in the RSS feed, which answered 304: never even looked at.
    assert src["skipped_seen"] == N_ARTICLES - 1 and src["not_modified"] == 1
    assert len(list(data.glob("raw/crawl_date=*/*.warc.gz"))) == 1


@pytest.mark.timeout(180)
def test_classifier_decides_without_article_pattern(site, tmp_path):
    pytest.importorskip("pipelines.classify")
    data = tmp_path / "data"
    _, report = crawl(sources_yaml(site, tmp_path, patterns=False), data, "c1", "--since", "2025-01-01")
    responses = warc_responses(data)
    assert sorted(u for u, *_ in responses) == sorted(site.base + article_path(i) for i in range(N_ARTICLES))
    assert {w["WARC-Newsmill-Article"] for _, w, _, _ in responses} == {"classifier"}
    src = report["sources"]["fixture"]
    assert src["fetched"]["hub"] == 3 and src["fetched"]["article"] == N_ARTICLES
    assert src["dropped_other"] == {"json": 1}
    assert all(n == 1 for n in article_fetches(site).values())


@pytest.mark.timeout(180)
def test_max_pages_caps_articles_and_bad_input_fails_in_one_line(site, tmp_path):
    data = tmp_path / "data"
    _, report = crawl(sources_yaml(site, tmp_path), data, "m1", "--max-pages", "3")
    assert report["sources"]["fixture"]["captured"] == 3
    assert len(warc_responses(data)) == 3

    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: x\n    start_urls: [ftp://nope]\n")
    proc = subprocess.run([sys.executable, "-m", "spiders.run", "--sources", str(bad), "--data-dir",
                           str(data), "--run-id", "b1"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "start_urls" in proc.stderr


@pytest.mark.timeout(180)
def test_feed_with_skipped_entries_is_refetched_in_full(site, tmp_path):
    data = tmp_path / "data"
    sources = sources_yaml(site, tmp_path)
    crawl(sources, data, "w1", "--since", "2026-11-03")  # the feed's Nov 2 entry is out of the window
    before = len(site.requests())
    _, report = crawl(sources, data, "w2")
    feed = [r for r in site.requests()[before:] if r["path"] == "/feed.xml"]
    assert "If-None-Match" not in feed[0]["headers"]
    assert report["sources"]["fixture"]["not_modified"] == 0


@pytest.mark.timeout(180)
def test_trap_is_bounded_by_the_request_budget(site, tmp_path):
    """/trap/N is one listing family: dropped after 2 idle pages. /maze/ pages always link
    new pages of new shapes, so only the request budget stops them."""
    sources = tmp_path / "trap.yaml"
    sources.write_text(f"sources:\n  - name: trap\n    start_urls: [{site.base}/trap/0, {site.base}/maze/]\n"
                       "    max_depth: 100000\n    max_pages: 5\n    article_pattern: '^/news/'\n")
    _, report = crawl(sources, tmp_path / "data", "t1")
    src = report["sources"]["trap"]
    assert src["requests"] == 5 * 4 + 50
    assert len(site.requests("/robots.txt")) == 1
    assert len(site.requests()) == 5 * 4 + 50 + 1
    assert src["skipped"]["budget_requests"] > 0
    trap = [r["path"] for r in site.requests() if r["path"].startswith("/trap/")]
    # /trap/0 is the listing's first page, 1 and 2 its first idle pages, 3 and 4 the second.
    assert sorted(trap) == [f"/trap/{n}" for n in range(5)], trap
    assert src["skipped"]["idle_listing"] > 0


@pytest.mark.timeout(180)
def test_kill_mid_crawl_loses_nothing_and_doubles_nothing(site, tmp_path):
    """Small WARC files (2 articles each), a slow site, kill -9 mid-crawl, run again."""
    data = tmp_path / "data"
    sources = sources_yaml(site, tmp_path)
    site.delay = 0.25
    stats = tmp_path / "killed.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "spiders.run", "--sources", str(sources), "--data-dir", str(data),
         "--run-id", "k1", "--stats-out", str(stats), "--log-level", "WARNING",
         "--set", "NEWSMILL_WARC_MAX_RECORDS=4", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(data.glob("raw/crawl_date=*/k1-*.warc.gz")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.kill()
    proc.wait(timeout=30)
    assert not stats.exists(), "the crawl was meant to be killed mid-way"
    first = {u for u, *_ in warc_responses(data)}
    assert 0 < len(first) < N_ARTICLES

    site.delay = 0.0
    before = len(site.requests())
    _, report = crawl(sources, data, "k2", "--set", "NEWSMILL_WARC_MAX_RECORDS=4")
    assert not list(data.rglob(".tmp-*")), "stale temp files are cleaned"
    urls = [u for u, *_ in warc_responses(data)]
    assert sorted(urls) == sorted(site.base + article_path(i) for i in range(N_ARTICLES))
    again = {site.base + r["path"] for r in site.requests()[before:]}
    assert not (first & again), "published articles are not fetched again"
    assert len(report["warc_files"]) == (N_ARTICLES - len(first) + 1) // 2


# -- the bundled sample news web (flows.newsweb): several sites, realistic templates --------

@pytest.fixture
def newsweb():
    mod = pytest.importorskip("flows.newsweb")
    web = mod.build_web(n_sites=3, articles_per_site=20, seed=7)
    server = mod.serve_web(web)
    yield web, server
    server.stop()


def check_newsweb_run(web, server, reqs: list[dict], data: Path, hint: str) -> None:
    by_source: dict[str, set[str]] = {}
    for url, warc, _, _ in warc_responses(data):
        assert warc["WARC-Newsmill-Article"] == hint
        by_source.setdefault(warc["WARC-Newsmill-Source"], set()).add(url)
    assert sum(len(v) for v in by_source.values()) == len(warc_responses(data)), "no page archived twice"
    for site in web.sites:
        base = server.base_url(site.name)
        assert by_source.get(site.name) == {base + a.path for a in site.articles}, site.name
        fetched = Counter(r["path"] + (f"?{r['query']}" if r["query"] else "")
                          for r in reqs if r["site"] == site.name)
        doubled = {p: n for p, n in fetched.items() if n > 1 and p != "/robots.txt"}
        assert not doubled, f"{site.name}: fetched twice: {doubled}"
        hits = [p for p in fetched if any(p.startswith(d) for d in site.disallowed_paths)]
        assert not hits, f"{site.name}: robots.txt Disallow ignored: {hits}"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("patterns", [True, False], ids=["article_pattern", "classifier"])
def test_newsweb_every_article_once_then_nothing_new(newsweb, tmp_path, patterns):
    if not patterns:
        pytest.importorskip("pipelines.classify")
    web, server = newsweb
    sources = tmp_path / "sources.yaml"
    sources.write_text(server.sources_yaml(patterns=patterns))
    data = tmp_path / "data"
    _, report = crawl(sources, data, "n1")
    check_newsweb_run(web, server, server.requests(), data, "pattern" if patterns else "classifier")
    total = sum(len(s.articles) for s in web.sites)
    assert report["totals"]["captured"] == report["totals"]["fetched"]["article"] == total
    assert not report["totals"]["failed"].get("http_404")

    before = len(server.requests())
    _, report = crawl(sources, data, "n2")
    again = server.requests()[before:]
    article_paths = {(s.name, a.path) for s in web.sites for a in s.articles}
    assert not [r for r in again
                if (r["site"], r["path"] + (f"?{r['query']}" if r["query"] else "")) in article_paths]
    assert report["totals"]["captured"] == 0 and report["totals"]["not_modified"] > 0
    assert report["totals"]["skipped_seen"] == total


# -- crawl order and budget without article_pattern (issue 9) -----------------------------------

def desk_sources(site: Site, tmp_path: Path) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(f"sources:\n  - name: desk\n    start_urls: [{site.base}/desk/]\n"
                    f"    feeds: [{site.base}/desk/feed.xml]\n    max_depth: 3\n    max_pages: 100\n")
    return path


@pytest.mark.timeout(180)
def test_endless_calendar_and_pagination_are_abandoned_but_old_stories_found(site, tmp_path):
    pytest.importorskip("pipelines.classify")
    data = tmp_path / "data"
    _, report = crawl(desk_sources(site, tmp_path), data, "d1")
    urls = sorted(u for u, *_ in warc_responses(data))
    assert urls == sorted(site.base + p for p in DESK_ARTICLES), "coverage 1.00, each story once"
    reqs = site.requests()
    cal = [r["path"] for r in reqs if r["path"].startswith("/cal/")]
    pages = [r["query"] for r in reqs if "page=" in r["query"]]
    assert len(cal) + len(pages) <= 30, (cal, pages)
    # Both ends of the calendar stop two idle months past the last story (or sooner).
    assert not [p for p in cal if p >= "/cal/2027/02/" or p < "/cal/2025/11/"], cal
    assert "page=4" not in pages, "the listing is empty after page 1: at most two idle pages"
    # #top links do not double a page: no path fetched twice.
    fetched = Counter(r["path"] + "?" + r["query"] for r in reqs)
    assert not {p: n for p, n in fetched.items() if n > 1 and not p.startswith("/robots.txt")}
    src = report["sources"]["desk"]
    assert src["captured"] == len(DESK_ARTICLES)
    assert src["skipped"]["idle_listing"] >= 2
    assert len(reqs) / len(DESK_ARTICLES) <= 6


@pytest.mark.timeout(180)
def test_amp_and_print_variants_are_not_captured_twice(site, tmp_path):
    pytest.importorskip("pipelines.classify")
    data = tmp_path / "data"
    _, report = crawl(desk_sources(site, tmp_path), data, "v1")
    responses = warc_responses(data)
    urls = [u for u, *_ in responses]
    assert len(urls) == len(set(urls)) == len(DESK_ARTICLES)
    assert not [u for u in urls if "print" in u or "/amp/" in u]
    reqs = site.requests()
    # The rel=amphtml URL is never requested, even where a listing links it directly.
    assert not [r for r in reqs if r["path"].startswith("/amp/")]
    # Story 105 is linked only through its print variant: fetched once as a variant,
    # then captured under its canonical URL.
    assert [r["query"] for r in reqs if r["path"] == desk_path(105)] == ["print=1", ""]
    assert report["sources"]["desk"]["skipped"]["variant"] >= 2  # 101?print=1, 105?print=1, the AMP link


@pytest.mark.parametrize("url,expected", [
    ("http://a.example/archive/2024/03/", "a.example/archive/#/#/?"),
    ("http://a.example/archive/2031/07/", "a.example/archive/#/#/?"),
    ("http://a.example/world?page=3", "a.example/world?"),
    ("http://a.example/section.php?name=local&page=2", "a.example/section.php?name=local"),
])
def test_listing_family(url, expected):
    from spiders.news import family

    assert family(url) == expected


@pytest.mark.parametrize("url,canonical,expected", [
    ("http://a.example/amp/news/x", "http://a.example/news/x", True),
    ("http://a.example/news/x?print=1", "http://a.example/news/x", True),
    ("http://a.example/news/x", "https://www.a.example/news/x", False),  # same page, other scheme/host form
    ("http://a.example/news/x", "http://b.example/news/x", False),  # syndication: not our variant
    ("http://a.example/news/x", "http://a.example/", False),  # a site-wide canonical to the home page
])
def test_is_variant(url, canonical, expected):
    from spiders.news import is_variant

    assert is_variant(url, canonical) is expected


@pytest.mark.timeout(180)
def test_robots_sitemaps_without_robots_obey(site, tmp_path):
    """With ROBOTSTXT_OBEY off nobody else downloads robots.txt: the spider fetches it, once."""
    data = tmp_path / "data"
    _, report = crawl(sources_yaml(site, tmp_path), data, "o1", "--set", "ROBOTSTXT_OBEY=False")
    src = report["sources"]["fixture"]
    assert len(site.requests("/robots.txt")) == 1
    assert src["fetched"]["robots"] == 1 and src["fetched"]["sitemap"] == 3
