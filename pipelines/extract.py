"""The extraction stage: pages -> articles, in two passes over a batch.

Pass 1 (worker processes, `pageparse.parse_page`): body lines, metadata and
candidate blocks of every page, hubs included. Workers are forked with the batch
in memory, so a task is a page's index, never its bytes; while they work, this
process notes each result's domain and page id. Then, here, each domain's
template blocks are learned from the batch plus the stored state (`templates`),
and saved. Pages whose text was mostly template are extracted again in the pool
without those blocks. Pass 2 (cheap, here): drop the lines that are template
blocks, build `Article` rows, drop pages left too short.

    result = extract_pages(pages, state_dir, settings, run_id)
    result.articles, result.dropped, result.stats
"""

from __future__ import annotations

import hashlib
import pickle
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pipelines.blocks import normalize, text_key
from pipelines.metadata import Meta
from pipelines.models import Article, Dropped, Page
from pipelines.pageparse import Body, Cut, Parsed, parse_page, reparse_body, warm_up
from pipelines.settings import Settings
from pipelines.templates import DomainTemplates, Filter, TemplateStore, build_filter
from pipelines.urls import domain_of, normalize_url, url_hash
from pipelines.workers import run_tasks

__all__ = ["MIN_WORDS", "ExtractResult", "Learned", "extract_one", "extract_pages", "finish_pages", "parse_all",
           "parse_stream"]

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


def _line_forms(parsed: Parsed) -> tuple[list[str], list[str]]:
    """Each line normalized and keyed (computed by the worker; here only for a Parsed built by hand)."""
    if len(parsed.norms) != len(parsed.lines) or len(parsed.keys) != len(parsed.lines):
        parsed.norms = [normalize(x) for x in parsed.lines]
        parsed.keys = [text_key(n) for n in parsed.norms]
    return parsed.norms, parsed.keys


def drop_mask(parsed: Parsed, flt: Filter) -> list[bool]:
    """Which of the page's lines are template."""
    norms, keys = _line_forms(parsed)
    return flt.drop_mask(norms, keys, where_of(parsed))


def needs_reparse(parsed: Parsed, flt: Filter | None, drop: list[bool] | None = None) -> frozenset[str] | None:
    """Keys to cut from the DOM when templates took much of the extracted text, else None.

    trafilatura may have taken a template block (a long shared teaser) for the main
    content; extracting again without those blocks finds the real body. `drop`: the
    page's `drop_mask`, when the caller has it.
    """
    if flt is None or parsed.hub or not parsed.lines:
        return None
    if drop is None:
        drop = drop_mask(parsed, flt)
    if not any(drop):
        return None
    before = sum(len(x.split()) for x in parsed.lines)
    after = sum(len(x.split()) for x, d in zip(parsed.lines, drop, strict=True) if not d)
    if after >= MIN_WORDS * 3 and after >= 0.7 * before:
        return None
    dropped = {k for k, d in zip(_line_forms(parsed)[1], drop, strict=True) if d}
    where = where_of(parsed)
    return frozenset(dropped | flt.keys | {k for k, path in where.items() if path in flt.paths})


def finish(page: Page, parsed: Parsed, flt: Filter | None, run_id: str = "", *,
           domain: str | None = None, drop: list[bool] | None = None) -> tuple[Article | Dropped, int]:
    """Pass 2 for one page: template lines out, the row built. Returns (row, lines removed).
    `domain`, `drop`: the page's domain and `drop_mask`, when the caller has them."""
    if parsed.hub:
        return Dropped(page.url, "not_article", parsed.hub), 0
    norms, _ = _line_forms(parsed)
    lines = parsed.lines
    if flt is not None:
        if drop is None:
            drop = drop_mask(parsed, flt)
        lines = [x for x, d in zip(lines, drop, strict=True) if not d]
        norms = [n for n, d in zip(norms, drop, strict=True) if not d]
    removed = len(parsed.lines) - len(lines)
    text = "\n".join(lines)
    norm = " ".join(n for n in norms if n)  # == normalize(text): tokens never span lines
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
        domain=domain_of(page.url) if domain is None else domain,
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


