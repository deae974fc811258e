"""Blocks and templates against plain reference versions of their rules, on real pages.

`pipelines.blocks` walks the tree in C (lxml's iterwalk) and caches text forms;
`pipelines.templates` files template texts under their longest word pair and shares the
identical parts of its state file. Each rule is restated here the slow, obvious way (the code these
replaced): any divergence on the sample news web or the golden pages fails.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from trafilatura.utils import load_html

from pipelines import blocks, templates
from pipelines.blocks import Block, drop_blocks, iter_blocks, normalize, page_blocks, text_key
from pipelines.models import Page
from pipelines.pageparse import Parsed, parse_page
from pipelines.templates import DomainTemplates, Filter, build_filter

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
WORD = re.compile(r"\w+")


# -- reference rules ---------------------------------------------------------------------

def _norm_ref(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def _label_ref(el: etree._Element) -> str:
    cls = (el.get("class") or "").split()
    mark = re.sub(r"\d+", "", cls[0] if cls else el.get("id") or "")[:40]
    return f"{el.tag}.{mark}" if mark else el.tag


def _blocks_ref(tree: etree._Element) -> list[tuple[etree._Element, Block]]:
    """The module docstring's walk with a Python stack: depth first, a block element's
    whole text, a leaf container's own text, skipped elements not entered."""
    body = tree.find(".//body")
    root = body if body is not None else tree
    out, seen = [], set()
    stack = [(c, ()) for c in reversed(root)]
    while stack and len(out) < blocks.MAX_BLOCKS:
        el, parents = stack.pop()
        if not isinstance(el.tag, str) or el.tag in blocks.SKIP_TAGS:
            continue
        if el.tag in blocks.BLOCK_TAGS:
            text = "".join(el.itertext())
        else:
            stack.extend((c, (*parents, el)) for c in reversed(el))
            if el.tag not in blocks.LEAF_TAGS:
                continue
            text = (el.text or "") + "".join(c.tail or "" for c in el)
        norm = _norm_ref(text)
        key = text_key(norm)
        if norm and key not in seen:
            seen.add(key)
            out.append((el, Block(key, "/".join(_label_ref(a) for a in (*parents[-7:], el)), norm)))
    return out


def _templated_paths_ref(t: DomainTemplates) -> set[str]:
    occ, rep = Counter(), Counter()
    for key, n in t.blocks.items():
        for path, c in t.block_paths[key].items():
            occ[path] += c
            rep[path] += c if n >= 2 else 0
    return {p for p, o in occ.items() if t.path_pages.get(p, 0) >= 3 and rep[p] >= 0.5 * o}


def _template_keys_ref(t: DomainTemplates, paths: set[str]) -> set[str]:
    out = {k for k, n in t.blocks.items() if n >= 3 and n >= 0.6 * len(t.pages)}
    return out | {k for k, ps in t.block_paths.items() if all(p in paths for p in ps)}


def _state_json_ref(t: DomainTemplates) -> dict:
    """State file version 1, as first written (an object per block; the most seen kept)."""
    kept = sorted(t.blocks, key=lambda k: (-t.blocks[k], k))[:templates.MAX_BLOCKS]
    paths = sorted({p for k in kept for p in t.block_paths[k]} | set(t.path_pages))
    index = {p: i for i, p in enumerate(paths)}
    return {
        "version": 1, "domain": t.domain, "pages": sorted(t.pages)[-templates.MAX_PAGES:], "paths": paths,
        "path_pages": [t.path_pages.get(p, 0) for p in paths],
        "blocks": {k: [t.blocks[k], {str(index[p]): c for p, c in sorted(t.block_paths[k].items())}]
                   for k in sorted(kept)},
        "texts": dict(sorted(t.texts.items())),
    }


def _is_template_ref(texts: tuple[str, ...], keys: frozenset[str], paths: frozenset[str],
                     where: dict[str, str], norm: str) -> bool:
    """`Filter.is_template` comparing every text, longest first (no index)."""
    if not norm:
        return True
    key = text_key(norm)
    if key in keys or where.get(key) in paths:
        return True
    rest, cut = f" {norm} ", False
    for t in texts:
        if f" {t} " in rest:
            rest, cut = rest.replace(f" {t} ", " "), True
    left = rest.split()
    return cut and (len(left) < 3 or len(left) < 0.25 * (norm.count(" ") + 1))


# -- pages -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def web_pages() -> list[Page]:
    from bench.backfill import article_pages

    return [Page(url, body, 200, {"content-type": ctype}, datetime(2026, 1, 1, tzinfo=UTC), "web", None)
            for url, ctype, body, _ in article_pages(n_sites=3, articles_per_site=60)]


