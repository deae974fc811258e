"""A labelled dedup corpus: real article texts, generated syndication copies, hard negatives.

Bases are the `articleBody` texts of the extraction ground truth. For each base,
copies as wire re-publishers make them: 1-10% of words edited (replaced, dropped
or inserted), a byline or credit line added ("By Trend", "source: APA"), a
paragraph dropped or split, the site's own template lines around the text.
Hard negatives are different articles that look alike: two short pieces sharing
a big teaser block, or two stories opening with the same wire sentence/paragraph.
Everything is drawn from one seeded RNG, so a run is reproducible.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

GROUND_TRUTH = Path(__file__).resolve().parents[2] / "shared" / "data" / "extraction" / "dev" / "ground_truth.json"

CREDITS = [
    "By Trend",
    "source: APA",
    "(AFP) -",
    "Reuters",
    "By Staff Writer, with agencies",
    "This story was originally published by The Associated Press.",
    "dpa/ank",
    "Photo: EPA",
]
TEMPLATES = [
    ("Share this article on Facebook Twitter WhatsApp", "Copyright 2025 Daily Courier. All rights reserved."),
    ("Advertisement", "Follow us on Telegram for the latest news."),
    ("", "Read more news on our homepage."),
    ("Listen to this article", "Subscribe to our newsletter to get the morning briefing."),
]


@dataclass(frozen=True, slots=True)
class Doc:
    doc_id: str
    text: str
    story: str  # same story <=> should be in one cluster
    kind: str  # "base", "copy", "teaser", "wire_open"


def load_bases(path: Path = GROUND_TRUTH, min_words: int = 60) -> list[str]:
    data = json.loads(path.read_text())
    texts = [(v.get("articleBody") or "").strip() for v in data.values()]
    return [t for t in texts if len(t.split()) >= min_words]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def edit_words(text: str, rate: float, vocab: list[str], rng: random.Random) -> str:
    """Replace, drop or insert about `rate` of the words, keeping the line layout."""
    out_lines = []
    for line in text.split("\n"):
        out = []
        for w in line.split(" "):
            if w and rng.random() < rate:
                op = rng.random()
                if op < 0.5:
                    out.append(rng.choice(vocab))
                elif op < 0.75:
                    continue
                else:
                    out.extend([w, rng.choice(vocab)])
            else:
                out.append(w)
        out_lines.append(" ".join(out))
    return "\n".join(out_lines)


def syndicate(text: str, vocab: list[str], rng: random.Random) -> str:
    paras = paragraphs(text)
    if len(paras) >= 4 and rng.random() < 0.4:  # drop a paragraph (never the lead)
        del paras[rng.randrange(1, len(paras))]
    if rng.random() < 0.4:  # split a paragraph at a sentence end
        i = rng.randrange(len(paras))
        cut = paras[i].find(". ")
        if cut > 0:
            paras[i : i + 1] = [paras[i][: cut + 1], paras[i][cut + 2 :]]
    body = "\n".join(paras)
    body = edit_words(body, rng.uniform(0.01, 0.10), vocab, rng)
    lines = body.split("\n")
    if rng.random() < 0.6:
        credit = rng.choice(CREDITS)
        lines = [credit] + lines if rng.random() < 0.5 else lines + [credit]
    if rng.random() < 0.5:
        head, tail = rng.choice(TEMPLATES)
        lines = ([head] if head else []) + lines + [tail]
    return "\n".join(lines)


def make_corpus(seed: int = 7, copies: int = 3) -> list[Doc]:
    """Half the bases become stories with `copies` syndicated copies each; the other
    half is cut into word chunks, each used once, for the hard negatives, so that a
    hard negative never shares text with a story or another pair by accident."""
    rng = random.Random(seed)
    bases = load_bases()
    rng.shuffle(bases)
    vocab = sorted({w for t in bases for w in t.split() if w.isalpha()})
    stories, material = bases[: len(bases) // 2], bases[len(bases) // 2 :]
    docs: list[Doc] = []
    for i, text in enumerate(stories):
        story = f"s{i}"
        docs.append(Doc(f"{story}-0", text, story, "base"))
        for c in range(1, copies + 1):
            docs.append(Doc(f"{story}-{c}", syndicate(text, vocab, rng), story, "copy"))
    pool = [w for t in material for w in t.split()]
    pos = 0

    def take(lo: int, hi: int) -> str | None:
        nonlocal pos
        k = rng.randint(lo, hi)
        if pos + k > len(pool):
            return None
        pos += k
        return " ".join(pool[pos - k : pos])

    j = 0
    while True:
        # Two short pieces of one site, each with its own body, sharing a big teaser block.
        teaser, body_a, body_b = take(60, 150), take(80, 200), take(80, 200)
        # Two stories opening with the same wire paragraph, then going their own way.
        lead, rest_a, rest_b = take(25, 60), take(150, 400), take(150, 400)
        if rest_b is None:
            break
        for side, body in (("a", body_a), ("b", body_b)):
            text = f"{body}\n{teaser}" if rng.random() < 0.5 else f"{teaser}\n{body}"
            docs.append(Doc(f"teaser{j}{side}", text, f"teaser{j}{side}", "teaser"))
        for side, rest in (("a", rest_a), ("b", rest_b)):
            docs.append(Doc(f"wire{j}{side}", f"{lead}\n{rest}", f"wire{j}{side}", "wire_open"))
        j += 1
    return docs


def hard_negative_pairs(docs: list[Doc]) -> list[tuple[str, str]]:
    ids = {d.doc_id for d in docs}
    return [
        (d.doc_id, d.doc_id[:-1] + "b")
        for d in docs
        if d.kind in ("teaser", "wire_open") and d.doc_id.endswith("a") and d.doc_id[:-1] + "b" in ids
    ]
