"""`kill -9` just before and just after a file is renamed into place (RELIABILITY.md case 21).

The real `newsmill backfill` runs in a child Python process whose `os.replace` is
wrapped: on the K-th rename onto a chosen kind of file it sends itself SIGKILL,
either before the rename happens or right after it. Then readers (DuckDB's glob,
pyarrow's dataset) read what is there, and a second, uninjected run on the same
inputs and data directory finishes the job: temp files gone, every article once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from bench.backfill import article_pages, build_warcs
from pipelines.lock import DataDirBusy, RunLock
from pipelines.urls import normalize_url

pytestmark = pytest.mark.timeout(300)

FILES, SITES, PER_SITE = 3, 2, 15  # 30 article pages, 10 a file; --batch-pages 10: a Parquet file a WARC file

# Runs `flows.cli.main(argv)` with os.replace wrapped: on the K-th rename whose target
# matches, SIGKILL this process just before or just after the real rename.
BOOT = r"""
import os, signal, sys
when, k, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
main_pid, real, hits = os.getpid(), os.replace, [0]

def replace(src, dst, *args, **kwargs):
    name = os.fspath(dst)
    if os.getpid() == main_pid and target in name:
        hits[0] += 1
        if hits[0] == k:
            sys.stderr.write(f"injected: SIGKILL {when} rename #{k} onto {name}\n")
            sys.stderr.flush()
            if when == "before":
                os.kill(main_pid, signal.SIGKILL)
            real(src, dst, *args, **kwargs)
            os.kill(main_pid, signal.SIGKILL)
    return real(src, dst, *args, **kwargs)

os.replace = replace
from flows.cli import main
sys.exit(main(sys.argv[4:]))
"""


def backfill_argv(warcs: Path, data: Path, batch_pages: int = PER_SITE * SITES // FILES) -> list[str]:
    return ["backfill", str(warcs), "--data-dir", str(data), "--batch-pages", str(batch_pages)]


def child_env(prefect_api: str) -> dict[str, str]:
    return {**os.environ, "NEWSMILL_WORKERS": "1", "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_API_URL": prefect_api}


def timeouts_reported(data: Path) -> int:
    """Pages the finished runs on `data` dropped as extract/timeout."""
    return sum(json.loads(p.read_text())["totals"]["dropped"].get("extract/timeout", 0)
               for p in (data / "runs").glob("*.json"))


@dataclass
class Run:
    """One `newsmill` process, started in its own session (its group id is its pid)."""

    proc: subprocess.Popen
    log: Path  # <log>.out and <log>.err: files, not pipes, which leftover processes would hold open

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def output(self) -> str:
        return self.log.with_suffix(".out").read_text()[-2000:] + self.log.with_suffix(".err").read_text()[-3000:]

    def kill_group(self) -> None:
        """SIGKILL whatever is left of the run's process group, as a job kill would."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_newsmill(argv: list[str], env: dict[str, str], logs: Path,
                   inject: tuple[str, int, str] | None = None) -> Run:
    if inject is None:
        cmd = [sys.executable, "-m", "flows.cli", *argv]
    else:
        when, k, target = inject
        cmd = [sys.executable, "-c", BOOT, when, str(k), target, *argv]
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / str(len(list(logs.glob("*.out"))))
    with open(log.with_suffix(".out"), "w") as out, open(log.with_suffix(".err"), "w") as err:
        return Run(subprocess.Popen(cmd, env=env, stdout=out, stderr=err, start_new_session=True), log)


def run_newsmill(argv: list[str], env: dict[str, str], logs: Path, inject: tuple[str, int, str] | None = None,
                 timeout: float = 120) -> Run:
    """One run to its end (or its injected kill); nothing it started outlives this call."""
    run = start_newsmill(argv, env, logs, inject)
    try:
        run.proc.wait(timeout)
    finally:
        run.kill_group()
        run.proc.wait(10)
    return run


def group_members(pgid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], check=False, capture_output=True, text=True).stdout
    return [int(p) for p in found.split()]


def visible_parquet(data: Path) -> list[Path]:
    """What a glob reader matches: `articles/**/*.parquet`."""
    return sorted((data / "articles").rglob("*.parquet"))


def temp_files(root: Path) -> list[Path]:
    return sorted(root.rglob(".tmp-*")) if root.exists() else []


def assert_readers_see_whole_files(data: Path) -> int:
    """DuckDB's glob and pyarrow's dataset read the directory; every file they see is whole.

    Returns the number of rows both readers agree on."""
    files = visible_parquet(data)
    per_file = {}
    for f in files:
        meta = pq.ParquetFile(f).metadata  # a torn file has no footer: this raises
        table = pq.read_table(f)
        assert table.num_rows == meta.num_rows > 0, f"{f.name}: rows readable"
        per_file[f] = table.num_rows
    total = sum(per_file.values())
    if files:
        got = duckdb.connect().execute(
            f"select count(*) from read_parquet('{data}/articles/**/*.parquet')").fetchone()[0]
        assert got == total, "DuckDB's glob reads exactly the published files"
    dataset = pads.dataset(data / "articles", format="parquet", partitioning="hive")
    assert sorted(Path(f) for f in dataset.files) == files, "pyarrow lists exactly the published files"
    assert dataset.to_table().num_rows == total
    return total


def landed(data: Path) -> list[tuple[str, bool, str | None]]:
    """(canonical_url, is_duplicate, duplicate_of) of every row, sorted."""
    return sorted(duckdb.connect().execute(
        "select canonical_url, is_duplicate, duplicate_of "
        f"from read_parquet('{data}/articles/**/*.parquet')").fetchall())


