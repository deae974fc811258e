"""The extraction stage: pages -> articles, in two passes over a batch.

Pass 1 (worker processes, `pageparse.parse_page`): body lines, metadata and
candidate blocks of every page, hubs included. Then, in this process, each
domain's template blocks are learned from the batch plus the stored state
(`templates`), and saved. Pass 2 (cheap, here): drop the lines that are template
blocks, build `Article` rows, drop pages left too short.

    result = extract_pages(pages, state_dir, settings, run_id)
    result.articles, result.dropped, result.stats
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.blocks import normalize
from pipelines.models import Article, Dropped, Page
from pipelines.pageparse import Parsed, parse_page, reparse_page, warm_up
from pipelines.settings import Settings
from pipelines.templates import DomainTemplates, Filter, TemplateStore, build_filter, remember_texts
from pipelines.urls import domain_of, normalize_url, url_hash
from pipelines.workers import run_tasks

__all__ = ["MIN_WORDS", "ExtractResult", "extract_one", "extract_pages"]

MIN_WORDS = 20  # fewer body words than this: not an article ("too_short")


@dataclass(slots=True)
class ExtractResult:
    articles: list[Article]
    dropped: list[Dropped]
    stats: dict[str, float] = field(default_factory=dict)


def content_hash(text: str, norm: str | None = None) -> str:
    """sha1 of the normalized text (lower-case `\\w+` tokens joined by spaces)."""
    return hashlib.sha1((normalize(text) if norm is None else norm).encode("utf-8")).hexdigest()


def _page_id(url: str) -> str:
    return url_hash(normalize_url(url))


def where_of(parsed: Parsed) -> dict[str, str]:
    return {b.key: b.path for b in parsed.blocks}


def needs_reparse(parsed: Parsed, flt: Filter | None) -> frozenset[str] | None:
    """Keys to cut from the DOM when templates took much of the extracted text, else None.

    trafilatura may have taken a template block (a long shared teaser) for the main
    content; extracting again without those blocks finds the real body.
    """
    if flt is None or parsed.hub or not parsed.lines:
        return None
    where = where_of(parsed)
    kept, dropped = flt.apply(parsed.lines, where)
    if not dropped:
        return None
    before = sum(len(x.split()) for x in parsed.lines)
    after = sum(len(x.split()) for x in kept)
    if after >= MIN_WORDS * 3 and after >= 0.7 * before:
        return None
    return frozenset(dropped | flt.keys | {k for k, path in where.items() if path in flt.paths})


def finish(page: Page, parsed: Parsed, flt: Filter | None, run_id: str = "") -> tuple[Article | Dropped, int]:
    """Pass 2 for one page: template lines out, the row built. Returns (row, lines removed)."""
    if parsed.hub:
        return Dropped(page.url, "not_article", parsed.hub), 0
    lines = parsed.lines
    if flt is not None:
        lines = flt.apply(lines, where_of(parsed))[0]
    removed = len(parsed.lines) - len(lines)
    text = "\n".join(lines)
    norm = normalize(text)
    words = norm.count(" ") + 1 if norm else 0
    if not lines:
        return Dropped(page.url, "no_text"), removed
    if words < MIN_WORDS:
        return Dropped(page.url, "too_short", f"{words} words"), removed
    m = parsed.meta
    canonical = m.canonical_url or normalize_url(page.url)
    article = Article(
        article_id=url_hash(canonical),
        url=page.url,
        canonical_url=canonical,
        source=page.source,
        domain=domain_of(page.url),
        title=m.title,
        authors=list(m.authors),
        published_at=m.published_at,
        language=m.language,
        text=text,
        word_count=words,
        fetched_at=page.fetched_at,
        content_hash=content_hash(text, norm),
        run_id=run_id,
    )
    return article, removed


def extract_one(page: Page, templates: DomainTemplates | Filter | None = None) -> Article | Dropped:
    """One page, in this process (tests, golden files). `templates`: learned state, if any."""
    parsed = parse_page(page)
    if isinstance(parsed, Dropped):
        return parsed
    flt = build_filter(templates) if isinstance(templates, DomainTemplates) else templates
    return finish(page, parsed, flt)[0]


def learn(parsed: dict[int, Parsed], pages: list[Page], store: TemplateStore) -> dict[str, Filter]:
    """Count every parsed page's blocks into its domain's state; one Filter per domain."""
    domains: dict[str, list[int]] = {}
    for i in parsed:
        domains.setdefault(domain_of(pages[i].url), []).append(i)
    filters = {}
    changed: list[str] = []
    for domain, idx in domains.items():
        state = store.get(domain)
        texts: dict[str, str] = {}
        added = False
        # variants of one page (print, AMP, tracking) share a canonical URL: counted once,
        # the same one whatever the order (sorted by id, then URL)
        for i in sorted(idx, key=lambda i: (_page_id(parsed[i].meta.canonical_url or pages[i].url), pages[i].url)):
            added |= state.add_page(_page_id(parsed[i].meta.canonical_url or pages[i].url), parsed[i].blocks)
            texts.update((b.key, b.text) for b in parsed[i].blocks)
        if added:
            remember_texts(state, state.template_keys(), texts)
            changed.append(domain)
        filters[domain] = build_filter(state)
    store.save(changed)
    return filters


def extract_pages(pages: Iterable[Page], state_dir: Path, settings: Settings, run_id: str = "") -> ExtractResult:
    t0 = time.monotonic()
    pages = list(pages)
    warm_up()
    stats: dict[str, float] = {}
    reasons: Counter[str] = Counter()
    parsed: dict[int, Parsed] = {}
    early: dict[int, Dropped] = {}
    for out in run_tasks(parse_page, pages, settings.worker_count, settings.extract_timeout_s,
                         settings.extract_max_mem_mb, stats):
        if not out.ok:
            early[out.index] = Dropped(pages[out.index].url, out.reason, out.detail)
        elif isinstance(out.value, Dropped):
            early[out.index] = out.value
        else:
            parsed[out.index] = out.value
    t1 = time.monotonic()
    store = TemplateStore(state_dir)
    filters = learn(parsed, pages, store)
    stats["templates/state_unreadable"] = len(store.unreadable)
    jobs = {}
    for i, p in parsed.items():
        keys = needs_reparse(p, filters.get(domain_of(pages[i].url)))
        if keys:
            jobs[i] = (pages[i], keys)
    order = sorted(jobs)
    for out in run_tasks(reparse_page, [jobs[i] for i in order], settings.worker_count,
                         settings.extract_timeout_s, settings.extract_max_mem_mb, stats):
        i = order[out.index]
        if out.ok and isinstance(out.value, Parsed):
            parsed[i] = out.value
        else:  # the first extraction stands, filtered as usual
            reasons_reparse = f"reparse_failed/{out.reason or 'dropped'}"
            stats[reasons_reparse] = stats.get(reasons_reparse, 0) + 1
    stats["reparsed"] = len(jobs)
    articles: list[Article] = []
    dropped: list[Dropped] = []
    removed_total = 0
    for i, page in enumerate(pages):
        if i in early:
            row: Article | Dropped = early[i]
        else:
            row, removed = finish(page, parsed[i], filters.get(domain_of(page.url)), run_id)
            removed_total += removed
        if isinstance(row, Dropped):
            dropped.append(row)
            reasons[row.reason] += 1
        else:
            articles.append(row)
    stats.update({
        "total": len(pages),
        "kept": len(articles),
        "dropped": len(dropped),
        **{f"dropped/{r}": float(n) for r, n in sorted(reasons.items())},
        "template_blocks_removed": removed_total,
        "template_domains": len(filters),
        "seconds/parse": t1 - t0,
        "seconds": time.monotonic() - t0,
    })
    return ExtractResult(articles, dropped, stats)
