# Tanya Berita. `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench eval clean

# pip's "a new release is available" notice says nothing about the project.
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# An editable install of top-level packages (bot, index, config, bench) goes through
# setuptools' import finder, which prints an information banner about folders named like
# the packages. Here those folders are the packages; the banner (not a deprecation) is left out.
EDITABLE_QUIET := PYTHONWARNINGS='ignore:Editable installation'

# torch==2.13.0 first: it is a CPU build on this machine; an unpinned torch would pull CUDA.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(EDITABLE_QUIET) $(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m bot

test: install
	$(PY) -m pytest -q

lint: install
	$(PY) -m ruff check bot index config bench tests
	$(PY) -m ruff format --check bot index config bench tests
	$(PY) -m mypy

EVAL ?= ../shared/eval
eval: install
	$(PY) -m index eval --passages $(EVAL)/facqa/all.passages.jsonl --questions $(EVAL)/facqa/dev.questions.jsonl \
		--unanswerable tests/data/offtopic.questions.jsonl
	$(PY) -m index eval --passages $(EVAL)/idk_mrc/all.passages.jsonl --questions $(EVAL)/idk_mrc/dev.questions.jsonl \
		--unanswerable $(EVAL)/idk_mrc/dev.unanswerable.jsonl

clean:
	rm -rf $(VENV) data .pytest_cache

CORPUS ?= ../shared/eval/news/articles.jsonl
ARTICLES ?= 20000
bench: install
	mkdir -p bench-results
	$(PY) -m bench $(CORPUS) --articles $(ARTICLES) --questions $(EVAL)/facqa/dev.questions.jsonl --json bench-results/bench-$(ARTICLES).json
