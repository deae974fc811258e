"""The sources file (DESIGN.md contract 1), loaded into validated models.

Everything wrong with the file is found here, before anything is fetched, and
reported in one line that names the source and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

NAME_RE = re.compile(r"^[a-z0-9_-]+$")
KEYS = {
    "name", "start_urls", "feeds", "sitemaps", "allowed_domains", "article_pattern",
    "follow_pattern", "deny_pattern", "max_depth", "max_pages",
}
DEFAULT_MAX_DEPTH = 3
DEFAULT_MAX_PAGES = 5000


class SourcesError(ValueError):
    """The sources file is unusable; the message is one line naming source and key."""


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_pattern: re.Pattern[str] | None = None
    follow_pattern: re.Pattern[str] | None = None
    deny_pattern: re.Pattern[str] | None = None
    max_depth: int = DEFAULT_MAX_DEPTH
    max_pages: int = DEFAULT_MAX_PAGES
    hosts: frozenset[str] = field(default=frozenset())  # hosts of all configured URLs

    def all_urls(self) -> tuple[str, ...]:
        return self.start_urls + self.feeds + self.sitemaps


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a sources file; raise SourcesError on the first problem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SourcesError(f"{path}:{where} not valid YAML") from None
    return parse_sources(raw, str(path))


def parse_sources(raw: object, origin: str = "sources") -> list[Source]:
    if not isinstance(raw, dict) or set(raw) != {"sources"}:
        raise SourcesError(f"{origin}: expected a mapping with the single key 'sources'")
    items = raw["sources"]
    if not isinstance(items, list) or not items:
        raise SourcesError(f"{origin}: 'sources' must be a non-empty list")
    sources, names = [], set()
    for i, item in enumerate(items):
        src = _parse_one(item, f"{origin}: source #{i + 1}")
        if src.name in names:
            raise SourcesError(f"{origin}: source '{src.name}': key 'name': duplicate name")
        names.add(src.name)
        sources.append(src)
    return sources


def _parse_one(item: object, where: str) -> Source:
    if not isinstance(item, dict):
        raise SourcesError(f"{where}: expected a mapping")
    name = item.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SourcesError(f"{where}: key 'name': must match [a-z0-9_-]+, got {name!r}")
    where = f"{where.split(':')[0]}: source '{name}'"

    def fail(key: str, msg: str) -> SourcesError:
        return SourcesError(f"{where}: key '{key}': {msg}")

    unknown = sorted(set(item) - KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (allowed: {', '.join(sorted(KEYS))})")

    def urls(key: str) -> tuple[str, ...]:
        value = item.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise fail(key, "must be a list of URLs")
        for url in value:
            parts = urlsplit(url) if isinstance(url, str) else None
            if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
                raise fail(key, f"not an http(s) URL: {url!r}")
        return tuple(value)

    def regex(key: str) -> re.Pattern[str] | None:
        value = item.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise fail(key, "must be a string (a regular expression)")
        try:
            return re.compile(value)
        except re.error as exc:
            raise fail(key, f"bad regular expression: {exc}") from None

    def positive(key: str, default: int) -> int:
        value = item.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise fail(key, f"must be a whole number >= 0, got {value!r}")
        return value

    start_urls, feeds, sitemaps = urls("start_urls"), urls("feeds"), urls("sitemaps")
    if not (start_urls or feeds or sitemaps):
        raise fail("start_urls", "at least one of start_urls, feeds, sitemaps is required")
    hosts = frozenset(urlsplit(u).hostname.lower() for u in start_urls + feeds + sitemaps)
    allowed = item.get("allowed_domains")
    if allowed is None:
        allowed = sorted(hosts)
    if not isinstance(allowed, list) or not all(isinstance(d, str) and d for d in allowed):
        raise fail("allowed_domains", "must be a list of domain names")
    return Source(
        name=name,
        start_urls=start_urls,
        feeds=feeds,
        sitemaps=sitemaps,
        allowed_domains=tuple(d.lower().lstrip(".") for d in allowed),
        article_pattern=regex("article_pattern"),
        follow_pattern=regex("follow_pattern"),
        deny_pattern=regex("deny_pattern"),
        max_depth=positive("max_depth", DEFAULT_MAX_DEPTH),
        max_pages=positive("max_pages", DEFAULT_MAX_PAGES),
        hosts=hosts,
    )
