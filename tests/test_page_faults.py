"""Bad pages (RELIABILITY.md 17-19): odd charsets and NUL bytes never raise and land
valid UTF-8; PDF, JSON and empty bodies served as text/html are dropped with a reason;
very deep nesting is handled or dropped, never a crash of the batch."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.extract import extract_pages
from pipelines.models import Article, Dropped, Page
from pipelines.settings import Settings

BODY = [
    "Harbour authorities said on Tuesday that the new container terminal would open in the spring, "
    "two years later than planned, after a dispute over dredging permits was settled in court.",
    "The operator, which has invested heavily in cranes and rail links, said the delay had cost it "
    "customers who moved their cargo to ports further north during the long legal fight.",
    "Local businesses welcomed the decision but warned that road traffic around the docks would grow "
    "sharply unless the promised bypass is built before the first ships arrive next year.",
]


def page(name: str, body: bytes, ctype: str = "text/html") -> Page:
    # One site per page: the same body on several pages of one site would rightly be
    # learned as that site's template.
    return Page(f"https://{name}.example/news/{name}", body, 200, {"content-type": ctype},
                datetime(2026, 5, 4, tzinfo=UTC), "port", "pattern")


def html(charset_meta: str, text_paras: list[str]) -> str:
    paras = "".join(f"<p>{p}</p>" for p in text_paras)
    return (f"<html lang='en'><head><meta charset='{charset_meta}'><title>Terminal opens late | Port News</title>"
            f"</head><body><article><h1>Terminal opens late</h1>{paras}</article></body></html>")


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Article | Dropped]:
    accented = [p.replace("court", "cour d’appel à Zürich") for p in BODY]
    pages = [
        page("latin1-declared-utf8", html("utf-8", accented).encode("latin-1", "replace")),
        page("utf16-bom", html("utf-16", BODY).encode("utf-16")),
        page("unknown-charset", html("x-klingon-42", BODY).encode("utf-8")),
        page("nul-bytes", html("utf-8", [p.replace(" the ", " the\x00 ") for p in BODY]).encode()),
        page("pdf-as-html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 50),
        page("json-as-html", b'{"items": [{"id": 1, "title": "not a page"}], "next": null}'),
        page("empty", b""),
        page("nested-300", ("<div>" * 300 + "".join(f"<p>{p}</p>" for p in BODY) + "</div>" * 300).encode()),
    ]
    settings = Settings(workers=2, extract_timeout_s=10.0, extract_max_mem_mb=1024)
    result = extract_pages(pages, tmp_path_factory.mktemp("state"), settings)
    out: dict[str, Article | Dropped] = {d.url.rsplit("/", 1)[1]: d for d in result.dropped}
    out.update({a.url.rsplit("/", 1)[1]: a for a in result.articles})
    assert len(out) == len(pages), "every page came back, as an article or a drop"
    return out


@pytest.mark.parametrize("name", ["latin1-declared-utf8", "utf16-bom", "unknown-charset", "nul-bytes"])
def test_odd_encodings_land_valid_text(results, name):
    row = results[name]
    assert isinstance(row, Article), row
    assert "\x00" not in row.text and "\ufffd\ufffd\ufffd" not in row.text
    row.text.encode("utf-8")  # valid UTF-8 (no lone surrogates)
    assert "container terminal" in row.text and row.word_count >= 60


def test_latin1_bytes_are_not_mojibake(results):
    assert "Zürich" in results["latin1-declared-utf8"].text


@pytest.mark.parametrize(("name", "reasons"), [
    ("pdf-as-html", {"not_html", "empty"}), ("json-as-html", {"not_html", "empty"}), ("empty", {"empty"}),
])
def test_non_pages_dropped_with_reason(results, name, reasons):
    row = results[name]
    assert isinstance(row, Dropped) and row.reason in reasons, row


def test_deep_nesting_is_extracted_or_dropped_with_reason(results):
    row = results["nested-300"]
    if isinstance(row, Dropped):  # lxml gives up past ~255 levels: "empty", no parsable markup
        assert row.reason in {"empty", "no_text", "too_short", "error", "timeout", "memory"}
    else:
        assert "container terminal" in row.text
