"""Per-source budgets: at most `max_pages` articles captured and factor * max_pages + extra
requests (NEWSMILL_REQUEST_BUDGET_FACTOR / _EXTRA), so a crawler trap is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Budget"]


@dataclass(slots=True)
class Budget:
    """One source's spending this run, and its crawl time (monotonic clock)."""

    max_pages: int
    max_requests: int
    requests: int = 0
    captured: int = 0
    pending: int = 0  # candidate requests in flight
    first: float | None = None  # first request scheduled
    last: float | None = None  # last response or failure

    @property
    def requests_spent(self) -> bool:
        return self.requests >= self.max_requests

    @property
    def articles_spent(self) -> bool:
        return self.captured >= self.max_pages

    @property
    def candidates_spent(self) -> bool:
        """No article candidate is worth a request: max_pages is reached, or will likely be.

        A little slack over the candidates in flight covers those that fail or turn out
        not to be articles.
        """
        slack = max(2, self.max_pages // 10)
        return self.articles_spent or self.captured + self.pending >= self.max_pages + slack

    def seconds(self) -> float:
        return round(max((self.last or 0.0) - (self.first or 0.0), 0.0), 3)
