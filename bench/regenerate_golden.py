"""Rewrite the golden files' expected fields (tests/data/golden/*.json) for review.

    .venv/bin/python -m bench.regenerate_golden              # rewrite every JSON from its .html.gz
    .venv/bin/python -m bench.regenerate_golden --add-dev ID  # copy a dev page in first
    .venv/bin/python -m bench.regenerate_golden --add-site    # (re)build the seed-style site pages

Each golden page is `<name>.html.gz` plus `<name>.json` holding its URL, its batch
(pages of one batch are extracted together, so site templates are learned as in
production) and the expected fields. Review the diff before committing it: a
change is either a fix or a regression.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from pipelines.extract import extract_pages
from pipelines.models import Article, Page
from pipelines.settings import Settings

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "golden"
# The shared dev set sits beside the repo (../shared), in CI as here.
DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "extraction" / "dev"
FETCHED = datetime(2026, 4, 1, tzinfo=UTC)


def page_file(root: Path, stem: str) -> Path | None:
    own = root / f"{stem}.html.gz"
    if own.exists():
        return own
    if stem.startswith("dev-"):
        # Dev-set pages are evaluation-only, not ours to redistribute: the golden JSON
        # lives here, the page is read from the shared dev set beside the repo.
        return next(iter(sorted(DEV.glob(f"{stem[4:]}*.html.gz"))), None)
    return None


def load_golden(root: Path = GOLDEN) -> list[tuple[str, Page, dict]]:
    """Golden items whose page is at hand (dev pages need ../shared)."""
    out = []
    for meta_path in sorted(root.glob("*.json")):
        meta = json.loads(meta_path.read_text("utf-8"))
        path = page_file(root, meta_path.stem)
        if path is None:
            continue
        html = gzip.decompress(path.read_bytes())
        page = Page(meta["url"], html, 200, {"content-type": "text/html; charset=utf-8"}, FETCHED,
                    meta.get("source", "golden"), meta.get("hint", "pattern"))
        out.append((meta_path.stem, page, meta))
    return out


def expected_fields(row: object) -> dict[str, object]:
    if not isinstance(row, Article):
        return {"dropped": row.reason}  # type: ignore[attr-defined]
    return {
        "title": row.title,
        "authors": row.authors,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "language": row.language,
        "canonical_url": row.canonical_url,
        "word_count": row.word_count,
        "text": row.text,
    }


def extract_golden(items: list[tuple[str, Page, dict]]) -> dict[str, dict[str, object]]:
    """Each batch extracted together, from an empty state, in one worker."""
    batches: dict[str, list[tuple[str, Page]]] = defaultdict(list)
    for name, page, meta in items:
        batches[meta.get("batch", name)].append((name, page))
    out: dict[str, dict[str, object]] = {}
    for members in batches.values():
        with tempfile.TemporaryDirectory() as state:
            result = extract_pages([p for _, p in members], Path(state), Settings(workers=1))
        rows = {r.url: r for r in [*result.articles, *result.dropped]}
        for name, page in members:
            out[name] = expected_fields(rows[page.url])
    return out


def add_dev(pid: str, root: Path = GOLDEN) -> None:
    truth = json.loads((DEV / "ground_truth.json").read_text("utf-8"))
    name = f"dev-{pid[:12]}"
    (root / f"{name}.json").write_text(json.dumps({"url": truth[pid]["url"], "batch": name}) + "\n", "utf-8")


def add_site(root: Path = GOLDEN) -> None:
    sys.path.insert(0, str(root.parent.parent.parent))
    from tests.extract_site import build_site, site_pages

    site = build_site(n_articles=6, seed=21, host="www.goldencoast.example")
    for i, page in enumerate(site_pages(site, hubs=False)):
        name = f"site-coast-{i}"
        (root / f"{name}.html.gz").write_bytes(gzip.compress(page.html, mtime=0))
        (root / f"{name}.json").write_text(json.dumps({"url": page.url, "batch": "site-coast"}) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--add-dev", action="append", default=[], metavar="ID")
    ap.add_argument("--add-site", action="store_true")
    args = ap.parse_args(argv)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for pid in args.add_dev:
        add_dev(pid)
    if args.add_site:
        add_site()
    items = load_golden()
    fields = extract_golden(items)
    for name, _, meta in items:
        keep = {k: meta[k] for k in ("url", "batch", "source", "hint") if k in meta}
        data = {**keep, "expected": fields[name]}
        (GOLDEN / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    sys.stdout.write(f"rewrote {len(items)} golden files in {GOLDEN}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
