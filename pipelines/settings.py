"""One typed settings object, read once from the environment (NEWSMILL_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("data")
    workers: int = 0  # extraction processes; 0 = one per core
    extract_timeout_s: float = 20.0  # per page, then the page is dropped as "timeout"
    extract_max_mem_mb: int = 1024  # per worker process (RLIMIT_AS), then "memory"
    index_backend: str = "local"  # dedup index: "local" (files under state/) or "redis"
    redis_url: str = "redis://127.0.0.1:6379/0"
    allow_private_hosts: tuple[str, ...] = ()  # hosts exempt from the private-address guard

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


def load_settings(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Settings from NEWSMILL_<FIELD> variables, then explicit overrides (CLI flags)."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(f"NEWSMILL_{f.name.upper()}")
        if raw is None:
            continue
        try:
            values[f.name] = _convert(f.name, raw)
        except ValueError:
            raise ValueError(f"NEWSMILL_{f.name.upper()}: bad value {raw!r}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "data_dir" in values:
        values["data_dir"] = Path(values["data_dir"])  # type: ignore[arg-type]
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.index_backend not in ("local", "redis"):
        raise ValueError(f"NEWSMILL_INDEX_BACKEND: must be 'local' or 'redis', got {settings.index_backend!r}")
    return settings


def _convert(name: str, raw: str) -> object:
    default = next(f.default for f in fields(Settings) if f.name == name)  # slots: no class attribute
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        return tuple(h.strip() for h in raw.split(",") if h.strip())
    if isinstance(default, Path):
        return Path(raw)
    return raw
