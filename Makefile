# The two commands a newcomer needs: `make run` and `make test`. Both build .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test fuzz lint bench install clean chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/qunzhu db upgrade
	$(BIN)/qunzhu serve

# Browser tests drive Debian's Chromium; install it when missing (they skip, saying why,
# where it cannot be installed, and fail under QUNZHU_REQUIRE_SERVICES=1).
chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium and a CJK font for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium fonts-noto-cjk >/dev/null) || echo "could not install chromium: browser tests will skip"; \
	  else echo "no chromium (and no root to install it): browser tests will skip"; fi; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The schemathesis run of tests/http/test_openapi_fuzz.py, with many more examples per
# operation than `make test` gives it (QUNZHU_FUZZ_EXAMPLES, default 3 there).
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP)
	QUNZHU_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -n 2 tests/http/test_openapi_fuzz.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
