"""Land articles as Parquet (and read them back), one whole file at a time.

Files are named by run and date (`articles/crawl_date=D/<run_id>-<n>.parquet`),
written aside as `.tmp-…`, fsynced and renamed: a reader globbing
`articles/**/*.parquet` never sees a partial file, and a killed run leaves only a
temp file that the next run removes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.atomic import publish, tmp_path
from pipelines.layout import DataDir
from pipelines.models import Article
from pipelines.schema import ARTICLE_FIELDS, ARTICLES_SCHEMA, EXTRA_FIELDS

ROWS_PER_FILE = 50_000
_V1_NAMES = [f.name for f in ARTICLE_FIELDS]
_EXTRA_NAMES = [f.name for f in EXTRA_FIELDS]
assert set(_V1_NAMES) <= {f.name for f in fields(Article)}, "Article misses a v1 column"


def to_table(articles: Sequence[Article]) -> pa.Table:
    """Articles -> a table with exactly ARTICLES_SCHEMA (raises on a wrong type)."""
    columns: dict[str, list] = {name: [] for name in _V1_NAMES + _EXTRA_NAMES}
    for a in articles:
        for name in _V1_NAMES:
            columns[name].append(getattr(a, name))
        for name in _EXTRA_NAMES:
            columns[name].append(a.extras.get(name))
    return pa.Table.from_pydict(columns, schema=ARTICLES_SCHEMA)


def write_articles(
    data: DataDir, run_id: str, crawl_date: str, articles: Sequence[Article], start_index: int = 0
) -> list[Path]:
    """Write `articles` as one or more Parquet files; return the published paths."""
    out_dir = data.partition("articles", crawl_date)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, start in enumerate(range(0, len(articles), ROWS_PER_FILE), start=start_index):
        final = out_dir / f"{run_id}-{n}.parquet"
        tmp = tmp_path(final)
        pq.write_table(to_table(articles[start : start + ROWS_PER_FILE]), tmp, compression="zstd")
        publish(tmp, final)
        paths.append(final)
    return paths


def article_files(data: DataDir) -> list[Path]:
    """Published Parquet files (temp files start with '.', so they are never listed)."""
    return sorted(p for p in data.articles.glob("crawl_date=*/*.parquet") if not p.name.startswith((".", "_")))


def read_articles(data: DataDir, columns: Iterable[str] | None = None) -> pa.Table:
    """The whole dataset as one table (small datasets, tests, stats)."""
    files = article_files(data)
    if not files:
        return ARTICLES_SCHEMA.empty_table()
    cols = list(columns) if columns is not None else None
    return pa.concat_tables(pq.read_table(f, columns=cols, schema=ARTICLES_SCHEMA) for f in files)


def landed_run_ids(data: DataDir) -> set[str]:
    """Runs that have at least one published file (for index reconciliation)."""
    return {p.name.rsplit("-", 1)[0] for p in article_files(data)}
