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

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
# Only http(s): a redirect or link to file:, data:, ftp: or s3: must never be fetched.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # like the telnet console: a control port we never use
COOKIES_ENABLED = False  # news pages need no session; cookies would only track us
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {"spiders.warc.WarcPipeline": 300}

# newsmill's own settings (read by spiders.news and spiders.warc).
NEWSMILL_DATA_DIR = str(load_settings().data_dir)
NEWSMILL_WARC_MAX_RECORDS = 200
NEWSMILL_WARC_MAX_BYTES = 64 * 1024 * 1024
NEWSMILL_REQUEST_BUDGET_FACTOR = 4  # requests per source <= factor * max_pages + extra
NEWSMILL_REQUEST_BUDGET_EXTRA = 50
