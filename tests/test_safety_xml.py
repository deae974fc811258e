"""RELIABILITY cases 8 (sitemap .xml.gz bomb) and 13 (XXE, billion laughs) for feeds and sitemaps."""

from __future__ import annotations

import time
import tracemalloc
from urllib.parse import quote
from urllib.request import urlopen

import lxml.etree
import pytest
from scrapy.utils.sitemap import Sitemap

from spiders.discovery import parse_feed
from spiders.limits import BodyTooLarge, safe_gunzip, safe_xml_parser
from tests.faultserver import BILLION_LAUGHS, XXE_FEED, Servers, run_crawl

pytestmark = pytest.mark.timeout(90)

MARKER = "TOPSECRET-6f1c"


@pytest.fixture(scope="module")
def servers():
    srv = Servers()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("xxe") / "secret.txt"
    path.write_text(MARKER + "\n")
    return path


@pytest.fixture(scope="module")
def xxe_body(servers, secret_file):
    return XXE_FEED.format(file=secret_file, net=servers.url("secret", "/xxe")).encode()


def test_case13_fixture_is_a_real_attack(secret_file):
    # An entity-resolving parser does read the file: the safe parser's result below means something.
    body = XXE_FEED.format(file=secret_file, net="http://127.0.0.2:9/").encode()
    unsafe = lxml.etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=True, recover=True)
    assert MARKER in "".join(lxml.etree.fromstring(body, parser=unsafe).itertext())


@pytest.mark.parametrize("kind", ["xxe", "laughs"])
def test_case13_safe_parser(kind, xxe_body, servers):
    body = xxe_body if kind == "xxe" else BILLION_LAUGHS.encode()
    tracemalloc.start()
    started = time.monotonic()
    root = lxml.etree.fromstring(body, parser=safe_xml_parser())
    text = "".join(root.itertext())
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert MARKER not in text and "lol" not in text
    assert elapsed < 2 and peak < 5 * 1024 * 1024 and len(text) < 1000
    assert servers.hits("secret") == {}


@pytest.mark.parametrize("kind", ["xxe", "laughs"])
def test_case13_spider_feed_and_sitemap_parsers(kind, xxe_body, servers):
    body = xxe_body if kind == "xxe" else BILLION_LAUGHS.encode()
    started = time.monotonic()
    entries = parse_feed(body, "http://127.0.0.1/")
    assert MARKER not in repr(entries) and "lollol" not in repr(entries)
    sitemap_body = body.replace(b"<rss", b"<urlset").replace(b"</rss>", b"</urlset>")
    try:
        urls = list(Sitemap(sitemap_body))
    except lxml.etree.XMLSyntaxError:
        urls = []
    assert MARKER not in repr(urls) and "lollol" not in repr(urls)
    assert time.monotonic() - started < 2
    assert servers.hits("secret") == {}


def test_case13_through_a_crawl(servers, secret_file, tmp_path):
    feed = servers.url("main", "/xxe-feed.xml?file=" + quote(str(secret_file))
                       + "&net=" + quote(servers.url("secret", "/xxe"), safe=""))
    laughs = servers.url("main", "/billion-laughs.xml")
    crawl = run_crawl(tmp_path, {"urls": [feed, laughs], "parse": "xml"},
                      {"NEWSMILL_ALLOWED_HOSTS": ["127.0.0.1"]})
    results = {o["seed"]: o for o in crawl["outcomes"]}
    for seed in (feed, laughs):
        got = results[seed]
        assert got["ok"] and got["xml_seconds"] < 2
        assert MARKER not in got["xml_text"] and "lollol" not in got["xml_text"]
    assert servers.hits("secret") == {}


def test_case8_sitemap_gz_bomb_bounded(servers):
    with urlopen(servers.url("main", "/sitemap-bomb.xml.gz"), timeout=30) as resp:
        body = resp.read()
    assert len(body) < 2 * 1024 * 1024  # the bomb itself is small
    cap = 4 * 1024 * 1024
    tracemalloc.start()
    with pytest.raises(BodyTooLarge):
        safe_gunzip(body, cap)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 3 * cap, peak


def test_case8_sitemap_gz_bomb_through_a_crawl(servers, tmp_path):
    url = servers.url("main", "/sitemap-bomb.xml.gz")
    crawl = run_crawl(tmp_path, {"urls": [url], "parse": "gunzip"},
                      {"NEWSMILL_ALLOWED_HOSTS": ["127.0.0.1"],
                       "NEWSMILL_SITEMAP_MAX_BYTES": 2 * 1024 * 1024})
    [got] = crawl["outcomes"]
    assert got["ok"] and "gunzip_error" in got and "gunzip_len" not in got
    assert crawl["maxrss_kib"] / 1024 < 200


def test_safe_gunzip_passes_normal_sitemaps():
    import gzip

    body = b"<urlset><url><loc>http://127.0.0.1/a</loc></url></urlset>"
    assert safe_gunzip(gzip.compress(body), 1024) == body
