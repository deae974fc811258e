"""URL shapes per site template: each template has its own CMS-like URL scheme.

Patterns are matched with `re.search` against the URL path plus `?query`
(no fragment), which is also how the sources file documents them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Shape:
    template: str
    site_name: str
    display: str
    section_words: tuple[str, ...]
    feed_path: str
    feed_kind: str            # "rss" | "atom"
    amp: str                  # "" | "prefix" (/amp/<path>) | "param" (?amp=1)
    print_: str               # "" | "prefix" (/print/<path>) | "param" (?print=1)
    jsonld: bool
    og: bool
    meta_author: bool
    title_fmt: str            # "{h} | {s}" style

    def section_path(self, s: str) -> str:
        return {"harbor": f"/section/{s}/", "ledger": f"/category/{s}/",
                "courier": f"/sections/{s}", "gazette": f"/{s}/", "dispatch": f"/{s}",
                "bulletin": f"/section.php?name={s}"}[self.template]

    def subsection_path(self, s: str, sub: str) -> str:
        return f"/{s}/{sub}"  # dispatch only: same shape as its articles

    def tag_path(self, t: str) -> str:
        return {"harbor": f"/tag/{t}/", "ledger": f"/tag/{t}/", "courier": f"/topics/{t}",
                "gazette": f"/tags/{t}/", "dispatch": f"/topic/{t}",
                "bulletin": f"/tags.php?t={t}"}[self.template]

    def author_path(self, a: str) -> str:
        return {"harbor": f"/author/{a}/", "ledger": f"/author/{a}/", "courier": f"/by/{a}",
                "gazette": f"/authors/{a}/", "dispatch": f"/people/{a}",
                "bulletin": f"/author.php?id={a}"}[self.template]

    def article_path(self, section: str, slug: str, aid: int, when: datetime) -> str:
        t = self.template
        if t == "harbor":
            return f"/news/{slug}"
        if t == "ledger":
            return f"/{when:%Y/%m/%d}/{slug}.html"
        if t == "courier":
            return f"/article/{aid}/{slug}"
        if t == "gazette":
            return f"/{section}/{slug}-{aid}"
        if t == "dispatch":
            return f"/{section}/{slug}"
        return f"/story.php?id={aid}"

    @property
    def article_pattern(self) -> str:
        secs = "|".join(self.section_words)
        return {"harbor": r"^/news/[a-z0-9-]+$",
                "ledger": r"^/\d{4}/\d{2}/\d{2}/[a-z0-9-]+\.html$",
                "courier": r"^/article/\d+/[a-z0-9-]+$",
                "gazette": rf"^/({secs})/[a-z0-9-]+-\d+$",
                "dispatch": rf"^/({secs})/[a-z0-9]+(-[a-z0-9]+){{2,}}$",
                "bulletin": r"^/story\.php\?id=\d+$"}[self.template]

    @property
    def follow_pattern(self) -> str:
        secs = "|".join(self.section_words)
        hubs = {"harbor": r"^/(section|tag|author)/", "ledger": r"^/(category|tag|author)/",
                "courier": r"^/(sections|topics|by)/", "gazette": rf"^/(({secs})|tags|authors)/",
                "dispatch": rf"^/({secs}|topic|people)(/|$|\?)",
                "bulletin": r"^/(section|tags|author)\.php\?"}[self.template]
        return rf"^/$|^/archive/\d{{4}}/\d{{2}}/$|{hubs}"

    def amp_path(self, path: str) -> str | None:
        if self.amp == "prefix":
            return "/amp" + path
        if self.amp == "param":
            return path + ("&" if "?" in path else "?") + "amp=1"
        return None

    def print_path(self, path: str) -> str | None:
        if self.print_ == "prefix":
            return "/print" + path
        if self.print_ == "param":
            return path + ("&" if "?" in path else "?") + "print=1"
        return None


def with_query(path: str, query: str) -> str:
    return path + ("&" if "?" in path else "?") + query


def page_path(path: str, n: int) -> str:
    return path if n <= 1 else with_query(path, f"page={n}")


# template -> (site name, display name, sections, feed path, feed kind, amp, print, jsonld, og, meta author, title)
SPECS: dict[str, tuple] = {
    "harbor": ("harbor-times", "Harbor Times", ("world", "business", "politics", "science"),
               "/rss.xml", "rss", "prefix", "param", True, False, False, "{h} | {s}"),
    "ledger": ("valley-ledger", "Valley Ledger", ("news", "economy", "opinion"),
               "/feed.atom", "atom", "param", "", False, True, True, "{s} - {h}"),
    "courier": ("metro-courier", "Metro Courier", ("city", "nation", "tech", "health"),
                "/feeds/latest.rss", "rss", "prefix", "prefix", True, False, True, "{h} | {s}"),
    "gazette": ("north-gazette", "North Gazette", ("politics", "economy", "region"),
                "/atom.xml", "atom", "", "param", False, False, False, "{s} \u00bb {h}"),
    "dispatch": ("coastal-dispatch", "Coastal Dispatch", ("world", "business", "climate"),
                 "/rss", "rss", "param", "", False, True, False, "{h} \u2013 {s}"),
    "bulletin": ("river-bulletin", "River Bulletin", ("local", "national", "courts"),
                 "/atom.php", "atom", "", "param", True, True, True, "{s}: {h}"),
}
TEMPLATES = tuple(SPECS)
SUBSECTIONS = {"world": ["europe", "asia", "americas"], "business": ["markets", "companies"],
               "climate": ["weather", "oceans"]}


def make_shape(index: int) -> Shape:
    """Shape for the site at position `index`; beyond 6 sites templates repeat under new names."""
    template = TEMPLATES[index % len(TEMPLATES)]
    name, display, secs, feed, kind, amp, prn, jl, og, ma, fmt = SPECS[template]
    rnd = index // len(TEMPLATES)
    if rnd:
        name, display = f"{name}-{rnd + 1}", f"{display} {rnd + 1}"
    return Shape(template, name, display, secs, feed, kind, amp, prn, jl, og, ma, fmt)
