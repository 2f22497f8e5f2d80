# lsmmocr developer entry points. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: help setup test demo lint clean-cache

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup:  ## create .venv with the whole stack (idempotent; caches the mmcv wheel)
	tools/setup_env.sh

test: setup  ## set up, then run the test suite
	$(PY) -m pytest

demo: setup  ## set up, then run the main job on the built-in default
	$(PY) tools/main_job.py

lint:  ## static checks (ruff, isort)
	$(PY) -m ruff check lsmmocr tools tests benchmarks configs
	$(PY) -m isort --check-only --diff lsmmocr tools tests benchmarks

clean-cache:  ## forget the cached mmcv wheel (the next setup rebuilds it)
	rm -rf $${LSMMOCR_CACHE:-$${XDG_CACHE_HOME:-$$HOME/.cache}/lsmmocr}/wheels
