"""Suite-wide settings: nothing leaves 127.0.0.0/8, Prefect stays quiet and local."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
