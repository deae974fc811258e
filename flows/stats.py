"""`newsmill stats`: what the dataset holds, read with DuckDB straight from Parquet."""

from __future__ import annotations

import duckdb

from pipelines.layout import DataDir
from pipelines.store import article_files


def dataset_stats(data: DataDir) -> dict:
    files = article_files(data)
    if not files:
        return {"files": 0, "rows": 0, "duplicates": 0, "clusters": 0, "sources": [], "days": []}
    con = duckdb.connect()
    con.read_parquet([str(f) for f in files], union_by_name=True).create_view("a")
    rows, dups, clusters, first, last = con.execute(
        "select count(*), coalesce(sum(is_duplicate::int), 0), count(distinct cluster_id),"
        " min(published_at), max(published_at) from a"
    ).fetchone()
    sources = con.execute(
        "select source, count(*) as rows, sum(is_duplicate::int) as duplicates, min(published_at)::date,"
        " max(published_at)::date from a group by source order by source"
    ).fetchall()
    days = con.execute(
        "select source, published_at::date as day, count(*) as rows, sum(is_duplicate::int) as duplicates"
        " from a group by all order by source, day"
    ).fetchall()
    return {
        "files": len(files), "rows": rows, "duplicates": dups, "clusters": clusters,
        "published_from": first, "published_to": last, "sources": sources, "days": days,
    }


def stats_lines(stats: dict, data: DataDir, per_day: bool = True) -> list[str]:
    if not stats["files"]:
        return [f"{data.root}: no articles yet"]
    lines = [
        f"{data.root}: {stats['rows']} rows in {stats['files']} files, {stats['duplicates']} duplicates,"
        f" {stats['clusters']} stories; published {stats['published_from']} .. {stats['published_to']}",
        "",
        f"{'source':<24}{'rows':>8}{'dups':>8}  first       last",
    ]
    for source, rows, dups, first, last in stats["sources"]:
        lines.append(f"{source:<24}{rows:>8}{dups:>8}  {str(first or '-'):<10}  {last or '-'}")
    if not per_day:
        return lines
    lines += ["", f"{'source':<24}{'day':<12}{'rows':>8}{'dups':>8}"]
    for source, day, rows, dups in stats["days"]:
        lines.append(f"{source:<24}{str(day or 'undated'):<12}{rows:>8}{dups:>8}")
    return lines