def assert_every_article_once(data: Path, reference: list[tuple], why: str) -> None:
    rows = landed(data)
    urls = [r[0] for r in rows]
    doubled = sorted({u for u in urls if urls.count(u) > 1})
    assert not doubled, f"landed twice after {why}: {doubled[:5]}"
    lost = sorted({r[0] for r in reference} - set(urls))
    assert not lost, f"lost after {why}: {lost[:5]}"
    assert rows == reference, f"after {why}, the same rows and dedup decisions as an uninterrupted run"


@pytest.fixture(scope="module")
def warcs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("warcs")
    build_warcs(root, FILES, SITES, PER_SITE)
    return root


@pytest.fixture(scope="module")
def reference(warcs, tmp_path_factory, prefect_api) -> list[tuple]:
    """The rows of a clean, uninterrupted run: what every killed-then-resumed run must hold.
    The same batches as the runs under test (templates are learned per batch, so dedup
    decisions depend on them)."""
    data = tmp_path_factory.mktemp("reference") / "data"
    done = run_newsmill(backfill_argv(warcs, data), child_env(prefect_api), data.parent / "logs")
    assert done.returncode == 0, done.output()
    assert timeouts_reported(data) == 0, done.output()
    assert len(visible_parquet(data)) == FILES, "a Parquet file per batch: the 2nd rename is a real point"
    rows = landed(data)
    truth = sorted(normalize_url(u) for u, *_ in article_pages(SITES, PER_SITE))
    assert [r[0] for r in rows] == truth, "every article page the WARC files hold lands once"
    assert any(r[1] for r in rows), "some copies: dedup decisions are compared too"
    return rows


@pytest.mark.parametrize(("when", "k"), [("before", 1), ("after", 1), ("before", 2)])
def test_kill_at_parquet_rename_then_resume(when, k, warcs, reference, tmp_path, prefect_api):
    data = tmp_path / "data"
    env = child_env(prefect_api)
    killed = run_newsmill(backfill_argv(warcs, data), env, tmp_path / "logs", inject=(when, k, ".parquet"))
    assert killed.returncode == -signal.SIGKILL, killed.output()
    assert f"injected: SIGKILL {when} rename #{k}" in killed.output()

    published = visible_parquet(data)
    assert len(published) == (k - 1 if when == "before" else k)
    rows = assert_readers_see_whole_files(data)
    assert (rows > 0) == (len(published) > 0) and rows < len(reference)
    parts = temp_files(data / "articles")
    if when == "before":
        assert len(parts) == 1 and parts[0].name.endswith(".parquet.part"), parts
        # Torn, as a kill mid-write would leave it: readers still see only whole files.
        parts[0].write_bytes(parts[0].read_bytes()[: parts[0].stat().st_size // 2])
        assert assert_readers_see_whole_files(data) == rows
    else:
        assert parts == [], "the renamed file left no temp file behind"

    resumed = run_newsmill(backfill_argv(warcs, data), env, tmp_path / "logs")
    assert resumed.returncode == 0, resumed.output()
    assert temp_files(data) == [], "stale temp files are cleaned"
    assert_readers_see_whole_files(data)
    assert_every_article_once(data, reference, f"a kill {when} Parquet rename #{k}")


def test_kill_before_a_completion_marker_rename_then_resume(warcs, reference, tmp_path, prefect_api):
    """The other files renamed into place: a WARC file's completion marker under state/done/.
    Its Parquet file and index are in; the file is not marked done, so the next run reads
    it again and lands nothing twice."""
    data = tmp_path / "data"
    env = child_env(prefect_api)
    killed = run_newsmill(backfill_argv(warcs, data), env, tmp_path / "logs", inject=("before", 1, "/state/done/"))
    assert killed.returncode == -signal.SIGKILL, killed.output()
    assert "injected: SIGKILL before rename #1" in killed.output()
    assert assert_readers_see_whole_files(data) > 0
    assert list((data / "state" / "done").glob("*.json")) == []
    parts = temp_files(data / "state")
    assert [p.parent.name for p in parts] == ["done"], parts

    resumed = run_newsmill(backfill_argv(warcs, data), env, tmp_path / "logs")
    assert resumed.returncode == 0, resumed.output()
    assert temp_files(data) == [], "stale temp files are cleaned"
    assert len(list((data / "state" / "done").glob("*.json"))) == FILES
    assert_readers_see_whole_files(data)
    assert_every_article_once(data, reference, "a kill before a marker rename")


def test_kill_9_of_the_backfill_alone_leaves_nothing_holding_the_data_dir(warcs, tmp_path, prefect_api):
    """`kill -9 <pid>` of the command only (not its group), as the OOM killer or a person does:
    the processes it started must die with it, or the next run finds the data dir locked.
    (The tests above kill the whole process group after the injected kill, as a job kill would.)"""
    data = tmp_path / "data"
    run = start_newsmill(backfill_argv(warcs, data), child_env(prefect_api), tmp_path / "logs",
                         inject=("before", 1, ".parquet"))
    try:
        run.proc.wait(120)
        assert run.returncode == -signal.SIGKILL, run.output()  # (a broken setup fails, not xfails)
        deadline = time.monotonic() + 3
        while group_members(run.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = group_members(run.proc.pid)
        try:  # what the next run does first
            RunLock(data / "state").acquire("next-run").release()
        except DataDirBusy as exc:
            pytest.fail(f"{len(left)} process(es) of the killed run still alive; the next run fails: {exc}")
        if left:
            pytest.fail(f"{len(left)} process(es) of the killed run still alive")
    finally:
        run.kill_group()
