"""Per-domain site templates: learn the blocks a site repeats, store them, filter them out.

Learning counts, per domain, on how many distinct pages each block (normalized
text) occurs and in which container path. A block is template when

- it sits in a container whose content mostly repeats across the domain's pages
  (a teaser rail, a footer, a newsletter box), the container itself being seen
  on >= 3 pages: the whole container is template, even a teaser met once; or
- it occurs on a large share of the domain's pages (>= 3 pages and >= 60%).

An article's own paragraph repeated elsewhere (a quote on two pages, a standard
correction line on a few) sits in the body container, whose content is mostly
unique, and on a small share of pages: it is kept.

State: `state/templates/<domain>.json`, written atomically; a later run merges
its counts, so the first pages of a known site are cleaned even in a batch of one.
Counting is order-free (sets and sums), so page order never changes the result.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick

from pipelines.atomic import tmp_path
from pipelines.blocks import Block, normalize, text_key

VERSION = 1
MIN_PATH_PAGES = 3
PATH_REPEAT_SHARE = 0.5
SITEWIDE_SHARE = 0.6
SITEWIDE_MIN_PAGES = 3
RUN_MIN = 3  # consecutive repeated lines that make a shared teaser block
MAX_BLOCKS = 50_000  # per domain in state; singletons are shed first
MAX_PAGES = 20_000
SAFE_NAME = re.compile(r"[^a-z0-9.-]+")


@dataclass(slots=True)
class DomainTemplates:
    """Counts for one domain; `decide()` derives the template decision from them."""

    domain: str
    pages: set[str] = field(default_factory=set)  # page ids counted
    blocks: dict[str, int] = field(default_factory=dict)  # block key -> pages
    block_paths: dict[str, dict[str, int]] = field(default_factory=dict)  # key -> {container path: pages}
    path_pages: dict[str, int] = field(default_factory=dict)  # container path -> pages
    texts: dict[str, str] = field(default_factory=dict)  # template key -> normalized text (line matching)

    def add_page(self, page_id: str, blocks: Iterable[Block]) -> bool:
        """Count one page's blocks; a page already counted (same id) adds nothing."""
        if page_id in self.pages:
            return False
        self.pages.add(page_id)
        counts, by_key = self.blocks, self.block_paths
        seen_paths: set[str] = set()
        for key, path, _ in blocks:
            counts[key] = counts.get(key, 0) + 1
            paths = by_key.get(key)
            if paths is None:
                by_key[key] = {path: 1}
            else:
                paths[path] = paths.get(path, 0) + 1
            seen_paths.add(path)
        path_pages = self.path_pages
        for p in seen_paths:
            path_pages[p] = path_pages.get(p, 0) + 1
        return True

    def templated_paths(self) -> set[str]:
        """Containers seen on >= 3 pages whose content mostly repeats across pages."""
        occ: dict[str, int] = {}
        rep: dict[str, int] = {}
        by_key = self.block_paths
        for key, n in self.blocks.items():
            repeated = n >= 2
            for path, c in by_key[key].items():
                occ[path] = occ.get(path, 0) + c
                if repeated:
                    rep[path] = rep.get(path, 0) + c
        return {
            p for p, o in occ.items()
            if self.path_pages.get(p, 0) >= MIN_PATH_PAGES and rep.get(p, 0) >= PATH_REPEAT_SHARE * o
        }

    def sitewide_keys(self) -> set[str]:
        n_pages = len(self.pages)
        return {k for k, n in self.blocks.items() if n >= SITEWIDE_MIN_PAGES and n >= SITEWIDE_SHARE * n_pages}

    def template_keys(self, paths: set[str] | frozenset[str] | None = None) -> set[str]:
        """Blocks that are template wherever they appear: sitewide, or only ever in templated
        containers (`paths`: `templated_paths()`, when the caller has them already)."""
        if len(self.pages) < 2:
            return set()
        if paths is None:
            paths = self.templated_paths()
        if not isinstance(paths, (set, frozenset)):
            paths = set(paths)
        out = self.sitewide_keys()
        out.update(k for k, ps in self.block_paths.items() if ps.keys() <= paths)  # subset test in C
        return out

    def to_json(self) -> dict[str, object]:
        blocks = self.blocks
        if len(blocks) > MAX_BLOCKS:
            keep = sorted(blocks, key=lambda k: (-blocks[k], k))[:MAX_BLOCKS]
            blocks = {k: blocks[k] for k in keep}
        keys = sorted(blocks)
        by_key = self.block_paths
        paths = sorted(set(self.path_pages).union(*map(by_key.__getitem__, keys)))  # the unions in C
        index = {p: str(i) for i, p in enumerate(paths)}
        shared: dict[tuple[int, str, int], list] = {}
        return {
            "version": VERSION,
            "domain": self.domain,
            "pages": sorted(self.pages)[-MAX_PAGES:],
            "paths": paths,
            "path_pages": [self.path_pages.get(p, 0) for p in paths],
            "blocks": {k: _block_json(blocks[k], by_key[k], index, shared) for k in keys},
            "texts": dict(sorted(self.texts.items())),
        }

    @classmethod
    def from_json(cls, data: dict) -> DomainTemplates:
        if data.get("version") != VERSION:
            raise ValueError(f"template state version {data.get('version')!r}, expected {VERSION}")
        paths = data["paths"]
        t = cls(data["domain"], set(data["pages"]))
        t.path_pages = {p: n for p, n in zip(paths, data["path_pages"], strict=True) if n}
        named = {str(i): p for i, p in enumerate(paths)}.get  # "3" -> paths[3] without int()
        for k, (n, by_path) in data["blocks"].items():
            t.blocks[k] = n
            t.block_paths[k] = {(named(i) or paths[int(i)]): c for i, c in by_path.items()}
        t.texts = dict(data.get("texts", {}))
        return t


