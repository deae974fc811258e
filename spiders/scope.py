"""Where a URL stands for a source: on its domains or not, and the part its patterns match."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import SplitResult

__all__ = ["on_domains", "target"]


def on_domains(host: str, domains: Iterable[str]) -> bool:
    """True when the (lowercased) host is one of `domains` or a subdomain of one."""
    return any(host == d or host.endswith("." + d) for d in domains)


def target(parts: SplitResult) -> str:
    """Path and query: what a source's article, follow and deny patterns are matched against."""
    return parts.path + (f"?{parts.query}" if parts.query else "")