def learn(parsed: dict[int, Parsed], pages: list[Page], store: TemplateStore,
          ident: dict[int, tuple[str, str]] | None = None, save: bool = True) -> dict[str, Filter]:
    """Count every parsed page's blocks into its domain's state; one Filter per domain.

    `ident`: index -> (domain, page id), when the caller has them. `save`: write the
    domains that changed now; else they are left in `store.unsaved` for the caller."""
    if ident is None:
        ident = {i: _page_key(pages[i], parsed[i]) for i in parsed}
    domains: dict[str, list[int]] = {}
    for i in parsed:
        domains.setdefault(ident[i][0], []).append(i)
    filters = {}
    changed: list[str] = []
    for domain, idx in domains.items():
        state = store.get(domain)
        added = False
        # variants of one page (print, AMP, tracking) share a canonical URL: counted once,
        # the same one whatever the order (sorted by id, then URL)
        for i in sorted(idx, key=lambda i: (ident[i][1], pages[i].url)):
            added |= state.add_page(ident[i][1], parsed[i].blocks)
        paths = state.templated_paths() if len(state.pages) >= 2 else set()
        keys = state.template_keys(paths)
        if added:
            state.texts.update((b.key, b.text) for i in idx for b in parsed[i].blocks if b.key in keys)
            changed.append(domain)
        filters[domain] = build_filter(state, keys, paths)
    store.unsaved.update(changed)
    if save:
        store.save_unsaved()
    return filters


def _page_key(page: Page, parsed: Parsed) -> tuple[str, str]:
    """(domain, page id): what learning groups and counts a page by."""
    return domain_of(page.url), _page_id(parsed.meta.canonical_url or page.url)


def _idents(pages: list[Page], parsed: dict[int, Parsed],
            ident: dict[int, tuple[str, str]] | None) -> dict[int, tuple[str, str]]:
    """(domain, page id) of every parsed page: `ident`'s, the missing ones computed."""
    ident = ident or {}
    return {**{i: _page_key(pages[i], p) for i, p in parsed.items() if i not in ident}, **ident}


@dataclass
class Learned:
    """Template state across the batches of a run: the store, and each domain's latest
    Filter (learned from a batch, or built from the stored state). Only the last batch's
    domains stay in memory (a CC-NEWS backfill meets thousands); the others are saved,
    and read again when a later batch has them."""

    store: TemplateStore
    filters: dict[str, Filter] = field(default_factory=dict)

    def learn(self, pages: list[Page], first: list[Parsed | Dropped],
              ident: dict[int, tuple[str, str]] | None = None, save: bool = True) -> dict[str, Filter]:
        """Count a batch's pass 1 into its domains' state; their Filters. `save=False`:
        the caller saves (`store.save_unsaved()`), e.g. once the next pass 1 is started."""
        self.store.save_unsaved()  # the domains about to leave memory must not leave unsaved
        parsed = {i: p for i, p in enumerate(first) if isinstance(p, Parsed)}
        filters = learn(parsed, pages, self.store, _idents(pages, parsed, ident), save)
        self.filters = dict(filters)
        self.store.loaded = {d: t for d, t in self.store.loaded.items() if d in filters}
        return filters

    def cuts(self, pages: list[Page]) -> dict[str, Cut]:
        """What pass 1 of `pages` may cut before extraction: the template of each of their
        domains known so far (none for a domain not yet learned)."""
        out = {}
        for domain in {domain_of(p.url) for p in pages}:
            flt = self.filters.get(domain)
            if flt is None:
                state = self.store.get(domain)
                if len(state.pages) < 2:
                    continue
                flt = self.filters[domain] = build_filter(state)
            if flt.keys or flt.paths:
                out[domain] = (flt.keys, flt.paths)
        return out


def _parse_nth(pages: list[Page], cuts: dict[str, Cut],
               job: int | tuple[int, frozenset[str], Meta]) -> Parsed | Body | Dropped:
    """A worker's task: the page at an index of the batch (inherited at fork, never sent),
    or, with the blocks to cut and the page's metadata, its body extracted again."""
    if isinstance(job, int):
        page = pages[job]
        return parse_page(page, cuts.get(domain_of(page.url)) if cuts else None)
    i, keys, meta = job
    return reparse_body(pages[i], keys, meta)


def _parse_keyed(pages: list[Page], cuts: dict[str, Cut], pickled: bool,
                 i: int) -> tuple[tuple[str, str] | None, Parsed | Dropped | bytes]:
    """A pass-1 task: the page's result with its (domain, page id) if parsed (what learning
    counts it by), both made here in the worker; `pickled`: the result pickled here too."""
    out = _parse_nth(pages, cuts, i)
    key = _page_key(pages[i], out) if isinstance(out, Parsed) else None
    return key, (pickle.dumps(out, pickle.HIGHEST_PROTOCOL) if pickled else out)