def _block_json(n: int, by_path: dict[str, int], index: dict[str, str],
                shared: dict[tuple[int, str, int], list]) -> list:
    """A block as stored, [pages, {path index: pages}]. Most blocks have one path and few
    distinct counts: their lists are built once and shared (json writes each use)."""
    if len(by_path) == 1:
        for p, c in by_path.items():
            got = shared.get((n, p, c))
            if got is None:
                got = shared[n, p, c] = [n, {index[p]: c}]
            return got
    return [n, {index[p]: c for p, c in sorted(by_path.items())}]


PREFIX_CHARS = 32  # of a template text, in its Filter's automaton


@dataclass(slots=True)
class Filter:
    """What pass 2 applies to one domain's pages.

    keys: template blocks. repeated: blocks seen on >= 2 pages of the domain; a run
    of >= RUN_MIN consecutive such lines (a heading plus teaser paragraphs shared by
    a few pages) is template too, while a lone repeated line (a quote, a
    correction note) stays. texts: template texts, for lines that merge blocks.
    """

    keys: frozenset[str]
    repeated: frozenset[str] = frozenset()
    texts: tuple[str, ...] = ()  # normalized, longest first
    paths: frozenset[str] = frozenset()  # templated containers
    # A domain can hold thousands of texts: one Aho-Corasick automaton finds the ones a line
    # may hold in a single scan. It holds each text's first PREFIX_CHARS (of " text ", so
    # only whole words match), a quarter of the automaton to build for the same lookups;
    # a text found by its prefix is then looked for whole. Built on first use: a batch's
    # Filters are made before the next batch's pass 1 may start, which needs only keys and paths.
    padded: tuple[str, ...] = field(default=(), compare=False, repr=False)  # " text ", as searched
    finder: ahocorasick.Automaton | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.padded = tuple(f" {t} " for t in self.texts)

    def _finder(self) -> ahocorasick.Automaton | None:
        if self.finder is None and any(self.texts):
            by_prefix: dict[str, list[int]] = {}
            for i, t in enumerate(self.padded):
                if t != "  ":
                    by_prefix.setdefault(t[:PREFIX_CHARS], []).append(i)
            self.finder = ahocorasick.Automaton()
            for prefix, ids in by_prefix.items():
                self.finder.add_word(prefix, tuple(ids))
            self.finder.make_automaton()
        return self.finder

    def _found(self, finder: ahocorasick.Automaton, rest: str, after: int) -> set[int]:
        """Positions (> `after`) of the texts `rest` holds."""
        padded = self.padded
        return {i for _, ids in finder.iter(rest) for i in ids if i > after and padded[i] in rest}

    def is_template(self, line: str, where: dict[str, str] | None = None, norm: str | None = None,
                    key: str | None = None) -> bool:
        """`where`: this page's block key -> container path (a block in a templated
        container is template on this page, even if elsewhere it is not)."""
        norm = normalize(line) if norm is None else norm
        if not norm:
            return True
        key = text_key(norm) if key is None else key
        if key in self.keys or (where is not None and where.get(key) in self.paths):
            return True
        finder = self._finder()
        if finder is None:
            return False
        # Cut the template texts out of the line, longest first (by position); a cut joins
        # words that were apart, so the line is searched again after each one.
        rest = f" {norm} "
        found = self._found(finder, rest, -1)
        if not found:
            return False
        while found:
            i = min(found)
            rest = rest.replace(self.padded[i], " ")
            found = self._found(finder, rest, i)
        left = rest.split()
        return len(left) < 3 or len(left) < 0.25 * (norm.count(" ") + 1)

    def apply(self, lines: list[str], where: dict[str, str] | None = None) -> tuple[list[str], set[str]]:
        """(kept lines, keys of the dropped ones)."""
        norms = [normalize(x) for x in lines]
        keys = [text_key(n) for n in norms]
        drop = self.drop_mask(norms, keys, where)
        kept = [x for x, d in zip(lines, drop, strict=True) if not d]
        return kept, {k for k, d in zip(keys, drop, strict=True) if d}

    def drop_mask(self, norms: list[str], keys: list[str], where: dict[str, str] | None = None) -> list[bool]:
        """Which lines are template, given their normalized texts and keys."""
        drop = [self.is_template(n, where, n, k) for n, k in zip(norms, keys, strict=True)]
        i = 0
        while i < len(norms):
            j = i
            while j < len(norms) and not drop[j] and keys[j] in self.repeated:
                j += 1
            if j - i >= RUN_MIN:
                for k in range(i, j):
                    drop[k] = True
            i = max(j, i + 1)
        return drop

    def keep_line(self, line: str) -> bool:
        return not self.is_template(line)


