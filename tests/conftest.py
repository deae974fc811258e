"""Suite-wide settings: nothing leaves 127.0.0.0/8, Prefect stays quiet and local."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """One local Prefect server for the tests that run `newsmill` many times.

    Each command otherwise starts Prefect's ephemeral server (15-20 s). The
    end-to-end test keeps the no-server path: it runs without this fixture.
    """
    from flows.serve import local_prefect_server

    home = tmp_path_factory.mktemp("prefect")
    with local_prefect_server(home / "server.log", home=home) as url:
        os.environ["PREFECT_API_URL"] = url
        try:
            yield url
        finally:
            os.environ.pop("PREFECT_API_URL", None)
