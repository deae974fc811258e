"""Edge cases of the cheaper `boilerplate.prune` and `metadata.read_head`: the word-count
limits read from the first 31 words only, the texts prune keeps between its steps, the
class test done on smart strings, the head tags found by a walk of the whole document."""

from __future__ import annotations

import lxml.html
from lxml import etree

from pipelines.boilerplate import prune
from pipelines.metadata import read_head

LONG = ("The council approved the new budget on Tuesday after a long debate about transport, "
        "schools and housing, and the mayor said the vote would let the city start work this year.")


def _body(xml: str) -> etree._Element:
    return etree.fromstring(f"<body>{xml}</body>")


def _kept(body: etree._Element) -> list[str]:
    return [" ".join("".join(el.itertext()).split()) for el in body]


def _words(n: int, first: str = "") -> str:
    return " ".join(([first] if first else []) + [f"w{i}" for i in range(n - len(first.split()))])


def test_word_limits_of_the_short_line_checks() -> None:
    # BOILER_ANY applies up to 30 words, BOILER_START up to 25; a URL or a date at any length
    body = _body(
        f"<p>{LONG}</p>"
        f"<p>{_words(30, 'subscribe')}</p>"  # 30 words: dropped
        f"<p>{_words(31, 'subscribe')}</p>"  # 31 words: kept
        f"<p>{_words(25, 'Read more')}</p>"  # 25 words: dropped
        f"<p>{_words(26, 'Read more')}</p>"  # 26 words: kept
        f"<p>https://example.com/{'/'.join(f'part{i}' for i in range(40))}</p>"  # a URL of 41 words: dropped
        "<p>2021-03-04 12:30</p>"
        "<p>Tags</p>"
        "<p>Thank you</p>"
        f"<p>{LONG}</p>"
    )
    assert prune(body) == 6
    assert _kept(body) == [LONG, _words(31, "subscribe"), _words(26, "Read more"), LONG]


def test_truncated_excerpts_outside_quotes_only() -> None:
    body = _body(
        f"<p>{LONG}</p>"
        "<p>Another story begins here and goes on for a while before it stops…</p>"
        "<p>A third story also begins here and is cut off [...]</p>"
        "<quote><p>He said the plan was good, but...</p></quote>"
    )
    assert prune(body) == 2
    assert _kept(body) == [LONG, "He said the plan was good, but..."]


def test_a_paragraph_text_follows_what_was_dropped_inside_it() -> None:
    # the inner item ends in "..." and goes (boilerplate): its paragraph no longer ends in
    # "...", so the page has one truncated excerpt, not two, and both paragraphs stay
    body = _body(
        f"<p>{LONG} <list><item>Sign up for our newsletter...</item></list></p>"
        "<p>Another story begins here and goes on for a while before it stops…</p>"
    )
    assert prune(body) == 1
    assert _kept(body) == [LONG, "Another story begins here and goes on for a while before it stops…"]


def test_leading_heading_and_link_list() -> None:
    body = _body(
        "<head>Council approves the budget</head>"
        f"<p>{LONG}</p>"
        "<list><item><ref>One teaser</ref></item><item><ref>Two teaser</ref></item>"
        "<item><ref>Three teaser</ref></item></list>"
        f"<p>{LONG}</p>"
    )
    assert prune(body, "Council approves the budget | City News") == 2
    assert _kept(body) == [LONG, LONG]


PAGE = """<html lang="en"><head><title>Budget passes | City News</title>
<meta charset="utf-8"><meta name="description" content="  The council voted.  ">
<link rel="stylesheet" href="/s.css"><link rel="canonical" href="https://city.example/budget">
</head><body><h1>Budget passes</h1>
<p class="byline">By <a rel="author" class="author-name" href="/a">Ann Lee</a> and
<a rel="nofollow author" href="/b">Bob Day</a></p>
<time datetime="2021-03-04T10:00:00Z" pubdate>4 March</time><time class="updated">no datetime</time>
<span class="posted-on">Posted 4 March 2021, 10:00</span>
<div class="Author-box">Written by <a href="/c">Cy Ray</a></div>
<p>Body text.</p></body></html>"""


def test_read_head_bylines_dates_and_head_tags() -> None:
    info = read_head(lxml.html.fromstring(PAGE))
    assert (info.html_title, info.h1, info.lang, info.canonical, info.description) == (
        "Budget passes | City News", "Budget passes", "en", "https://city.example/budget", "The council voted.")
    assert info.dates == ["2021-03-04T10:00:00Z"]
    # the author link whose class matches too counts once
    assert info.authors == ["Ann Lee", "Bob Day", "Cy Ray"]
    assert info.date_texts == ["By Ann Lee and Bob Day", "no datetime", "Posted 4 March 2021, 10:00", "Written by Cy Ray"]


def test_read_head_reads_at_most_40_byline_elements() -> None:
    spans = "".join(f'<span class="date">day {i}</span><a rel="author">Name{i}</a>' for i in range(30))
    info = read_head(lxml.html.fromstring(f"<html><body>{spans}</body></html>"))
    assert info.authors == [f"Name{i}" for i in range(20)]
    assert info.date_texts == [f"day {i}" for i in range(8)]

