"""Unit checks of the safety helpers and of SAFETY_SETTINGS itself (no network)."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timezone

import pytest
from scrapy.utils.misc import load_object

from spiders.backoff import retry_after_seconds
from spiders.guard import address_block_reason, literal_address
from spiders.limits import strip_session_ids, trap_reason
from spiders.robots import truncate_robots
from spiders.safety import SAFETY_SETTINGS


@pytest.mark.parametrize("host,reason", [
    ("2130706433", "loopback"), ("0x7f000001", "loopback"), ("127.1", "loopback"),
    ("0177.0.0.1", "loopback"), ("::ffff:127.0.0.2", "loopback"), ("::1", "loopback"),
    ("0.0.0.0", "unspecified"), ("169.254.169.254", "link_local"), ("10.1.2.3", "private"),
    ("192.168.0.1", "private"), ("172.16.5.4", "private"), ("fc00::1", "private"),
    ("fe80::1", "link_local"), ("224.0.0.1", "multicast"),
    ("100.64.0.1", "non_global"), ("2002:7f00:1::1", "loopback"),
])
def test_case11_odd_spellings_resolve_to_blocked_addresses(host, reason):
    addr = literal_address(host)
    assert addr is not None
    assert address_block_reason(addr) == reason


@pytest.mark.parametrize("host", ["240.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1"])
def test_case11_reserved_and_special_ranges_blocked(host):
    # Which flag Python sets for these moved between versions; blocked is what matters.
    assert address_block_reason(ipaddress.ip_address(host)) is not None


@pytest.mark.parametrize("addr", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_case11_public_addresses_pass(addr):
    assert address_block_reason(ipaddress.ip_address(addr)) is None


def test_case11_names_are_not_literals():
    assert literal_address("example.com") is None
    assert literal_address("127.0.0.1.example.com") is None


def test_case3_retry_after_parsing():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(b"2") == 2
    assert retry_after_seconds(b"Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30
    assert retry_after_seconds(b"Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


def test_case15_truncate_robots_cuts_at_line_end():
    body = b"User-agent: *\nDisallow: /a\nDisallow: /b\n"
    assert truncate_robots(body, 1000) == body
    assert truncate_robots(body, 30) == b"User-agent: *\nDisallow: /a\n"


@pytest.mark.parametrize("url,reason", [
    ("http://h/a/a/a/", "path_repetition"), ("http://h/cal/x/cal/y/cal/", "path_repetition"),
    ("http://h/" + "x" * 3000, "url_too_long"), ("http://h/2024/01/01/a-story", None),
    ("http://h/news/world/news/x", None),
])
def test_case14_trap_shapes(url, reason):
    assert trap_reason(url, 2048, 3) == reason


def test_case14_session_ids_stripped_for_loop_detection():
    assert strip_session_ids("http://h/a?sid=1&id=2") == "http://h/a?id=2"
    assert strip_session_ids("http://h/a;jsessionid=XYZ?id=2") == "http://h/a?id=2"
    assert strip_session_ids("http://h/a?id=2") == "http://h/a?id=2"


def test_case10_non_http_handlers_off():
    assert SAFETY_SETTINGS["DOWNLOAD_HANDLERS"] == {"file": None, "data": None, "ftp": None, "s3": None}


def test_safety_settings_wire_loadable_middlewares_in_order():
    mws = SAFETY_SETTINGS["DOWNLOADER_MIDDLEWARES"]
    for path, order in mws.items():
        if order is not None:
            load_object(path)
    # Guard before OffsiteMiddleware (50) and robots (100); credentials before HttpAuth (300).
    assert mws["spiders.guard.SsrfGuardMiddleware"] < 50
    assert mws["spiders.limits.RedirectCredentialsMiddleware"] < 300
    assert mws["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert mws["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None
    assert SAFETY_SETTINGS["DOWNLOAD_MAXSIZE"] == 16 * 1024 * 1024
    assert SAFETY_SETTINGS["REDIRECT_MAX_TIMES"] == 10 and SAFETY_SETTINGS["ROBOTSTXT_OBEY"]
