# Build the book and run every test. Needs only python3 (3.10 or newer) and make.
#
#   make book   build the book into _build/html (strict: any warning or failing cell fails)
#   make test   unit, property and parity tests + every chapter as a notebook (one pytest run),
#               then the strict book build, then checks on the built pages
#   make assignments  regenerate the student versions of the nbgrader assignments (book/assignments)
#
# Both create .venv from requirements.txt when it is missing, or when requirements.txt or
# pyproject.toml changed since it was made; `make test` also installs the `test` extra (torch).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PYTEST_WORKERS ?= 2
# Chapters multiply small matrices; on 2 cores shared by 2 test workers, OpenBLAS's own threads only
# add contention (measured: a 450x64 @ 64x64 product 0.12 ms on one thread, 2-4 ms on two when loaded).
OPENBLAS_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.stamp-requirements
TEST_STAMP := $(VENV)/.stamp-test-extra
NOTEBOOKS := _build/notebooks
BOOK_STAMP := _build/.book-ok
# JupyterLab reads setting overrides from the environment; ours opens .md chapters as notebooks.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/jupytext-default-viewers.json

.PHONY: help venv book notebooks assignments browser test clean

help:
	@echo "make book   build the book into _build/html"
	@echo "make test   run every test: pytest + chapters (nbval), strict book build, page checks"
	@echo "make assignments  regenerate the student versions of the nbgrader assignments"
	@echo "make clean  remove _build (keeps .venv)"

$(VENV_STAMP): requirements.txt pyproject.toml tools/jupyterlab/jupytext-default-viewers.json
	$(BIN)/python -c "" 2>/dev/null || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	mkdir -p $(dir $(LAB_OVERRIDES))
	cp tools/jupyterlab/jupytext-default-viewers.json $(LAB_OVERRIDES)
	touch $@

$(TEST_STAMP): $(VENV_STAMP)
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

venv: $(VENV_STAMP)

# A clean build each time (the converted notebooks in _build/notebooks are left alone: they may be
# in use by a test run). The stamp records a build that passed, for tests/test_book.py.
book: $(VENV_STAMP)
	mkdir -p _build
	find _build -mindepth 1 -maxdepth 1 ! -name notebooks -exec rm -rf {} +
	$(BIN)/jupyter-book build -W -n --keep-going .
	touch $(BOOK_STAMP)
	@echo "Book: $(CURDIR)/_build/html/index.html"

notebooks: $(VENV_STAMP)
	$(BIN)/python tools/chapters_to_notebooks.py book --out $(NOTEBOOKS)

# The student versions of the nbgrader assignments, book/assignments/source -> release (no
# solutions, no hidden tests). They are committed, because the book publishes them and its launch
# buttons open them from the repository; tests/test_assignments.py fails when they are out of date.
# nbgrader runs in the course directory (it reads nbgrader_config.py there) and needs the venv's
# `alembic` on the PATH.
ASSIGNMENTS := book/assignments
assignments: $(VENV_STAMP)
	rm -rf $(ASSIGNMENTS)/release
	cd $(ASSIGNMENTS) && PATH="$(CURDIR)/$(BIN):$$PATH" nbgrader generate_assignment '*' --force --no-db

# Headless Chromium and its WebDriver, from Debian's packages, for tests/test_browser.py:
# installed when missing and running as root; otherwise those tests skip and say why (on CI,
# where CI is set, they fail instead).
BROWSER_PACKAGES := chromium chromium-driver
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing $(BROWSER_PACKAGES) for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(BROWSER_PACKAGES) >/dev/null; \
	else \
		echo "No chromium/chromedriver and not root: tests/test_browser.py will be skipped" \
			"(install them with: sudo apt-get install $(BROWSER_PACKAGES))"; \
	fi

# One pytest run for the library tests, the chapters and the assignments' instructor notebooks
# (book/assignments/source, which must pass nbval too; nbval keeps each notebook on one worker
# with --dist loadscope), then the book is built once, then its pages are checked, as files
# (test_book.py) and in a browser with the network blocked (test_browser.py).
test: $(TEST_STAMP) notebooks browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope --nbval-lax --nbval-current-env \
		--ignore=tests/test_book.py --ignore=tests/test_browser.py tests $(NOTEBOOKS) $(ASSIGNMENTS)/source
	$(MAKE) --no-print-directory book
	$(BIN)/pytest tests/test_book.py tests/test_browser.py

clean:
	rm -rf _build
