# The two commands of the README: `make run` and `make test`. Everything they need is
# installed from here (Debian packages, then a virtual environment).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ARCHIVE_HOME ?= $(CURDIR)/var
export ARCHIVE_HOME
HOST ?= 127.0.0.1
PORT ?= 5000

RUN_DEBS := tesseract-ocr tesseract-ocr-vie tesseract-ocr-osd antiword catdoc fonts-liberation2 fonts-dejavu-core gcc python3-dev libldap2-dev libsasl2-dev
TEST_DEBS := $(RUN_DEBS) chromium slapd ldap-utils libreoffice-writer-nogui libreoffice-calc-nogui postgresql
# The OpenSearch test node is built from Maven Central jars (scripts/opensearch-node).
SEARCH_DEBS := openjdk-17-jdk-headless maven

.PHONY: run serve screenshots check test test-random test-cluster test-fast bench bench-scale opensearch-jars system-run system-test clean-home

system-run:
	@scripts/ensure-system-packages $(RUN_DEBS)

system-test:
	@scripts/ensure-system-packages $(TEST_DEBS) $(SEARCH_DEBS)

# The jars of the OpenSearch node the tests start (cached outside git; Maven offline once fetched).
opensearch-jars: system-test
	@scripts/opensearch-node build

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-run: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-run $(VENV)/.installed-check

# No root needed: everything but python-ldap (which needs libldap2-dev) and the check tools.
$(VENV)/.installed-check: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip install -q $$(scripts/check-requirements) ruff mypy import-linter
	touch $@

PRODUCT := indexes archive_core ingest archive_ops archive_portal

# Fast, no root, no services: style, types and the import contracts of docs/architecture.md.
check: $(VENV)/.installed-check
	$(BIN)/ruff check $(PRODUCT) specimens
	$(BIN)/ruff check --select E9,F63,F7,F82 bench tests  # syntax errors and undefined names
	$(BIN)/ruff format --check $(PRODUCT)
	$(BIN)/mypy
	$(BIN)/lint-imports

run: system-run $(VENV)/.installed-run
	$(BIN)/python -m specimens.demo
	@echo "Cổng tra cứu: http://$(HOST):$(PORT)/"
	$(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# PNGs of the main pages at 1366x768 and 390x844 into docs/screenshots (loads the demo into an empty ARCHIVE_HOME).
screenshots: system-test $(VENV)/.installed-test
	OMP_THREAD_LIMIT=1 $(BIN)/python -m bench.screenshots --out docs/screenshots

serve: $(VENV)/.installed-run
	$(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# The full gate CI runs: every suite on every backend, in file order; a skipped test fails it.
test: system-test $(VENV)/.installed-test opensearch-jars
	ARCHIVE_TEST_STRICT=1 OMP_THREAD_LIMIT=1 $(BIN)/pytest -q -p no:cacheprovider -p no:randomly

# The same suites in a random order (pytest-randomly). The seed is printed first (pytest -q hides
# pytest-randomly's own header line); `make test-random SEED=N` replays that order.
ifndef SEED
SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif
test-random: system-test $(VENV)/.installed-test opensearch-jars
	@echo "pytest-randomly seed: $(SEED) (replay: make test-random SEED=$(SEED))"
	ARCHIVE_TEST_STRICT=1 OMP_THREAD_LIMIT=1 $(BIN)/pytest -q -p no:cacheprovider -p randomly --randomly-seed=$(SEED)

# The three-node OpenSearch failover test alone (~2 min; `make test` runs it too).
test-cluster: system-test $(VENV)/.installed-test opensearch-jars
	OMP_THREAD_LIMIT=1 $(BIN)/pytest -q -p no:cacheprovider -p no:randomly -m cluster tests/cluster

# The edit-test loop: no OCR, browser, PostgreSQL, OpenSearch cluster or slow tests; skips allowed.
test-fast: $(VENV)/.installed-test
	ARCHIVE_TEST_ENGINES=sqlite ARCHIVE_TEST_POSTGRES=0 OMP_THREAD_LIMIT=1 $(BIN)/pytest -q -p no:cacheprovider -p no:randomly \
		-m "not ocr and not browser and not cluster and not slow"

bench: system-run $(VENV)/.installed-run
	$(BIN)/python -m bench

# The engines side by side on a province corpus (bench/corpus.py): index docs/s and size, p50/p95 per
# kind of query, scoped and unscoped. `make bench-scale BENCH_DOCS=200000`; indexes kept in BENCH_DATA.
# Then the Tantivy build against raw Tantivy on the same documents (bench/build_floor.py, 50,000 documents).
BENCH_DOCS ?= 1000000
BENCH_DATA ?= $(abspath $(CURDIR)/../bench-data)
bench-scale: system-test $(VENV)/.installed-run opensearch-jars
	BENCH_DOCS=$(BENCH_DOCS) BENCH_DATA=$(BENCH_DATA) $(BIN)/python -m bench.scale_bench
	BENCH_DATA=$(BENCH_DATA) $(BIN)/python -m bench.build_floor

# The portal under load (bench/load_bench.py): locust officials against gunicorn on a home of LOAD_DOCS
# documents kept in BENCH_DATA, then a LOAD_SOAK_SECONDS soak with the workers' memory. `make bench-load LOAD_DOCS=100000`
.PHONY: bench-load
LOAD_DOCS ?= 1000000
$(VENV)/.installed-bench: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	touch $@
bench-load: system-run $(VENV)/.installed-run $(VENV)/.installed-bench
	LOAD_DOCS=$(LOAD_DOCS) BENCH_DATA=$(BENCH_DATA) $(BIN)/python -m bench.load_bench

clean-home:
	rm -rf $(ARCHIVE_HOME)
