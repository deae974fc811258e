"""Score the extraction stage on the sample news web (flows.newsweb) against its truth.

Fetches every article page and hub page of each site over loopback, runs
`extract_pages` in one batch (order optionally shuffled), and measures:
template leak share (articles whose text contains any template block), recall
of the true body paragraphs, and per-field metadata accuracy.
"""

from __future__ import annotations

import random
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

from pipelines.blocks import normalize
from pipelines.extract import extract_pages
from pipelines.models import Article, Page
from pipelines.settings import Settings
from pipelines.urls import normalize_url


@dataclass
class WebPages:
    pages: list[Page]
    truth: dict[str, tuple[object, object]]  # page url -> (site truth, article truth)


def fetch_web(n_sites: int = 3, articles_per_site: int = 20, seed: int = 7, hubs: bool = True) -> WebPages:
    from flows.newsweb import build_web, serve_web

    web = build_web(n_sites=n_sites, articles_per_site=articles_per_site, seed=seed)
    server = serve_web(web)
    pages: list[Page] = []
    truth: dict[str, tuple[object, object]] = {}
    try:
        for site in web.sites:
            base = server.base_url(site.name)
            paths = [(a.path, a) for a in site.articles] + ([(h, None) for h in site.hub_paths] if hubs else [])
            for path, art in paths:
                url = urljoin(base, path)
                try:
                    with urllib.request.urlopen(url, timeout=10) as resp:
                        body = resp.read()
                        headers = {k.lower(): v for k, v in resp.headers.items()}
                        final = resp.geturl()
                except OSError:
                    continue
                pages.append(Page(final, body, 200, headers, datetime.now(UTC), site.name,
                                  "pattern" if art is not None else None))
                if art is not None:
                    truth[final] = (site, art, base)
    finally:
        server.stop()
    return WebPages(pages, truth)


def score_articles(articles: list[Article], truth: dict) -> dict[str, float]:
    leaks = n = 0
    par_total = par_found = 0
    fields = {"title": 0, "authors": 0, "authors_ordered": 0, "published": 0, "language": 0, "canonical": 0}
    for a in articles:
        if a.url not in truth:
            continue
        site, art, base = truth[a.url]
        n += 1
        text = f" {normalize(a.text)} "
        if any(f" {normalize(t)} " in text for t in site.template_blocks if normalize(t)):
            leaks += 1
        lines = {normalize(x) for x in a.text.split("\n")}
        for p in art.paragraphs:
            par_total += 1
            par_found += normalize(p) in lines
        fields["title"] += a.title == art.title
        # the pages list co-authors in the site's own order, not always the truth's: compare as sets
        fields["authors"] += sorted(a.authors) == sorted(art.authors)
        fields["authors_ordered"] += list(a.authors) == list(art.authors)
        pub = datetime.fromisoformat(art.published)
        fields["published"] += a.published_at is not None and abs((a.published_at - pub).total_seconds()) < 60
        fields["language"] += (a.language or "") == art.language
        canon = normalize_url(urljoin(base, art.canonical_path or art.path))
        fields["canonical"] += a.canonical_url == canon
    out = {"articles": n, "leak_share": leaks / n if n else 0.0,
           "paragraph_recall": par_found / par_total if par_total else 0.0}
    out.update({f"meta/{k}": v / n if n else 0.0 for k, v in fields.items()})
    return out


def run_web(state_dir: Path, settings: Settings, web: WebPages, shuffle_seed: int | None = None) -> dict[str, float]:
    pages = list(web.pages)
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(pages)
    result = extract_pages(pages, state_dir, settings, run_id="bench")
    scores = score_articles(result.articles, web.truth)
    scores["articles_expected"] = len(web.truth)
    scores["kept"] = result.stats["kept"]
    scores["texts"] = {a.url: a.text for a in result.articles}  # type: ignore[assignment]
    return scores
