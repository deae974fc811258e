"""Item pipeline: archive each captured article's HTTP exchange to WARC, then mark it seen.

Files: DATA_DIR/raw/crawl_date=<UTC run-start date>/<run_id>-<n>.warc.gz, written
as `.tmp-<name>` and published (fsync + rename) every NEWSMILL_WARC_MAX_RECORDS
records / NEWSMILL_WARC_MAX_BYTES bytes and at spider close. Only after a file is
published are its URLs marked seen: a kill before that loses nothing, the next run
fetches those pages again.
"""

from __future__ import annotations

from datetime import timezone
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.atomic import clean_stale_tmp, publish, tmp_path
from pipelines.layout import DataDir
from spiders.items import CapturedPage
from spiders.seen import SeenStore

__all__ = ["WarcPipeline", "SOURCE_HEADER", "ARTICLE_HEADER"]

SOURCE_HEADER = "WARC-Newsmill-Source"
ARTICLE_HEADER = "WARC-Newsmill-Article"
# The body we store is already decoded, so these would describe bytes that are not there.
_DROP_RESPONSE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class WarcPipeline:
    def __init__(self, crawler, data_dir: Path, max_records: int, max_bytes: int):
        self.crawler = crawler
        self.stats = crawler.stats
        self.data = DataDir(data_dir)
        self.max_records = max_records
        self.max_bytes = max_bytes
        self._fh: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._final: Path | None = None
        self._records = 0
        self._pending: list[tuple[str, str]] = []  # (normalized url, source) in the open file
        self._next_n = 0
        self.published: list[str] = []

    @classmethod
    def from_crawler(cls, crawler):
        data_dir = crawler.settings.get("NEWSMILL_DATA_DIR")
        if not data_dir:
            raise NotConfigured("NEWSMILL_DATA_DIR is not set")
        return cls(
            crawler,
            Path(data_dir),
            crawler.settings.getint("NEWSMILL_WARC_MAX_RECORDS", 200),
            crawler.settings.getint("NEWSMILL_WARC_MAX_BYTES", 64 * 1024 * 1024),
        )

    def open_spider(self, spider=None) -> None:
        spider = spider or self.crawler.spider
        self.run_id: str = spider.run_id
        self.partition = self.data.partition("raw", spider.crawl_date)
        self.partition.mkdir(parents=True, exist_ok=True)
        self.stats.set_value("newsmill/warc/stale_tmp_removed", clean_stale_tmp(self.data.raw))
        self.seen = SeenStore(self.data.state / "seen.sqlite")

    def close_spider(self, spider=None) -> None:
        try:
            self._publish()
        finally:
            self.seen.close()

    def process_item(self, item, spider=None):
        if not isinstance(item, CapturedPage):
            return item
        if self._writer is None:
            self._open_file()
        self._write(item)
        self._pending.extend((url, item.source) for url in item.seen_urls)
        self.stats.inc_value("newsmill/warc/records", 2)
        if self._records >= self.max_records or self._fh.tell() >= self.max_bytes:
            self._publish()
        return item

    def _open_file(self) -> None:
        # A re-run under the same run id must not overwrite what an earlier attempt published.
        while (self.partition / f"{self.run_id}-{self._next_n}.warc.gz").exists():
            self._next_n += 1
        self._final = self.partition / f"{self.run_id}-{self._next_n}.warc.gz"
        self._next_n += 1
        self._fh = open(tmp_path(self._final), "wb")
        self._writer = WARCWriter(self._fh, gzip=True)
        self._records = 0

    def _write(self, item: CapturedPage) -> None:
        date = item.fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = urlsplit(item.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = [("Host", parts.netloc)]
        req_headers += [(k, v) for k, v in item.request_headers if k.lower() != "host"]
        request = self._writer.create_warc_record(
            item.url, "request", payload=BytesIO(b""),
            warc_headers_dict={"WARC-Date": date},
            http_headers=StatusAndHeaders(
                f"{item.method} {target} HTTP/1.1", req_headers, is_http_request=True),
        )
        resp_headers = [(k, v) for k, v in item.response_headers if k.lower() not in _DROP_RESPONSE_HEADERS]
        resp_headers.append(("Content-Length", str(len(item.body))))
        try:
            reason = HTTPStatus(item.status).phrase
        except ValueError:
            reason = "Unknown"
        response = self._writer.create_warc_record(
            item.url, "response", payload=BytesIO(item.body),
            warc_headers_dict={
                "WARC-Date": date,
                SOURCE_HEADER: item.source,
                ARTICLE_HEADER: item.article_hint,
            },
            http_headers=StatusAndHeaders(f"{item.status} {reason}", resp_headers, protocol="HTTP/1.1"),
        )
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request.rec_headers.add_header("WARC-Concurrent-To", response_id)
        self._writer.write_record(response)
        self._writer.write_record(request)
        for record in (response, request):
            record.raw_stream.close()  # warcio may have spooled the block to a temp file
        self._records += 2

    def _publish(self) -> None:
        if self._writer is None:
            return
        fh, final = self._fh, self._final
        self._fh = self._writer = None
        fh.close()
        publish(tmp_path(final), final)
        rel = str(final.relative_to(self.data.root))
        added = self.seen.mark(self._pending, self.run_id, rel)
        self._pending = []
        self.published.append(str(final))
        self.stats.inc_value("newsmill/warc/files")
        self.stats.inc_value("newsmill/seen/marked", added)
        self.stats.set_value("newsmill/warc_files", list(self.published))
