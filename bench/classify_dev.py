"""Classify the real article pages of the extraction dev set.

Prints every page not classified "article", the share that is, and pages/s
(wall clock, and CPU time, which other work on the machine does not inflate).
Usage: python bench/classify_dev.py [DEV_DIR]   (default ../shared/data/extraction/dev)
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as a plain script from anywhere

from pipelines.classify import classify_page  # noqa: E402


def main(dev: Path) -> None:
    truth = json.loads((dev / "ground_truth.json").read_text())
    pages = [(truth[p.name[:-8]]["url"], gzip.decompress(p.read_bytes())) for p in sorted(dev.glob("*.html.gz"))]
    wall, cpu = time.perf_counter(), time.process_time()
    results = [classify_page(url, body) for url, body in pages]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for (url, _), res in zip(pages, results):
        if res.kind != "article":
            sys.stdout.write(f"{res.kind:6} {res.reason:22} {res.score:.2f} {url}\n")
    hits = sum(r.kind == "article" for r in results)
    sys.stdout.write(f"article: {hits}/{len(pages)} = {hits / len(pages):.1%}   "
                     f"{len(pages) / wall:.0f} pages/s wall, {len(pages) / cpu:.0f} pages/s CPU "
                     f"({cpu / len(pages) * 1000:.1f} ms/page)\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data/extraction/dev")
