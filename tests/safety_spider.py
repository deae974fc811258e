"""A plain spider for the safety tests: fetch the given URLs, record every outcome as JSON.

    scrapy runspider tests/safety_spider.py -a config=cfg.json

config: {"urls": [...], "out": path, "headers": {...}, "allowed_domains": [...],
         "follow": bool, "parse": "xml" | "gunzip" | ""}.
Settings: SAFETY_SETTINGS, then the JSON in $NEWSMILL_TEST_SETTINGS on top.
"""

from __future__ import annotations

import json
import os
import resource
import time

import lxml.etree
import scrapy
from scrapy.spidermiddlewares.httperror import HttpError

from spiders.limits import BodyTooLarge, safe_gunzip, safe_xml_parser
from spiders.safety import SAFETY_SETTINGS


class SafetySpider(scrapy.Spider):
    name = "safety"

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        settings.setdict(SAFETY_SETTINGS, priority="spider")
        settings.setdict({"LOG_LEVEL": "INFO", "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
                          "CONCURRENT_REQUESTS": 64, "CLOSESPIDER_PAGECOUNT": 100}, priority="spider")
        settings.setdict(json.loads(os.environ.get("NEWSMILL_TEST_SETTINGS") or "{}"), priority="cmdline")

    def __init__(self, config: str, **kwargs):
        super().__init__(**kwargs)
        with open(config) as fh:
            self.cfg = json.load(fh)
        if self.cfg.get("allowed_domains"):
            self.allowed_domains = self.cfg["allowed_domains"]
        self.outcomes: list[dict] = []

    async def start(self):
        for url in self.cfg["urls"]:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True,
                                 headers=self.cfg.get("headers") or {}, meta={"seed": url})

    def _record(self, request, **fields):
        self.outcomes.append({
            "seed": request.meta.get("seed"), "url": request.url, "at": time.time(),
            "retry_times": request.meta.get("retry_times", 0),
            "redirect_times": request.meta.get("redirect_times", 0), **fields,
        })

    def parse(self, response):
        fields = {"ok": True, "status": response.status, "body_len": len(response.body),
                  "body_head": response.body[:3000].decode("utf-8", "replace")}
        mode = self.cfg.get("parse")
        if mode == "xml":
            started = time.monotonic()
            root = lxml.etree.fromstring(response.body, parser=safe_xml_parser())
            fields["xml_text"] = "".join(root.itertext())[:5000] if root is not None else ""
            fields["xml_seconds"] = time.monotonic() - started
        elif mode == "gunzip":
            try:
                fields["gunzip_len"] = len(safe_gunzip(response.body, self.settings.getint(
                    "NEWSMILL_SITEMAP_MAX_BYTES")))
            except BodyTooLarge as exc:
                fields["gunzip_error"] = str(exc)
        self._record(response.request, **fields)
        if self.cfg.get("follow") and hasattr(response, "css"):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, callback=self.parse, errback=self.failed,
                                      meta={"seed": response.meta.get("seed")})

    def failed(self, failure):
        fields = {"ok": False, "error": type(failure.value).__name__, "message": str(failure.value)[:500]}
        if failure.check(HttpError):
            fields["status"] = failure.value.response.status
        self._record(failure.request, **fields)

    def closed(self, reason):
        stats = {k: v if isinstance(v, (int, float, str)) else str(v)
                 for k, v in self.crawler.stats.get_stats().items()}
        with open(self.cfg["out"], "w") as fh:
            json.dump({"reason": reason, "outcomes": self.outcomes, "stats": stats,
                       "maxrss_kib": _peak_rss_kib()}, fh)


def _peak_rss_kib() -> int:
    """This process's own peak RSS (VmHWM). ru_maxrss is not it: Linux carries it across
    fork and exec, so a crawl started by a big pytest process would report pytest's peak."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
