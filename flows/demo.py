"""`newsmill demo`: serve the bundled sample news web on loopback and crawl it into ./data."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from flows.newsweb import build_web, serve_web
from pipelines.settings import Settings

DEMO_SITES, DEMO_ARTICLES, DEMO_SEED = 3, 20, 7
# A fixed port keeps the sites' URLs stable, so a second demo run over the same
# ./data finds nothing new instead of re-landing every story under new URLs.
DEMO_PORT = 8470


def _serve(web):
    try:
        return serve_web(web, port=DEMO_PORT)
    except OSError:  # port taken: any port works, URLs just differ from earlier runs
        return serve_web(web)


def run_demo(settings: Settings, ready: Callable[[], None] = lambda: None) -> int:
    """Serve the sample web, crawl it, print what landed; `ready()` runs just before the flow."""
    from flows.cli import _print_report
    from flows.crawl import crawl_flow
    from flows.stats import dataset_stats, stats_lines
    from pipelines.layout import DataDir

    web = build_web(n_sites=DEMO_SITES, articles_per_site=DEMO_ARTICLES, seed=DEMO_SEED)
    server = _serve(web)
    try:
        with tempfile.TemporaryDirectory(prefix="newsmill-demo-") as tmp:
            sources = Path(tmp) / "sources.yaml"
            sources.write_text(server.sources_yaml(patterns=True))
            print(f"serving {len(web.sites)} sample news sites:")
            for site in web.sites:
                print(f"  {site.name:<20} {server.base_url(site.name)}/")
            ready()
            status = _print_report(crawl_flow(str(sources), str(settings.data_dir)))
    finally:
        server.stop()
    data = DataDir(settings.data_dir)
    print()
    print("\n".join(stats_lines(dataset_stats(data), data, per_day=False)))
    glob = f"{data.articles}/**/*.parquet"
    print("\nread it:")
    print(f"  duckdb -c \"select count(*), sum(is_duplicate::int) from '{glob}'\"")
    return status
