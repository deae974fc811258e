"""The seen-URL store: which article URLs are already safe in a published WARC file.

sqlite in WAL mode at DATA_DIR/state/seen.sqlite. A URL goes in only after the
WARC file holding it is renamed into place, so a crawl killed mid-run loses
nothing: whatever was not published is fetched again next time. The same file
keeps the ETag / Last-Modified of feeds and sitemaps for conditional requests.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SeenStore", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    url        TEXT PRIMARY KEY,   -- normalize_url() form
    source     TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    warc_file  TEXT NOT NULL,      -- path relative to DATA_DIR
    seen_at    REAL NOT NULL       -- unix time of the publish
);
CREATE TABLE IF NOT EXISTS validators (
    url            TEXT PRIMARY KEY,  -- a feed or sitemap URL
    etag           TEXT,
    last_modified  TEXT,
    updated_at     REAL NOT NULL
);
"""


class SeenStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # isolation_level=None: we commit explicitly, one transaction per batch.
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a marked URL must survive power loss
        self._db.executescript(SCHEMA)

    def __contains__(self, url: str) -> bool:
        return self._db.execute("SELECT 1 FROM seen WHERE url = ?", (url,)).fetchone() is not None

    def mark(self, urls: Iterable[tuple[str, str]], run_id: str, warc_file: str) -> int:
        """Record (url, source) pairs as captured in `warc_file`; returns how many were new."""
        now = time.time()
        rows = [(url, source, run_id, warc_file, now) for url, source in urls]
        self._db.execute("BEGIN IMMEDIATE")
        try:
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?, ?)", rows)
            added = self._db.total_changes - before
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return added

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self._db.execute("SELECT etag, last_modified FROM validators WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def set_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if not etag and not last_modified:
            self._db.execute("DELETE FROM validators WHERE url = ?", (url,))
            return
        self._db.execute(
            "INSERT OR REPLACE INTO validators VALUES (?, ?, ?, ?)", (url, etag, last_modified, time.time())
        )

    def close(self) -> None:
        self._db.close()
