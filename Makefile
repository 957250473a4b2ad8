# Build the book and run every test. Needs only python3 (3.10 or newer) and make.
#
#   make book   build the book into _build/html (strict: any warning or failing cell fails)
#   make test   unit, property and parity tests + every chapter as a notebook (one pytest run),
#               then the strict book build, then checks on the built pages
#
# Both create .venv from requirements.txt when it is missing, or when requirements.txt or
# pyproject.toml changed since it was made; `make test` also installs the `test` extra (torch).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PYTEST_WORKERS ?= 2
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.stamp-requirements
TEST_STAMP := $(VENV)/.stamp-test-extra
NOTEBOOKS := _build/notebooks
BOOK_STAMP := _build/.book-ok
# JupyterLab reads setting overrides from the environment; ours opens .md chapters as notebooks.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/jupytext-default-viewers.json

.PHONY: help venv book notebooks test clean

help:
	@echo "make book   build the book into _build/html"
	@echo "make test   run every test: pytest + chapters (nbval), strict book build, page checks"
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

# One pytest run for the library tests and the chapters (nbval keeps each notebook on one worker
# with --dist loadscope), then the book is built once, then its pages are checked.
test: $(TEST_STAMP) notebooks
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope --nbval-lax --nbval-current-env \
		--ignore=tests/test_book.py tests $(NOTEBOOKS)
	$(MAKE) --no-print-directory book
	$(BIN)/pytest tests/test_book.py

clean:
	rm -rf _build
