# The book's pipeline. Quick start on a fresh machine: `make book` and `make test`.
# Override any variable on the command line, e.g. `make test PYTHON=python3.12`.

PYTHON     ?= python3.11
VENV       ?= .venv
NPM        ?= npm
BUILD_DIR  ?= _build
NB_TIMEOUT ?= 120
PYTEST_ARGS ?=

BIN        := $(VENV)/bin
PY         := $(BIN)/python
HTML       := $(BUILD_DIR)/html
NOTEBOOKS  := $(sort $(wildcard chapters/*.ipynb))
PY_STAMP   := $(VENV)/.installed-requirements
NPM_STAMP  := node_modules/.installed-package-lock

# The reader environment (binder/): what Binder builds and `make lab` runs. Separate
# from $(VENV): no book builder, no test tools. The project is installed non-editable,
# so the stamp also depends on its sources (an edited chapter helper is reinstalled).
LAB_VENV   ?= .venv-lab
LAB_BIN    := $(LAB_VENV)/bin
LAB_STAMP  := $(LAB_VENV)/.installed-reader-env
PROJECT_SOURCES := pyproject.toml $(shell find mini_autograd book_tools -name '*.py' 2>/dev/null)

# Reproducible notebook runs; no interactive matplotlib windows in plain-python steps.
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# The chapters multiply small matrices; on two cores OpenBLAS's threads cost more than
# they give (chapter 16: 18.6 s wall / 8.7 s user threaded, 10.1 s / 6.8 s with one).
export OPENBLAS_NUM_THREADS := 1

.PHONY: all venv install notebooks book test test-unit test-nbval test-notebooks \
        test-browser test-lab lab lab-env clean distclean help

all: book

help:
	@echo "make book       build the HTML book into $(HTML) (installs first)"
	@echo "make test       unit tests, nbval, notebook checks, book build, browser tests (book, JupyterLab)"
	@echo "make notebooks  re-execute every chapter in place, storing outputs + widget state"
	@echo "make install    create $(VENV) and node_modules (idempotent)"
	@echo "make lab        create the reader environment $(LAB_VENV) and open JupyterLab on chapters/"
	@echo "make lab-env    only create $(LAB_VENV) (binder/requirements.txt + binder/postBuild)"
	@echo "make clean      remove $(BUILD_DIR), build/ and caches; distclean also $(VENV), $(LAB_VENV), node_modules"

# --- installation ---------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --progress-bar off -r requirements.txt
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

venv: $(PY_STAMP)
install: $(PY_STAMP) $(NPM_STAMP)

$(LAB_BIN)/python:
	$(PYTHON) -m venv $(LAB_VENV)

$(LAB_STAMP): binder/requirements.txt binder/postBuild $(PROJECT_SOURCES) | $(LAB_BIN)/python
	$(LAB_BIN)/python -m pip install --quiet --progress-bar off -r binder/requirements.txt
	PATH="$(abspath $(LAB_BIN)):$$PATH" binder/postBuild
	@touch $@
	@echo "reader environment $(LAB_VENV): $$(du -sh $(LAB_VENV) | cut -f1)"

lab-env: $(LAB_STAMP)

# --- JupyterLab on the chapters (the reader's live path) --------------------------
# JUPYTER_PATH puts the reader venv's "python3" kernelspec ahead of any user-level one.
lab: $(LAB_STAMP)
	JUPYTER_PATH=$(abspath $(LAB_VENV))/share/jupyter \
	  $(LAB_BIN)/jupyter lab --ServerApp.root_dir=chapters $(if $(filter 0,$(shell id -u)),--allow-root)

# --- notebooks ------------------------------------------------------------------
# tools/execute_notebooks.py runs each chapter in a fresh kernel (the venv's own
# "python3" kernelspec, cwd chapters/) and stores outputs and widget state so that an
# unchanged chapter keeps its exact bytes: streams merged, widget ids derived from the
# notebook's name, a timing kept when only its numbers changed. It prints each
# notebook's run time and flags any over NB_BUDGET seconds.
# `make notebooks NB_ARGS=--refresh-measurements` also stores fresh timings.
NB_BUDGET  ?= 20
NB_ARGS    ?=

notebooks: $(PY_STAMP)
	@if [ -z "$(NOTEBOOKS)" ]; then echo "no chapters/*.ipynb to execute"; exit 0; fi; \
	$(PY) tools/execute_notebooks.py --timeout $(NB_TIMEOUT) --budget $(NB_BUDGET) \
	  $(NB_ARGS) $(NOTEBOOKS)

# --- the book -------------------------------------------------------------------

# A clean $(HTML) and `--all` rebuild every page, so -W sees every warning (an
# incremental build would skip warnings from unchanged pages) and no stale page of a
# removed chapter survives. The vendored JavaScript (MathJax,
# require.js, the widget manager) is copied from node_modules into
# $(HTML)/_static/vendor/ by book/_ext/offline_assets.py at the end of the build.
book: install
	rm -rf $(HTML)
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going --all
	@echo "Book: $(HTML)/index.html"

# --- tests ----------------------------------------------------------------------

test: install
	@echo "=== [1/6] unit tests ==="
	$(MAKE) --no-print-directory test-unit
	@echo "=== [2/6] nbval over chapters/ ==="
	$(MAKE) --no-print-directory test-nbval
	@echo "=== [3/6] notebook checks ==="
	$(MAKE) --no-print-directory test-notebooks
	@echo "=== [4/6] book build ==="
	$(MAKE) --no-print-directory book
	@echo "=== [5/6] browser test ==="
	$(MAKE) --no-print-directory test-browser
	@echo "=== [6/6] live path: JupyterLab in the browser ==="
	$(MAKE) --no-print-directory test-lab
	@echo "=== all checks passed ==="

test-unit: install
	$(PY) -m pytest tests --ignore=tests/browser --ignore=tests/test_notebooks.py -n 2 $(PYTEST_ARGS)

test-nbval: install
	@if [ -z "$(NOTEBOOKS)" ]; then \
	  echo "nbval: no chapters/*.ipynb yet, nothing to execute"; \
	else \
	  $(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	    --nbval-cell-timeout=$(NB_TIMEOUT) -p no:cacheprovider $(PYTEST_ARGS) $(NOTEBOOKS); \
	fi

test-notebooks: install
	$(PY) -m pytest tests/test_notebooks.py $(PYTEST_ARGS)

test-browser: install
	$(PY) -m pytest tests/browser --ignore=tests/browser/test_lab.py $(PYTEST_ARGS)

# Playwright runs from $(VENV); JupyterLab and the kernel run from the reader environment.
test-lab: install $(LAB_STAMP)
	LAB_VENV=$(abspath $(LAB_VENV)) $(PY) -m pytest tests/browser/test_lab.py $(PYTEST_ARGS)

# --- housekeeping ---------------------------------------------------------------

clean:
	rm -rf $(BUILD_DIR) build .pytest_cache .hypothesis
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -not -path "./$(LAB_VENV)/*" -not -path "./node_modules/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(LAB_VENV) node_modules
