"""Golden files: stored pages and their expected fields (fundus-style).

A failure means extraction changed: run `python -m bench.regenerate_golden`,
review the diff of tests/data/golden/*.json, and commit it if it is a fix.
"""

from __future__ import annotations

import pytest

from bench.regenerate_golden import DEV, GOLDEN, extract_golden, load_golden

ITEMS = load_golden()


@pytest.fixture(scope="module")
def extracted() -> dict[str, dict[str, object]]:
    return extract_golden(ITEMS)


def test_golden_set_present() -> None:
    names = [n for n, _, _ in ITEMS]
    if not DEV.exists():
        pytest.skip(f"{DEV} absent: the dev-set golden pages live there")
    assert sum(n.startswith("dev-") for n in names) >= 5
    assert sum(n.startswith("site-") for n in names) >= 3


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", [n for n, _, _ in ITEMS])
def test_golden_page(name: str, extracted: dict[str, dict[str, object]]) -> None:
    meta = next(m for n, _, m in ITEMS if n == name)
    expected = meta["expected"]
    got = extracted[name]
    for field in expected:
        assert got.get(field) == expected[field], f"{GOLDEN / name}.json: field {field!r} changed"