def build_filter(t: DomainTemplates, keys: set[str] | None = None, paths: set[str] | None = None) -> Filter:
    """`keys`, `paths`: `t.template_keys()`, `t.templated_paths()` when the caller has them."""
    if len(t.pages) < 2:
        paths = set()
    elif paths is None:
        paths = t.templated_paths()
    if keys is None:
        keys = t.template_keys(paths)
    repeated = frozenset(k for k, n in t.blocks.items() if n >= 2)
    texts = tuple(sorted((t.texts[k] for k in keys if k in t.texts), key=len, reverse=True))
    return Filter(frozenset(keys), repeated, texts, frozenset(paths))


class TemplateStore:
    """`state/templates/<domain>.json`: load on demand, save atomically.

    Written aside then renamed (readers never see half a file). Not fsynced: this
    is a cache that the next batches relearn, so a file lost or torn by a power
    cut is read as an empty state (and counted in `unreadable`), not an error.
    """

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / "templates"
        self.loaded: dict[str, DomainTemplates] = {}
        self.unreadable: list[str] = []
        self.unsaved: set[str] = set()  # domains changed in memory since their last save

    def path(self, domain: str) -> Path:
        return self.root / f"{SAFE_NAME.sub('_', domain.lower()) or '_'}.json"

    def get(self, domain: str) -> DomainTemplates:
        if domain not in self.loaded:
            p = self.path(domain)
            try:
                self.loaded[domain] = DomainTemplates.from_json(json.loads(p.read_text("utf-8")))
            except FileNotFoundError:
                self.loaded[domain] = DomainTemplates(domain)
            except (ValueError, KeyError, TypeError, IndexError):
                self.unreadable.append(str(p))
                self.loaded[domain] = DomainTemplates(domain)
        return self.loaded[domain]

    def save(self, domains: Iterable[str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for d in domains:
            final = self.path(d)
            tmp = tmp_path(final)
            tmp.write_bytes(json.dumps(self.get(d).to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            os.replace(tmp, final)
            self.unsaved.discard(d)

    def save_unsaved(self) -> None:
        if self.unsaved:
            self.save(sorted(self.unsaved))
