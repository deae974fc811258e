"""spiders.discovery: feeds, sitemaps and robots.txt parsed from bytes, no network."""

from __future__ import annotations

import gzip
import time
from datetime import date, datetime, timezone

import pytest

from spiders.discovery import (
    Entry, in_window, looks_like_feed, parse_date, parse_feed, parse_robots, parse_sitemap,
)

BASE = "http://news.example/"
UTC = timezone.utc

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Example</title><link>http://news.example/</link>
<item><title>One</title><link>http://news.example/a/one</link>
  <pubDate>Tue, 03 Nov 2026 10:00:00 +0100</pubDate></item>
<item><title>Two</title><link>/a/two</link><dc:date>2026-11-04T08:00:00Z</dc:date></item>
<item><title>Three</title><guid isPermaLink="true">http://news.example/a/three</guid></item>
<item><title>No link</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example</title>
<entry><title>One</title><link rel="alternate" href="http://news.example/a/one"/>
  <link rel="edit" href="http://news.example/edit/1"/>
  <published>2026-11-01T12:00:00Z</published><updated>2026-11-20T12:00:00Z</updated></entry>
<entry><title>Two</title><link href="/a/two"/><updated>2026-11-02T12:00:00+02:00</updated></entry>
</feed>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://news.example/sitemap-1.xml</loc><lastmod>2026-11-01</lastmod></sitemap>
<sitemap><loc>http://news.example/sitemap-2.xml.gz</loc></sitemap>
</sitemapindex>"""

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://news.example/a/one</loc><lastmod>2026-11-03T10:00:00+00:00</lastmod></url>
<url><loc>http://news.example/a/two</loc></url>
<url><lastmod>2026-11-03</lastmod></url>
</urlset>"""

NEWS = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>http://news.example/a/one</loc>
  <news:news><news:publication><news:name>Ex</news:name><news:language>en</news:language></news:publication>
  <news:publication_date>2026-11-05T09:30:00Z</news:publication_date><news:title>One</news:title></news:news>
  <lastmod>2026-11-20</lastmod></url>
</urlset>"""


def test_rss_items_links_and_dates():
    entries = parse_feed(RSS, BASE)
    assert [e.url for e in entries] == [
        "http://news.example/a/one", "http://news.example/a/two", "http://news.example/a/three",
    ]
    assert entries[0].date == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert entries[1].date == datetime(2026, 11, 4, 8, 0, tzinfo=UTC)
    assert entries[2].date is None


def test_atom_entries_prefer_published_and_alternate_link():
    entries = parse_feed(ATOM, BASE)
    assert entries == [
        Entry("http://news.example/a/one", datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),
        Entry("http://news.example/a/two", datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),
    ]


def test_looks_like_feed():
    assert looks_like_feed(RSS) and looks_like_feed(ATOM)
    assert not looks_like_feed(URLSET) and not looks_like_feed(INDEX)


def test_sitemap_index():
    result = parse_sitemap(INDEX, BASE)
    assert result.kind == "sitemapindex"
    assert result.entries == [
        Entry("http://news.example/sitemap-1.xml", datetime(2026, 11, 1, tzinfo=UTC)),
        Entry("http://news.example/sitemap-2.xml.gz", None),
    ]


def test_urlset_lastmod_and_missing_loc():
    result = parse_sitemap(URLSET, BASE)
    assert result.kind == "urlset"
    assert result.entries == [
        Entry("http://news.example/a/one", datetime(2026, 11, 3, 10, 0, tzinfo=UTC)),
        Entry("http://news.example/a/two", None),
    ]


def test_news_sitemap_publication_date_wins_over_lastmod():
    result = parse_sitemap(NEWS, BASE)
    assert result.entries == [Entry("http://news.example/a/one", datetime(2026, 11, 5, 9, 30, tzinfo=UTC))]


def test_gzip_sitemap_and_bomb():
    assert parse_sitemap(gzip.compress(URLSET), BASE).entries[0].url == "http://news.example/a/one"
    bomb = gzip.compress(b"<urlset>" + b" " * (60 * 1024 * 1024) + b"</urlset>")
    started = time.monotonic()
    assert parse_sitemap(bomb, BASE).kind == "invalid"
    assert time.monotonic() - started < 5


def test_not_a_sitemap():
    assert parse_sitemap(b"<html><body>hi</body></html>", BASE).kind == "invalid"
    assert parse_sitemap(b"", BASE).kind == "invalid"
    assert parse_feed(b"not xml at all", BASE) == []


def test_xxe_and_billion_laughs_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xxe = f"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://news.example/&x;</loc></url></urlset>""".encode()
    for e in parse_sitemap(xxe, BASE).entries:
        assert "TOPSECRET" not in e.url
    rss_xxe = xxe.replace(
        b"<urlset", b"<rss><channel><item><link>http://news.example/&x;</link></item></channel></rss><urlset")
    assert all("TOPSECRET" not in e.url for e in parse_feed(rss_xxe, BASE))
    lol = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    ) + b']><rss><channel><item><link>http://news.example/&i;</link></item></channel></rss>'
    started = time.monotonic()
    entries = parse_feed(lol, BASE)
    assert time.monotonic() - started < 2
    assert all(len(e.url) < 1000 for e in entries)


def test_robots_sitemap_lines():
    robots = (b"User-agent: *\nDisallow: /private/\n"
              b"Sitemap: http://news.example/sitemap.xml\n  sitemap: /news.xml\n")
    assert parse_robots(robots, "http://news.example/robots.txt") == [
        Entry("http://news.example/sitemap.xml"), Entry("http://news.example/news.xml"),
    ]
    assert parse_robots(b"User-agent: *\nDisallow:\n", BASE) == []


@pytest.mark.parametrize("value, expected", [
    ("2026-11-05", datetime(2026, 11, 5, tzinfo=UTC)),
    ("2026-11-05T09:30:00+02:00", datetime(2026, 11, 5, 7, 30, tzinfo=UTC)),
    ("2026-11-05T09:30:00Z", datetime(2026, 11, 5, 9, 30, tzinfo=UTC)),
    ("Thu, 05 Nov 2026 09:30:00 GMT", datetime(2026, 11, 5, 9, 30, tzinfo=UTC)),
    ("yesterday", None), ("", None), (None, None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_date_window_inclusive_and_undated_always_in():
    d = datetime(2026, 11, 5, 23, 59, tzinfo=UTC)
    assert in_window(d, date(2026, 11, 5), date(2026, 11, 5))
    assert not in_window(d, date(2026, 11, 6), None)
    assert not in_window(d, None, date(2026, 11, 4))
    assert in_window(None, date(2030, 1, 1), date(2030, 1, 2))
    assert in_window(d, None, None)
