# Jati: the README's commands. Each target installs what it needs into .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.jati-installed
LOCK   := requirements.lock
UV_VERSION := 0.13.9

.PHONY: serve demo test lint bench clean lock lock-check

# Installs exactly what requirements.lock pins (versions and file hashes), then Jati itself.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) tools/lockfile.py check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	$(BIN)/python tools/lockfile.py check
	touch $(STAMP)

## lock: re-make requirements.lock from pyproject.toml (UPGRADE=1: newest versions allowed)
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/python tools/lockfile.py build-requires > $(VENV)/build-requires.in
	$(BIN)/uv pip compile pyproject.toml $(VENV)/build-requires.in --extra test --extra bench \
		--generate-hashes --universal --python-version 3.11 --quiet \
		--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(BIN)/python tools/lockfile.py stamp

## lock-check: fail when pyproject.toml and requirements.lock disagree
lock-check:
	$(PYTHON) tools/lockfile.py check

## serve: start Jati on SQLite with zero configuration (ARGS="--port 9000 --workers 2")
serve: $(STAMP)
	$(BIN)/jati serve $(ARGS)

## demo: development only: Jati, a demo citizen and an example relying app (ARGS="--app-port 9001")
demo: $(STAMP)
	$(BIN)/jati demo $(ARGS)

## test: run the whole test suite (set JATI_TEST_DATABASE_URL to run it on PostgreSQL)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: benchmarks, each printed as a ratio against a baseline measured in the same run
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