def parse_all(pages: list[Page], settings: Settings, stats: dict[str, float] | None = None,
              cuts: dict[str, Cut] | None = None) -> tuple[list[Parsed | Dropped], dict[int, tuple[str, str]]]:
    """Pass 1 of every page in the worker pool: one result per page, and (domain, page id)
    of each parsed page (what learning needs). See `parse_stream` for the arguments."""
    first: list[Parsed | Dropped] = [Dropped("", "error")] * len(pages)
    ident: dict[int, tuple[str, str]] = {}
    for i, key, result in parse_stream(pages, settings, stats, cuts):
        first[i] = result
        if key is not None:
            ident[i] = key
    return first, ident


def parse_stream(pages: list[Page], settings: Settings, stats: dict[str, float] | None = None,
                 cuts: dict[str, Cut] | None = None, pickled: bool = False,
                 ) -> Iterator[tuple[int, tuple[str, str] | None, Parsed | Dropped | bytes]]:
    """`parse_all` as the results come, in completion order: (index, (domain, page id) if
    parsed, result). `cuts`: templates known before this batch, by domain (`Learned.cuts`).
    `pickled`: a parsed page's result stays as its worker pickled it (bytes), for a caller
    that only passes the results on to another process, which then unpickles them once
    instead of twice. `stats` is complete once the stream is."""
    t0 = time.monotonic()
    stats = {} if stats is None else stats
    warm_up()
    for out in run_tasks(partial(_parse_keyed, pages, cuts or {}, pickled), range(len(pages)), settings.worker_count,
                         settings.extract_timeout_s, settings.extract_max_mem_mb, stats):
        if out.ok:
            yield out.index, *out.value
        else:
            yield out.index, None, Dropped(pages[out.index].url, out.reason, out.detail)
    stats["seconds/parse"] = time.monotonic() - t0


def extract_pages(pages: Iterable[Page], state_dir: Path, settings: Settings, run_id: str = "") -> ExtractResult:
    """Pass 1 (`parse_all`, cutting the templates already stored), then `finish_pages`."""
    t0 = time.monotonic()
    pages = list(pages)
    stats: dict[str, float] = {}
    learned = Learned(TemplateStore(state_dir))
    first, ident = parse_all(pages, settings, stats, learned.cuts(pages))
    result = finish_pages(pages, first, state_dir, settings, run_id, stats, ident,
                          learned.learn(pages, first, ident))
    result.stats["seconds"] = time.monotonic() - t0
    return result


def finish_pages(pages: list[Page], first: list[Parsed | Dropped], state_dir: Path, settings: Settings,
                 run_id: str = "", stats: dict[str, float] | None = None,
                 ident: dict[int, tuple[str, str]] | None = None,
                 filters: dict[str, Filter] | None = None) -> ExtractResult:
    """Pass 2 on pass-1 results, wherever pass 1 ran (this pool, or Dask workers):
    learn the domains' templates (unless the caller did: `filters`), re-extract pages a
    template hid the body of, build rows."""
    t0 = time.monotonic()
    stats = {} if stats is None else stats
    parsed = {i: p for i, p in enumerate(first) if isinstance(p, Parsed)}
    ident = _idents(pages, parsed, ident)
    if filters is None:
        learned = Learned(TemplateStore(state_dir))
        filters = learned.learn(pages, first, ident)
        stats["templates/state_unreadable"] = len(learned.store.unreadable)
    jobs: dict[int, frozenset[str]] = {}
    masks: dict[int, list[bool]] = {}
    for i, p in parsed.items():
        flt = filters.get(ident[i][0])
        if flt is None or p.hub or not p.lines:
            continue
        masks[i] = drop_mask(p, flt)
        keys = needs_reparse(p, flt, masks[i])
        if keys:
            jobs[i] = keys
    order = sorted(jobs)
    for out in run_tasks(partial(_parse_nth, pages, {}), [(i, jobs[i], parsed[i].meta) for i in order],
                         settings.worker_count, settings.extract_timeout_s, settings.extract_max_mem_mb, stats):
        i = order[out.index]
        if out.ok and isinstance(out.value, Body):
            parsed[i] = out.value.into(parsed[i])
            masks.pop(i, None)
        else:  # the first extraction stands, filtered as usual
            reasons_reparse = f"reparse_failed/{out.reason or 'dropped'}"
            stats[reasons_reparse] = stats.get(reasons_reparse, 0) + 1
    stats["reparsed"] = len(jobs)
    articles: list[Article] = []
    dropped: list[Dropped] = []
    reasons: Counter[str] = Counter()
    removed_total = 0
    for i, page in enumerate(pages):
        if i in parsed:
            domain = ident[i][0]
            row, removed = finish(page, parsed[i], filters.get(domain), run_id, domain=domain, drop=masks.get(i))
            removed_total += removed
        else:
            row = first[i]
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
        "seconds": time.monotonic() - t0,
    })
    return ExtractResult(articles, dropped, stats)
