"""The extraction stage: site-template removal, its state, and metadata."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.blocks import normalize
from pipelines.extract import ExtractResult, extract_one, extract_pages
from pipelines.metadata import strip_site
from pipelines.models import Article, Dropped, Page
from pipelines.settings import Settings
from pipelines.templates import TemplateStore
from pipelines.textmetric import evaluate
from pipelines.urls import domain_of
from tests.extract_site import CORRECTION, QUOTE, build_site, site_pages

SETTINGS = Settings(workers=2, extract_timeout_s=20)


def _run(pages: list[Page], state: Path) -> ExtractResult:
    return extract_pages(pages, state, SETTINGS, run_id="t")


def _leaks(text: str, templates: list[str]) -> list[str]:
    padded = f" {normalize(text)} "
    return [t for t in templates if f" {normalize(t)} " in padded]


def _lines(a: Article) -> set[str]:
    return {normalize(x) for x in a.text.split("\n")}


@pytest.mark.timeout(120)
def test_templates_removed_whatever_the_order(tmp_path: Path) -> None:
    site = build_site()
    pages = site_pages(site)
    texts = []
    for k, seed in enumerate((None, 1, 2)):
        batch = list(pages)
        if seed is not None:
            random.Random(seed).shuffle(batch)
        result = _run(batch, tmp_path / f"state{k}")
        assert result.stats["kept"] == len(site.articles)
        texts.append({a.url: a.text for a in result.articles})
    assert texts[0] == texts[1] == texts[2]
    for art in site.articles:
        text = texts[0][site.url(art.path)]
        assert _leaks(text, site.template_texts) == []
        lines = {normalize(x) for x in text.split("\n")}
        assert [p for p in art.paragraphs if normalize(p) not in lines] == []


@pytest.mark.timeout(120)
def test_article_quote_and_correction_line_kept(tmp_path: Path) -> None:
    site = build_site()
    by_url = {a.url: a for a in _run(site_pages(site), tmp_path).articles}
    with_quote = [a for a in site.articles if QUOTE in a.paragraphs]
    with_note = [a for a in site.articles if CORRECTION in a.paragraphs]
    assert len(with_quote) == 2 and len(with_note) == 3
    for art in with_quote:
        assert normalize(QUOTE) in _lines(by_url[site.url(art.path)])
    for art in with_note:
        assert normalize(CORRECTION) in _lines(by_url[site.url(art.path)])


@pytest.mark.timeout(120)
def test_first_pages_of_a_new_site_are_cleaned(tmp_path: Path) -> None:
    """No state yet: the batch itself teaches the templates, first page included."""
    site = build_site(seed=11, host="news.firstmeet.example")
    pages = site_pages(site, hubs=False)
    single = extract_one(pages[0])  # alone, trafilatura lets the site's junk through
    assert isinstance(single, Article) and _leaks(single.text, site.template_texts)
    result = _run(pages, tmp_path)
    first = next(a for a in result.articles if a.url == pages[0].url)
    assert _leaks(first.text, site.template_texts) == []
    assert result.stats["template_blocks_removed"] > 0


@pytest.mark.timeout(120)
def test_state_persisted_and_reused(tmp_path: Path) -> None:
    site = build_site(n_articles=9, seed=5, host="www.statecheck.example")
    pages = site_pages(site, hubs=False)
    _run(pages[:8], tmp_path)
    path = TemplateStore(tmp_path).path(domain_of(pages[0].url))
    data = json.loads(path.read_text("utf-8"))
    assert data["version"] == 1 and len(data["pages"]) == 8
    assert not list(path.parent.glob(".tmp-*"))
    # a later run meets one new page of the known site: cleaned from the stored state
    later = _run(pages[8:], tmp_path)
    assert len(later.articles) == 1
    assert _leaks(later.articles[0].text, site.template_texts) == []
    assert json.loads(path.read_text("utf-8"))["pages"].__len__() == 9
    # the same page again adds nothing to the counts
    _run(pages[8:], tmp_path)
    assert len(json.loads(path.read_text("utf-8"))["pages"]) == 9


@pytest.mark.timeout(60)
def test_metadata_fields(tmp_path: Path) -> None:
    site = build_site(seed=7, host="www.meta.example")
    result = _run(site_pages(site), tmp_path)
    by_url = {a.url: a for a in result.articles}
    for art in site.articles:
        a = by_url[site.url(art.path)]
        assert a.title == art.title
        assert a.authors == art.authors
        assert a.published_at == art.published and a.published_at.tzinfo is not None
        assert a.language == "en"
        assert a.canonical_url == site.url(art.path)
        assert a.domain == domain_of(a.url) and a.source == "coast"
        assert a.word_count == len(normalize(a.text).split())
        assert a.article_id and a.content_hash and a.run_id == "t"
    hubs = [d for d in result.dropped if d.reason == "not_article"]
    assert len(hubs) == len(site.hubs)


@pytest.mark.parametrize(("raw", "want"), [
    ("Harbour bridge reopens | Coast Courier", "Harbour bridge reopens"),
    ("Coast Courier - Harbour bridge reopens after repairs", "Harbour bridge reopens after repairs"),
    ("Harbour bridge reopens – BBC News", "Harbour bridge reopens"),
    ("Plain headline with no site", "Plain headline with no site"),
])
def test_title_without_site_suffix(raw: str, want: str) -> None:
    assert strip_site(raw, site_name="Coast Courier") == want


def _page(html: bytes, url: str = "https://www.example.org/a/1?utm_source=x", **headers: str) -> Page:
    return Page(url, html, 200, headers or {"content-type": "text/html"}, datetime(2026, 1, 1, tzinfo=UTC),
                "example", "pattern")


@pytest.mark.timeout(30)
def test_drops_with_reasons() -> None:
    assert extract_one(_page(b"")).reason == "empty"
    assert extract_one(_page(b"%PDF-1.4 ...", **{"content-type": "application/pdf"})).reason == "not_html"
    short = extract_one(_page(b"<html><body><article><p>Too short to be an article.</p></article></body></html>"))
    assert isinstance(short, Dropped) and short.reason in ("too_short", "no_text")


@pytest.mark.timeout(30)
def test_canonical_and_language_fallbacks() -> None:
    body = "".join(f"<p>Paragraph {i} of a reasonably long article body with enough words to count.</p>" for i in range(6))
    html = (f"<html><head><meta http-equiv='content-language' content='de-DE'><title>Titel - Zeitung</title>"
            f"<meta property='og:url' content='/a/1?utm_source=feed#top'></head><body><article><h1>Titel</h1>{body}"
            f"</article></body></html>").encode()
    a = extract_one(_page(html))
    assert isinstance(a, Article)
    assert a.language == "de"
    assert a.canonical_url == "https://www.example.org/a/1"


@pytest.mark.timeout(120)
def test_newsweb_templates_and_metadata(tmp_path: Path) -> None:
    pytest.importorskip("flows.newsweb")
    from bench.newsweb_eval import fetch_web, run_web

    web = fetch_web(n_sites=3, articles_per_site=12, seed=7)
    scores = run_web(tmp_path, SETTINGS, web)
    assert scores["kept"] >= scores["articles_expected"]
    assert scores["leak_share"] == 0
    assert scores["paragraph_recall"] >= 0.99
    for field in ("title", "authors", "published", "language", "canonical"):
        assert scores[f"meta/{field}"] >= 0.95, field


@pytest.mark.timeout(120)
def test_dev_sample_beats_plain_extraction(tmp_path: Path) -> None:
    """A slice of the dev set: the stage is at least as good as plain trafilatura."""
    from bench.extraction import DEV, load_dev, plain_texts

    if not DEV.exists():
        pytest.skip("dev set not present")
    pages, refs = load_dev()
    pages, refs = pages[:40], refs[:40]
    result = _run(pages, tmp_path)
    by_url = {a.url: a.text for a in result.articles}
    ours = evaluate([by_url.get(p.url, "") for p in pages], refs)
    plain = evaluate(plain_texts(pages), refs)
    assert ours.f1 >= plain.f1


def _cut_reference(texts: tuple[str, ...], norm: str) -> bool:
    """The template-text rule of `Filter.is_template`, comparing every text (no index)."""
    rest, cut = f" {norm} ", False
    for t in texts:
        if len(t) < len(rest) and f" {t} " in rest:
            rest, cut = rest.replace(f" {t} ", " "), True
    left = rest.split()
    return cut and (len(left) < 3 or len(left) < 0.25 * (norm.count(" ") + 1))


def test_template_text_lookup_matches_a_full_scan() -> None:
    """The index by opening word pair finds every text a full scan would, including a
    text that only appears once a longer one is cut out of the line."""
    from pipelines.templates import Filter

    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(40)]
    texts = {" ".join(rng.choices(vocab, k=rng.randint(1, 6))) for _ in range(300)}
    texts |= {"a b", "x long teaser y"}  # "a x long teaser y b" -> "a b" after the first cut
    ordered = tuple(sorted(texts, key=len, reverse=True))
    flt = Filter(frozenset(), texts=ordered)
    lines = ["a x long teaser y b"] + [" ".join(rng.choices(vocab, k=rng.randint(2, 14))) for _ in range(3000)]
    got = [flt.is_template(x) for x in lines]
    assert got == [_cut_reference(ordered, normalize(x)) for x in lines]
    assert got[0] and sum(got) > 50  # the adjacency case, and enough positives to mean something


@pytest.mark.timeout(180)
def test_known_templates_cut_before_extraction(tmp_path: Path) -> None:
    """A batch of a site whose templates are known from an earlier batch: pass 1 cuts them
    before trafilatura chooses the body. Same rows as extracting first and cutting after
    (the second extraction), with next to no page extracted twice."""
    import shutil

    from bench.backfill import article_pages
    from pipelines.extract import Learned, finish_pages, parse_all

    pages = [Page(url, body, 200, {"content-type": ctype}, datetime(2026, 1, 1, tzinfo=UTC), "web", None)
             for url, ctype, body, _ in article_pages(n_sites=2, articles_per_site=160)]
    earlier, batch = pages[::2], pages[1::2]
    _run(earlier, tmp_path / "state")
    shutil.copytree(tmp_path / "state", tmp_path / "state-uncut")

    def second(state: Path, cut: bool) -> ExtractResult:
        learned = Learned(TemplateStore(state))
        cuts = learned.cuts(batch) if cut else None
        if cut:
            assert set(cuts) == {domain_of(p.url) for p in batch}
        first, ident = parse_all(batch, SETTINGS, cuts=cuts)
        return finish_pages(batch, first, state, SETTINGS, "t", ident=ident,
                            filters=learned.learn(batch, first, ident))

    cut, uncut = second(tmp_path / "state", True), second(tmp_path / "state-uncut", False)
    # only the last batch's domains stay loaded; another site's batch replaces them
    learned = Learned(TemplateStore(tmp_path / "state"))
    learned.learn(batch[:40], parse_all(batch[:40], SETTINGS)[0])
    other = site_pages(build_site(seed=3, host="news.other.example"), hubs=False)
    learned.learn(other, parse_all(other, SETTINGS)[0])
    assert set(learned.store.loaded) == set(learned.filters) == {"news.other.example"}
    assert learned.cuts(batch[:40])  # the first site again: read back from its saved state
    # learned without saving (the flow saves once the next pass 1 has started): nothing
    # written yet, and written before another batch's domains replace it in memory
    third = site_pages(build_site(seed=5, host="news.third.example"), hubs=False)
    learned.learn(third, parse_all(third, SETTINGS)[0], save=False)
    assert learned.store.unsaved == {"news.third.example"}
    assert not learned.store.path("news.third.example").exists()
    counted = set(learned.store.loaded["news.third.example"].pages)
    assert len(counted) >= 5
    learned.learn(other, parse_all(other, SETTINGS)[0], save=False)
    assert not learned.store.unsaved and "news.third.example" not in learned.store.loaded
    assert learned.store.get("news.third.example").pages == counted  # read back from its file
    assert uncut.stats["reparsed"] >= 5  # short items: their first body was a teaser block
    assert cut.stats["reparsed"] <= uncut.stats["reparsed"] // 5
    assert {a.url: a.text for a in cut.articles} == {a.url: a.text for a in uncut.articles}
    assert len(cut.articles) == len(batch)


def test_body_extracted_on_our_own_tree_is_bare_extractions() -> None:
    """pageparse runs trafilatura's sequence on its parsed tree instead of letting
    bare_extraction copy it first: the body must be the one bare_extraction gives."""
    from lxml import etree
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    from bench.backfill import article_pages
    from pipelines import pageparse

    htmls = [body for _, _, body, _ in article_pages(2, 10)]
    htmls.append(b"<html><body><div></div></body></html>")  # trafilatura gives nothing
    htmls.append(b"<html><body><nav><a href='/'>Home</a></nav><p>Too short.</p></body></html>")
    for html in htmls:
        for options in pageparse._EXTRACTORS.values():
            doc = bare_extraction(load_html(html), options=options)
            got = pageparse._body(load_html(html), options)
            assert (got is None) == (doc is None)
            if got is not None:
                assert etree.tostring(got) == etree.tostring(doc.body)


def test_pages_parse_as_load_html_parses_them() -> None:
    """pageparse decodes UTF-8 itself (skipping trafilatura's decompression attempts);
    the tree must be load_html's for UTF-8, other charsets and still-compressed bytes."""
    import gzip

    from lxml import etree
    from trafilatura.utils import load_html

    from pipelines import pageparse

    page = "<html><head><title>Café</title></head><body><p>Déjà vu, «quoted» ünïcode.</p></body></html>"
    latin = page.replace("<head>", "<head><meta charset='iso-8859-1'>")
    for html in (page.encode("utf-8"), latin.encode("iso-8859-1"), gzip.compress(page.encode("utf-8")),
                 b"\xef\xbb\xbf" + page.encode("utf-8")):
        assert etree.tostring(pageparse._load(html)) == etree.tostring(load_html(html))
