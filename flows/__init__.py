"""Prefect flows and the `newsmill` command line."""

import os

# Prefect's local server reports usage to an outside host by default; newsmill
# never phones home (and tests must not leave 127.0.0.0/8).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
