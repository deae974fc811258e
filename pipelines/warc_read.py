"""Read HTML responses out of WARC files: our own crawl's and foreign ones (CC-NEWS).

Only `response` records with an HTTP 200 and an HTML-ish payload become Pages;
everything else is counted by reason. warcio undoes chunked transfer and
Content-Encoding for us (`content_stream`).
"""

from __future__ import annotations

import glob
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import fsspec
from warcio.archiveiterator import ArchiveIterator

from pipelines.models import Page
from pipelines.urls import domain_of

MAX_BODY_BYTES = 16 * 1024 * 1024  # larger payloads are skipped, as the crawler does
HTML_TYPES = ("text/html", "application/xhtml+xml")
SOURCE_HEADER = "WARC-Newsmill-Source"
ARTICLE_HEADER = "WARC-Newsmill-Article"


class WarcInputError(ValueError):
    """A WARC path that names nothing readable."""


@dataclass
class ReadStats:
    records: int = 0
    pages: int = 0
    skipped: Counter = field(default_factory=Counter)


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files, globs and directories (local or fsspec URLs) -> sorted WARC paths."""
    out: list[str] = []
    for item in inputs:
        if "://" in item:
            # fsspec expands globs itself; directories are searched below.
            fs, _, paths = fsspec.get_fs_token_paths(item)
            found = []
            for p in paths:
                found += [q for q in fs.find(p) if _is_warc(q)] if fs.isdir(p) else [p]
            if not found:
                raise WarcInputError(f"{item}: no WARC files found")
            out += [fs.unstrip_protocol(p) for p in found]
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and _is_warc(p.name))
        elif any(ch in item for ch in "*?["):
            found = sorted(p for p in glob.glob(item, recursive=True) if _is_warc(p))
        elif path.is_file():
            found = [item]
        else:
            raise WarcInputError(f"{item}: no such file or directory")
        if not found:
            raise WarcInputError(f"{item}: no WARC files found")
        out += found
    return sorted(dict.fromkeys(out))


def _is_warc(name: str) -> bool:
    base = Path(name).name
    return not base.startswith((".", "_")) and (base.endswith(".warc.gz") or base.endswith(".warc"))


def read_pages(path: str, stats: ReadStats | None = None, default_source: str | None = None) -> Iterator[Page]:
    """Yield the HTML responses of one WARC file as Pages."""
    stats = stats if stats is not None else ReadStats()
    with fsspec.open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type != "response":
                continue
            stats.records += 1
            page = _to_page(record, path, default_source, stats)
            if page is not None:
                stats.pages += 1
                yield page


def _to_page(record, path: str, default_source: str | None, stats: ReadStats) -> Page | None:
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    if not url.startswith(("http://", "https://")):
        stats.skipped["not_http"] += 1
        return None
    http = record.http_headers
    if http is None:
        stats.skipped["no_http_headers"] += 1
        return None
    status = int(http.get_statuscode() or 0)
    if status != 200:
        stats.skipped[f"status_{status}"] += 1
        return None
    ctype = (http.get_header("Content-Type") or "").lower()
    if ctype and not ctype.startswith(HTML_TYPES):
        stats.skipped["not_html"] += 1
        return None
    body = record.content_stream().read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        stats.skipped["too_large"] += 1
        return None
    source = record.rec_headers.get_header(SOURCE_HEADER) or default_source or domain_of(url)
    return Page(
        url=url,
        html=body,
        status=status,
        headers={k.lower(): v for k, v in http.headers},
        fetched_at=_parse_warc_date(record.rec_headers.get_header("WARC-Date")),
        source=source,
        article_hint=record.rec_headers.get_header(ARTICLE_HEADER),
        warc_path=path,
        warc_offset=0,
    )


def _parse_warc_date(value: str | None) -> datetime:
    if not value:
        return datetime.now(timezone.utc)
    value = value.replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return datetime.now(timezone.utc)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def is_transient(exc: BaseException) -> bool:
    """An I/O error worth retrying (network, timeouts) rather than a bad or missing file."""
    import gzip
    import zlib

    from warcio.exceptions import ArchiveLoadFailed

    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError,
                        gzip.BadGzipFile, zlib.error, EOFError, ArchiveLoadFailed, WarcInputError)):
        return False
    return isinstance(exc, (OSError, TimeoutError, ConnectionError))


def read_error_reason(exc: BaseException) -> str:
    """One line for the run report: the exception's type and message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = "".join(c if c.isprintable() and c.isascii() else "?" for c in text[:200])
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
