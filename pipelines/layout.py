"""The data directory (DESIGN.md contract 3): where each kind of file lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DataDir:
    root: Path

    @property
    def articles(self) -> Path:
        return self.root / "articles"

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def partition(self, kind: str, crawl_date: str) -> Path:
        """`articles/crawl_date=YYYY-MM-DD` or `raw/crawl_date=YYYY-MM-DD`."""
        return self.root / kind / f"crawl_date={crawl_date}"

    def make(self) -> "DataDir":
        for p in (self.articles, self.raw, self.runs, self.state):
            p.mkdir(parents=True, exist_ok=True)
        return self
