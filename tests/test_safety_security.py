"""RELIABILITY cases 11, 12, 14, 15: SSRF, credentials on redirect, crawler traps, robots.txt.

Each case runs a real crawl subprocess against tests/faultserver.py; the
"secret" server on 127.0.0.2 must count 0 hits after all of them.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.faultserver import Servers, run_crawl

pytestmark = pytest.mark.timeout(90)

BASE_SETTINGS = {"NEWSMILL_ALLOWED_HOSTS": ["127.0.0.1"], "DOWNLOAD_TIMEOUT": 3}


@pytest.fixture(scope="module")
def servers():
    srv = Servers()
    yield srv
    srv.close()


def by_seed(crawl, seed):
    return [o for o in crawl["outcomes"] if o["seed"] == seed]


# -- case 11: SSRF --------------------------------------------------------------------

@pytest.fixture(scope="module")
def ssrf(servers, tmp_path_factory):
    port = servers.bases["secret"].rsplit(":", 1)[1]
    spellings = [f"http://{host}:{port}/seed" for host in (
        "127.0.0.2", "2130706434", "0x7f000002", "127.0.2", "0177.0.0.2", "[::ffff:127.0.0.2]",
        "[::ffff:7f00:2]", "0.0.0.0", "127.1", "localhost")]
    spellings.append("http://169.254.169.254/latest/meta-data/")
    redirects = [servers.url("main", "/redirect-to?url=" + quote(target, safe="")) for target in (
        f"http://127.0.0.2:{port}/redirect", f"http://2130706434:{port}/redirect",
        f"http://[::ffff:127.0.0.2]:{port}/redirect")]
    links = [servers.url("main", "/links?to=" + quote(f"http://127.0.0.2:{port}/link", safe="")
                         + "&to=" + quote(f"http://0x7f000002:{port}/link", safe=""))]
    result = run_crawl(tmp_path_factory.mktemp("ssrf"),
                       {"urls": spellings + redirects + links, "follow": True}, BASE_SETTINGS)
    result.update(spellings=spellings, redirects=redirects, links=links,
                  secret_hits=servers.hits("secret"))
    return result


def test_case11_secret_server_never_hit(ssrf):
    assert ssrf["secret_hits"] == {}


def test_case11_every_spelling_blocked_as_ssrf(ssrf):
    for seed in ssrf["spellings"]:
        [got] = by_seed(ssrf, seed)
        assert not got["ok"] and got["message"].startswith("ssrf:"), got


def test_case11_redirects_and_links_blocked(ssrf):
    for seed in ssrf["redirects"]:
        [got] = by_seed(ssrf, seed)
        assert not got["ok"] and got["redirect_times"] == 1 and got["message"].startswith("ssrf:"), got
    link_outcomes = by_seed(ssrf, ssrf["links"][0])
    assert [o["ok"] for o in link_outcomes].count(True) == 1  # the page itself
    assert sum(1 for o in link_outcomes if not o["ok"] and o["message"].startswith("ssrf:")) == 2
    assert ssrf["stats"]["newsmill/ssrf/blocked"] == len(ssrf["spellings"]) + 3 + 2


@pytest.fixture(scope="module")
def offsite(servers, tmp_path_factory):
    # localhost is an allowed host (not private for the guard) but not one of the
    # spider's allowed_domains: only the redirect rule stops it.
    port = servers.bases["main"].rsplit(":", 1)[1]
    target = f"http://localhost:{port}/ok?k=offsite-redirect"
    seed = servers.url("main", "/redirect-to?url=" + quote(target, safe=""))
    direct = servers.url("main", "/ok?k=onsite")
    settings = {**BASE_SETTINGS, "NEWSMILL_ALLOWED_HOSTS": ["127.0.0.1", "localhost"]}
    result = run_crawl(tmp_path_factory.mktemp("offsite"),
                       {"urls": [seed, direct], "allowed_domains": ["127.0.0.1"]}, settings)
    result.update(seed=seed, direct=direct, hits=servers.hits("main"))
    return result


def test_case11_redirect_to_host_outside_allowed_domains_dropped(offsite):
    [got] = by_seed(offsite, offsite["seed"])
    assert not got["ok"] and "offsite redirect" in got["message"]
    assert "/ok?k=offsite-redirect" not in offsite["hits"]
    assert offsite["stats"]["newsmill/offsite/redirect"] == 1
    [direct] = by_seed(offsite, offsite["direct"])
    assert direct["ok"]


# -- case 12: credentials ----------------------------------------------------------------

CREDENTIALS = {"Authorization": "Bearer s3cret", "Cookie": "session=s3cret",
               "Proxy-Authorization": "Basic czNjcmV0"}


@pytest.fixture(scope="module")
def credentials(servers, tmp_path_factory):
    other_port = servers.url("other", "/echo-headers?k=other-port")
    same_origin = servers.url("main", "/echo-headers?k=same-origin")
    seeds = {name: servers.url("main", "/redirect-to?url=" + quote(target, safe=""))
             for name, target in (("other_port", other_port), ("same_origin", same_origin))}
    result = run_crawl(tmp_path_factory.mktemp("creds"),
                       {"urls": list(seeds.values()), "headers": CREDENTIALS},
                       {**BASE_SETTINGS, "COOKIES_ENABLED": False})
    result["seeds"] = seeds
    return result


def echoed(crawl, name):
    import json

    [got] = by_seed(crawl, crawl["seeds"][name])
    assert got["ok"], got
    return {k.lower() for k in json.loads(got["body_head"])}


def test_case12_credentials_dropped_on_redirect_to_other_port(credentials):
    headers = echoed(credentials, "other_port")
    assert not headers & {"authorization", "cookie", "proxy-authorization"}, headers
    assert credentials["stats"]["newsmill/redirect/credentials_dropped"] >= 1


def test_case12_credentials_kept_on_same_origin_redirect(credentials):
    headers = echoed(credentials, "same_origin")
    assert {"authorization", "cookie"} <= headers


# -- case 14: crawler traps ------------------------------------------------------------------

@pytest.fixture(scope="module")
def traps(servers, tmp_path_factory):
    seeds = {"repeat": servers.url("main", "/trap/a/"), "sid": servers.url("main", "/sid-loop?sid=first"),
             "long": servers.url("main", "/long/abcdefghij")}
    result = run_crawl(tmp_path_factory.mktemp("traps"), {"urls": list(seeds.values()), "follow": True},
                       {**BASE_SETTINGS, "NEWSMILL_MAX_URL_LENGTH": 300})
    result["seeds"] = seeds
    return result


@pytest.mark.parametrize("name,reason", [("repeat", "path_repetition"), ("sid", "session_id_loop"),
                                         ("long", "url_too_long")])
def test_case14_traps_stopped(traps, name, reason):
    got = by_seed(traps, traps["seeds"][name])
    fetched = [o for o in got if o["ok"]]
    assert 1 <= len(fetched) <= 6, fetched
    assert [o for o in got if not o["ok"] and o["message"] == f"trap: {reason}"]
    assert traps["stats"][f"newsmill/limits/{reason}"] >= 1


# -- case 15: robots.txt ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def robots(servers, tmp_path_factory):
    seeds = {"5xx": servers.url("robots_5xx", "/ok"), "slow": servers.url("robots_slow", "/ok"),
             "404": servers.url("robots_404", "/ok"), "huge_early": servers.url("robots_huge", "/early"),
             "huge_late": servers.url("robots_huge", "/late"), "normal": servers.url("main", "/private")}
    result = run_crawl(tmp_path_factory.mktemp("robots"), {"urls": list(seeds.values())},
                       {**BASE_SETTINGS, "DOWNLOAD_TIMEOUT": 2, "RETRY_TIMES": 1})
    result["seeds"] = seeds
    result["hits"] = {name: servers.hits(name) for name in ("robots_5xx", "robots_slow")}
    return result


@pytest.mark.parametrize("name", ["5xx", "slow"])
def test_case15_unreachable_robots_disallows_host(robots, name):
    [got] = by_seed(robots, robots["seeds"][name])
    assert not got["ok"] and "robots" in got["message"].lower(), got
    assert "/ok" not in robots["hits"][f"robots_{name}"]


def test_case15_unreachable_counted(robots):
    assert robots["stats"]["newsmill/robots/unreachable"] == 2


def test_case15_404_allows_all(robots):
    [got] = by_seed(robots, robots["seeds"]["404"])
    assert got["ok"]


def test_case15_huge_robots_parsed_up_to_cap(robots):
    [early] = by_seed(robots, robots["seeds"]["huge_early"])
    [late] = by_seed(robots, robots["seeds"]["huge_late"])
    assert not early["ok"] and "robots" in early["message"].lower()
    assert late["ok"]  # its rule sits past the 500 KiB cap
    assert robots["stats"]["newsmill/robots/truncated"] == 1


def test_case15_normal_robots_obeyed(robots):
    [got] = by_seed(robots, robots["seeds"]["normal"])
    assert not got["ok"] and "robots" in got["message"].lower()


def test_case11_secret_server_still_zero_after_all_crawls(servers, ssrf, offsite, credentials, traps, robots):
    assert servers.hits("secret") == {}


# -- case 11: DNS rebinding -------------------------------------------------------------
# The guard resolves before the request; the downloader resolves again when it
# connects, and a rebinding name answers differently the second time. The
# resolver the connection uses refuses non-public answers itself: with the guard
# middleware taken out, the secret server is still never reached.

@pytest.fixture(scope="module")
def rebinding(servers, tmp_path_factory):
    port = servers.bases["secret"].rsplit(":", 1)[1]
    seeds = [f"http://localhost:{port}/rebind"]  # a name: IP literals never reach a resolver
    allowed = servers.url("main", "/ok?k=allowed-host")
    settings = {**BASE_SETTINGS, "DOWNLOADER_MIDDLEWARES": {"spiders.guard.SsrfGuardMiddleware": None}}
    result = run_crawl(tmp_path_factory.mktemp("rebind"), {"urls": [*seeds, allowed]}, settings)
    result.update(seeds=seeds, allowed=allowed, secret_hits=servers.hits("secret"))
    return result


def test_case11_connection_dns_refuses_private_answers(rebinding):
    assert rebinding["secret_hits"] == {}
    for seed in rebinding["seeds"]:
        got = by_seed(rebinding, seed)[-1]
        assert not got["ok"] and "DNS lookup failed" in got["message"], got
    assert "DNS answer refused: localhost resolves to loopback address 127.0.0.1" in rebinding["log"]
    [ok] = by_seed(rebinding, rebinding["allowed"])  # a source's own host still resolves
    assert ok["ok"], ok
