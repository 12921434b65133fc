# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench clean screenshots check-reports

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pd-audit demo --output pd-audit-demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# Style and types (configured in pyproject.toml); CI runs this before the tests.
lint: $(STAMP)
	$(BIN)/python -m ruff check audit
	$(BIN)/python -m mypy

# The first pages of org.pdf and a team PDF as PNGs in docs/screenshots/ (needs poppler's pdftoppm).
screenshots: $(STAMP)
	$(BIN)/python -m tests.reports.screenshots docs/screenshots

# The layout checks of tests/reports/test_layout.py on a generated 600-team account with --previous.
check-reports: $(STAMP)
	$(BIN)/python -m tests.benchmarks.check_reports --teams 600

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.bench_crawl

clean:
	rm -rf $(VENV) pd-audit-demo .pytest_cache
