# The two commands of README's quick start. Each creates the virtual environment from the
# lock file when it is missing or stale, so a fresh machine needs nothing typed before them.
PYTHON ?= python3
VENV := .venv
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
# Servers started by the tests import buuta afresh; cached bytecode saves seconds per start.
unexport PYTHONDONTWRITEBYTECODE
RUN := $(UV) run --frozen --no-sync

.PHONY: demo test lint typecheck pytest bench clean serve messages

demo: $(VENV)/.synced
	$(RUN) buuta demo

test: lint typecheck pytest

lint: $(VENV)/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: $(VENV)/.synced
	$(RUN) mypy

pytest: $(VENV)/.synced
	$(RUN) pytest $(PYTEST_ARGS)

serve: $(VENV)/.synced
	$(RUN) buuta serve

# Extract every page and code string (babel.cfg) and merge them into the Vietnamese catalogue;
# then write the msgstr of each new entry (api/i18n.py says how). No .mo is kept: the service
# compiles the .po when it starts.
POT := out/messages.pot
messages: $(VENV)/.synced
	mkdir -p out
	$(RUN) pybabel -q extract -F babel.cfg --sort-output --no-location --no-wrap --omit-header -o $(POT) \
	  -k N_ -k gettext -k ngettext:1,2 -k pgettext:1c,2 .
	$(RUN) pybabel -q update -i $(POT) -d api/locale -l vi --no-wrap --no-fuzzy-matching \
	  --ignore-obsolete --init-missing
	# The dates in the header would change at every run and make every merge conflict.
	sed -i '/^"POT-Creation-Date:/d; /^"PO-Revision-Date:/d' api/locale/vi/LC_MESSAGES/messages.po

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode
	touch $@

clean:
	rm -rf $(VENV) $(UV_HOME) .mypy_cache .ruff_cache .pytest_cache build dist
