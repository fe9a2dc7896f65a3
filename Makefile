# One entry point for people and CI. Every target installs what it needs first.
#   make demo    - the main job: backfill 2021 offline on the local services
#   make test    - the whole test suite against real local services
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install services-up services-down services-status test demo dev bench clean-local

# The virtualenv is rebuilt when the pins change; pip's cache keeps a rebuild quick.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install: $(STAMP)

services-up: install
	$(PY) -m ind320_assets.local_services up

services-down:
	@if [ -x $(PY) ]; then $(PY) -m ind320_assets.local_services down; fi

services-status: install
	$(PY) -m ind320_assets.local_services status

test: services-up
	$(PY) -m pytest $(PYTEST_ARGS)

clean-local: services-down
	rm -rf .local
