"""RELIABILITY case 16: the URL canonicalization table (pipelines.urls.normalize_url)."""

from __future__ import annotations

import pytest

from pipelines.urls import normalize_url

SAME = [
    ("HTTP://Example.COM/a", "http://example.com/a"),  # scheme and host case
    ("http://example.com:80/a", "http://example.com/a"),  # default port
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com/a#comments", "http://example.com/a"),  # fragment
    ("http://example.com/a?utm_source=x&utm_medium=y", "http://example.com/a"),  # tracking
    ("http://example.com/a?id=1&utm_campaign=z", "http://example.com/a?id=1"),
    ("http://example.com/a?sid=abc123&id=1", "http://example.com/a?id=1"),  # session ids
    ("http://example.com/a?PHPSESSID=f00", "http://example.com/a"),
    ("http://example.com/a?b=2&a=1", "http://example.com/a?a=1&b=2"),  # query order
]


@pytest.mark.parametrize("variant,canonical", SAME)
def test_case16_variants_merge(variant, canonical):
    assert normalize_url(variant) == normalize_url(canonical)


def test_case16_distinct_ids_stay_apart():
    assert normalize_url("http://example.com/a?id=1") != normalize_url("http://example.com/a?id=2")


def test_case16_other_ports_stay_apart():
    assert normalize_url("http://example.com:8080/a") != normalize_url("http://example.com/a")


def test_case16_path_session_id_merges():
    assert normalize_url("http://example.com/a;jsessionid=XYZ?id=1") == normalize_url(
        "http://example.com/a?id=1")
