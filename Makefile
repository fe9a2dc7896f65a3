# One entry point for people and CI. Every target installs what it needs first.
#   make demo    - the main job: backfill 2021 offline on the local services
#   make test    - the whole test suite against real local services
#   make test-fast - the layer that needs no service (definitions, graph, pure functions), under a minute
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install browser services-up services-down services-status test test-fast demo dev dashboard bench clean-local cluster-up cluster-down cluster-env

# The virtualenv is rebuilt when the pins change; pip's cache keeps a rebuild quick.
# Each phase says what it does and how long it took; pip's own progress shows on a cold cache.
# PYTHONWARNINGS silences setuptools' notice about editable installs, which asks nothing of us.
$(STAMP): requirements.lock pyproject.toml
	@start=$$(date +%s); echo "install: virtualenv and pip"; \
	  test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	  $(PY) -m pip install -q --upgrade pip && echo "install: pip ready in $$(( $$(date +%s) - start ))s"
	@start=$$(date +%s); echo "install: Python packages from requirements.lock (a few minutes on a cold cache)"; \
	  $(PY) -m pip install --progress-bar off -r requirements.lock | grep -E "^Collecting [^ ]+ \(from -r" | sed 's/ (from -r.*//; s/^/  /'; \
	  test $${PIPESTATUS[0]} -eq 0 && echo "install: packages in $$(( $$(date +%s) - start ))s"
	@PYTHONWARNINGS=ignore $(PY) -m pip install -q --no-deps -e . && echo "install: ind320_assets (editable)"
	@touch $@

install: $(STAMP)

services-up: install
	$(PY) -m ind320_devkit.local_services up

services-down:
	@if [ -x $(PY) ]; then $(PY) -m ind320_devkit.local_services down; fi

services-status: install
	$(PY) -m ind320_devkit.local_services status

# A three-node Cassandra ring (127.0.0.1-3:9142) and a Spark standalone master with two
# workers (spark://127.0.0.1:7077), beside the single-node services.
# `eval "$$(make -s cluster-env)"` points the platform at it.
cluster-up: install
	$(PY) -m ind320_devkit.cluster up

cluster-down: install
	$(PY) -m ind320_devkit.cluster down

cluster-env: install
	@$(PY) -m ind320_devkit.cluster env

# The UI test drives Debian's Chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# The import contract first: the runtime must never import the dev kit.
test: services-up browser
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -m "not services" $(PYTEST_ARGS)

# The main job: backfill 2021 for all areas, offline unless ELHUB_API_URL is set.
demo: services-up
	$(PY) -m ind320_devkit.demo

# The Dagster UI and daemon (sensors, schedules) on http://127.0.0.1:3000.
dev: services-up
	mkdir -p .local/dagster_home && cp dagster.yaml .local/dagster_home/
	eval "$$($(PY) -m ind320_devkit.local_services env)" && \
	  DAGSTER_HOME=$(CURDIR)/.local/dagster_home ELHUB_API_URL=$${ELHUB_API_URL:-http://127.0.0.1:8765/energy-data/v0} \
	  $(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The Streamlit dashboard on http://127.0.0.1:8501, reading the MongoDB views `make demo` and `make dev` write.
# `python -m` puts the repository root on the path, for `dashboard.queries`.
dashboard: services-up
	$(PY) -m streamlit run dashboard/app.py --server.address 127.0.0.1 --server.port 8501 \
	  --server.headless true --browser.gatherUsageStats false

bench: services-up
	$(PY) -m bench.run_all

clean-local: cluster-down services-down
	rm -rf .local
