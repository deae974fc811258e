"""Parquet landing: explicit schema, whole files only, read back with DuckDB."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pytest

from pipelines.atomic import clean_stale_tmp
from pipelines.layout import DataDir
from pipelines.models import Article
from pipelines.schema import ARTICLES_SCHEMA
from pipelines.store import article_files, landed_run_ids, read_articles, to_table, write_articles


def _article(i: int, **kw) -> Article:
    base = dict(
        article_id=f"id{i}", url=f"https://x.example/{i}", canonical_url=f"https://x.example/{i}", source="x",
        domain="x.example", title=f"Title {i}", authors=["A. Writer"],
        published_at=datetime(2026, 11, 1, 12, tzinfo=timezone.utc), language="en", text=f"body {i}",
        word_count=2, fetched_at=datetime(2026, 11, 2, tzinfo=timezone.utc), content_hash=f"h{i}",
        cluster_id=f"id{i}", run_id="r1",
    )
    return Article(**{**base, **kw})


def test_schema_is_explicit_and_round_trips(tmp_path):
    data = DataDir(tmp_path).make()
    rows = [_article(i) for i in range(3)] + [_article(9, published_at=None, language=None, authors=[])]
    rows[1].extras["revision"] = 1
    [path] = write_articles(data, "r1", "2026-11-02", rows)
    assert path.name == "r1-0.parquet" and path.parent.name == "crawl_date=2026-11-02"
    table = read_articles(data)
    assert table.schema.equals(ARTICLES_SCHEMA)
    assert table.num_rows == 4
    got = duckdb.sql(
        f"select article_id, published_at, authors, revision from '{tmp_path}/articles/**/*.parquet' order by 1"
    ).fetchall()
    assert got[0][1] == datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    assert got[1][3] == 1 and got[3][2] == [] and got[3][1] is None
    assert landed_run_ids(data) == {"r1"}


def test_wrong_type_is_refused_not_coerced():
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError)):
        to_table([_article(1, word_count="many")])


def test_reader_never_sees_a_partial_file(tmp_path):
    """A writer killed mid-write leaves only a hidden temp file; readers and the next run ignore it."""
    data = DataDir(tmp_path).make()
    write_articles(data, "r0", "2026-11-02", [_article(0)])
    script = textwrap.dedent(f"""
        import pyarrow as pa, pyarrow.parquet as pq, time, sys
        sys.path.insert(0, {os.getcwd()!r})
        from pipelines.atomic import tmp_path
        from pathlib import Path
        final = Path({str(data.partition('articles', '2026-11-02'))!r}) / "r1-0.parquet"
        w = pq.ParquetWriter(tmp_path(final), pa.schema([("x", pa.int64())]))
        w.write_table(pa.table({{"x": list(range(1000))}}))
        print("writing", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert [p.name for p in article_files(data)] == ["r0-0.parquet"]
    count = duckdb.sql(f"select count(*) from '{tmp_path}/articles/**/*.parquet'").fetchall()[0][0]
    assert count == 1
    assert clean_stale_tmp(data.articles) == 1
    assert not list(data.articles.rglob(".tmp-*"))
