"""Files that appear whole or not at all: write aside, fsync, rename into place.

The temporary name `.tmp-<name>.part` is invisible to both kinds of reader:
dataset readers (pyarrow, Spark) skip names starting with `.`, and globbing
readers (DuckDB's `articles/**/*.parquet`, which does NOT skip dot-files)
never match the `.part` suffix.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TMP_PREFIX = ".tmp-"


TMP_SUFFIX = ".part"


def tmp_path(final: Path) -> Path:
    return final.with_name(f"{TMP_PREFIX}{final.name}{TMP_SUFFIX}")


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, final: Path) -> None:
    """fsync `tmp`, rename it to `final`, fsync the directory (the rename is durable)."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    fsync_dir(final.parent)


@contextlib.contextmanager
def atomic_writer(final: Path) -> Iterator[BinaryIO]:
    """Open a temp file beside `final`; publish it on success, remove it on error."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(final)
    fh = open(tmp, "wb")
    try:
        yield fh
        fh.close()
        publish(tmp, final)
    except BaseException:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(final: Path, data: bytes) -> None:
    with atomic_writer(final) as fh:
        fh.write(data)


def clean_stale_tmp(directory: Path) -> int:
    """Remove temp files a killed writer left behind; returns how many."""
    count = 0
    if directory.exists():
        for p in directory.rglob(f"{TMP_PREFIX}*{TMP_SUFFIX}"):
            p.unlink(missing_ok=True)
            count += 1
    return count
