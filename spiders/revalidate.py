"""Conditional GET of feeds and sitemaps: validators sent, and saved only when it is safe.

After a 304 we never see a document's entries again, so its validators are saved only
at a clean finish and only if every entry it listed was dealt with for good: one failed,
over-budget or out-of-window entry (or a kill before the WARC is published) must force
a full fetch next run. Trouble in a child sitemap dirties the index that listed it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spiders.seen import SeenStore

__all__ = ["Revalidation", "conditional_headers"]


def conditional_headers(seen: SeenStore, url: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the last clean run: a 304 means nothing new."""
    etag, modified = seen.validators(url)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    return headers


@dataclass(slots=True)
class Revalidation:
    """This run's feeds and sitemaps: their validators, who listed them, and which must be refetched."""

    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    parent: dict[str, str | None] = field(default_factory=dict)  # doc -> the robots.txt or index that listed it
    dirty_docs: set[str] = field(default_factory=set)

    def listed(self, doc: str, by: str | None) -> None:
        self.parent[doc] = by

    def fetched(self, doc: str, etag: str | None, modified: str | None) -> None:
        self.validators[doc] = (etag, modified)

    def dirty(self, doc: str | None) -> None:
        """The feed/sitemap `doc` (and the index that listed it) must be refetched in full next run."""
        while doc and doc not in self.dirty_docs:
            self.dirty_docs.add(doc)
            doc = self.parent.get(doc)

    def save(self, seen: SeenStore) -> None:
        """Store the validators; a dirty document's are cleared."""
        for url, (etag, modified) in self.validators.items():
            clean = url not in self.dirty_docs
            seen.set_validators(url, etag if clean else None, modified if clean else None)