def _edge_pages() -> list[str]:
    many = "".join(f"<p>para {i} x</p><div>d{i}<span>s</span>t{i}</div>" for i in range(blocks.MAX_BLOCKS))
    deep = "".join(f"<div class='c{i} k'>" for i in range(12)) + "text<p>P</p><ul><li>L<p>in</p></li></ul>"
    return [
        f"<html><body>{many}</body></html>",  # capped at MAX_BLOCKS
        f"<html><body>{deep}{'</div>' * 12}</body></html>",  # paths keep the 8 nearest labels
        "<html><head><title>t</title></head><div id='n9'>x<p>y</p></div></html>",  # no <body>
        ("<html><body><p>Ünïcödé İstanbul ǅ ß ½</p><div> \xa0 </div><span>\u2003word\u3000</span>"
         "<div>x<script>var a=1</script>y<svg><text>s</text></svg></div><button>OK</button>"
         "<template><p>t</p></template><table><tr><td>cell <b>bold</b></td></tr></table></body></html>"),
    ]


def _trees(web_pages: list[Page]) -> list[tuple[str, bytes | str]]:
    out = [(p.url, p.html) for p in web_pages[::3]]
    out += [(f.name, gzip.decompress(f.read_bytes())) for f in sorted(GOLDEN.glob("*.html.gz"))]
    out += [(f"edge-{i}", h) for i, h in enumerate(_edge_pages())]
    return out


# -- blocks ------------------------------------------------------------------------------

def test_blocks_match_the_reference_walk(web_pages: list[Page]) -> None:
    checked = 0
    for name, html in _trees(web_pages):
        tree = load_html(html)
        ref = _blocks_ref(tree)
        got = list(iter_blocks(tree))
        assert [b for _, b in got] == [b for _, b in ref], name
        assert all(a is b for (a, _), (b, _) in zip(got, ref, strict=True)), name  # the same elements
        assert page_blocks(tree) == [b for _, b in ref], name  # again, from the text cache
        checked += len(ref)
    assert checked > 5000


@pytest.mark.parametrize("html", ["<p>one <span>two</span> three <b>four</b></p>",
                                  "<div class='a1'>own<p>para</p><div id='x9'><li>item</li>tail</div></div>",
                                  "<div>a<!-- c -->b<p>p<!-- d -->q</p><?pi x?>t<span>s<!-- e --></span></div>"])
