# `make demo` and `make test` set up .venv when it is missing (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup redis lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# the venv's bundled setuptools (65.5) has known advisories: the fixed release
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=78.1.1'
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's redis-server, for the Redis backend's tests (installed if missing; the
# tests start and stop their own servers on free loopback ports).
redis:
	@command -v redis-server >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@redis-server --version

demo: setup
	$(BIN)/newsmill demo

test: setup redis
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check spiders pipelines flows tests bench

clean:
	rm -rf $(VENV) data build *.egg-info
