"""WARC input: CC-NEWS-style files (request + response + metadata records, gzip
members, encoded payloads) and our own crawl's records read back as Pages."""

from __future__ import annotations

import gzip
from io import BytesIO

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.warc_read import ReadStats, WarcInputError, expand_inputs, read_pages

HTML = b"<html><head><title>A story</title></head><body><p>" + b"Words of the story. " * 50 + b"</p></body></html>"


def _write_ccnews(path):
    """Three captures the way Common Crawl writes them, plus one non-HTML and one 404."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        captures = [
            ("https://news.example.com/a/1", "200 OK", "text/html; charset=utf-8", HTML, None),
            ("https://news.example.com/a/2", "200 OK", "text/html", gzip.compress(HTML), "gzip"),
            ("https://news.example.com/img.png", "200 OK", "image/png", b"\x89PNG....", None),
            ("https://news.example.com/gone", "404 Not Found", "text/html", b"<html>gone</html>", None),
        ]
        for url, status, ctype, body, encoding in captures:
            req = writer.create_warc_record(
                url, "request", payload=BytesIO(b""),
                http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", "news.example.com")], is_http_request=True),
            )
            headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
            if encoding:
                headers.append(("Content-Encoding", encoding))
            resp = writer.create_warc_record(
                url, "response", payload=BytesIO(body),
                http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": "2026-10-05T08:09:10Z"},
            )
            meta = writer.create_warc_record(
                url, "metadata", payload=BytesIO(b"fetchTimeMs: 120\n"),
                warc_content_type="application/warc-fields",
            )
            for record in (req, resp, meta):
                writer.write_record(record)


def test_ccnews_records_read_as_pages(tmp_path):
    path = tmp_path / "CC-NEWS-20261005080910-00001.warc.gz"
    _write_ccnews(path)
    stats = ReadStats()
    pages = list(read_pages(str(path), stats))
    assert [p.url for p in pages] == ["https://news.example.com/a/1", "https://news.example.com/a/2"]
    assert all(p.html == HTML for p in pages), "payload decoded, Content-Encoding undone"
    assert pages[0].source == "example.com" and pages[0].article_hint is None
    assert pages[0].fetched_at.isoformat() == "2026-10-05T08:09:10+00:00"
    assert stats.records == 4 and stats.skipped == {"not_html": 1, "status_404": 1}


def test_own_crawl_headers_are_kept(tmp_path):
    path = tmp_path / "r-0.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warc_record(
            "http://127.0.1.1:8000/news/x", "response", payload=BytesIO(HTML),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Newsmill-Source": "harbor", "WARC-Newsmill-Article": "pattern"},
        ))
    [page] = read_pages(str(path))
    assert (page.source, page.article_hint) == ("harbor", "pattern")


def test_inputs_expand_and_missing_ones_are_named(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/1.warc.gz", "a/2.warc", "a/.tmp-3.warc.gz.part", "a/notes.txt"):
        (tmp_path / name).write_bytes(b"")
    found = expand_inputs([str(tmp_path / "a")])
    assert [p.rsplit("/", 1)[1] for p in found] == ["1.warc.gz", "2.warc"]
    assert expand_inputs([str(tmp_path / "a" / "*.warc.gz")]) == [str(tmp_path / "a" / "1.warc.gz")]
    with pytest.raises(WarcInputError, match="missing.warc.gz: no such file"):
        expand_inputs([str(tmp_path / "missing.warc.gz")])
    with pytest.raises(WarcInputError, match="no WARC files found"):
        expand_inputs([str(tmp_path / "a" / "*.arc")])
