"""Builds the sample web (sites, articles, truth) from a seed; pure and deterministic."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

from . import text
from .chrome import chrome_blocks
from .feeds import sitemap_paths
from .model import ArticleTruth, SiteRender, SiteTruth, Web
from .shapes import SUBSECTIONS, Shape, make_shape, page_path

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)  # fixed "today" of the web
SPAN_DAYS = 480                                            # oldest article age
PER_PAGE = 5                                               # section listing page size
FEED_SIZE = 10
DISALLOWED = ["/search", "/private/"]
UPDATE_LINE = "This article was updated to correct a date."
TAG_WORDS = ["elections", "inflation", "energy", "transport", "courts", "climate", "housing",
             "health", "diplomacy", "labour"]
CAPTION_FMT = ("Photo: {} (archive picture).", "Image: {} during a visit last year.",
               "{} speaks to reporters. (File photo)")


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(map(str, (seed,) + parts)))  # str seeds are stable across runs


def _short_indices(n: int) -> list[tuple[int, int]]:
    """Positions (newest first) of the short-article pairs: not adjacent, never the newest."""
    n_pairs = max(1, n // 10) if n >= 6 else 0
    return [(2 + 4 * p, 4 + 4 * p) for p in range(n_pairs)]


def _native_articles(seed: int, shape: Shape, hi: int, n: int,
                     authors: list[tuple[str, str]]) -> list[ArticleTruth]:
    shorts = {i for pair in _short_indices(n) for i in pair}
    out: list[ArticleTruth] = []
    seen: set[str] = set()
    for k in range(n):
        r = _rng(seed, shape.site_name, "art", k)
        cast = text.make_cast(r)
        title = text.headline(r, cast)
        slug = text.slugify(title)
        while slug in seen:
            slug += f"-{k}"
        seen.add(slug)
        aid = hi * 1000 + 17 + k * 3
        when = NOW - timedelta(days=SPAN_DAYS * k / max(n, 1), hours=r.randrange(1, 9),
                               minutes=r.randrange(60))
        section = shape.section_words[k % len(shape.section_words)]
        words = r.randrange(150, 700)
        paras = text.short_body(r, cast) if k in shorts else text.body(r, cast, words)
        n_auth = 2 if r.random() < 0.2 else 1
        art = ArticleTruth(
            path=shape.article_path(section, slug, aid, when), title=title,
            authors=[a[1] for a in r.sample(authors, n_auth)],
            published=when.isoformat(), paragraphs=paras,
            story_id=f"{shape.site_name}-{aid}", section=section,
            tags=sorted(r.sample(TAG_WORDS[:6], r.randrange(1, 4))),
            summary=text.summary(r, cast), id=aid)
        art.canonical_path = art.path
        art.short = k in shorts
        out.append(art)
    return out


def _mark_shorts(seed: int, shape: Shape, arts: list[ArticleTruth]) -> tuple[
        list[tuple[str, str]], dict[str, tuple[str, list[str]]]]:
    """Give each pair of short items one shared big teaser block."""
    pairs, big = [], {}
    for p, (i, j) in enumerate(_short_indices(len(arts))):
        a, b = arts[i], arts[j]
        r = _rng(seed, shape.site_name, "big", p)
        block_title = text.headline(r, text.make_cast(r))
        block = text.teaser_block(r, 320)
        for art in (a, b):
            big[art.path] = (block_title, block)
        pairs.append((a.path, b.path))
    return pairs, big


def _decorate(seed: int, shape: Shape, arts: list[ArticleTruth]) -> None:
    """Pull quote shared by two articles; correction notes on a few."""
    longs = [a for a in arts if not a.short]
    if len(longs) >= 4:
        r = _rng(seed, shape.site_name, "pull")
        quote = text.quote_paragraph(r, text.make_cast(r))
        for a in (longs[1], longs[3]):
            a.paragraphs.insert(min(2, len(a.paragraphs)), quote)
    for a in longs[5::7]:
        a.paragraphs.append(UPDATE_LINE)


def _copy(seed: int, orig: ArticleTruth, src: Shape, dst: Shape, hi: int, k: int,
          authors: list[tuple[str, str]]) -> ArticleTruth:
    r = _rng(seed, orig.story_id, "copy", dst.site_name)
    paras = text.light_edit(r, list(orig.paragraphs))
    if r.random() < 0.5:
        paras = ["By Trend"] + paras
    else:
        paras.append(f"source: {src.site_name}.example with APA news agency")
    when = min(datetime.fromisoformat(orig.published) + timedelta(hours=r.randrange(2, 9)), NOW)
    section = dst.section_words[k % len(dst.section_words)]
    aid = hi * 1000 + 500 + k
    slug = text.slugify(orig.title)
    art = ArticleTruth(
        path=dst.article_path(section, slug, aid, when), title=orig.title,
        authors=[r.choice(authors)[1]], published=when.isoformat(), paragraphs=paras,
        story_id=orig.story_id, section=section, tags=list(orig.tags),
        summary=orig.summary, id=aid, syndicated_from=f"{src.site_name}:{orig.path}")
    art.canonical_path = art.path
    return art


def _hubs(shape: Shape, site: SiteTruth, rd: SiteRender) -> list[str]:
    hubs = ["/"]
    for s, _ in rd.sections:
        n = sum(1 for a in site.articles if a.section == s)
        hubs += [page_path(shape.section_path(s), p) for p in range(1, max(1, math.ceil(n / PER_PAGE)) + 1)]
        hubs += [shape.subsection_path(s, sub) for sub in rd.subsections.get(s, [])]
    hubs += [shape.tag_path(t) for t, _ in rd.tags]
    hubs += [shape.author_path(a) for a, _ in rd.authors]
    y, m = rd.first_month
    while (y, m) <= rd.last_month:
        hubs.append(f"/archive/{y:04d}/{m:02d}/")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return hubs + ["/login"]


def _finish(seed: int, shape: Shape, site: SiteTruth) -> None:
    """Feed/sitemap membership, variants, related links, hubs, junk blocks."""
    rd = site.render
    arts = site.articles
    arts.sort(key=lambda a: a.published, reverse=True)
    n_old = max(1, round(len(arts) * 0.15))
    for i, a in enumerate(arts):
        a.in_feed = i < FEED_SIZE
        a.in_sitemap = i < len(arts) - n_old
        variants = []
        if i % 3 == 0:
            variants += [v for v in (shape.amp_path(a.path), shape.print_path(a.path)) if v]
        if i < 3:  # the homepage links its top stories with tracking parameters
            variants.append(a.path + ("&" if "?" in a.path else "?")
                            + "utm_source=homepage&utm_medium=referral")
        a.variants = variants
        r = _rng(seed, a.path, "rel")
        others = [b.path for b in arts if b.path != a.path]
        rd.related[a.path] = r.sample(others, min(len(others), r.randrange(3, 6)))
        rd.captions[a.path] = r.choice(CAPTION_FMT).format(f"{text.FIRST[i % 40]} {text.LAST[(i * 7) % 40]}")
        if shape.template == "dispatch":
            subs = SUBSECTIONS.get(a.section, [])
            if subs:
                rd.subsection_of[a.path] = subs[i % len(subs)]
    used_tags = sorted({t for a in arts for t in a.tags})
    rd.tags = [(t, t.capitalize()) for t in used_tags]
    dates = [datetime.fromisoformat(a.published) for a in arts] or [NOW]
    rd.first_month = (min(dates).year, min(dates).month)
    rd.last_month = (NOW.year, NOW.month)
    site.hub_paths = _hubs(shape, site, rd)
    site.template_blocks = chrome_blocks(shape, rd, arts)
    site.sitemap_paths = sitemap_paths(site)


def _site_render(seed: int, shape: Shape) -> SiteRender:
    r = _rng(seed, shape.site_name, "chrome")
    authors = []
    for _ in range(4):
        name = f"{r.choice(text.FIRST)} {r.choice(text.LAST)}"
        authors.append((text.slugify(name), name))
    authors = list(dict.fromkeys(authors))
    ec = []
    for _ in range(2):
        c = text.make_cast(r)
        ec.append((text.headline(r, c), text.paragraph(r, c, 5)))
    popular = [text.headline(r, text.make_cast(r)) for _ in range(4)]
    subs = {s: SUBSECTIONS[s] for s in shape.section_words
            if shape.template == "dispatch" and s in SUBSECTIONS}
    return SiteRender(display=shape.display, sections=[(s, s.capitalize()) for s in shape.section_words],
                      subsections=subs, tags=[], authors=authors, editors_choice=ec, popular=popular,
                      big_teasers={}, related={}, captions={}, subsection_of={},
                      first_month=(NOW.year, NOW.month), last_month=(NOW.year, NOW.month))


def build_web(n_sites: int = 3, articles_per_site: int = 20, seed: int = 7) -> Web:
    """Generate the whole web in memory. Same arguments -> identical truth and pages."""
    shapes = [make_shape(i) for i in range(n_sites)]
    n_copy = round(articles_per_site * 0.2) if n_sites > 1 else 0
    n_native = max(articles_per_site - n_copy, 1)
    sites: list[SiteTruth] = []
    for i, shape in enumerate(shapes):
        rd = _site_render(seed, shape)
        arts = _native_articles(seed, shape, i + 1, n_native, rd.authors)
        pairs, big = _mark_shorts(seed, shape, arts)
        rd.big_teasers = big
        _decorate(seed, shape, arts)
        sites.append(SiteTruth(
            name=shape.site_name, template=shape.template, host_index=i + 1,
            display_name=shape.display, articles=arts, hub_paths=[],
            disallowed_paths=list(DISALLOWED), template_blocks=[], syndicated=[],
            teaser_pairs=pairs, feed_path=shape.feed_path, feed_kind=shape.feed_kind,
            sitemap_paths=[], other_paths=["/media/report.pdf", "/search?q=latest", "/private/"],
            article_pattern=shape.article_pattern, follow_pattern=shape.follow_pattern, render=rd))
    # Syndication: each site republishes ~20% of the previous site's own stories.
    for i, (shape, site) in enumerate(zip(shapes, sites)):
        if not n_copy:
            break
        j = (i - 1) % n_sites
        src_site, src_shape = sites[j], shapes[j]
        natives = [a for a in src_site.articles if not a.short and a.syndicated_from is None]
        step = max(1, len(natives) // n_copy)
        for k, orig in enumerate(natives[1::step][:n_copy]):
            site.articles.append(_copy(seed, orig, src_shape, shape, i + 1, k, site.render.authors))
    for shape, site in zip(shapes, sites):
        _finish(seed, shape, site)
    by_story: dict[str, list[tuple[str, ArticleTruth]]] = {}
    for site in sites:
        for a in site.articles:
            by_story.setdefault(a.story_id, []).append((site.name, a))
    for site in sites:
        for a in site.articles:
            group = by_story[a.story_id]
            if len(group) > 1:
                site.syndicated.append({
                    "story_id": a.story_id, "path": a.path, "original": a.syndicated_from is None,
                    "copies": [{"site": s, "path": b.path} for s, b in group if b is not a]})
    return Web(seed=seed, sites=sites)
