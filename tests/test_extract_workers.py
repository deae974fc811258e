"""Worker pool safety: a page that hangs or blows up is dropped with its reason, the batch goes on."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.extract import extract_pages
from pipelines.models import Page
from pipelines.settings import Settings
from pipelines.workers import run_tasks
from tests.extract_site import build_site, site_pages


def _sleep(x: float) -> float:
    time.sleep(x)
    return x


def _hog(mb: int) -> int:
    chunks = [bytearray(1024 * 1024) for _ in range(mb)]
    return len(chunks)


def _boom(x: int) -> int:
    if x == 3:
        raise ValueError("bad page")
    return x


def _die(x: int) -> int:
    if x == 1:
        import os

        os._exit(3)
    return x


@pytest.mark.timeout(30)
def test_timeout_replaces_worker_and_batch_goes_on() -> None:
    stats: dict[str, float] = {}
    t0 = time.monotonic()
    outs = {o.index: o for o in run_tasks(_sleep, [0.0, 30.0, 0.0, 0.0, 30.0, 0.0], 2, 0.5, stats=stats)}
    assert time.monotonic() - t0 < 5
    assert [outs[i].ok for i in range(6)] == [True, False, True, True, False, True]
    assert outs[1].reason == outs[4].reason == "timeout"
    assert stats["workers/replaced"] == 2


@pytest.mark.timeout(30)
def test_memory_cap_error_and_dead_worker() -> None:
    outs = {o.index: o for o in run_tasks(_hog, [1, 2000, 1], 1, 10.0, max_mem_mb=200)}
    assert outs[0].ok and outs[2].ok
    assert not outs[1].ok and outs[1].reason == "memory"
    outs = {o.index: o for o in run_tasks(_boom, range(5), 2, 5.0)}
    assert outs[3].reason == "error" and "bad page" in outs[3].detail
    assert sum(o.ok for o in outs.values()) == 4
    outs = {o.index: o for o in run_tasks(_die, range(4), 1, 5.0)}
    assert not outs[1].ok and outs[1].reason == "error"
    assert [outs[i].ok for i in (0, 2, 3)] == [True, True, True]


def _echo(data: bytes) -> bytes:
    return data * 2


@pytest.mark.timeout(30)
def test_tasks_queued_behind_a_hung_one_are_not_lost() -> None:
    # one worker, three tasks in flight: the hung one times out alone, the ones behind it run again
    outs = {o.index: o for o in run_tasks(_sleep, [0.0, 30.0, 0.0, 0.0], 1, 0.5, depth=3)}
    assert [outs[i].ok for i in range(4)] == [True, False, True, True]
    assert outs[1].reason == "timeout"


@pytest.mark.timeout(30)
def test_large_items_and_results_do_not_deadlock() -> None:
    # bigger than any socket buffer both ways: such a task is sent only to an idle worker
    items = [bytes([i]) * (3 * 1024 * 1024) for i in range(6)]
    outs = {o.index: o for o in run_tasks(_echo, items, 2, 10.0)}
    assert all(outs[i].ok and outs[i].value == items[i] * 2 for i in range(6))


def _huge_page() -> Page:
    body = b"".join(b"<p>Paragraph %d with a few words of text in it.</p>" % i for i in range(50_000))
    return Page("https://www.coastcourier.example/huge", b"<html><body><article>" + body + b"</article></body></html>",
                200, {"content-type": "text/html"}, datetime(2026, 4, 1, tzinfo=UTC), "coast", "pattern")


def _deep_page() -> Page:
    html = b"<html><body>" + b"<div>" * 100_000 + b"<p>deep</p>" + b"</div>" * 100_000 + b"</body></html>"
    return Page("https://www.coastcourier.example/deep", html, 200, {"content-type": "text/html"},
                datetime(2026, 4, 1, tzinfo=UTC), "coast", "pattern")


@pytest.mark.timeout(60)
def test_hanging_page_dropped_as_timeout_within_bound(tmp_path: Path) -> None:
    site = build_site(n_articles=6, seed=9)
    pages = site_pages(site, hubs=False)
    batch = pages[:3] + [_huge_page(), _deep_page()] + pages[3:]
    settings = Settings(workers=2, extract_timeout_s=2.0, extract_max_mem_mb=1024)
    t0 = time.monotonic()
    result = extract_pages(batch, tmp_path, settings)
    assert time.monotonic() - t0 < 20
    reasons = {d.url.rsplit("/", 1)[1]: d.reason for d in result.dropped}
    assert reasons["huge"] in ("timeout", "memory")
    assert reasons.get("deep", "no_text") in ("timeout", "memory", "error", "no_text", "too_short", "empty")
    assert len(result.articles) == len(pages)
    assert result.stats["dropped/" + reasons["huge"]] >= 1
    assert result.stats["workers/replaced"] >= 1
