"""The command line's contract for bad input: status 2, one line, naming the thing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.lock import DataDirBusy, RunLock


def newsmill(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ("sources:\n  - name: a\n    feeds: [https://a.example/rss]\n    colour: red\n",
         "source 'a': key 'colour': unknown key"),
        ("sources:\n  - name: a\n    start_urls: [https://a.example/]\n    article_pattern: '(['\n",
         "source 'a': key 'article_pattern': bad regular expression"),
        ("sources:\n  - name: a\n    feeds: ['a.example/rss']\n", "source 'a': key 'feeds': not an http(s) URL"),
    ],
)
def test_bad_sources_file_stops_before_any_fetch(tmp_path, sources, expected):
    path = tmp_path / "sources.yaml"
    path.write_text(sources)
    proc = newsmill("crawl", "--sources", str(path), "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert not (tmp_path / "data").exists(), "nothing created before validation"


def test_bad_dates_and_missing_warc(tmp_path):
    proc = newsmill("backfill", str(tmp_path / "nope.warc.gz"), "--data-dir", str(tmp_path))
    assert proc.returncode == 2 and "nope.warc.gz: no such file or directory" in proc.stderr
    proc = newsmill("crawl", "--sources", "x.yaml", "--since", "2026-13-01")
    assert proc.returncode == 2 and "not a date (YYYY-MM-DD): '2026-13-01'" in proc.stderr


def test_second_run_on_one_data_dir_is_refused(tmp_path):
    with RunLock(tmp_path).acquire("first"):
        with pytest.raises(DataDirBusy, match="another run holds the data directory .run first"):
            RunLock(tmp_path).acquire("second")
    RunLock(tmp_path).acquire("third").release()  # released on exit: free again


def test_stats_on_empty_dir(tmp_path):
    proc = newsmill("stats", "--data-dir", str(tmp_path))
    assert proc.returncode == 0 and "no articles yet" in proc.stdout
