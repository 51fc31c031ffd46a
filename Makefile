# precursorwatch — the commands a newcomer needs. Everything installs into .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
PW := $(BIN)/precursorwatch

.PHONY: install demo test lint serve bench stress redteam clean

install: $(STAMP)

# Re-install only when the project's metadata changed: a second `make install` takes ~0.1 s.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,dask,postgres]"
	touch $(STAMP)

demo: install
	@$(PW) init
	@for f in sample_shipments/*.csv sample_shipments/*.xlsx; do \
	  [ -e "$$f" ] || continue; \
	  echo; echo "== $$f"; \
	  $(PW) screen "$$f" --format table || [ $$? -eq 1 ]; \
	done

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

serve: install
	$(PW) serve --host 127.0.0.1 --port 8000

bench: install
	$(BIN)/python bench/run.py

stress: install
	$(BIN)/python bench/stress.py

# A real server on 127.0.0.1, the review of issue 19 and ~50 more hostile cases: held/broken.
redteam: install
	$(BIN)/python bench/redteam.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
