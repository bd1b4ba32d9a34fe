# The two commands of the README: `make demo` (the main job) and `make test`.
# Both create the virtualenv at .venv on first use; nothing needs installing by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup demo test lint typecheck check clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install genzoo with every extra

demo: setup  ## the main job, offline: pull → export → serve → generate → bench
	$(VENV)/bin/zoo demo

lint: setup
	$(VENV)/bin/ruff check zoo export serving tests
	$(VENV)/bin/ruff format --check zoo export serving tests

typecheck: setup
	$(VENV)/bin/mypy

# pytest exits 5 when it collected nothing: that fails too, with its own message.
test: lint typecheck  ## lint, type-check and run the whole test suite
	$(PY) -m pytest -q -p no:cacheprovider --timeout=900 $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

clean:
	rm -rf $(VENV) .venv-olah out .mypy_cache .ruff_cache
