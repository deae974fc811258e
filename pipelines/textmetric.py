"""The extraction benchmark's metric (scrapinghub article-extraction-benchmark).

Word 4-gram multisets over `\\w+` tokens, per-page tp/fp/fn, corpus precision and
recall as means of per-page values, F1 from those means. See
../shared/data/extraction/README.md, "Scoring".
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

TOKEN = re.compile(r"\w+")
N = 4


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def ngrams(text: str, n: int = N) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    if not toks:
        return Counter()
    if len(toks) < n:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def page_counts(pred: str, true: str) -> tuple[float, float, float]:
    """(tp, fp, fn) for one page, divided by their sum (every page weighs the same)."""
    p, t = ngrams(pred), ngrams(true)
    tp = sum(min(c, t[g]) for g, c in p.items())
    fp = sum(p.values()) - tp
    fn = sum(t.values()) - tp
    total = tp + fp + fn
    if not total:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    accuracy: float
    n: int


def _page_pr(counts: tuple[float, float, float]) -> tuple[float | None, float | None]:
    tp, fp, fn = counts
    if fp == 0 and fn == 0:
        return (1.0 if tp + fp > 0 else None), (1.0 if tp + fn > 0 else None)
    prec = tp / (tp + fp) if tp + fp > 0 else None
    rec = tp / (tp + fn) if tp + fn > 0 else None
    return prec, rec


def _aggregate(prs: Sequence[tuple[float | None, float | None]], exact: Sequence[bool]) -> Score:
    ps = [p for p, _ in prs if p is not None]
    rs = [r for _, r in prs if r is not None]
    prec = sum(ps) / len(ps) if ps else 0.0
    rec = sum(rs) / len(rs) if rs else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    acc = sum(exact) / len(exact) if exact else 0.0
    return Score(prec, rec, f1, acc, len(prs))


def evaluate(preds: Sequence[str], trues: Sequence[str]) -> Score:
    prs = [_page_pr(page_counts(p, t)) for p, t in zip(preds, trues, strict=True)]
    exact = [tokens(p) == tokens(t) for p, t in zip(preds, trues, strict=True)]
    return _aggregate(prs, exact)


def bootstrap_std(preds: Sequence[str], trues: Sequence[str], rounds: int = 200, seed: int = 0) -> Score:
    """± of each corpus figure: standard deviation over page resamples."""
    prs = [_page_pr(page_counts(p, t)) for p, t in zip(preds, trues, strict=True)]
    exact = [tokens(p) == tokens(t) for p, t in zip(preds, trues, strict=True)]
    rng = random.Random(seed)
    samples = []
    for _ in range(rounds):
        idx = [rng.randrange(len(prs)) for _ in prs]
        samples.append(_aggregate([prs[i] for i in idx], [exact[i] for i in idx]))

    def std(values: list[float]) -> float:
        mean = sum(values) / len(values)
        return (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5

    return Score(
        std([s.precision for s in samples]),
        std([s.recall for s in samples]),
        std([s.f1 for s in samples]),
        std([s.accuracy for s in samples]),
        len(prs),
    )
