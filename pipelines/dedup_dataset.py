"""The index rebuilt or caught up from the landed Parquet dataset.

The dataset is the truth; the index is a cache of it that commit() keeps in
step. When a run's files landed but its commit() did not happen (a kill in
between), `reconcile` re-indexes that run's rows; `rebuild_index` re-indexes
every row into a fresh index. Rows are read run by run in run_id order (run_ids
sort by time), so the latest revision of an article is the one indexed.
Signatures are taken from the `minhash` column when its `minhash_params` match,
else recomputed from `text`; the shingle sequence is always recomputed (cheap).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np

from pipelines.lsh_index import FILENAME, Entry, IndexedDoc

_COLUMNS = "article_id, canonical_url, content_hash, cluster_id, text"


def landed_runs(parquet_glob: str) -> dict[str, int]:
    """run_id -> rows landed in the dataset."""
    if not _any_file(parquet_glob):
        return {}
    sql = (
        f"SELECT run_id, count(*) FROM read_parquet('{_q(parquet_glob)}', union_by_name=true) GROUP BY run_id"
    )
    return dict(duckdb.sql(sql).fetchall())


def reindex_runs(
    deduper, parquet_glob: str, landed: dict[str, int], run_ids: list[str], batch: int = 20_000
) -> int:
    """Index the rows of `run_ids` (in that order) from the dataset; returns rows indexed.

    All rows of each run are (re)indexed: indexing is idempotent, and the rows the
    index missed cannot be told from the others without reading them anyway."""
    if not run_ids:
        return 0
    con = duckdb.connect()
    cols = _existing_columns(con, parquet_glob)
    extra = ", ".join(c if c in cols else f"NULL AS {c}" for c in ("revision", "minhash", "minhash_params"))
    config = deduper.config.minhash
    total = 0
    for run_id in run_ids:
        rel = con.execute(
            f"SELECT {_COLUMNS}, {extra} FROM read_parquet('{_q(parquet_glob)}', union_by_name=true) "
            f"WHERE run_id = ? ORDER BY article_id, coalesce(revision, 0)",
            [run_id],
        )
        while rows := rel.fetchmany(batch):
            latest = {r[0]: r for r in rows}  # the highest revision of an article wins
            # A later run may have indexed a newer revision already: never step back.
            indexed = deduper.index.docs(list(latest))
            rows = [r for a, r in latest.items() if a not in indexed or indexed[a].revision <= int(r[5] or 0)]
            if not rows:
                continue
            seqs, _, _, keys = deduper.features([r[4] or "" for r in rows])
            stored = [
                i
                for i, r in enumerate(rows)
                if r[7] == str(config) and r[6] and len(r[6]) == 4 * config.num_perm
            ]
            if stored:  # the stored signature is the one assign() computed; keys must agree with it
                sig = np.stack([np.frombuffer(rows[i][6], "<u4") for i in stored])
                keys[stored] = deduper.hasher.band_keys(sig)
            entries = [
                Entry(IndexedDoc(r[0], r[1], r[2], r[3], int(r[5] or 0)), keys[i], seqs[i])
                for i, r in enumerate(rows)
            ]
            deduper.index.add(entries, run_id)
            total += len(entries)
        deduper.index.set_run_rows(run_id, landed[run_id])
    return total


def reset_local_index(state_dir: Path) -> None:
    """Move nothing aside: the dataset is the truth, the old index is dropped."""
    for suffix in ("", "-wal", "-shm"):
        p = state_dir / (FILENAME + suffix)
        if p.exists():
            os.remove(p)


def _existing_columns(con: duckdb.DuckDBPyConnection, parquet_glob: str) -> set[str]:
    rel = con.execute(f"SELECT * FROM read_parquet('{_q(parquet_glob)}', union_by_name=true) LIMIT 0")
    return {d[0] for d in rel.description}


def _any_file(parquet_glob: str) -> bool:
    import glob

    return any(not Path(p).name.startswith((".", "_")) for p in glob.iglob(parquet_glob, recursive=True))


def _q(s: str) -> str:
    return s.replace("'", "''")
