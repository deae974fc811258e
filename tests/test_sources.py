"""The sources file: valid files load; every kind of mistake is one line naming source and key."""

from __future__ import annotations

import pytest

from pipelines.sources import SourcesError, load_sources, parse_sources

GOOD = {
    "name": "commonspace",
    "start_urls": ["https://www.commonspace.eu/news"],
    "feeds": ["https://www.commonspace.eu/rss.xml"],
    "sitemaps": ["https://www.commonspace.eu/robots.txt"],
    "article_pattern": "/news/[^/]+$",
    "deny_pattern": "/(tag|search)/",
    "max_depth": 2,
    "max_pages": 100,
}


def test_valid_source_loads_with_defaults(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: a\n    feeds: [https://a.example/rss.xml]\n")
    [src] = load_sources(path)
    assert src.name == "a" and src.feeds == ("https://a.example/rss.xml",)
    assert src.allowed_domains == ("a.example",)
    assert src.max_depth == 3 and src.max_pages == 5000 and src.article_pattern is None


def test_full_source_compiles_patterns():
    [src] = parse_sources({"sources": [GOOD]})
    assert src.article_pattern.search("/news/some-story")
    assert not src.article_pattern.search("/news/some-story/comments")
    assert src.hosts == {"www.commonspace.eu"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"colour": "red"}, "source 'commonspace': key 'colour': unknown key"),
        ({"article_pattern": "/news/(unclosed"}, "source 'commonspace': key 'article_pattern': bad regular expression"),
        ({"feeds": ["ftp://x/rss"]}, "source 'commonspace': key 'feeds': not an http(s) URL: 'ftp://x/rss'"),
        ({"start_urls": ["not a url"]}, "source 'commonspace': key 'start_urls': not an http(s) URL"),
        ({"max_pages": -1}, "source 'commonspace': key 'max_pages': must be a whole number >= 0"),
        ({"max_depth": "deep"}, "source 'commonspace': key 'max_depth': must be a whole number"),
        ({"start_urls": [], "feeds": [], "sitemaps": []}, "key 'start_urls': at least one of"),
        ({"name": "Bad Name"}, "source #1: key 'name': must match [a-z0-9_-]+"),
    ],
)
def test_mistakes_name_source_and_key(change, expected):
    with pytest.raises(SourcesError) as err:
        parse_sources({"sources": [{**GOOD, **change}]}, "sources.yaml")
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_duplicate_names_and_bad_yaml(tmp_path):
    with pytest.raises(SourcesError, match="key 'name': duplicate name"):
        parse_sources({"sources": [GOOD, GOOD]})
    path = tmp_path / "broken.yaml"
    path.write_text("sources:\n  - name: a\n    feeds: [unclosed\n")
    with pytest.raises(SourcesError, match="not valid YAML"):
        load_sources(path)
    with pytest.raises(SourcesError, match="file not found"):
        load_sources(tmp_path / "missing.yaml")