def test_blocks_of_a_fragment_root(html: str) -> None:
    """A fragment parses to its own root (maybe a block tag): its children are walked."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html)
    assert [b for _, b in iter_blocks(tree)] == [b for _, b in _blocks_ref(tree)] != []


def test_drop_blocks_matches_the_reference(web_pages: list[Page]) -> None:
    for name, html in _trees(web_pages)[:40]:
        keys = {b.key for _, b in _blocks_ref(load_html(html))[::2]}
        tree, ref = load_html(html), load_html(html)
        hits = [el for el, b in _blocks_ref(ref) if b.key in keys]
        blocks.remove_blocks(hits)
        assert drop_blocks(tree, keys) == len(hits)
        assert etree.tostring(tree) == etree.tostring(ref), name


def test_normalize_matches_the_regex() -> None:
    rng = random.Random(3)
    ascii_chars = [chr(i) for i in range(128)]
    samples = ["".join(rng.choices(ascii_chars, k=rng.randint(0, 30))) for _ in range(20_000)]
    samples += [chr(i) * 2 + " Ab" for i in range(0x3000)] + ["İstanbul", "a\u0307b", "ǅx", "½²", "e\u0301"]
    news = [*ascii_chars, "\u201c", "\u201d", "\u2019", "\u2014", "\xa0", "\xa9", "\xe9", "\u0130", "\u2003"]
    samples += ["".join(rng.choices(news, k=rng.randint(0, 30))) for _ in range(20_000)]
    assert [normalize(s) for s in samples] == [_norm_ref(s) for s in samples]


def test_normalize_of_every_character_among_ascii() -> None:
    """Text whose only non-ASCII characters are outside `\\w` is normalized as ASCII: each
    code point, word or not, next to ASCII words and alone."""
    samples = [f"Ab{c}cD {c}" for c in map(chr, range(sys.maxunicode + 1))]
    assert [normalize(s) for s in samples] == [_norm_ref(s) for s in samples]


def test_text_key_is_blake2b() -> None:
    for norm in ("", "harbor times", "ünïcödé", "x" * 500):
        assert text_key(norm) == hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()


# -- templates ---------------------------------------------------------------------------

def _count(states: dict[str, DomainTemplates], parsed: list[tuple[str, str, Parsed]]) -> None:
    """What `extract.learn` does with a batch: count its pages, keep its template texts."""
    for domain, url, p in parsed:
        states.setdefault(domain, DomainTemplates(domain)).add_page(url, p.blocks)
    for t in states.values():
        keys = t.template_keys(t.templated_paths())
        t.texts.update((b.key, b.text) for _, _, p in parsed for b in p.blocks if b.key in keys)


def _check_state(t: DomainTemplates) -> None:
    paths = t.templated_paths()
    assert paths == _templated_paths_ref(t) != set()
    assert t.template_keys(paths) == _template_keys_ref(t, paths)
    # the state file: byte for byte as first written; read back, the same counts
    assert json.dumps(t.to_json()) == json.dumps(_state_json_ref(t))
    back = DomainTemplates.from_json(json.loads(json.dumps(t.to_json())))
    assert (back.pages, back.blocks, back.block_paths, back.path_pages, back.texts) == \
        (t.pages, t.blocks, t.block_paths, t.path_pages, t.texts)


@pytest.mark.timeout(120)
def test_templates_match_the_reference_rules(web_pages: list[Page]) -> None:
    """Two batches: the counts, the state file and every line's template rule match the
    reference."""
    rng = random.Random(9)
    parsed = []
    for page in web_pages:
        p = parse_page(page)
        assert isinstance(p, Parsed)
        parsed.append((page.url.split("/")[2], page.url, p))
    states: dict[str, DomainTemplates] = {}
    drops = merged_drops = 0
    for batch in (parsed[::2], parsed[1::2]):
        _count(states, batch)
        filters = {}
        for domain, t in states.items():
            _check_state(t)
            filters[domain] = build_filter(t)
        for domain, _, p in parsed:
            flt = filters[domain]
            where = {b.key: b.path for b in p.blocks}
            got = [flt.is_template(x, where) for x in p.lines]
            assert got == [_is_template_ref(flt.texts, flt.keys, flt.paths, where, normalize(x)) for x in p.lines]
            drops += sum(got)
            # lines that merge template texts (one maybe twice) with some of the page's own words
            merged = [" ".join(rng.sample([*rng.choices(flt.texts, k=2), normalize(x)], k=3)) for x in p.lines]
            merged += [f"{t} {normalize(x)} {t}" for x, t in zip(p.lines, flt.texts, strict=False)]
            got = [flt.is_template(x) for x in merged]
            assert got == [_is_template_ref(flt.texts, flt.keys, frozenset(), {}, x) for x in merged]
            merged_drops += sum(got)
    assert drops > 100 and merged_drops > 100


def test_template_texts_sharing_a_long_opening_are_each_found() -> None:
    """The Filter's automaton holds each text's opening only: texts that open alike (a
    newsletter box in two wordings) must each still be found, whole, and nothing that only
    shares the opening."""
    lead = "sign up for our morning briefing and get the news that matters"
    texts = tuple(sorted((f"{lead} delivered to your inbox", f"{lead} every weekday", "read more"),
                         key=len, reverse=True))
    flt = Filter(frozenset(), texts=texts)
    lines = [f"{lead} every weekday", f"{lead} delivered to your inbox", f"{lead} in your inbox",
             f"a local story {lead} every weekday read more",
             f"{lead} every weekday of the year we report on the city council and its budget fights",
             "read more", "read more about the council budget vote at the town hall today"]
    got = [flt.is_template(x) for x in lines]
    assert got == [_is_template_ref(texts, frozenset(), frozenset(), {}, normalize(x)) for x in lines]
    assert got == [True, True, False, True, False, True, False]


def test_state_file_of_a_full_and_uneven_state() -> None:
    """Past MAX_BLOCKS blocks (the most seen are stored) and with counts no page walk makes
    (a state from elsewhere): still the file as first written, read back the same."""
    t = DomainTemplates("big.example")
    for page in range(40):
        t.add_page(f"p{page}", [Block(f"k{page * 1500 + i:06x}", f"main/div.c{i % 3}", "t") for i in range(1500)]
                   + [Block(f"s{i}", "footer/p", "t") for i in range(30)])
    t.block_paths["s1"] = {"footer/p": 12}  # one path, seen on fewer pages than the block
    t.block_paths["s2"] = {"footer/p": 30, "aside/p": 10}
    assert len(t.blocks) > templates.MAX_BLOCKS
    data = json.loads(json.dumps(t.to_json()))
    assert data == _state_json_ref(t)
    back = DomainTemplates.from_json(data)
    assert back.block_paths["s1"] == {"footer/p": 12} and back.block_paths["s2"] == {"aside/p": 10, "footer/p": 30}
    assert len(back.blocks) == templates.MAX_BLOCKS
