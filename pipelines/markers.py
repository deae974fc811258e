"""Completion markers: a WARC file whose articles are landed is not processed again.

A marker is written only after the file's rows are in Parquet and the dedup index
is committed, so a run killed before that re-processes the file, and dedup's
"unchanged page adds no row" rule keeps the re-run from doubling anything.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipelines.atomic import write_bytes_atomic


def _marker(state_dir: Path, warc: str) -> Path:
    key = hashlib.sha1(warc.encode("utf-8")).hexdigest()
    return state_dir / "done" / f"{key}.json"


def is_done(state_dir: Path, warc: str) -> bool:
    return _marker(state_dir, warc).exists()


def mark_done(state_dir: Path, warc: str, run_id: str, counts: dict[str, int]) -> None:
    record = {"warc": warc, "run_id": run_id, **counts}
    write_bytes_atomic(_marker(state_dir, warc), json.dumps(record).encode())
