"""Ground truth of the sample web: what a perfect crawler + extractor should find.

Render-only data (teaser texts, author slugs, related links) lives in
`SiteTruth.render`, which `truth_json()` leaves out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ArticleTruth:
    path: str                      # main URL path (+query for query-style CMSs)
    title: str                     # headline without the site suffix
    authors: list[str]
    published: str                 # ISO 8601 UTC, e.g. 2026-11-03T08:15:00+00:00
    paragraphs: list[str]          # exact body text, one string per paragraph
    story_id: str                  # equal on two sites = syndicated copy
    section: str
    tags: list[str]
    summary: str                   # standfirst used in teasers/feeds; NOT body text
    id: int
    language: str = "en"
    in_feed: bool = False
    in_sitemap: bool = True
    canonical_path: str = ""
    variants: list[str] = field(default_factory=list)  # AMP / print / utm paths of this page
    short: bool = False
    syndicated_from: str | None = None  # "site:path" of the original, on copies


@dataclass
class SiteRender:
    """Everything templates need beyond the truth; excluded from truth_json."""
    display: str
    sections: list[tuple[str, str]]             # (slug, label)
    subsections: dict[str, list[str]]           # section slug -> subsection slugs (dispatch)
    tags: list[tuple[str, str]]
    authors: list[tuple[str, str]]              # (slug, display name)
    editors_choice: list[tuple[str, str]]       # (heading, long teaser paragraph)
    popular: list[str]
    big_teasers: dict[str, tuple[str, list[str]]]  # article path -> shared big teaser
    related: dict[str, list[str]]               # article path -> related article paths
    captions: dict[str, str]                    # article path -> photo caption
    subsection_of: dict[str, str]               # article path -> subsection slug (dispatch)
    first_month: tuple[int, int]
    last_month: tuple[int, int]


@dataclass
class SiteTruth:
    name: str
    template: str
    host_index: int                # served on 127.0.1.<host_index>
    display_name: str
    articles: list[ArticleTruth]
    hub_paths: list[str]
    disallowed_paths: list[str]
    template_blocks: list[str]
    syndicated: list[dict[str, Any]]   # [{"story_id", "path", "copies": [{"site","path"}], "original": bool}]
    teaser_pairs: list[tuple[str, str]]
    feed_path: str
    feed_kind: str                 # "rss" | "atom"
    sitemap_paths: list[str]       # index, child urlsets, news sitemap
    other_paths: list[str]         # linked non-HTML / non-hub pages (PDF, disallowed pages)
    article_pattern: str
    follow_pattern: str
    render: SiteRender = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def article(self, path: str) -> ArticleTruth | None:
        return next((a for a in self.articles if a.path == path), None)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("render")
        d["teaser_pairs"] = [list(p) for p in self.teaser_pairs]
        return d


@dataclass
class Web:
    seed: int
    sites: list[SiteTruth]

    def site(self, name: str) -> SiteTruth:
        return next(s for s in self.sites if s.name == name)

    def syndicated_groups(self) -> list[list[dict[str, str]]]:
        """Each group: every (site, path) carrying one story, original first."""
        groups: dict[str, list[dict[str, str]]] = {}
        for s in self.sites:
            for a in s.articles:
                groups.setdefault(a.story_id, []).append(
                    {"site": s.name, "path": a.path, "copy": "1" if a.syndicated_from else ""})
        out = []
        for g in groups.values():
            if len(g) > 1:
                g.sort(key=lambda m: m["copy"])
                out.append([{"site": m["site"], "path": m["path"]} for m in g])
        return out

    def truth_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "sites": [s.to_json() for s in self.sites],
                "syndicated": self.syndicated_groups()}

    def dumps(self) -> str:
        return json.dumps(self.truth_json(), sort_keys=True, ensure_ascii=False)
