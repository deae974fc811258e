"""Scrapy settings for newsmill: only what we set on purpose.

Politeness comes from robots.txt, AutoThrottle and per-domain concurrency; the
start delay and concurrency are low enough that a loopback crawl of a hundred
pages takes seconds. For real sites raise AUTOTHROTTLE_START_DELAY and
DOWNLOAD_DELAY with `-s` (or `--set` of spiders.run).
"""

from pipelines.settings import load_settings

BOT_NAME = "newsmill"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
USER_AGENT = "newsmill/0.1 (+https://github.com/newsmill)"

ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
DOWNLOAD_DELAY = 0.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4

REMOTE_CONTROL_ENABLED = False  # like the telnet console: a control port we never use
COOKIES_ENABLED = False  # news pages need no session; cookies would only track us
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 10.0  # "Crawled N pages" lines: what newsmill's progress follows

ITEM_PIPELINES = {"spiders.warc.WarcPipeline": 300}

# newsmill's own settings (read by spiders.news and spiders.warc).
NEWSMILL_DATA_DIR = str(load_settings().data_dir)
NEWSMILL_WARC_MAX_RECORDS = 200
NEWSMILL_WARC_MAX_BYTES = 64 * 1024 * 1024
NEWSMILL_REQUEST_BUDGET_FACTOR = 4  # requests per source <= factor * max_pages + extra
NEWSMILL_REQUEST_BUDGET_EXTRA = 50
# Link following (spiders.news): a listing's next/previous pages are dropped after this many
# pages in a row that linked nothing new, and an idle page of a listing family that has had
# more than NEWSMILL_LISTING_FAMILY_IDLE idle pages since its last productive one is a dead end.
NEWSMILL_LISTING_IDLE_PAGES = 2
NEWSMILL_LISTING_FAMILY_IDLE = 6

# Network safety: SSRF guard, RFC 9309 robots.txt, Retry-After backoff, URL, size and
# scheme limits (RELIABILITY.md 1-16). spiders/safety.py owns these settings, so they
# are applied last and nothing in this module redefines them.
from spiders.safety import SAFETY_SETTINGS  # noqa: E402

globals().update(SAFETY_SETTINGS)
