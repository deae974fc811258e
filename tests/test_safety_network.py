"""RELIABILITY cases 1-10: network faults, driven through one real crawl subprocess.

The crawl runs every fault route at once with test-sized limits (3 s timeout,
2 MiB body cap); each test below reads its part of the outcome.
"""

from __future__ import annotations

import pytest

from tests.faultserver import Servers, free_port, run_crawl

pytestmark = pytest.mark.timeout(90)

MAXSIZE = 2 * 1024 * 1024
SETTINGS = {
    "NEWSMILL_ALLOWED_HOSTS": ["127.0.0.1"],
    "DOWNLOAD_TIMEOUT": 3,
    "DOWNLOAD_MAXSIZE": MAXSIZE,
    "DOWNLOAD_WARNSIZE": MAXSIZE // 4,
    "NEWSMILL_RETRY_AFTER_MAX": 60,
}
PATHS = {
    "503": "/503-then-200?k=net", "500": "/500?k=net", "429": "/429?k=net",
    "429date": "/429?k=date&ra=date", "429long": "/429?k=long&ra=3600",
    "reset": "/reset-after-headers", "short": "/short-body", "chunked": "/bad-chunked",
    "slow": "/slow", "hang": "/hang", "big_cl": "/big?cl=1", "big_nocl": "/big?cl=0",
    "gzip": "/gzip-bomb", "br": "/br-bomb", "zstd": "/zstd-bomb", "deflate": "/deflate-bomb",
    "loop": "/redirect-loop", "chain": "/redirect-chain/25",
    "to_file": "/redirect-to?url=file:///etc/passwd", "to_data": "/redirect-to?url=data:text/html,pwned",
    "to_ftp": "/redirect-to?url=ftp://127.0.0.1/x",
}


@pytest.fixture(scope="module")
def servers():
    srv = Servers()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def crawl(servers, tmp_path_factory):
    urls = {key: servers.url("main", path) for key, path in PATHS.items()}
    urls["refused"] = f"http://127.0.0.1:{free_port()}/ok"
    urls["dns"] = "http://no-such-host.invalid/ok"
    urls["file_seed"] = "file:///etc/passwd"
    urls["data_seed"] = "data:text/html,pwned"
    result = run_crawl(tmp_path_factory.mktemp("net"), {"urls": list(urls.values())}, SETTINGS)
    result["urls"] = urls
    result["hits"] = servers.hits("main")
    return result


def outcomes(crawl, key):
    return [o for o in crawl["outcomes"] if o["seed"] == crawl["urls"][key]]


def only(crawl, key):
    found = outcomes(crawl, key)
    assert len(found) == 1, (key, found)
    return found[0]


def test_run_finishes_and_records_every_seed(crawl):
    assert crawl["reason"] == "finished"
    assert {o["seed"] for o in crawl["outcomes"]} == set(crawl["urls"].values())


def test_case1_503_503_200_stored_once_with_retries_counted(crawl):
    got = only(crawl, "503")
    assert got["ok"] and got["status"] == 200 and got["retry_times"] == 2
    assert len(crawl["hits"][PATHS["503"]]) == 3
    assert crawl["stats"]["retry/reason_count/503 Service Unavailable"] == 2


def test_case2_permanent_500_failed_with_reason(crawl):
    got = only(crawl, "500")
    assert not got["ok"] and got["status"] == 500
    assert len(crawl["hits"][PATHS["500"]]) == 3  # first try + RETRY_TIMES
    assert crawl["stats"]["retry/max_reached"] >= 1


@pytest.mark.parametrize("key", ["429", "429date"])
def test_case3_retry_after_delays_next_attempt(crawl, key):
    got = only(crawl, key)
    assert got["ok"] and got["status"] == 200
    first, second = crawl["hits"][PATHS[key]]
    assert second - first >= 1.95  # Retry-After: 2 (or an HTTP-date 2-3 s ahead)
    assert crawl["stats"]["newsmill/backoff/waits"] >= 2


def test_case3_retry_after_beyond_cap_gives_up_with_reason(crawl):
    got = only(crawl, "429long")
    assert not got["ok"] and got["status"] == 429
    assert len(crawl["hits"][PATHS["429long"]]) == 1
    assert crawl["stats"]["newsmill/backoff/gave_up/retry_after_too_long"] == 1


@pytest.mark.parametrize("key", ["reset", "short", "chunked"])
def test_case4_broken_bodies_retried_never_stored(crawl, key):
    got = only(crawl, key)
    assert not got["ok"], got
    assert len(crawl["hits"][PATHS[key]]) == 3


@pytest.mark.parametrize("key", ["slow", "hang"])
def test_case5_cut_at_download_timeout(crawl, key):
    got = only(crawl, key)
    assert not got["ok"] and "Timeout" in got["error"], got


@pytest.mark.parametrize("key", ["refused", "dns"])
def test_case6_refused_and_dns_recorded(crawl, key):
    got = only(crawl, key)
    assert not got["ok"]
    assert got["error"] in {"DownloadConnectionRefusedError", "ConnectionRefusedError",
                            "CannotResolveHostError", "DNSLookupError"}, got


@pytest.mark.parametrize("key", ["big_cl", "big_nocl"])
def test_case7_big_body_cancelled_at_size_limit(crawl, key):
    got = only(crawl, key)
    assert not got["ok"], got
    assert "max size" in crawl["log"] or "maxsize" in crawl["log"].lower()


def test_case7_8_memory_stays_flat(crawl):
    # 2 x 50 MB bodies and 4 x 64 MB bombs went through; a bounded run stays far below.
    peak_mib = crawl["maxrss_kib"] / 1024
    assert peak_mib < 200, peak_mib


@pytest.mark.parametrize("key", ["gzip", "br", "zstd", "deflate"])
def test_case8_decompression_bombs_ignored_with_one_warning(crawl, key):
    got = only(crawl, key)
    assert not got["ok"] and got["error"] == "IgnoreRequest" and "DOWNLOAD_MAXSIZE" in got["message"]
    warnings = [line for line in crawl["log"].splitlines()
                if "WARNING" in line and "exceeded DOWNLOAD_MAXSIZE" in line and PATHS[key] in line]
    assert len(warnings) == 1


@pytest.mark.parametrize("key", ["loop", "chain"])
def test_case9_redirects_stopped_at_limit_one_failure(crawl, key):
    got = only(crawl, key)
    assert not got["ok"] and "max redirections" in got["message"]
    prefix = {"loop": "/redirect-loop", "chain": "/redirect-chain/"}[key]
    hits = sum(len(v) for k, v in crawl["hits"].items() if k.startswith(prefix))
    assert hits <= 11  # the first request + REDIRECT_MAX_TIMES (10)


@pytest.mark.parametrize("key", ["to_file", "to_data", "to_ftp", "file_seed", "data_seed"])
def test_case10_non_http_schemes_refused(crawl, key):
    got = only(crawl, key)
    assert not got["ok"], got
    assert "root:" not in str(got) and "pwned" not in got.get("body_head", "")


def test_case10_file_seed_refused_by_guard(crawl):
    assert only(crawl, "file_seed")["message"].startswith("ssrf: scheme")
    assert crawl["stats"]["newsmill/ssrf/blocked_reason/scheme"] == 2
